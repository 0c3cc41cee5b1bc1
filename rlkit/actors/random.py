"""An actor that picks uniformly random actions."""

from typing import Optional

import dm_env
import numpy as np
import tree

from rlkit import core
from rlkit import specs
from rlkit import types


class RandomActor(core.Actor):
  """Samples actions uniformly from a discrete or bounded action spec.

  Discrete actions are drawn in blocks, which keeps `select_action` cheap.

  Args:
    action_spec: a DiscreteArray, a BoundedArray, or a nest of them.
    seed: seed of the actor's own generator.
  """

  _BLOCK = 4096

  def __init__(self, action_spec: types.NestedSpec, seed: Optional[int] = None):
    for spec in tree.flatten(action_spec):
      if not isinstance(spec, (specs.DiscreteArray, specs.BoundedArray)):
        raise TypeError(
            f'RandomActor needs DiscreteArray or BoundedArray action specs, got {spec!r}.')
      if not (np.all(np.isfinite(spec.minimum)) and np.all(np.isfinite(spec.maximum))):
        raise ValueError(f'RandomActor samples uniformly, so action bounds must be finite; '
                         f'got {spec!r}.')
    self._spec = action_spec
    self._rng = np.random.default_rng(seed)
    self._discrete = isinstance(action_spec, specs.DiscreteArray)
    self._block = np.empty(0, dtype=np.int64)
    self._index = 0

  def select_action(self, observation: types.NestedArray) -> types.NestedArray:
    del observation
    if self._discrete:
      if self._index >= len(self._block):
        self._block = self._rng.integers(
            0, self._spec.num_values, size=self._BLOCK).astype(self._spec.dtype)
        self._index = 0
      action = self._block[self._index]
      self._index += 1
      return action
    return tree.map_structure(self._sample, self._spec)

  def _sample(self, spec: specs.BoundedArray) -> np.ndarray:
    if isinstance(spec, specs.DiscreteArray):
      return np.asarray(self._rng.integers(0, spec.num_values), dtype=spec.dtype)
    if np.issubdtype(spec.dtype, np.integer):
      return self._rng.integers(spec.minimum, np.asarray(spec.maximum) + 1,
                                size=spec.shape).astype(spec.dtype)
    return self._rng.uniform(spec.minimum, spec.maximum, size=spec.shape).astype(spec.dtype)

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    pass

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    pass

  def update(self, wait: bool = False) -> None:
    pass
