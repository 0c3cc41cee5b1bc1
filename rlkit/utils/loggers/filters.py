"""Loggers that filter rows or values before passing them on."""

import time

from rlkit.utils.loggers import base


class NoneFilter(base.Logger):
  """Drops the entries whose value is None."""

  def __init__(self, to: base.Logger):
    self._to = to

  def write(self, data: base.LoggingData) -> None:
    self._to.write({k: v for k, v in data.items() if v is not None})

  def close(self) -> None:
    self._to.close()


class TimeFilter(base.Logger):
  """Passes at most one row every `time_delta` seconds (0 passes all)."""

  def __init__(self, to: base.Logger, time_delta: float):
    if time_delta < 0:
      raise ValueError(f'time_delta must be >= 0 seconds, got {time_delta}.')
    self._to = to
    self._time_delta = time_delta
    self._last_time = None

  def write(self, data: base.LoggingData) -> None:
    now = time.monotonic()
    if self._last_time is None or now - self._last_time >= self._time_delta:
      self._to.write(data)
      self._last_time = now

  def close(self) -> None:
    self._to.close()
