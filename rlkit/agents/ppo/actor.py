"""The PPO actor: samples (or, for evaluation, takes the mode of) the policy.

One forward pass per call, on one observation or on a batch [N, D] of them.
The collect actor writes to its adder the sampled action before clipping and
its log-probability under the behaviour policy (extras {'log_prob': ...}),
which the learner's probability ratio divides by. Continuous actions sent to
the environment are clipped to the action spec's bounds.
"""

from typing import Any, Dict, NamedTuple, Optional

import dm_env
import numpy as np
import torch

from rlkit import core
from rlkit import specs
from rlkit import types
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.ppo import networks as networks_lib


class PPOPolicy(NamedTuple):
  """What `PPOBuilder.make_policy` returns: the policy module and the mode."""
  network: networks_lib.PolicyNetwork
  evaluation: bool


class PPOActor(core.Actor):
  """Acts with a `PPOPolicy`; see the module docstring.

  Args:
    policy: the policy module (shared with the learner, or a copy kept up to
      date by `variable_client`) and whether to act greedily.
    action_spec: one environment copy's action spec.
    batched: observations carry a leading batch axis (a `BatchedEnvironment`).
    adder: where a collect actor writes its transitions.
    variable_client: pulls the learner's 'policy' variables into the module.
    seed: seed of the sampling noise.
  """

  def __init__(self, policy: PPOPolicy, action_spec: specs.Array, *, batched: bool = False,
               adder: Optional[Any] = None,
               variable_client: Optional[variable_client_lib.VariableClient] = None,
               seed: Optional[int] = None):
    if not isinstance(policy, PPOPolicy):
      raise TypeError(f'policy must be a PPOPolicy, got {type(policy).__name__}.')
    self._network = policy.network
    self._greedy = bool(policy.evaluation)
    self._batched = bool(batched)
    self._adder = adder
    self._client = variable_client
    self._discrete = networks_lib.is_discrete(action_spec)
    self._dtype = np.dtype(action_spec.dtype)
    self._shape = tuple(action_spec.shape)
    if not self._discrete:
      self._minimum = np.broadcast_to(action_spec.minimum, self._shape).astype(self._dtype)
      self._maximum = np.broadcast_to(action_spec.maximum, self._shape).astype(self._dtype)
    self._generator = torch.Generator()
    if seed is None:
      self._generator.seed()
    else:
      self._generator.manual_seed(int(seed))
    self._parameter = next(self._network.parameters())
    self._last_action: Optional[np.ndarray] = None
    self._last_log_prob: Optional[np.ndarray] = None

  def select_action(self, observation: types.NestedArray) -> np.ndarray:
    x = torch.as_tensor(np.asarray(observation, np.float32), device=self._parameter.device)
    if not self._batched:
      x = x.unsqueeze(0)
    with torch.no_grad():
      params = self._network(x)
      if self._greedy:
        action = self._network.mode(params)
      else:
        action = self._network.sample(params, self._generator)
      log_prob = self._network.log_prob(params, action)
    action = action.cpu().numpy()
    if self._discrete:
      action = action.astype(self._dtype)
      env_action = action
    else:
      action = action.reshape(action.shape[:1] + self._shape).astype(self._dtype)
      env_action = np.clip(action, self._minimum, self._maximum)
    self._last_action = action
    self._last_log_prob = log_prob.cpu().numpy().astype(np.float32)
    return env_action if self._batched else env_action[0]

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    if self._adder is None:
      return
    if self._last_action is None:
      raise RuntimeError('observe() before select_action(): there is no action to record.')
    del action  # The clipped action; the adder records the sample it came from.
    if self._batched:
      sample, log_prob = self._last_action, self._last_log_prob
    else:
      sample, log_prob = self._last_action[0], self._last_log_prob[0]
    self._adder.add(sample, next_timestep, extras={'log_prob': log_prob})

  def update(self, wait: bool = False) -> None:
    if self._client is not None:
      self._client.update(wait)

  def save(self) -> Dict[str, Any]:
    return {'generator': self._generator.get_state()}

  def restore(self, state: Dict[str, Any]) -> None:
    if 'generator' not in state:
      raise ValueError(f'PPOActor.restore expects a dict with "generator", got {sorted(state)}.')
    self._generator.set_state(state['generator'])
