"""Flags generated from a config dataclass: one per field, with its help, range and validator.

    make_config = define_config_flags(DQNConfig)
    ...                       # after flags are parsed
    config = make_config()    # DQNConfig from the flags

Tuple fields are comma-separated lists. Flags are listed under
'agent config' in `--help`.
"""

import dataclasses
from typing import Any, Callable, Type

from absl import flags

from rlkit.agents import config_fields

GROUP = 'agent config'


def define_config_flags(config_cls: Type[Any],
                        flag_values: flags.FlagValues = flags.FLAGS) -> Callable[[], Any]:
  """Defines one flag per field of `config_cls`; returns a function building the config."""
  if not dataclasses.is_dataclass(config_cls):
    raise TypeError(f'config_cls must be a dataclass, got {config_cls!r}.')
  defaults = config_cls()
  names = []
  for field in dataclasses.fields(config_cls):
    name = field.name
    default = getattr(defaults, name)
    text, allowed = config_fields.field_help(field)
    help_text = f'{text} Valid: {allowed}.' if allowed else text
    common = dict(flag_values=flag_values, module_name=GROUP)
    if isinstance(default, bool):
      flags.DEFINE_bool(name, default, help_text, **common)
    elif isinstance(default, int):
      flags.DEFINE_integer(name, default, help_text, **common)
    elif isinstance(default, float):
      flags.DEFINE_float(name, default, help_text, **common)
    elif isinstance(default, str) and field.metadata.get('choices'):
      flags.DEFINE_enum(name, default, list(field.metadata['choices']), help_text, **common)
    elif isinstance(default, str):
      flags.DEFINE_string(name, default, help_text, **common)
    elif isinstance(default, tuple):
      flags.DEFINE_list(name, [str(v) for v in default], help_text, **common)
    else:
      raise TypeError(f'Cannot make a flag of {config_cls.__name__}.{name} '
                      f'(default {default!r}): use bool, int, float, str or a tuple.')
    names.append(name)
    flags.register_validator(name, _make_validator(field, default),
                             message=f'invalid --{name}', flag_values=flag_values)

  def build() -> Any:
    return config_cls(**{name: _convert(getattr(flag_values, name), getattr(defaults, name))
                         for name in names})

  build.field_names = tuple(names)
  return build


def _convert(value: Any, default: Any) -> Any:
  if isinstance(default, tuple):
    item_type = type(default[0]) if default else str
    return tuple(item_type(v) for v in value)
  return value


def _make_validator(field: dataclasses.Field, default: Any) -> Callable[[Any], bool]:
  def validate(value: Any) -> bool:
    try:
      value = _convert(value, default)
    except (TypeError, ValueError):
      raise flags.ValidationError(
          f'--{field.name}={",".join(map(str, value))} must be a comma-separated list '
          f'of {type(default[0]).__name__}.') from None
    message = config_fields.check_value(field, value)
    if message:
      raise flags.ValidationError(f'--{message}')
    return True
  return validate
