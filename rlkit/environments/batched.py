"""N copies of an environment stepped together (synchronously, in this process).

A batched TimeStep holds arrays with a leading dimension of size N:
`step_type` (int8 `dm_env.StepType` values), `reward`, `discount` and
`observation`. Each copy resets itself: the `step()` after a copy's LAST
timestep resets that copy (its action is ignored) and reports FIRST with
reward 0 and discount 1, so every copy's final observation is seen once, as
n-step adders need. `step()` on a fresh batched environment is `reset()`
(dm_env's contract; the actions are ignored).
"""

import abc
from typing import Any, Callable, Dict, List, Optional, Sequence

import dm_env
import numpy as np
import tree

from rlkit import specs

FIRST = np.int8(dm_env.StepType.FIRST)
MID = np.int8(dm_env.StepType.MID)
LAST = np.int8(dm_env.StepType.LAST)


def batch_spec(spec: specs.Array, num_envs: int) -> specs.Array:
  """The spec of `num_envs` stacked values of `spec` (DiscreteArray becomes bounded)."""
  shape = (num_envs,) + tuple(spec.shape)
  if isinstance(spec, specs.DiscreteArray):
    return specs.BoundedArray(shape, spec.dtype, 0, spec.num_values - 1, spec.name)
  if isinstance(spec, specs.BoundedArray):
    minimum = np.broadcast_to(spec.minimum, spec.shape)
    maximum = np.broadcast_to(spec.maximum, spec.shape)
    return specs.BoundedArray(shape, spec.dtype, np.broadcast_to(minimum, shape),
                              np.broadcast_to(maximum, shape), spec.name)
  return specs.Array(shape, spec.dtype, spec.name)


def copy_seeds(seed: Optional[int], num_envs: int) -> List[Optional[int]]:
  """Distinct, reproducible seeds for `num_envs` copies (None stays unseeded)."""
  if seed is None:
    return [None] * num_envs
  children = np.random.SeedSequence(seed).spawn(num_envs)
  return [int(child.generate_state(1)[0]) for child in children]


class BatchedEnvironmentBase(dm_env.Environment, abc.ABC):
  """What batched environments share: N copies of one environment.

  Batched specs are the single copy's specs with a leading dimension of N;
  `BatchedEnvironmentLoop` and the batched actors and adders accept any
  subclass (`BatchedEnvironment`, `SubprocessBatchedEnvironment`).
  """

  @property
  @abc.abstractmethod
  def num_envs(self) -> int:
    """The number of copies N."""

  @abc.abstractmethod
  def single_environment_spec(self) -> specs.EnvironmentSpec:
    """The spec of one copy: what networks, adders and tables are built from."""

  @abc.abstractmethod
  def get_rng_state(self) -> List[Optional[Dict[str, Any]]]:
    """Each copy's `get_rng_state()` (None for copies without one)."""

  @abc.abstractmethod
  def set_rng_state(self, states: Sequence[Optional[Dict[str, Any]]]) -> None:
    """Restores what `get_rng_state()` returned."""

  @abc.abstractmethod
  def render(self, index: int = 0):
    """Renders copy `index`."""

  def _check_actions(self, actions) -> np.ndarray:
    """`actions` as an array with one action per copy, or an error."""
    actions = np.asarray(actions)
    if actions.shape[:1] != (self.num_envs,):
      raise ValueError(
          f'Expected one action per copy, shape ({self.num_envs}, ...), got an '
          f'array of shape {actions.shape}.')
    return actions

  def observation_spec(self) -> specs.Array:
    return batch_spec(self.single_environment_spec().observations, self.num_envs)

  def action_spec(self) -> specs.Array:
    return batch_spec(self.single_environment_spec().actions, self.num_envs)

  def reward_spec(self) -> specs.Array:
    return batch_spec(self.single_environment_spec().rewards, self.num_envs)

  def discount_spec(self) -> specs.Array:
    return batch_spec(self.single_environment_spec().discounts, self.num_envs)


class BatchedEnvironment(BatchedEnvironmentBase):
  """Steps N environments together; see the module docstring for the semantics.

  Args:
    environments: the copies; they must share their specs.
  """

  def __init__(self, environments: Sequence[dm_env.Environment]):
    environments = list(environments)
    if not environments:
      raise ValueError('BatchedEnvironment needs at least one environment, got none.')
    first = environments[0]
    for i, env in enumerate(environments[1:], start=1):
      if (env.observation_spec() != first.observation_spec() or
          env.action_spec() != first.action_spec()):
        raise ValueError(
            f'Environment {i} has specs {env.observation_spec()}, {env.action_spec()}; '
            f'expected those of environment 0: {first.observation_spec()}, '
            f'{first.action_spec()}.')
    self._envs = environments
    self._num_envs = len(environments)
    self._single_spec = specs.make_environment_spec(first)
    if tree.is_nested(self._single_spec.observations):
      raise NotImplementedError('BatchedEnvironment supports array observations only.')
    self._needs_reset = np.ones(self._num_envs, dtype=bool)
    self._started = False

  @classmethod
  def from_factory(cls, make_env: Callable[[Optional[int]], dm_env.Environment],
                   num_envs: int, seed: Optional[int] = None) -> 'BatchedEnvironment':
    """Builds `num_envs` copies with `make_env(seed_i)`, distinct seeds per copy."""
    if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
      raise ValueError(f'num_envs must be a positive integer, got {num_envs!r}.')
    return cls([make_env(s) for s in copy_seeds(seed, num_envs)])

  @property
  def num_envs(self) -> int:
    return self._num_envs

  @property
  def environments(self) -> List[dm_env.Environment]:
    return list(self._envs)

  def single_environment_spec(self) -> specs.EnvironmentSpec:
    return self._single_spec

  def reset(self) -> dm_env.TimeStep:
    timesteps = [env.reset() for env in self._envs]
    self._needs_reset[:] = False
    self._started = True
    return self._stack(timesteps)

  def step(self, actions) -> dm_env.TimeStep:
    if not self._started:
      return self.reset()
    actions = self._check_actions(actions)
    timesteps = []
    for i, env in enumerate(self._envs):
      if self._needs_reset[i]:
        timesteps.append(env.reset())
      else:
        timesteps.append(env.step(actions[i]))
    return self._stack(timesteps)

  def _stack(self, timesteps: Sequence[dm_env.TimeStep]) -> dm_env.TimeStep:
    n = self._num_envs
    step_type = np.empty(n, np.int8)
    reward = np.zeros(n, self._single_spec.rewards.dtype)
    discount = np.ones(n, self._single_spec.discounts.dtype)
    for i, ts in enumerate(timesteps):
      step_type[i] = ts.step_type
      if ts.step_type != dm_env.StepType.FIRST:
        reward[i] = ts.reward
        discount[i] = ts.discount
    self._needs_reset = step_type == LAST
    observation = np.stack([ts.observation for ts in timesteps])
    return dm_env.TimeStep(step_type, reward, discount, observation)

  def get_rng_state(self) -> List[Optional[Dict[str, Any]]]:
    return [env.get_rng_state() if callable(getattr(env, 'get_rng_state', None)) else None
            for env in self._envs]

  def set_rng_state(self, states: Sequence[Optional[Dict[str, Any]]]) -> None:
    if len(states) != self._num_envs:
      raise ValueError(f'Expected {self._num_envs} copy states, got {len(states)}.')
    for env, state in zip(self._envs, states):
      if state is not None:
        env.set_rng_state(state)

  def render(self, index: int = 0):
    return self._envs[index].render()

  def close(self) -> None:
    for env in self._envs:
      env.close()
