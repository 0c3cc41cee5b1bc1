"""Epsilon-greedy and greedy actors over a Q-network (DQN, NFQ, QR-DQN)."""

import numbers
from typing import Any, Dict, Mapping, Optional, Union

import dm_env
import numpy as np
import torch
from torch import nn

from rlkit import core
from rlkit import types
from rlkit.agents import policies
from rlkit.agents import variable_client as variable_client_lib
from rlkit.utils import schedules


class DQNActor(core.Actor):
  """Acts epsilon-greedily on a Q-network and writes its experience to an adder.

  With epsilon 0 (or `greedy=True` in `make_greedy`) it is the greedy
  evaluation policy. Epsilon is a schedule that advances once per observed
  environment step; a plain float means a constant epsilon.

  Parameters: the actor evaluates `network` (whatever its forward returns is
  read as Q-values [B, num_actions]) on the device the network is on. In a
  single process this is the learner's own online module, so the actor
  always acts with the newest weights and `update()` has nothing to do. Given a `variable_client`, the
  actor owns a copy instead and `update(wait)` pulls the learner's weights
  through it (every `update_period` calls, or at once with `wait=True`).

  Args:
    network: maps observations [B, ...] to Q-values [B, num_actions].
    num_actions: number of discrete actions.
    epsilon: a float in [0, 1] or a `schedules.Schedule`.
    adder: where `observe_first`/`observe` write transitions; None to only act.
    variable_client: pulls weights into `network`; None when `network` is shared.
    action_dtype: dtype of the returned actions (the action spec's).
    seed: seed of the exploration random numbers.
  """

  def __init__(self, network: nn.Module, num_actions: int,
               epsilon: Union[float, schedules.Schedule] = 0.0,
               adder: Optional[Any] = None,
               variable_client: Optional[variable_client_lib.VariableClient] = None,
               action_dtype: Any = np.int32, seed: Optional[int] = None):
    if not isinstance(network, nn.Module):
      raise TypeError(f'network must be a torch.nn.Module, got {type(network).__name__}.')
    if isinstance(epsilon, numbers.Real):
      epsilon = schedules.ConstantSchedule(policies.check_epsilon(epsilon))
    if not isinstance(epsilon, schedules.Schedule):
      raise TypeError(f'epsilon must be a float or a Schedule, got {epsilon!r}.')
    for step in (0, 10**9):
      value = epsilon.value_at(step)
      if not 0.0 <= value <= 1.0:
        raise ValueError(f'epsilon schedule {epsilon!r} leaves [0, 1]: {value} at step {step}.')
    self._network = network
    # Module.to() moves parameters in place, so this follows the network's device.
    self._parameter = next(network.parameters(), None)
    self._epsilon = epsilon
    self._adder = adder
    self._client = variable_client
    self._sampler = policies.EpsilonGreedySampler(num_actions, seed=seed)
    self._action_values = np.arange(num_actions, dtype=action_dtype)

  @property
  def epsilon(self) -> float:
    return self._epsilon.value

  @property
  def network(self) -> nn.Module:
    return self._network

  def get_metrics(self) -> Dict[str, float]:
    """The current epsilon."""
    return {'epsilon': self._epsilon.value}

  def _as_input(self, observation: types.NestedArray) -> torch.Tensor:
    device = self._parameter.device if self._parameter is not None else None
    return torch.as_tensor(np.asarray(observation), device=device)

  def select_action(self, observation: types.NestedArray) -> np.ndarray:
    action = self._sampler.maybe_explore(self._epsilon.value)
    if action is None:
      with torch.inference_mode():
        q_values = self._network(self._as_input(observation).unsqueeze(0))
      action = int(q_values.argmax())
    return self._action_values[action]

  def q_values(self, observation: types.NestedArray) -> np.ndarray:
    """Returns the Q-values [num_actions] of one observation, as numpy."""
    with torch.inference_mode():
      q_values = self._network(self._as_input(observation).unsqueeze(0))
    return q_values[0].cpu().numpy().copy()

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add(action, next_timestep)
    self._epsilon.advance()

  def update(self, wait: bool = False) -> None:
    if self._client is not None:
      self._client.update(wait)

  def save(self) -> Mapping[str, Any]:
    """The exploration state: schedule position and random generator."""
    return {'epsilon': self._epsilon.save(), 'sampler': self._sampler.get_state()}

  def restore(self, state: Mapping[str, Any]) -> None:
    self._epsilon.restore(state['epsilon'])
    self._sampler.set_state(state['sampler'])
