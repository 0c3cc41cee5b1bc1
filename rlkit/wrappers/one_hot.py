"""One-hot encodes discrete observations (e.g. FrozenLake's or a GridWorld's state index)."""

from typing import Any

import dm_env
import numpy as np

from rlkit import specs
from rlkit.wrappers import base


class OneHotObservationWrapper(base.EnvironmentWrapper):
  """Turns a `DiscreteArray` observation into a float32 one-hot vector.

  The new observation spec is a `BoundedArray` of shape `(num_values,)` in
  [0, 1], so tabular environments can feed networks that expect vectors.

  Args:
    environment: a dm_env environment whose observation spec is a
      `DiscreteArray`.

  Raises:
    TypeError: if the observation spec is not a `DiscreteArray`.
  """

  def __init__(self, environment: dm_env.Environment):
    super().__init__(environment)
    spec = environment.observation_spec()
    if not isinstance(spec, specs.DiscreteArray):
      raise TypeError(
          'OneHotObservationWrapper needs a DiscreteArray observation spec, '
          f'got {spec!r}.')
    self._num_values = int(spec.num_values)
    self._observation_spec = specs.BoundedArray(
        shape=(self._num_values,), dtype=np.float32, minimum=0.0, maximum=1.0,
        name=spec.name)

  def _one_hot(self, observation: Any) -> np.ndarray:
    index = int(observation)
    if not 0 <= index < self._num_values:
      raise ValueError(
          f'Observation {observation!r} is outside the DiscreteArray range '
          f'[0, {self._num_values - 1}].')
    vector = np.zeros(self._num_values, dtype=np.float32)
    vector[index] = 1.0
    return vector

  def reset(self) -> dm_env.TimeStep:
    timestep = self._environment.reset()
    return timestep._replace(observation=self._one_hot(timestep.observation))

  def step(self, action: Any) -> dm_env.TimeStep:
    timestep = self._environment.step(action)
    return timestep._replace(observation=self._one_hot(timestep.observation))

  def observation_spec(self) -> specs.BoundedArray:
    return self._observation_spec
