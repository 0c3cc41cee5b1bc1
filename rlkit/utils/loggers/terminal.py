"""A logger that prints one line per row."""

from typing import Callable

from rlkit.utils.loggers import base


def format_value(value) -> str:
  value = base.to_numpy(value)
  if isinstance(value, float):
    return f'{value:.3f}' if abs(value) < 1e5 else f'{value:.4g}'
  return str(value)


class TerminalLogger(base.Logger):
  """Prints rows as `[Label] Key1 = v1 | Key2 = v2`."""

  def __init__(self, label: str = '', print_fn: Callable[[str], None] = print):
    self._label = label
    self._print_fn = print_fn

  def write(self, data: base.LoggingData) -> None:
    body = ' | '.join(
        f"{key.replace('_', ' ').title()} = {format_value(value)}"
        for key, value in sorted(data.items()))
    prefix = f'[{self._label.replace("_", " ").title()}] ' if self._label else ''
    self._print_fn(prefix + body)
