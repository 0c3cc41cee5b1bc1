"""One progress line for a training run: steps done / budget, speed, ETA, returns.

On a terminal it is a live tqdm line redrawn in place; otherwise (CI, a log
file) a plain line every `period_s` seconds and one at the end.
"""

import datetime
import io
import math
import numbers
import os
import sys
import time
from typing import Any, Mapping, Optional, TextIO

import numpy as np

from rlkit.utils.loggers import base

UNITS = ('steps', 'episodes')


def _as_float(value: Any) -> Optional[float]:
  value = base.to_numpy(value)
  if isinstance(value, np.ndarray):
    if value.size != 1:
      return None
    value = value.reshape(()).item()
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    return None
  return float(value)


def _format_return(value: float) -> str:
  return f'{value:.1f}' if abs(value) < 1e5 else f'{value:.4g}'


def _format_duration(seconds: float) -> str:
  return str(datetime.timedelta(seconds=int(round(seconds))))


def _has_size(stream: TextIO) -> bool:
  """Whether `stream` is a terminal reporting its size (a bare pty reports 0 x 0)."""
  try:
    size = os.get_terminal_size(stream.fileno())
  except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
    return False
  return size.columns > 0 and size.lines > 0


class ProgressReporter:
  """Shows how far a run is.

  Args:
    budget: the run's budget in `unit`s; None when unknown (no ETA).
    unit: 'steps' (progress is `counts[steps_key]`) or 'episodes'
      (`counts[episodes_key]`).
    stream: where the line goes; default sys.stdout.
    live: a redrawn tqdm line (True) or plain lines (False); default: whether
      `stream` is a terminal.
    period_s: seconds between two plain lines.
    label: prefix of the line.
    steps_key, episodes_key: the counter keys of actor steps and episodes.
  """

  def __init__(self, budget: Optional[int] = None, unit: str = 'steps', *,
               stream: Optional[TextIO] = None, live: Optional[bool] = None,
               period_s: float = 15.0, label: str = 'train',
               steps_key: str = 'actor_steps', episodes_key: str = 'actor_episodes'):
    if unit not in UNITS:
      raise ValueError(f'unit must be one of {UNITS}, got {unit!r}.')
    if budget is not None and (isinstance(budget, bool) or not isinstance(
        budget, numbers.Integral) or budget < 1):
      raise ValueError(f'budget must be a whole number >= 1 of {unit} or None, got {budget!r}.')
    if not period_s > 0:
      raise ValueError(f'period_s must be > 0 seconds, got {period_s!r}.')
    self._budget = None if budget is None else int(budget)
    self._unit = unit
    self._stream = stream if stream is not None else sys.stdout
    if live is None:
      isatty = getattr(self._stream, 'isatty', None)
      live = bool(isatty and isatty())
    self._live = live
    self._period_s = float(period_s)
    self._label = label
    self._steps_key = steps_key
    self._episodes_key = episodes_key
    self._progress_key = steps_key if unit == 'steps' else episodes_key
    self._start_time: Optional[float] = None
    self._start_progress = 0
    self._start_steps = 0
    self._progress = 0
    self._steps = 0
    self._train_return: Optional[float] = None
    self._eval_return: Optional[float] = None
    self._last_print: Optional[float] = None
    self._printed_state = None
    self._bar = None
    self._closed = False

  @property
  def live(self) -> bool:
    return self._live

  def update(self, counts: Mapping[str, Any], train_return: Any = None,
             eval_return: Any = None) -> None:
    """Records the counts (needs the unit's key) and the latest returns; redraws."""
    if self._closed:
      raise RuntimeError('ProgressReporter.update after close().')
    if self._progress_key not in counts:
      raise KeyError(f'ProgressReporter counts need {self._progress_key!r} (progress in '
                     f'{self._unit}), got keys {sorted(counts)}.')
    now = time.monotonic()
    progress = int(counts[self._progress_key])
    steps = int(counts.get(self._steps_key, 0))
    if self._start_time is None:
      self._start_time = now
      self._start_progress, self._start_steps = progress, steps
    self._progress, self._steps = progress, steps
    if train_return is not None:
      self._train_return = _as_float(train_return)
    if eval_return is not None:
      self._eval_return = _as_float(eval_return)
    if self._live:
      self._draw_live()
    elif self._last_print is None or now - self._last_print >= self._period_s:
      self._print_plain(now)

  def write(self, message: str) -> None:
    """Prints a line of text without breaking the live line."""
    if self._bar is not None:
      self._bar.write(message, file=self._stream)
    else:
      print(message, file=self._stream, flush=True)

  def logger(self, return_key: str = 'episode_return', evaluation: bool = False) -> base.Logger:
    """A Logger that feeds each row it is given (train rows, or evaluator rows
    with `evaluation`) to this reporter; its close() leaves the reporter open."""
    return _ProgressLogger(self, return_key, evaluation)

  def close(self) -> None:
    """Draws the final state (a last plain line if it changed) and ends the line."""
    if self._closed:
      return
    self._closed = True
    if self._bar is not None:
      self._draw_live()
      self._bar.close()
    elif self._start_time is not None and self._state() != self._printed_state:
      self._print_plain(time.monotonic())

  def _state(self):
    return (self._progress, self._steps, self._train_return, self._eval_return)

  def _steps_per_second(self, now: float) -> Optional[float]:
    elapsed = now - self._start_time
    return (self._steps - self._start_steps) / elapsed if elapsed > 0 else None

  def _returns(self) -> Mapping[str, str]:
    fields = {}
    if self._train_return is not None:
      fields['return'] = _format_return(self._train_return)
    if self._eval_return is not None:
      fields['eval'] = _format_return(self._eval_return)
    return fields

  def _draw_live(self) -> None:
    if self._bar is None:
      import tqdm  # pylint: disable=g-import-not-at-top
      # tqdm draws nothing on a terminal reporting 0 rows (a bare pty): give it a size.
      size = {} if _has_size(self._stream) else {'ncols': 100, 'nrows': 24}
      self._bar = tqdm.tqdm(total=self._budget, initial=self._start_progress, unit=self._unit,
                            desc=f'[{self._label}]', file=self._stream, dynamic_ncols=not size,
                            leave=True, smoothing=0.1, **size)
    fields = dict(self._returns())
    if self._unit != 'steps':
      rate = self._steps_per_second(time.monotonic())
      if rate is not None:
        fields = {'steps/s': f'{rate:.0f}', **fields}
    self._bar.set_postfix(fields, refresh=False)
    self._bar.update(self._progress - self._bar.n)

  def _print_plain(self, now: float) -> None:
    if self._budget is not None:
      fraction = self._progress / self._budget
      done = f'{self._progress}/{self._budget} {self._unit} ({100 * fraction:.0f}%)'
    else:
      done = f'{self._progress} {self._unit}'
    parts = [f'[{self._label}] {done}', f'elapsed {_format_duration(now - self._start_time)}']
    rate = self._steps_per_second(now)
    if rate is not None:
      parts.append(f'{rate:.0f} steps/s')
    eta = self._eta(now)
    if eta is not None:
      parts.append(f'ETA {_format_duration(eta)}')
    parts.extend(f'{name} {value}' for name, value in self._returns().items())
    print(' | '.join(parts), file=self._stream, flush=True)
    self._last_print = now
    self._printed_state = self._state()

  def _eta(self, now: float) -> Optional[float]:
    if self._budget is None:
      return None
    done = self._progress - self._start_progress
    elapsed = now - self._start_time
    if done <= 0 or elapsed <= 0:
      return None
    remaining = max(self._budget - self._progress, 0)
    eta = remaining * elapsed / done
    return eta if math.isfinite(eta) else None


class _ProgressLogger(base.Logger):

  def __init__(self, reporter: ProgressReporter, return_key: str, evaluation: bool):
    self._reporter = reporter
    self._return_key = return_key
    self._evaluation = evaluation

  def write(self, data: base.LoggingData) -> None:
    value = data.get(self._return_key)
    if self._evaluation:
      self._reporter.update(data, eval_return=value)
    else:
      self._reporter.update(data, train_return=value)
