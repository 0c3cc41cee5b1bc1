"""Checkpoint files that survive being killed mid-write.

`Checkpointer(directory, keep)` writes `ckpt-<step>.pt` (torch.save of a state
dict) through a temporary file, fsync and rename, then a JSON sidecar
`ckpt-<step>.json` with the file's size and SHA-256, the write timing and any
metadata. `restore()` verifies the newest checkpoint against its sidecar and,
when it is corrupt or unreadable, falls back to the previous one with a
warning. A kill at any moment therefore leaves the last complete checkpoint
loadable; at worst an unfinished temporary file remains, which the next
`save()` removes.

State dicts may hold torch tensors, numpy arrays and scalars, Python numbers,
strings, bytes, None and RNG states, in dicts, lists and tuples. Numpy arrays
are stored as (dtype, shape, bytes) so files load with
`torch.load(weights_only=True)`: loading a checkpoint never runs pickled code.

torch is imported inside the functions that need it, so `rlkit.utils` stays
importable without torch.
"""

import ast
import collections
import datetime
import hashlib
import io
import json
import os
import re
import time
import warnings
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from rlkit.utils import atomic

_NAME = re.compile(r'^ckpt-(\d+)\.pt$')
_NDARRAY = '__rlkit_ndarray__'
_NPSCALAR = '__rlkit_npscalar__'
FORMAT_VERSION = 1


class CheckpointInfo(NamedTuple):
  """What is known about one checkpoint file (from its sidecar when present)."""
  path: str
  step: int
  size_bytes: Optional[int] = None
  sha256: Optional[str] = None
  serialize_seconds: Optional[float] = None
  write_seconds: Optional[float] = None
  created: Optional[str] = None
  metadata: Optional[Dict[str, Any]] = None


class CheckpointWarning(RuntimeWarning):
  """A checkpoint was skipped (corrupt or unreadable) or removed."""


def checkpoint_name(step: int) -> str:
  return f'ckpt-{step}.pt'


def sidecar_path(path: str) -> str:
  return path[:-len('.pt')] + '.json' if path.endswith('.pt') else path + '.json'


def _sha256(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def _encode(value: Any, where: str) -> Any:
  """Replaces numpy values by plain containers torch.load(weights_only) accepts."""
  import torch  # pylint: disable=g-import-not-at-top
  if isinstance(value, np.ndarray) or isinstance(value, np.generic):
    array = np.asarray(value)
    if array.dtype.hasobject:
      raise TypeError(f'{where}: numpy arrays of dtype object cannot be checkpointed '
                      f'(got dtype {array.dtype}).')
    encoded = {
        'descr': repr(np.lib.format.dtype_to_descr(array.dtype)),
        'shape': tuple(int(d) for d in array.shape),
        'data': np.ascontiguousarray(array).tobytes(),
    }
    return {_NPSCALAR if isinstance(value, np.generic) else _NDARRAY: encoded}
  if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
    return value
  if isinstance(value, (torch.Tensor, torch.dtype, torch.device)):
    return value
  if isinstance(value, dict):
    for key in value:
      if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
        raise TypeError(f'{where}: dict keys must be str/int/float/bool/tuple, got '
                        f'{type(key).__name__} {key!r}.')
    encoded = {key: _encode(item, f'{where}[{key!r}]') for key, item in value.items()}
    if isinstance(value, collections.OrderedDict):
      return collections.OrderedDict(encoded)
    return encoded
  if type(value) in (list, tuple, torch.Size):
    items = [_encode(item, f'{where}[{i}]') for i, item in enumerate(value)]
    return type(value)(items)
  raise TypeError(
      f'{where}: cannot checkpoint a {type(value).__module__}.{type(value).__qualname__}; '
      f'use tensors, numpy arrays, numbers, strings, bytes, None and dict/list/tuple '
      f'(convert dataclasses and named tuples to dicts first).')


def _decode(value: Any) -> Any:
  if isinstance(value, dict):
    if len(value) == 1 and (_NDARRAY in value or _NPSCALAR in value):
      key = next(iter(value))
      spec = value[key]
      dtype = np.lib.format.descr_to_dtype(ast.literal_eval(spec['descr']))
      array = np.frombuffer(spec['data'], dtype=dtype).reshape(spec['shape']).copy()
      return array[()] if key == _NPSCALAR else array
    decoded = {k: _decode(v) for k, v in value.items()}
    if isinstance(value, collections.OrderedDict):
      return collections.OrderedDict(decoded)
    return decoded
  if type(value) in (list, tuple):
    return type(value)(_decode(item) for item in value)
  return value


def serialize(state: Mapping[str, Any]) -> bytes:
  """The bytes `Checkpointer.save` writes for `state`."""
  import torch  # pylint: disable=g-import-not-at-top
  if not isinstance(state, Mapping):
    raise TypeError(f'A checkpoint state must be a dict, got {type(state).__name__}.')
  buffer = io.BytesIO()
  torch.save({'format': FORMAT_VERSION, 'state': _encode(dict(state), 'state')}, buffer)
  return buffer.getvalue()


def deserialize(data: bytes, source: str = '<bytes>') -> Dict[str, Any]:
  """Inverse of `serialize`; raises ValueError naming `source` if unreadable."""
  import torch  # pylint: disable=g-import-not-at-top
  try:
    payload = torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
  except Exception as e:  # torch raises many types for truncated/garbage files.
    raise ValueError(f'Checkpoint {source} is unreadable ({type(e).__name__}: {e}).') from e
  if not isinstance(payload, dict) or payload.get('format') != FORMAT_VERSION:
    raise ValueError(f'Checkpoint {source} is not an rlkit checkpoint of format '
                     f'{FORMAT_VERSION}.')
  return _decode(payload['state'])


class Checkpointer:
  """Saves and restores state dicts as `<directory>/ckpt-<step>.pt`, keeping the last K.

  Only one process may save into a directory; any number may restore from it.

  Args:
    directory: created if missing.
    keep: how many checkpoints to keep (the newest by step); None keeps all.
  """

  def __init__(self, directory: str, keep: Optional[int] = 3):
    if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory):
      raise ValueError(f'directory must be a path, got {directory!r}.')
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
      raise ValueError(f'keep must be a positive integer or None, got {keep!r}.')
    self._directory = os.path.abspath(os.fspath(directory))
    self._keep = keep
    self.last_save: Optional[CheckpointInfo] = None
    self.last_restore: Optional[Dict[str, Any]] = None

  @property
  def directory(self) -> str:
    return self._directory

  def save(self, state: Mapping[str, Any], step: int,
           metadata: Optional[Mapping[str, Any]] = None) -> str:
    """Writes `state` as ckpt-<step>.pt atomically and returns its path.

    Its `CheckpointInfo` (size, SHA-256, timing) is then in `last_save` and in
    the sidecar ckpt-<step>.json. Checkpoints with a larger step (left by a
    run that was rolled back to an earlier checkpoint) are removed with a
    warning, then all but the newest `keep`.

    Args:
      state: the dict to save (see the module docstring for allowed values).
      step: a non-negative integer, usually the learner or actor step.
      metadata: small JSON-serializable facts stored in the sidecar.
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
      raise ValueError(f'step must be a non-negative integer, got {step!r}.')
    step = int(step)
    if metadata is not None:
      try:
        json.dumps(dict(metadata))
      except (TypeError, ValueError) as e:
        raise TypeError(f'metadata must be JSON-serializable: {e}') from e
    os.makedirs(self._directory, exist_ok=True)
    atomic.remove_temp_files(self._directory)

    start = time.perf_counter()
    data = serialize(state)
    serialized = time.perf_counter()
    path = os.path.join(self._directory, checkpoint_name(step))
    atomic.write_bytes(path, data)
    info = CheckpointInfo(
        path=path, step=step, size_bytes=len(data), sha256=_sha256(data),
        serialize_seconds=serialized - start,
        write_seconds=time.perf_counter() - serialized,
        created=datetime.datetime.now().isoformat(timespec='seconds'),
        metadata=dict(metadata) if metadata is not None else None)
    sidecar = dict(info._asdict(), format=FORMAT_VERSION, file=os.path.basename(path))
    del sidecar['path']
    atomic.write_text(sidecar_path(path), json.dumps(sidecar, indent=1, sort_keys=True))
    self.last_save = info
    self._prune(step)
    return path

  def _prune(self, saved_step: int) -> None:
    steps = [s for s, _ in self._listing()]
    newer = [s for s in steps if s > saved_step]
    older = sorted(s for s in steps if s <= saved_step)
    if newer:
      warnings.warn(
          f'Removing checkpoints {newer} in {self._directory}: they are newer than '
          f'step {saved_step} just saved, so they belong to a run that was rolled back.',
          CheckpointWarning, stacklevel=3)
    doomed = newer + (older[:-self._keep] if self._keep is not None else [])
    for step in doomed:
      path = os.path.join(self._directory, checkpoint_name(step))
      for file in (sidecar_path(path), path):  # Sidecar first: a .pt alone still loads.
        try:
          os.remove(file)
        except FileNotFoundError:
          pass
    for name in os.listdir(self._directory):  # Sidecars whose checkpoint is gone.
      if name.startswith('ckpt-') and name.endswith('.json'):
        if not os.path.exists(os.path.join(self._directory, name[:-5] + '.pt')):
          try:
            os.remove(os.path.join(self._directory, name))
          except FileNotFoundError:
            pass
    atomic.fsync_directory(self._directory)

  def _listing(self) -> List[Tuple[int, str]]:
    if not os.path.isdir(self._directory):
      return []
    found = []
    for name in os.listdir(self._directory):
      match = _NAME.match(name)
      if match:
        found.append((int(match.group(1)), os.path.join(self._directory, name)))
    return sorted(found)

  def checkpoints(self) -> List[CheckpointInfo]:
    """All checkpoint files, oldest first (not verified; see `verify`)."""
    return [self._info(path, step) for step, path in self._listing()]

  def _info(self, path: str, step: int) -> CheckpointInfo:
    sidecar = self._read_sidecar(path)
    if sidecar is None:
      return CheckpointInfo(path=path, step=step)
    fields = {k: sidecar.get(k) for k in CheckpointInfo._fields if k not in ('path', 'step')}
    return CheckpointInfo(path=path, step=step, **fields)

  @staticmethod
  def _read_sidecar(path: str) -> Optional[Dict[str, Any]]:
    try:
      with open(sidecar_path(path), encoding='utf-8') as f:
        sidecar = json.load(f)
      return sidecar if isinstance(sidecar, dict) else None
    except (FileNotFoundError, ValueError):
      return None

  def _load_verified(self, path: str) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """Loads `path`, checking it against its sidecar; ValueError if it is bad."""
    try:
      with open(path, 'rb') as f:
        data = f.read()
    except FileNotFoundError:
      raise FileNotFoundError(f'Checkpoint {path!r} does not exist.') from None
    sidecar = self._read_sidecar(path)
    if sidecar is not None:
      if sidecar.get('size_bytes') != len(data):
        raise ValueError(f'Checkpoint {path!r} is corrupt or partial: {len(data)} bytes, '
                         f'its sidecar says {sidecar.get("size_bytes")}.')
      if sidecar.get('sha256') != _sha256(data):
        raise ValueError(f'Checkpoint {path!r} is corrupt: its SHA-256 does not match '
                         f'{sidecar_path(path)!r}.')
    # Without a sidecar (a kill between the two renames) the .pt was still
    # renamed only once complete; loading it is the check.
    return deserialize(data, source=repr(path)), sidecar

  def verify(self, path: str) -> Optional[str]:
    """None if `path` is a loadable checkpoint, else the reason it is not."""
    try:
      self._load_verified(path)
      return None
    except (FileNotFoundError, ValueError) as e:
      return str(e)

  def latest(self) -> Optional[str]:
    """The path of the newest loadable checkpoint, or None if there is none."""
    for _, path in reversed(self._listing()):
      if self.verify(path) is None:
        return path
    return None

  def restore(self, path: Optional[str] = None) -> Dict[str, Any]:
    """Loads a checkpoint: `path`, or the newest loadable one.

    Without `path`, corrupt or unreadable checkpoints are skipped, newest
    first, with a `CheckpointWarning` each. `last_restore` then holds the
    path, step, size, load time and skipped paths.

    Args:
      path: a checkpoint file, or the name of one in the directory.

    Raises:
      FileNotFoundError: no checkpoint (or no such `path`) exists.
      ValueError: `path`, or every checkpoint, is corrupt.
    """
    start = time.perf_counter()
    if path is not None:
      path = os.fspath(path)
      if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(self._directory, path)
      state, sidecar = self._load_verified(path)
      self._record_restore(path, sidecar, start, skipped=[])
      return state

    listing = self._listing()
    if not listing:
      raise FileNotFoundError(f'No checkpoint (ckpt-<step>.pt) in {self._directory!r}.')
    skipped = []
    for _, candidate in reversed(listing):
      try:
        state, sidecar = self._load_verified(candidate)
      except (FileNotFoundError, ValueError) as e:
        skipped.append(candidate)
        warnings.warn(f'Skipping checkpoint: {e} Trying the previous one.',
                      CheckpointWarning, stacklevel=2)
        continue
      self._record_restore(candidate, sidecar, start, skipped)
      return state
    raise ValueError(f'No usable checkpoint in {self._directory!r}: all of '
                     f'{[os.path.basename(p) for p in skipped]} are corrupt or partial.')

  def _record_restore(self, path: str, sidecar: Optional[Dict[str, Any]],
                      start: float, skipped: List[str]) -> None:
    match = _NAME.match(os.path.basename(path))
    self.last_restore = {
        'path': path,
        'step': int(match.group(1)) if match else (sidecar or {}).get('step'),
        'size_bytes': os.path.getsize(path),
        'load_seconds': time.perf_counter() - start,
        'skipped': skipped,
        'metadata': (sidecar or {}).get('metadata'),
    }
