"""Schedules of a scalar (e.g. the exploration epsilon) over steps.

A schedule keeps its position, so a checkpoint can save it and a resumed run
continues where it stopped: `value` reads the current value, `advance()` moves
one step on, `save()`/`restore()` handle the position.

The rule every agent follows (BUILD_NOTES, "Schedules"), in one place,
`over_training`: a schedule given as a fraction of training spans that
fraction of the run's horizon when the horizon is known; without one, it must
not depend on the end of training: it runs over a fixed number of steps (an
exploration warm-up) or stays constant (a learning rate). Past its end every
schedule holds its final value. `learner_steps` converts a horizon in
environment steps into learner steps with the update ratio.
"""

import abc
import math
import numbers
from typing import Mapping, Optional


class Schedule(abc.ABC):
  """A scalar that changes with the number of steps taken so far."""

  def __init__(self):
    self._step = 0

  @abc.abstractmethod
  def value_at(self, step: int) -> float:
    """Returns the value after `step` steps (pure: does not move the position)."""

  @property
  def value(self) -> float:
    return self.value_at(self._step)

  @property
  def step(self) -> int:
    return self._step

  def advance(self, num_steps: int = 1) -> None:
    self._step += num_steps

  def save(self) -> Mapping[str, int]:
    return {'step': self._step}

  def restore(self, state: Mapping[str, int]) -> None:
    step = state.get('step') if isinstance(state, Mapping) else None
    if not isinstance(step, numbers.Integral) or step < 0:
      raise ValueError(
          f'Schedule.restore expects {{"step": non-negative int}}, got {state!r}.')
    self._step = int(step)


class ConstantSchedule(Schedule):
  """Always `value`."""

  def __init__(self, value: float):
    super().__init__()
    _check_number('value', value)
    self._value = float(value)

  def value_at(self, step: int) -> float:
    del step
    return self._value

  def __repr__(self) -> str:
    return f'ConstantSchedule({self._value})'


class LinearSchedule(Schedule):
  """Goes linearly from `initial_value` to `final_value` in `decay_steps`, then stays.

  Args:
    initial_value: the value at step 0.
    final_value: the value from step `decay_steps` on.
    decay_steps: number of steps of the linear part; 0 means `final_value`
      from the start.
  """

  def __init__(self, initial_value: float, final_value: float, decay_steps: int):
    super().__init__()
    _check_number('initial_value', initial_value)
    _check_number('final_value', final_value)
    if not isinstance(decay_steps, numbers.Integral) or decay_steps < 0:
      raise ValueError(
          f'LinearSchedule decay_steps must be a non-negative integer, got {decay_steps!r}.')
    self._initial = float(initial_value)
    self._final = float(final_value)
    self._decay_steps = int(decay_steps)

  def value_at(self, step: int) -> float:
    if step >= self._decay_steps:
      return self._final
    fraction = step / self._decay_steps
    return self._initial + fraction * (self._final - self._initial)

  def __repr__(self) -> str:
    return (f'LinearSchedule({self._initial} -> {self._final} over '
            f'{self._decay_steps} steps)')


def over_training(initial_value: float, final_value: float, *,
                  horizon: Optional[int], fraction: float = 1.0,
                  steps_without_horizon: Optional[int] = None) -> Schedule:
  """A linear schedule from `initial_value` to `final_value`, by the schedule rule.

  Args:
    initial_value: the value at step 0.
    final_value: the value held from the end of the decay on.
    horizon: the steps the run spans, or None when unknown.
    fraction: with a horizon, the decay spans `fraction * horizon` steps
      (at least 1); 0 means `final_value` from the start.
    steps_without_horizon: without a horizon, the decay spans this many steps;
      None keeps `initial_value` constant (a learning rate).
  """
  _check_number('initial_value', initial_value)
  _check_number('final_value', final_value)
  _check_number('fraction', fraction)
  if not 0.0 <= fraction <= 1.0:
    raise ValueError(f'fraction must be in [0, 1], got {fraction!r}.')
  if horizon is not None:
    if not isinstance(horizon, numbers.Integral) or isinstance(horizon, bool) or horizon < 1:
      raise ValueError(f'horizon must be None or a positive integer, got {horizon!r}.')
    if fraction == 0.0:
      return ConstantSchedule(final_value)
    return LinearSchedule(initial_value, final_value, max(1, round(fraction * horizon)))
  if steps_without_horizon is None:
    return ConstantSchedule(initial_value)
  if (not isinstance(steps_without_horizon, numbers.Integral)
      or isinstance(steps_without_horizon, bool) or steps_without_horizon < 0):
    raise ValueError(f'steps_without_horizon must be None or an integer >= 0, got '
                     f'{steps_without_horizon!r}.')
  return LinearSchedule(initial_value, final_value, int(steps_without_horizon))


def learner_steps(horizon: Optional[int], min_observations: int,
                  samples_per_insert: float, batch_size: int) -> Optional[int]:
  """Learner steps of a run of `horizon` environment steps (None when unknown).

  The replay-ratio agent steps `samples_per_insert / batch_size` times per
  environment step after its first `min_observations - 1` steps.
  """
  if horizon is None:
    return None
  if not isinstance(horizon, numbers.Integral) or isinstance(horizon, bool) or horizon < 1:
    raise ValueError(f'horizon must be None or a positive integer, got {horizon!r}.')
  eligible = max(0, horizon - min_observations + 1)
  return max(1, math.floor(eligible * samples_per_insert / batch_size))


def _check_number(name: str, value) -> None:
  if not isinstance(value, numbers.Real) or isinstance(value, bool):
    raise TypeError(f'{name} must be a real number, got {value!r}.')
