"""Rescales bounded continuous actions to [-1, 1] (Acme's CanonicalSpecWrapper).

The agent sees a canonical action spec, the box [-1, 1]^d with the original
shape and dtype; each action is mapped back affinely to the environment's
[minimum, maximum] before it is passed on. Only floating-point `BoundedArray`
leaves of the action spec change; discrete and integer specs pass through.
"""

from typing import Any

import dm_env
import numpy as np
import tree

from rlkit import specs
from rlkit.wrappers import base


def _is_continuous(spec: Any) -> bool:
  return (isinstance(spec, specs.BoundedArray) and
          not isinstance(spec, specs.DiscreteArray) and
          np.issubdtype(spec.dtype, np.floating))


def _canonical(spec: Any) -> Any:
  if not _is_continuous(spec):
    return spec
  if not (np.all(np.isfinite(spec.minimum)) and np.all(np.isfinite(spec.maximum))):
    raise ValueError(f'CanonicalSpecWrapper needs finite action bounds, got {spec!r}.')
  return specs.BoundedArray(spec.shape, spec.dtype,
                            minimum=-np.ones(spec.shape, spec.dtype),
                            maximum=np.ones(spec.shape, spec.dtype), name=spec.name)


class CanonicalSpecWrapper(base.EnvironmentWrapper):
  """Lets the agent act in [-1, 1] on an environment with other action bounds.

  Args:
    environment: the dm_env environment to wrap.
    clip: clip actions to [-1, 1] before rescaling (otherwise an action
      outside the canonical box maps outside the environment's bounds).

  Raises:
    ValueError: if a continuous bounded action spec has infinite bounds.
  """

  def __init__(self, environment: dm_env.Environment, clip: bool = False):
    super().__init__(environment)
    self._clip = bool(clip)
    self._original_spec = environment.action_spec()
    self._action_spec = tree.map_structure(_canonical, self._original_spec)

  def _scale(self, action: Any, spec: Any) -> Any:
    if not _is_continuous(spec):
      return action
    action = np.asarray(action, dtype=spec.dtype)
    if self._clip:
      action = np.clip(action, -1.0, 1.0)
    low, high = spec.minimum, spec.maximum
    return (low + (action + 1.0) * 0.5 * (high - low)).astype(spec.dtype)

  def step(self, action: Any) -> dm_env.TimeStep:
    return self._environment.step(
        tree.map_structure(self._scale, action, self._original_spec))

  def action_spec(self) -> Any:
    return self._action_spec
