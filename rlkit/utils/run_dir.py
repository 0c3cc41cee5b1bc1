"""The run directory every launcher writes: flags, logs, checkpoints, videos, plots.

```
runs/<experiment>/<YYYYmmdd-HHMMSS>/
  flags.txt         absl flag file (`--name=value` lines): `--flagfile=flags.txt` reruns it
  logs/<label>.csv  one CSV per logger label (train, learner, evaluator)
  checkpoints/      ckpt-<step>.pt and ckpt-<step>.json (see checkpointing.py)
  videos/           mp4 episodes
  plots/            PNG learning curves and value maps
```
"""

import datetime
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from absl import flags as absl_flags

from rlkit.utils import atomic
from rlkit.utils import loggers

FLAGS_FILE = 'flags.txt'
SUBDIRECTORIES = ('logs', 'checkpoints', 'videos', 'plots')
# absl's own flags (logging verbosity, --flagfile, ...) are not part of a run.
_SKIPPED_FLAG_MODULES = ('absl',)

# Launcher flags that leave what a run learns unchanged (its budget, where it
# writes, how often it checkpoints or logs, how its copies are stepped): a run
# may resume with other values, and seeds of one experiment may differ in them.
BOOKKEEPING_FLAGS = ('run_dir', 'runs_root', 'resume', 'num_steps', 'num_episodes',
                     'log_every_seconds', 'video', 'plots', 'checkpoint_every_steps',
                     'checkpoint_every_seconds', 'keep_checkpoints', 'torch_threads',
                     'record_every', 'fps', 'env_processes')

FlagsLike = Union[absl_flags.FlagValues, Mapping[str, Any]]


def _timestamp() -> str:
  return datetime.datetime.now().strftime('%Y%m%d-%H%M%S')


def _format_flag(name: str, value: Any) -> List[str]:
  if value is None:
    return []
  if isinstance(value, bool):
    return [f'--{name}' if value else f'--no{name}']
  if isinstance(value, (list, tuple)):
    return [line for item in value for line in _format_flag(name, item)]
  text = str(value)
  if '\n' in text or '\r' in text:
    raise ValueError(f'Flag {name!r} has a value with a newline, which a flag file '
                     f'cannot hold: {text!r}.')
  return [f'--{name}={text}']


def format_flags(flag_values: FlagsLike) -> str:
  """Returns flags as absl flag-file text, one `--name=value` line each.

  Args:
    flag_values: an absl `FlagValues` (e.g. `flags.FLAGS` after parsing; absl's
      own flags are left out) or a mapping from name to value. Booleans become
      `--name`/`--noname`, lists one line per item (multi flags), None is left
      out (the flag keeps its default when reloaded).
  """
  lines: List[str] = []
  if isinstance(flag_values, absl_flags.FlagValues):
    for module, module_flags in sorted(flag_values.flags_by_module_dict().items()):
      if module.split('.')[0] in _SKIPPED_FLAG_MODULES:
        continue
      for flag in sorted(module_flags, key=lambda f: f.name):
        serialized = flag.serialize()
        if serialized:
          lines.extend(serialized.split('\n'))
  elif isinstance(flag_values, Mapping):
    for name in sorted(flag_values):
      if not isinstance(name, str) or not name or name.startswith('-'):
        raise ValueError(f'Flag names must be non-empty strings without dashes, got {name!r}.')
      lines.extend(_format_flag(name, flag_values[name]))
  else:
    raise TypeError(f'flags must be an absl FlagValues or a mapping, got '
                    f'{type(flag_values).__name__}.')
  return ''.join(line + '\n' for line in lines)


def parse_flags_text(text: str, source: str = '<flags>') -> Dict[str, Any]:
  """Reads flag-file text into {name: value}: strings, True/False for `--x`/`--nox`,
  a list for a flag given several times. Values are not converted further (the
  file holds no types).

  Args:
    text: the flag-file contents.
    source: names the text in error messages.
  """
  result: Dict[str, Any] = {}
  for number, raw in enumerate(text.splitlines(), start=1):
    line = raw.strip()
    if not line or line.startswith('#'):
      continue
    if not line.startswith('--'):
      raise ValueError(f'{source}:{number}: expected a --name=value line, got {line!r}.')
    body = line[2:]
    if '=' in body:
      name, value = body.split('=', 1)
    elif body.startswith('no'):
      name, value = body[2:], False
    else:
      name, value = body, True
    if name in result:
      previous = result[name]
      result[name] = (previous if isinstance(previous, list) else [previous]) + [value]
    else:
      result[name] = value
  return result


def parse_flags_file(path: str) -> Dict[str, Any]:
  """`parse_flags_text` of the file at `path`."""
  with open(path, encoding='utf-8') as f:
    return parse_flags_text(f.read(), source=path)


class RunDirectory:
  """One run's directory; build it with `create` (new or resumed) or `open`."""

  def __init__(self, path: str):
    self._path = os.path.abspath(os.fspath(path))

  @classmethod
  def create(cls, root: str = 'runs', experiment: str = 'run',
             run_dir: Optional[str] = None,
             flags: Optional[FlagsLike] = None) -> 'RunDirectory':
    """Creates `<root>/<experiment>/<timestamp>/`, or `run_dir` when given.

    An existing `run_dir` is reused (a resumed run) if it is empty or already
    a run directory; a non-empty directory of anything else is refused.
    A timestamp already taken (two runs in the same second) gets a `-1`,
    `-2`, ... suffix.

    Args:
      root: parent of all experiments.
      experiment: a plain name, e.g. 'dqn'.
      run_dir: an explicit path; `root` and `experiment` are then unused.
      flags: when given, written to flags.txt (see `write_flags`).
    """
    if run_dir is None:
      if not isinstance(experiment, str) or not experiment or os.sep in experiment:
        raise ValueError(f'experiment must be a plain directory name, got {experiment!r}.')
      if not isinstance(root, (str, os.PathLike)) or not os.fspath(root):
        raise ValueError(f'root must be a directory path, got {root!r}.')
      parent = os.path.join(os.fspath(root), experiment)
      os.makedirs(parent, exist_ok=True)
      stamp = _timestamp()
      path, suffix = os.path.join(parent, stamp), 0
      while True:
        try:
          os.mkdir(path)
          break
        except FileExistsError:
          suffix += 1
          path = os.path.join(parent, f'{stamp}-{suffix}')
    else:
      path = os.fspath(run_dir)
      if not path:
        raise ValueError('run_dir must be a non-empty path or None.')
      if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f'run_dir {path!r} exists and is not a directory.')
      if os.path.isdir(path) and os.listdir(path) and not cls._looks_like_run(path):
        raise ValueError(
            f'run_dir {path!r} is not empty and is not a run directory (it has '
            f'none of {FLAGS_FILE}, {", ".join(SUBDIRECTORIES)}); choose another path.')
      os.makedirs(path, exist_ok=True)
    for name in SUBDIRECTORIES:
      os.makedirs(os.path.join(path, name), exist_ok=True)
    run = cls(path)
    if flags is not None:
      run.write_flags(flags)
    return run

  @classmethod
  def open(cls, path: str) -> 'RunDirectory':
    """Opens an existing run directory; raises if it is missing or malformed."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
      raise ValueError(f'run directory must be a path, got {path!r}.')
    path = os.fspath(path)
    if not os.path.exists(path):
      raise FileNotFoundError(f'Run directory {path!r} does not exist.')
    if not os.path.isdir(path):
      raise NotADirectoryError(f'Run directory {path!r} is not a directory.')
    missing = [name for name in SUBDIRECTORIES
               if not os.path.isdir(os.path.join(path, name))]
    if missing:
      raise ValueError(
          f'{path!r} is not a run directory: it lacks '
          f'{", ".join(name + "/" for name in missing)} (a run directory holds '
          f'{FLAGS_FILE} and {", ".join(name + "/" for name in SUBDIRECTORIES)}).')
    return cls(path)

  @staticmethod
  def _looks_like_run(path: str) -> bool:
    names = set(os.listdir(path))
    return FLAGS_FILE in names or any(name in names for name in SUBDIRECTORIES)

  @property
  def path(self) -> str:
    return self._path

  @property
  def flags_path(self) -> str:
    return os.path.join(self._path, FLAGS_FILE)

  @property
  def logs_dir(self) -> str:
    return os.path.join(self._path, 'logs')

  @property
  def checkpoints_dir(self) -> str:
    return os.path.join(self._path, 'checkpoints')

  @property
  def videos_dir(self) -> str:
    return os.path.join(self._path, 'videos')

  @property
  def plots_dir(self) -> str:
    return os.path.join(self._path, 'plots')

  def log_path(self, label: str) -> str:
    """The CSV a logger with `label` writes: logs/<label>.csv."""
    return os.path.join(self.logs_dir, f'{_plain_name(label, "label")}.csv')

  def video_path(self, name: str) -> str:
    """videos/<name>.mp4."""
    return os.path.join(self.videos_dir, f'{_plain_name(name, "video name")}.mp4')

  def plot_path(self, name: str) -> str:
    """plots/<name>.png."""
    return os.path.join(self.plots_dir, f'{_plain_name(name, "plot name")}.png')

  def write_flags(self, flags: FlagsLike) -> str:
    """Writes flags.txt atomically (see `format_flags`); returns its path."""
    atomic.write_text(self.flags_path, format_flags(flags))
    return self.flags_path

  def read_flags(self) -> Dict[str, Any]:
    """The flags saved in flags.txt (see `parse_flags_file`)."""
    if not os.path.exists(self.flags_path):
      raise FileNotFoundError(f'{self.flags_path!r} does not exist: this run saved no flags.')
    return parse_flags_file(self.flags_path)

  def compare_flags(self, flags: FlagsLike,
                    ignore: Sequence[str] = ()) -> Dict[str, Tuple[Any, Any]]:
    """Differences between saved flags and `flags`: {name: (saved, given)}.

    A launcher resuming a run refuses to continue when this is not empty
    (flags such as the run directory or resume switches go in `ignore`).
    """
    saved = self.read_flags()
    given = parse_flags_text(format_flags(flags))
    names = (set(saved) | set(given)) - set(ignore)
    return {name: (saved.get(name), given.get(name)) for name in sorted(names)
            if saved.get(name) != given.get(name)}

  def make_logger(self, label: str, time_delta: float = 1.0, **kwargs) -> loggers.Logger:
    """`loggers.make_default_logger(label)` writing logs/<label>.csv."""
    _plain_name(label, 'label')
    return loggers.make_default_logger(label, time_delta=time_delta,
                                       directory=self.logs_dir, **kwargs)

  def __repr__(self) -> str:
    return f'RunDirectory({self._path!r})'

  def __fspath__(self) -> str:
    return self._path


def _plain_name(name: str, what: str) -> str:
  if not isinstance(name, str) or not name or os.sep in name or name in ('.', '..'):
    raise ValueError(f'{what} must be a plain file name, got {name!r}.')
  return name
