"""Repeats each action several times (Acme's ActionRepeatWrapper).

One `step()` steps the wrapped environment up to `num_repeats` times with the
same action and returns the last timestep, with the discounted sum of the
rewards (r1 + d1 r2 + d1 d2 r3 + ...) and the product of the discounts.
It stops early at a LAST timestep. A `step()` that the wrapped environment
answers with FIRST (a fresh environment, or after LAST) is returned as it is.
"""

from typing import Any

import dm_env
import numpy as np

from rlkit.wrappers import base


class ActionRepeatWrapper(base.EnvironmentWrapper):
  """Applies each action `num_repeats` times.

  Args:
    environment: the dm_env environment to wrap.
    num_repeats: how many times to apply each action, a positive int.

  Raises:
    ValueError: if `num_repeats` is not a positive int.
  """

  def __init__(self, environment: dm_env.Environment, num_repeats: int = 1):
    if (not isinstance(num_repeats, (int, np.integer)) or isinstance(num_repeats, bool) or
        num_repeats <= 0):
      raise ValueError(f'num_repeats must be a positive int, got {num_repeats!r}.')
    super().__init__(environment)
    for what, spec in (('reward', environment.reward_spec()),
                       ('discount', environment.discount_spec())):
      if not hasattr(spec, 'dtype'):
        raise TypeError(f'ActionRepeatWrapper needs an array {what} spec, got {spec!r}.')
    self._num_repeats = int(num_repeats)
    self._reward_spec = environment.reward_spec()
    self._discount_spec = environment.discount_spec()

  @property
  def num_repeats(self) -> int:
    return self._num_repeats

  def step(self, action: Any) -> dm_env.TimeStep:
    timestep = self._environment.step(action)
    if timestep.first():
      return timestep
    reward = np.asarray(timestep.reward, np.float64)
    discount = np.asarray(timestep.discount, np.float64)
    for _ in range(self._num_repeats - 1):
      if timestep.last():
        break
      timestep = self._environment.step(action)
      reward = reward + discount * timestep.reward
      discount = discount * timestep.discount
    return timestep._replace(reward=reward.astype(self._reward_spec.dtype),
                             discount=discount.astype(self._discount_spec.dtype))
