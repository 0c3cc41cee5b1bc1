"""Opening a run directory for training: new, resumed, or refused.

A run directory records who made it in `run.json` (agent name, config
class, rlkit version, the config's values, the environment, the seed).
Another agent, another config class or other values are refused before
anything is written, with a message naming both. With `resume=False` the
same agent starts over there (its checkpoints and logs are removed); a
directory of another agent is never removed.
"""

import csv
import dataclasses
import json
import os
import shutil
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import rlkit
from rlkit.utils import atomic
from rlkit.utils import checkpointing
from rlkit.utils import run_dir as run_dir_lib

RUN_INFO_FILE = 'run.json'


class RunDirectoryError(Exception):
  """The run directory cannot be used as asked (one line, naming the fix)."""


def config_as_dict(config: Any) -> Dict[str, Any]:
  """A config dataclass as plain JSON-able values (tuples as lists)."""
  return {k: (list(v) if isinstance(v, tuple) else v)
          for k, v in dataclasses.asdict(config).items()}


def run_info(agent_name: str, config: Any, environment: Optional[Mapping[str, Any]],
             seed: int, num_envs: int) -> Dict[str, Any]:
  cls = type(config)
  return {
      'agent': agent_name,
      'config_class': f'{cls.__module__}.{cls.__qualname__}',
      'rlkit_version': rlkit.__version__,
      'config': config_as_dict(config),
      'environment': dict(environment) if environment is not None else None,
      'seed': seed,
      'num_envs': num_envs,
  }


def _read_run_info(path: str) -> Optional[Dict[str, Any]]:
  info_path = os.path.join(path, RUN_INFO_FILE)
  if not os.path.exists(info_path):
    return None
  try:
    with open(info_path) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise RunDirectoryError(f'{info_path} cannot be read ({e}); the run directory is damaged: '
                            f'use another run_dir.') from e


def _agent_of_checkpoints(path: str) -> Optional[str]:
  """The agent named in the newest checkpoint's sidecar (runs older than run.json)."""
  directory = os.path.join(path, 'checkpoints')
  if not os.path.isdir(directory):
    return None
  for info in reversed(checkpointing.Checkpointer(directory, keep=None).checkpoints()):
    metadata = (info.metadata or {}) if hasattr(info, 'metadata') else {}
    if metadata.get('agent'):
      return metadata['agent']
  return None


def _differences(saved: Mapping[str, Any], given: Mapping[str, Any],
                 keys: Sequence[str]) -> Dict[str, Tuple[Any, Any]]:
  out = {}
  for key in keys:
    if key == 'config':
      old, new = saved.get('config') or {}, given.get('config') or {}
      for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
          out[f'config.{name}'] = (old.get(name), new.get(name))
    elif saved.get(key) != given.get(key):
      out[key] = (saved.get(key), given.get(key))
  return out


def check_compatible(path: str, info: Mapping[str, Any], resume: bool) -> None:
  """Raises RunDirectoryError if the directory at `path` belongs to another run."""
  saved = _read_run_info(path)
  saved_agent = saved['agent'] if saved else _agent_of_checkpoints(path)
  if saved_agent is not None and saved_agent != info['agent']:
    raise RunDirectoryError(
        f'{path} holds a {saved_agent!r} run; refusing to use it for {info["agent"]!r} '
        f'(nothing was changed). Use another run_dir.')
  if saved is None:
    return
  if saved.get('config_class') != info['config_class']:
    raise RunDirectoryError(
        f'{path} was made with config {saved.get("config_class")}, not '
        f'{info["config_class"]}; use another run_dir.')
  if not resume:
    return
  differences = _differences(saved, info, ('config', 'environment', 'seed', 'num_envs'))
  if differences:
    details = ', '.join(f'{name}: saved {old!r}, now {new!r}'
                        for name, (old, new) in differences.items())
    raise RunDirectoryError(
        f'{path} holds a run with other settings ({details}). Use the same settings to '
        f'resume it, resume=False (--noresume) to start over there, or another run_dir.')


def _has_checkpoint(path: str) -> bool:
  directory = os.path.join(path, 'checkpoints')
  return os.path.isdir(directory) and bool(
      checkpointing.Checkpointer(directory, keep=None).checkpoints())


def check_run_directory(run_dir: Optional[str], info: Mapping[str, Any], resume: bool,
                        run_flags: Optional[Any] = None,
                        ignored_flags: Sequence[str] = ()) -> bool:
  """Whether the run resumes; raises RunDirectoryError if `run_dir` is another run's.

  Reads only: a launcher calls it before anything heavy is imported or written.
  """
  if run_dir is None or not os.path.isdir(run_dir):
    return False
  check_compatible(run_dir, info, resume)
  resuming = resume and _has_checkpoint(run_dir)
  if resuming and run_flags is not None and os.path.exists(
      os.path.join(run_dir, run_dir_lib.FLAGS_FILE)):
    _check_flags(run_dir_lib.RunDirectory(run_dir), run_flags, ignored_flags)
  return resuming


def open_run_directory(info: Mapping[str, Any], *, run_dir: Optional[str], runs_root: str,
                       resume: bool, run_flags: Optional[Any] = None,
                       ignored_flags: Sequence[str] = ()
                       ) -> Tuple[run_dir_lib.RunDirectory, bool]:
  """Creates or reopens the run directory; returns it and whether to resume.

  Every check happens before anything is written. File-system errors are
  raised as `RunDirectoryError` with one line.
  """
  try:
    resuming = check_run_directory(run_dir, info, resume, run_flags, ignored_flags)
    run = run_dir_lib.RunDirectory.create(root=runs_root, experiment=info['agent'],
                                          run_dir=run_dir)
    if not resuming:
      _start_over(run)
    atomic.write_text(os.path.join(run.path, RUN_INFO_FILE),
                      json.dumps(info, indent=1, sort_keys=True))
    if run_flags is not None:
      run.write_flags(run_flags)
    return run, resuming
  except OSError as e:
    where = e.filename or run_dir or runs_root
    raise RunDirectoryError(
        f'cannot write the run directory ({e.strerror or e}: {where}); check its '
        f'permissions or choose another run_dir.') from e
  except ValueError as e:
    raise RunDirectoryError(f'run_dir: {e}') from e


def _check_flags(run: run_dir_lib.RunDirectory, run_flags: Any,
                 ignored: Sequence[str]) -> None:
  foreign = tuple(set(run.read_flags()) - set(_flag_names(run_flags)))
  differences = run.compare_flags(run_flags, ignore=tuple(ignored) + foreign)
  if differences:
    details = ', '.join(f'--{name}: saved {saved!r}, now {given!r}'
                        for name, (saved, given) in differences.items())
    raise RunDirectoryError(
        f'{run.path} holds a run with other settings ({details}). Use the same flags '
        f'to resume it, --noresume to start over there, or another --run_dir.')


def _flag_names(run_flags: Any):
  return list(run_flags) if not isinstance(run_flags, Mapping) else list(run_flags.keys())


def _start_over(run: run_dir_lib.RunDirectory) -> None:
  """Removes the checkpoints (and replay), logs and TensorBoard files of an earlier run."""
  shutil.rmtree(os.path.join(run.path, 'tensorboard'), ignore_errors=True)
  for directory in (run.checkpoints_dir, run.logs_dir):
    for name in os.listdir(directory):
      path = os.path.join(directory, name)
      if os.path.isdir(path):
        shutil.rmtree(path)
      else:
        os.remove(path)


def truncate_log(path: str, key: str, limit: float) -> None:
  """Drops rows of a CSV log whose `key` exceeds `limit` (written after a checkpoint)."""
  if not os.path.exists(path):
    return
  with open(path, newline='') as f:
    rows = list(csv.reader(f))
  if not rows or key not in rows[0]:
    return
  index = rows[0].index(key)
  kept = [rows[0]]
  for row in rows[1:]:
    try:
      if len(row) == len(rows[0]) and float(row[index]) <= limit:
        kept.append(row)
    except ValueError:
      continue
  if len(kept) != len(rows):
    temporary = path + '.tmp'
    with open(temporary, 'w', newline='') as f:
      csv.writer(f).writerows(kept)
    os.replace(temporary, path)


def last_logged(path: str, key: str) -> int:
  """The `key` column of the last row of a CSV log (-1 without rows)."""
  if not os.path.exists(path):
    return -1
  with open(path, newline='') as f:
    rows = list(csv.DictReader(f))
  try:
    return int(float(rows[-1][key])) if rows else -1
  except (KeyError, ValueError, TypeError):
    return -1
