"""Concatenates dict observations into one flat vector (Acme's ConcatObservationWrapper).

Fields are flattened and joined in sorted key order (the order of
`tree.flatten`, as in Acme); scalars count as length-1 vectors. Fields not in
`name_filter` are dropped.
"""

from typing import Any, Mapping, Optional, Sequence

import dm_env
import numpy as np
import tree

from rlkit import specs
from rlkit.wrappers import base


class ConcatObservationWrapper(base.EnvironmentWrapper):
  """Turns a dict of observation arrays into a single vector.

  The new spec is an unbounded `BoundedArray` named 'observations' whose
  dtype is the common dtype of the fields (float64 for the Control Suite;
  `SinglePrecisionWrapper` makes it float32).

  Args:
    environment: a dm_env environment whose observation spec is a dict.
    name_filter: the fields to keep; None keeps them all.

  Raises:
    TypeError: if the observation spec is not a dict.
    ValueError: if `name_filter` names a field the spec lacks, or keeps none.
  """

  def __init__(self, environment: dm_env.Environment,
               name_filter: Optional[Sequence[str]] = None):
    super().__init__(environment)
    spec = environment.observation_spec()
    if not isinstance(spec, Mapping):
      raise TypeError(f'ConcatObservationWrapper needs a dict observation spec, got {spec!r}.')
    if name_filter is None:
      names = list(spec)
    else:
      if isinstance(name_filter, str):
        raise TypeError(f'name_filter must be a sequence of field names, got {name_filter!r}.')
      names = list(name_filter)
      unknown = [name for name in names if name not in spec]
      if unknown:
        raise ValueError(f'name_filter names fields {unknown} that the observation spec lacks; '
                         f'its fields are {sorted(spec)}.')
    if not names:
      raise ValueError(f'ConcatObservationWrapper would keep no field of {sorted(spec)}.')
    self._names = sorted(names)
    leaves = tree.flatten({name: spec[name] for name in self._names})
    self._dtype = np.result_type(*[leaf.dtype for leaf in leaves])
    size = sum(int(np.prod(leaf.shape, dtype=np.int64)) for leaf in leaves)
    self._observation_spec = specs.BoundedArray(
        (size,), self._dtype, minimum=-np.inf, maximum=np.inf, name='observations')

  def _concatenate(self, observation: Mapping[str, Any]) -> np.ndarray:
    leaves = tree.flatten({name: observation[name] for name in self._names})
    return np.concatenate([np.asarray(leaf, dtype=self._dtype).ravel() for leaf in leaves])

  def reset(self) -> dm_env.TimeStep:
    timestep = self._environment.reset()
    return timestep._replace(observation=self._concatenate(timestep.observation))

  def step(self, action: Any) -> dm_env.TimeStep:
    timestep = self._environment.step(action)
    return timestep._replace(observation=self._concatenate(timestep.observation))

  def observation_spec(self) -> specs.BoundedArray:
    return self._observation_spec
