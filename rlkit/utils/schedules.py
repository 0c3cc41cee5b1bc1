"""Schedules of a scalar (e.g. the exploration epsilon) over steps.

A schedule keeps its position, so a checkpoint can save it and a resumed run
continues where it stopped: `value` reads the current value, `advance()` moves
one step on, `save()`/`restore()` handle the position.
"""

import abc
import numbers
from typing import Mapping


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


def _check_number(name: str, value) -> None:
  if not isinstance(value, numbers.Real) or isinstance(value, bool):
    raise TypeError(f'{name} must be a real number, got {value!r}.')
