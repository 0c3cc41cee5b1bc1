"""Converts 64-bit floats and integers to 32 bits (Acme's SinglePrecisionWrapper).

float64 becomes float32 and int64 becomes int32 in observations, rewards,
discounts and in all four specs. Actions pass through unchanged, but the action
spec is converted too, so an agent built from the spec emits 32-bit actions
(the gymnasium adapter accepts them). Values of any other dtype are returned
as they are, without a copy.
"""

from typing import Any

import dm_env
import numpy as np
import tree

from rlkit import specs
from rlkit.wrappers import base

_TARGET_DTYPES = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.int64): np.dtype(np.int32),
}
_SCALAR_TARGETS = {
    float: np.float32,
    int: np.int32,
    np.float64: np.float32,
    np.int64: np.int32,
}


def _convert_value(value: Any) -> Any:
  cls = type(value)
  if cls is np.ndarray:
    target = _TARGET_DTYPES.get(value.dtype)
    return value if target is None else value.astype(target)
  scalar_target = _SCALAR_TARGETS.get(cls)
  if scalar_target is not None:
    return scalar_target(value)
  dtype = getattr(value, 'dtype', None)
  if dtype is None:
    return value
  target = _TARGET_DTYPES.get(dtype)
  return value if target is None else value.astype(target)


def _convert_bound(bound: np.ndarray, dtype: np.dtype) -> np.ndarray:
  if np.issubdtype(dtype, np.integer):
    info = np.iinfo(dtype)
    return np.clip(bound, info.min, info.max).astype(dtype)
  with np.errstate(over='ignore'):
    return np.asarray(bound).astype(dtype)


def _convert_spec(spec: specs.Array) -> specs.Array:
  target = _TARGET_DTYPES.get(np.dtype(spec.dtype))
  if target is None:
    return spec
  if isinstance(spec, specs.DiscreteArray):
    return specs.DiscreteArray(spec.num_values, dtype=target, name=spec.name)
  if isinstance(spec, specs.BoundedArray):
    return specs.BoundedArray(
        spec.shape, target,
        minimum=_convert_bound(spec.minimum, target),
        maximum=_convert_bound(spec.maximum, target),
        name=spec.name)
  return specs.Array(spec.shape, target, name=spec.name)


def convert_spec(nested_spec: Any) -> Any:
  """Returns `nested_spec` with float64/int64 leaves made float32/int32."""
  return tree.map_structure(_convert_spec, nested_spec)


def convert_value(nested_value: Any) -> Any:
  """Returns `nested_value` with float64/int64 leaves made float32/int32.

  Python floats and ints become numpy float32 and int32 scalars; None stays
  None (the reward and discount of a FIRST timestep).
  """
  if tree.is_nested(nested_value):
    return tree.map_structure(_convert_value, nested_value)
  return _convert_value(nested_value)


class SinglePrecisionWrapper(base.EnvironmentWrapper):
  """Makes an environment emit and declare single-precision values.

  Args:
    environment: the dm_env environment to wrap.
  """

  def __init__(self, environment: dm_env.Environment):
    super().__init__(environment)
    self._observation_spec = convert_spec(environment.observation_spec())
    self._action_spec = convert_spec(environment.action_spec())
    self._reward_spec = convert_spec(environment.reward_spec())
    self._discount_spec = convert_spec(environment.discount_spec())
    self._nested_observation = tree.is_nested(self._observation_spec)
    self._nested_reward = tree.is_nested(self._reward_spec)
    self._nested_discount = tree.is_nested(self._discount_spec)

  def _convert_timestep(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    observation = timestep.observation
    if self._nested_observation:
      observation = tree.map_structure(_convert_value, observation)
    else:
      observation = _convert_value(observation)
    reward = timestep.reward
    if reward is not None:
      if self._nested_reward:
        reward = tree.map_structure(_convert_value, reward)
      else:
        reward = _convert_value(reward)
    discount = timestep.discount
    if discount is not None:
      if self._nested_discount:
        discount = tree.map_structure(_convert_value, discount)
      else:
        discount = _convert_value(discount)
    return dm_env.TimeStep(timestep.step_type, reward, discount, observation)

  def reset(self) -> dm_env.TimeStep:
    return self._convert_timestep(self._environment.reset())

  def step(self, action: Any) -> dm_env.TimeStep:
    return self._convert_timestep(self._environment.step(action))

  def observation_spec(self) -> Any:
    return self._observation_spec

  def action_spec(self) -> Any:
    return self._action_spec

  def reward_spec(self) -> Any:
    return self._reward_spec

  def discount_spec(self) -> Any:
    return self._discount_spec
