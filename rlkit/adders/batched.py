"""One adder per copy of a BatchedEnvironment.

`BatchedAdder` takes the batched timesteps of `rlkit.environments.batched`
and hands each copy's slice to that copy's own adder, so a trajectory (and
every n-step item) stays inside one episode of one copy.
"""

from typing import Callable, List, Sequence

import dm_env
import numpy as np

from rlkit import types
from rlkit.adders import base

_FIRST = int(dm_env.StepType.FIRST)


def unbatch_timestep(timestep: dm_env.TimeStep, index: int) -> dm_env.TimeStep:
  """The timestep of copy `index` (FIRST gets reward and discount None)."""
  step_type = dm_env.StepType(int(timestep.step_type[index]))
  if step_type == dm_env.StepType.FIRST:
    return dm_env.TimeStep(step_type, None, None, timestep.observation[index])
  return dm_env.TimeStep(step_type, timestep.reward[index], timestep.discount[index],
                         timestep.observation[index])


class BatchedAdder(base.Adder):
  """Routes each copy's steps to its own adder.

  Args:
    adders: one adder per copy, in copy order.
  """

  def __init__(self, adders: Sequence[base.Adder]):
    if not adders:
      raise ValueError('BatchedAdder needs one adder per copy, got none.')
    self._adders: List[base.Adder] = list(adders)

  @classmethod
  def from_factory(cls, make_adder: Callable[[], base.Adder],
                   num_envs: int) -> 'BatchedAdder':
    if num_envs < 1:
      raise ValueError(f'num_envs must be positive, got {num_envs}.')
    return cls([make_adder() for _ in range(num_envs)])

  @property
  def num_envs(self) -> int:
    return len(self._adders)

  def _check_batch(self, timestep: dm_env.TimeStep) -> None:
    if np.shape(timestep.step_type) != (len(self._adders),):
      raise ValueError(
          f'BatchedAdder over {len(self._adders)} copies got a timestep with '
          f'step_type of shape {np.shape(timestep.step_type)}; expected '
          f'({len(self._adders)},).')

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    self._check_batch(timestep)
    for i, adder in enumerate(self._adders):
      adder.add_first(unbatch_timestep(timestep, i))

  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = ()) -> None:
    """Adds each copy's step; a copy that was reset starts a new episode."""
    self._check_batch(next_timestep)
    step_types = next_timestep.step_type
    for i, adder in enumerate(self._adders):
      timestep = unbatch_timestep(next_timestep, i)
      if step_types[i] == _FIRST:
        adder.add_first(timestep)
      else:
        copy_extras = extras if extras == () else _index(extras, i)
        adder.add(action[i], timestep, copy_extras)

  def reset(self) -> None:
    for adder in self._adders:
      adder.reset()

  def close(self) -> None:
    """Closes every copy's adder (before the server stops; see NStepTransitionAdder)."""
    for adder in self._adders:
      close = getattr(adder, 'close', None)
      if callable(close):
        close()


def _index(nest: types.NestedArray, i: int) -> types.NestedArray:
  if type(nest) is dict and not any(isinstance(v, (dict, list, tuple)) for v in nest.values()):
    return {key: value[i] for key, value in nest.items()}  # The usual extras, without dm-tree.
  import tree  # pylint: disable=g-import-not-at-top
  return tree.map_structure(lambda x: x[i], nest)
