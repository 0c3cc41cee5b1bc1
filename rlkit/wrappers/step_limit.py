"""Truncates episodes after a number of steps (Acme's StepLimitWrapper)."""

from typing import Any, Optional

import dm_env

from rlkit.wrappers import base


class StepLimitWrapper(base.EnvironmentWrapper):
  """Ends every episode after at most `step_limit` steps.

  A truncated episode ends with a LAST timestep that keeps the environment's
  reward and discount (usually 1), so learners still bootstrap from it. The
  `step()` after a LAST timestep, truncated here or not, starts a new episode,
  as dm_env environments do; `reset()` always restarts the count.

  Args:
    environment: the dm_env environment to wrap.
    step_limit: the maximum number of steps per episode, a positive int, or
      None for no limit (Acme's default).

  Raises:
    ValueError: if `step_limit` is neither None nor a positive int.
  """

  def __init__(self, environment: dm_env.Environment,
               step_limit: Optional[int] = None):
    if step_limit is not None and (
        not isinstance(step_limit, int) or isinstance(step_limit, bool) or
        step_limit <= 0):
      raise ValueError(
          f'step_limit must be a positive int or None, got {step_limit!r}.')
    super().__init__(environment)
    self._step_limit = step_limit
    self._elapsed_steps = 0
    self._reset_next_step = False

  @property
  def step_limit(self) -> Optional[int]:
    return self._step_limit

  @property
  def elapsed_steps(self) -> int:
    """Steps taken in the current episode."""
    return self._elapsed_steps

  def reset(self) -> dm_env.TimeStep:
    self._elapsed_steps = 0
    self._reset_next_step = False
    return self._environment.reset()

  def step(self, action: Any) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    timestep = self._environment.step(action)
    if timestep.first():
      # The wrapped environment started a new episode by itself: this step
      # does not count.
      self._elapsed_steps = 0
      return timestep
    self._elapsed_steps += 1
    if timestep.last():
      self._reset_next_step = True
    elif self._step_limit is not None and self._elapsed_steps >= self._step_limit:
      self._reset_next_step = True
      return timestep._replace(step_type=dm_env.StepType.LAST)
    return timestep
