"""Actor-critic networks: a categorical policy head and a state-value head.

With `shared_torso`, one MLP body feeds both heads; otherwise the policy and
the critic are separate MLPs (seed 001's `ActorCriticNet`: one hidden layer
each). `PolicyLogits` exposes the policy half as a module for the actors, so
acting never evaluates the critic.
"""

from typing import Sequence, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from rlkit import specs
from rlkit.agents.dqn import networks as dqn_networks
from rlkit.agents.reinforce import networks as pg_networks


class ActorCriticNetwork(nn.Module):
  """Observations [B, ...] -> (logits [B, num_actions], values [B])."""

  def __init__(self, environment_spec: specs.EnvironmentSpec,
               hidden_sizes: Sequence[int] = (128,), shared_torso: bool = False):
    super().__init__()
    if not isinstance(environment_spec, specs.EnvironmentSpec):
      raise TypeError(
          f'environment_spec must be an EnvironmentSpec, got '
          f'{type(environment_spec).__name__}.')
    hidden_sizes = pg_networks.check_hidden_sizes(hidden_sizes)
    if shared_torso and not hidden_sizes:
      raise ValueError('shared_torso needs at least one hidden layer (hidden_sizes is empty).')
    num_actions = pg_networks.num_actions_of(environment_spec.actions)
    self.num_actions = num_actions
    self.shared_torso = bool(shared_torso)
    observations = environment_spec.observations
    if self.shared_torso:
      self.torso, torso_size = dqn_networks.make_torso(observations)
      self.body = dqn_networks.MLP(torso_size, hidden_sizes, activate_final=True)
      self.policy_head = nn.Linear(hidden_sizes[-1], num_actions)
      self.value_head = nn.Linear(hidden_sizes[-1], 1)
    else:
      policy_torso, policy_size = dqn_networks.make_torso(observations)
      value_torso, value_size = dqn_networks.make_torso(observations)
      self.policy = pg_networks.PolicyNetwork(
          policy_torso, policy_size, hidden_sizes, num_actions)
      self.critic = pg_networks.ValueNetwork(value_torso, value_size, hidden_sizes)

  def forward(self, observation: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    if self.shared_torso:
      features = self.body(self.torso(observation))
      logits = F.linear(features, self.policy_head.weight, self.policy_head.bias)
      values = F.linear(features, self.value_head.weight, self.value_head.bias)
      return logits, values.squeeze(-1)
    return self.policy(observation), self.critic(observation)

  def policy_logits(self, observation: torch.Tensor) -> torch.Tensor:
    """Only the policy half: observations [B, ...] -> logits [B, num_actions]."""
    if self.shared_torso:
      features = self.body(self.torso(observation))
      return F.linear(features, self.policy_head.weight, self.policy_head.bias)
    return self.policy(observation)


class PolicyLogits(nn.Module):
  """The policy half of an `ActorCriticNetwork`, as a module (shares its parameters)."""

  def __init__(self, network: ActorCriticNetwork):
    super().__init__()
    if not isinstance(network, ActorCriticNetwork):
      raise TypeError(f'network must be an ActorCriticNetwork, got {type(network).__name__}.')
    self.network = network

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.network.policy_logits(observation)


def make_actor_critic_network(environment_spec: specs.EnvironmentSpec,
                              hidden_sizes: Sequence[int] = (128,),
                              shared_torso: bool = False) -> ActorCriticNetwork:
  """Builds the actor-critic network for the spec's observations and actions."""
  return ActorCriticNetwork(environment_spec, hidden_sizes, shared_torso)
