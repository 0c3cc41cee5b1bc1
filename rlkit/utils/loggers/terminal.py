"""A logger that prints one line per row."""

import time
from typing import Callable

from rlkit.utils.loggers import base


def format_value(value) -> str:
  value = base.to_numpy(value)
  if isinstance(value, float):
    return f'{value:.3f}' if abs(value) < 1e5 else f'{value:.4g}'
  return str(value)


class TerminalLogger(base.Logger):
  """Prints rows as `[Label] Key1 = v1 | Key2 = v2`.

  Args:
    label: printed in brackets before each row.
    print_fn: where lines go.
    time_delta: the least number of seconds between two printed rows (Acme's
      argument); rows written sooner are dropped. 0 prints every row.
  """

  def __init__(self, label: str = '', print_fn: Callable[[str], None] = print,
               time_delta: float = 0.0):
    if (isinstance(time_delta, bool) or not isinstance(time_delta, (int, float))
        or not time_delta >= 0):
      raise ValueError(f'time_delta must be a number >= 0 (seconds), got {time_delta!r}.')
    self._label = label
    self._print_fn = print_fn
    self._time_delta = float(time_delta)
    self._last_time = None

  def write(self, data: base.LoggingData) -> None:
    if self._time_delta > 0:
      now = time.monotonic()
      if self._last_time is not None and now - self._last_time < self._time_delta:
        return
      self._last_time = now
    body = ' | '.join(
        f"{key.replace('_', ' ').title()} = {format_value(value)}"
        for key, value in sorted(data.items()))
    prefix = f'[{self._label.replace("_", " ").title()}] ' if self._label else ''
    self._print_fn(prefix + body)
