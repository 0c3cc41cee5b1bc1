"""A logger writing rows as TensorBoard scalars to `<logdir>/<label>/`.

Events are framed with TensorBoard's own `RecordWriter` and protos rather
than `torch.utils.tensorboard.SummaryWriter` or tensorboard's
`EventFileWriter`: both of those go through `tensorboard.compat.tf`, which
imports TensorFlow whenever it is installed (about 3 s, and its native log
lines); this module imports in 0.2 s and never loads TensorFlow.
"""

import math
import numbers
import os
import socket
import struct
import time
from typing import Iterator, List, Optional, Tuple

import numpy as np
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.summary.writer.record_writer import RecordWriter

from rlkit.utils.loggers import base

EVENTS_MARKER = 'tfevents'


def _event_files(directory: str) -> List[str]:
  if not os.path.isdir(directory):
    return []
  return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                if EVENTS_MARKER in name)


def read_records(path: str) -> Iterator[bytes]:
  """Yields the records of a TFRecord file; stops at a truncated or corrupt tail
  (what a killed writer leaves)."""
  with open(path, 'rb') as f:
    while True:
      header = f.read(12)
      if len(header) < 12:
        return
      length_bytes, length_crc = header[:8], struct.unpack('<I', header[8:])[0]
      if masked_crc32c(length_bytes) != length_crc:
        return
      (length,) = struct.unpack('<Q', length_bytes)
      data = f.read(length)
      footer = f.read(4)
      if len(data) < length or len(footer) < 4:
        return
      if masked_crc32c(data) != struct.unpack('<I', footer)[0]:
        return
      yield data


def read_events(directory: str) -> Iterator[event_pb2.Event]:
  """Yields the events of every event file in `directory`, file by file."""
  for path in _event_files(directory):
    for record in read_records(path):
      yield event_pb2.Event.FromString(record)


def truncate(directory: str, max_step: int) -> int:
  """Removes the events with step > `max_step` from the event files in `directory`.

  A resumed run calls it (through `TensorBoardLogger(resume_step=...)`) so that
  the rows written after the checkpoint it resumes from, which it writes
  again, are not duplicated. Files are rewritten atomically; a file left
  with no scalar events is removed. Returns the largest step kept (-1: none).
  """
  largest = -1
  for path in _event_files(directory):
    kept, dropped, has_scalars = [], False, False
    for record in read_records(path):
      event = event_pb2.Event.FromString(record)
      if event.HasField('summary'):
        if event.step > max_step:
          dropped = True
          continue
        has_scalars = True
        largest = max(largest, event.step)
      kept.append(record)
    if not has_scalars:
      os.remove(path)
      continue
    if dropped or os.path.getsize(path) != sum(16 + len(r) for r in kept):
      temporary = path + '.tmp'
      with open(temporary, 'wb') as f:
        writer = RecordWriter(f)
        for record in kept:
          writer.write(record)
        writer.flush()
      os.replace(temporary, path)
  return largest


def _scalar(value) -> Optional[float]:
  value = base.to_numpy(value)
  if isinstance(value, np.ndarray):
    if value.size != 1 or not np.issubdtype(value.dtype, np.number):
      return None
    value = value.reshape(()).item()
  if isinstance(value, (bool, numbers.Real)):
    return float(value)
  return None


class TensorBoardLogger(base.Logger):
  """Writes one scalar `<label>/<key>` per numeric value of each row.

  The step of a row is its `steps_key` value (e.g. 'actor_steps' for train
  and evaluator rows, 'learner_steps' for learner rows); a row without it
  gets the previous row's step + 1. Non-numeric values and arrays of more
  than one element are skipped; the `steps_key` value itself is the x-axis,
  not a scalar. Every row is flushed to disk at once.

  Args:
    logdir: the run's TensorBoard directory (e.g. `<run_dir>/tensorboard`);
      this label writes to `<logdir>/<label>/`, one TensorBoard run per label.
    label: the stream's name, a plain file name.
    steps_key: the row key giving the step.
    resume_step: when resuming from a checkpoint taken at this step (in
      `steps_key` units), events after it are removed from the existing files
      (the run writes them again), and rows with a step not above the last
      one kept are dropped, so no step appears twice. A row at exactly
      `resume_step` that the files lack (a final evaluation the killed run
      did not get to) is written. None: existing files are kept as they are.
  """

  def __init__(self, logdir: str, label: str, steps_key: str,
               resume_step: Optional[int] = None):
    if not label or os.sep in label or label in ('.', '..'):
      raise ValueError(f'TensorBoardLogger label must be a plain file name, got {label!r}.')
    if not isinstance(steps_key, str) or not steps_key:
      raise ValueError(f'steps_key must be a non-empty string, got {steps_key!r}.')
    if resume_step is not None and (not isinstance(resume_step, numbers.Integral)
                                    or resume_step < 0):
      raise ValueError(f'resume_step must be an integer >= 0 or None, got {resume_step!r}.')
    self._label = label
    self._steps_key = steps_key
    self._directory = os.path.join(os.fspath(logdir), label)
    os.makedirs(self._directory, exist_ok=True)
    self._min_step = -1
    if resume_step is not None:
      self._min_step = truncate(self._directory, int(resume_step))
    self._last_step = self._min_step
    self._path = self._new_file_path()
    self._file = open(self._path, 'wb')
    self._writer = RecordWriter(self._file)
    self._write_event(event_pb2.Event(wall_time=time.time(), file_version='brain.Event:2'))

  def _new_file_path(self) -> str:
    """A name sorting after the existing files (TensorBoard reads them in name order)."""
    stamp = int(time.time())
    for path in _event_files(self._directory):
      try:
        stamp = max(stamp, int(os.path.basename(path).split('.')[3]) + 1)
      except (IndexError, ValueError):
        continue
    name = f'events.out.{EVENTS_MARKER}.{stamp:010d}.{socket.gethostname()}.{os.getpid()}'
    return os.path.join(self._directory, name)

  @property
  def directory(self) -> str:
    return self._directory

  @property
  def file_path(self) -> str:
    return self._path

  def _write_event(self, event: event_pb2.Event) -> None:
    self._writer.write(event.SerializeToString())
    self._writer.flush()

  def _step(self, data: base.LoggingData) -> int:
    if self._steps_key not in data:
      return self._last_step + 1
    value = base.to_numpy(data[self._steps_key])
    if isinstance(value, np.ndarray) and value.size == 1:
      value = value.reshape(()).item()
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
        or not math.isfinite(value) or value != int(value)):
      raise ValueError(f'TensorBoardLogger({self._label}): {self._steps_key!r} must be a '
                       f'whole number of steps, got {data[self._steps_key]!r}.')
    return int(value)

  def write(self, data: base.LoggingData) -> None:
    if self._file.closed:
      raise RuntimeError(f'TensorBoardLogger({self._label}) is closed.')
    step = self._step(data)
    self._last_step = max(self._last_step, step)
    if step <= self._min_step:
      return
    values: List[Tuple[str, float]] = []
    for key, value in data.items():
      if key == self._steps_key:
        continue
      scalar = _scalar(value)
      if scalar is not None:
        values.append((f'{self._label}/{key}', scalar))
    if not values:
      return
    summary = summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag=tag, simple_value=scalar) for tag, scalar in values])
    self._write_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

  def close(self) -> None:
    if not self._file.closed:
      self._file.flush()
      self._file.close()
