"""Atomic file writes: a crash mid-write leaves the previous file intact.

Every writer goes to a temporary file in the destination's directory, which is
flushed, fsynced and then renamed over the destination with `os.replace` (atomic
on POSIX within one file system); the directory is fsynced so the rename itself
survives a power loss. Temporary names start with `TEMP_PREFIX` and keep the
destination's extension, so libraries that pick a format from the file name
(imageio, matplotlib) work on them.
"""

import contextlib
import os
import uuid
from typing import IO, Iterator, List

TEMP_PREFIX = '.tmp-'


def is_temp_file(name: str) -> bool:
  """Whether `name` (a base name) is a temporary file of this module."""
  return os.path.basename(name).startswith(TEMP_PREFIX)


def fsync_directory(directory: str) -> None:
  """Flushes a directory entry (a rename or a new file) to disk."""
  try:
    fd = os.open(directory, os.O_RDONLY)
  except OSError:
    return  # Not supported on this platform or file system.
  try:
    os.fsync(fd)
  except OSError:
    pass
  finally:
    os.close(fd)


def temp_path_for(path: str) -> str:
  """A fresh temporary path beside `path`, with the same extension."""
  directory, name = os.path.split(os.path.abspath(path))
  if not name:
    raise ValueError(f'Expected a file path, got the directory {path!r}.')
  if not os.path.isdir(directory):
    raise FileNotFoundError(f'Cannot write {path!r}: directory {directory!r} does not exist.')
  return os.path.join(directory, f'{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}')


def commit(temp: str, path: str) -> None:
  """Fsyncs the finished `temp` and renames it over `path` (then fsyncs the directory)."""
  if not os.path.exists(temp):
    raise RuntimeError(f'Nothing was written to the temporary file for {path!r}.')
  fd = os.open(temp, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)
  os.replace(temp, path)
  fsync_directory(os.path.dirname(os.path.abspath(path)))


def discard(temp: str) -> None:
  """Removes an unfinished temporary file, if it exists."""
  with contextlib.suppress(FileNotFoundError):
    os.remove(temp)


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
  """Yields a temporary path to write; on success it replaces `path` atomically.

  For writers that want a file name (imageio, matplotlib). If the block raises,
  the temporary file is removed and `path` is left as it was.

  Args:
    path: the destination; its directory must exist.
  """
  path = os.fspath(path)
  temp = temp_path_for(path)
  try:
    yield temp
    commit(temp, path)
  except BaseException:
    discard(temp)
    raise


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb', **kwargs) -> Iterator[IO]:
  """Opens a temporary file for writing; on success it replaces `path` atomically.

  Args:
    path: the destination; its directory must exist.
    mode: 'w' or 'wb' (optionally with 't'); appending makes no sense here.
    **kwargs: passed to `open` (encoding, newline, ...).
  """
  if mode.replace('t', '') not in ('w', 'wb'):
    raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}.")
  with atomic_path(path) as temp:
    with open(temp, mode, **kwargs) as f:
      yield f


def write_bytes(path: str, data: bytes) -> None:
  """Writes `data` to `path` atomically."""
  with atomic_open(path, 'wb') as f:
    f.write(data)


def write_text(path: str, text: str, encoding: str = 'utf-8') -> None:
  """Writes `text` to `path` atomically."""
  with atomic_open(path, 'w', encoding=encoding) as f:
    f.write(text)


def remove_temp_files(directory: str) -> List[str]:
  """Removes temporary files a crashed writer left in `directory`; returns them.

  Only call this from the single process that writes to `directory`: another
  writer's file in progress would be removed too.
  """
  removed = []
  if not os.path.isdir(directory):
    return removed
  for name in os.listdir(directory):
    if is_temp_file(name):
      path = os.path.join(directory, name)
      with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        os.remove(path)
        removed.append(path)
  return removed
