"""The actor of the continuous-control agents (SAC, TD3, D4PG)."""

import copy
from typing import Any, Mapping, Optional

import dm_env
import numpy as np

from rlkit import core
from rlkit import specs
from rlkit import types
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.continuous import networks


class ContinuousActor(core.Actor):
  """Acts with a unit-box policy and returns actions in the spec's bounds and dtype.

  `select_action` runs `policy` (see `rlkit.agents.continuous.policies`) on
  one observation [O] (or, with `batched`, on N observations [N, O] in one
  forward pass) and rescales its [-1, 1] actions to the action spec. The
  exploration noise comes from a numpy Generator seeded with `seed`;
  `save()`/`restore()` carry its state and the steps observed.

  With `random_steps`, the actor's first `random_steps` observed environment
  steps (each copy's step counts, when batched) take actions drawn uniformly
  from the action bounds instead of the policy's: the random start of the
  TD3 paper, SpinningUp and Stable-Baselines3 (its `learning_starts`).

  Args:
    policy: maps (observations [B, O], rng) to unit actions [B, A].
    action_spec: the environment's BoundedArray action spec.
    adder: where `observe_first`/`observe` write (a `BatchedAdder` when
      batched); None to only act.
    variable_client: pulls the learner's weights into the policy's module;
      None when the module is shared with the learner.
    seed: seeds the exploration noise.
    batched: observations carry a leading batch axis (a BatchedEnvironment).
    random_steps: observed steps acted uniformly at random first; 0 for none.
  """

  def __init__(self, policy: Any, action_spec: specs.BoundedArray,
               adder: Optional[Any] = None,
               variable_client: Optional[variable_client_lib.VariableClient] = None,
               seed: Optional[int] = None, batched: bool = False, random_steps: int = 0):
    if not callable(policy):
      raise TypeError(f'policy must be callable (observation, rng) -> action, got {policy!r}.')
    if (not isinstance(action_spec, specs.BoundedArray)
        or isinstance(action_spec, specs.DiscreteArray)):
      raise TypeError(f'action_spec must be a float BoundedArray, got {action_spec!r}.')
    self._policy = policy
    self._scaler = networks.ActionScaler(action_spec)
    self._adder = adder
    self._client = variable_client
    if not isinstance(random_steps, (int, np.integer)) or isinstance(random_steps, bool) \
        or random_steps < 0:
      raise ValueError(f'random_steps must be an int >= 0, got {random_steps!r}.')
    self._rng = np.random.default_rng(seed)
    self._batched = bool(batched)
    self._random_steps = int(random_steps)
    self._steps_observed = 0
    self._unit_shape = tuple(action_spec.shape)

  @property
  def policy(self) -> Any:
    return self._policy

  @property
  def steps_observed(self) -> int:
    return self._steps_observed

  def select_action(self, observation: types.NestedArray) -> np.ndarray:
    observation = np.asarray(observation, dtype=np.float32)
    if self._steps_observed < self._random_steps:
      shape = (observation.shape[0],) + self._unit_shape if self._batched else self._unit_shape
      return self._scaler.from_unit(
          self._rng.uniform(-1.0, 1.0, shape).astype(np.float32))
    if not self._batched:
      return self._scaler.from_unit(self._policy(observation[None], self._rng)[0])
    return self._scaler.from_unit(self._policy(observation, self._rng))

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add(action, next_timestep)
    self._steps_observed += len(action) if self._batched else 1

  def update(self, wait: bool = False) -> None:
    if self._client is not None:
      self._client.update(wait)

  def save(self) -> Mapping[str, Any]:
    """The exploration random generator's state and the steps observed."""
    return {'rng': copy.deepcopy(self._rng.bit_generator.state),
            'steps_observed': self._steps_observed}

  def restore(self, state: Mapping[str, Any]) -> None:
    missing = {'rng', 'steps_observed'} - set(state)
    if missing:
      raise ValueError(f'{type(self).__name__}.restore: state lacks {sorted(missing)}, got '
                       f'{sorted(state)}.')
    self._rng.bit_generator.state = copy.deepcopy(state['rng'])
    self._steps_observed = int(state['steps_observed'])
