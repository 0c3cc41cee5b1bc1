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
  `save()`/`restore()` carry its state.

  Args:
    policy: maps (observations [B, O], rng) to unit actions [B, A].
    action_spec: the environment's BoundedArray action spec.
    adder: where `observe_first`/`observe` write (a `BatchedAdder` when
      batched); None to only act.
    variable_client: pulls the learner's weights into the policy's module;
      None when the module is shared with the learner.
    seed: seeds the exploration noise.
    batched: observations carry a leading batch axis (a BatchedEnvironment).
  """

  def __init__(self, policy: Any, action_spec: specs.BoundedArray,
               adder: Optional[Any] = None,
               variable_client: Optional[variable_client_lib.VariableClient] = None,
               seed: Optional[int] = None, batched: bool = False):
    if not callable(policy):
      raise TypeError(f'policy must be callable (observation, rng) -> action, got {policy!r}.')
    if (not isinstance(action_spec, specs.BoundedArray)
        or isinstance(action_spec, specs.DiscreteArray)):
      raise TypeError(f'action_spec must be a float BoundedArray, got {action_spec!r}.')
    self._policy = policy
    self._scaler = networks.ActionScaler(action_spec)
    self._adder = adder
    self._client = variable_client
    self._rng = np.random.default_rng(seed)
    self._batched = bool(batched)

  @property
  def policy(self) -> Any:
    return self._policy

  def select_action(self, observation: types.NestedArray) -> np.ndarray:
    observation = np.asarray(observation, dtype=np.float32)
    if not self._batched:
      return self._scaler.from_unit(self._policy(observation[None], self._rng)[0])
    return self._scaler.from_unit(self._policy(observation, self._rng))

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add(action, next_timestep)

  def update(self, wait: bool = False) -> None:
    if self._client is not None:
      self._client.update(wait)

  def save(self) -> Mapping[str, Any]:
    """The exploration random generator's state."""
    return {'rng': copy.deepcopy(self._rng.bit_generator.state)}

  def restore(self, state: Mapping[str, Any]) -> None:
    if 'rng' not in state:
      raise ValueError(f'{type(self).__name__}.restore: state lacks rng, got {sorted(state)}.')
    self._rng.bit_generator.state = copy.deepcopy(state['rng'])
