"""Categorical policy and state-value networks built from an environment spec.

The torso follows the observation spec as the Q-networks' does
(`rlkit.agents.dqn.networks.make_torso`): scalar integer observations are
one-hot encoded, H x W x C images go through the GridWorld conv torso,
anything else is flattened. An MLP head maps the features to logits (policy)
or to one value.
"""

import numbers
from typing import Sequence, Tuple

import torch
from torch import nn

from rlkit import specs
from rlkit.agents.dqn import networks as dqn_networks


def num_actions_of(action_spec) -> int:
  if not isinstance(action_spec, specs.DiscreteArray):
    raise TypeError(
        f'Policy-gradient agents here need a DiscreteArray action spec, got '
        f'{action_spec!r}.')
  return int(action_spec.num_values)


def check_hidden_sizes(hidden_sizes: Sequence[int]) -> Tuple[int, ...]:
  hidden_sizes = tuple(hidden_sizes)
  for size in hidden_sizes:
    if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
      raise ValueError(f'hidden_sizes must be positive integers, got {hidden_sizes}.')
  return hidden_sizes


class PolicyNetwork(nn.Module):
  """Observations [B, ...] -> action logits [B, num_actions]."""

  def __init__(self, torso: nn.Module, torso_size: int,
               hidden_sizes: Sequence[int], num_actions: int,
               dropout: float = 0.0):
    super().__init__()
    self.torso = torso
    self.head = dqn_networks.MLP(torso_size, list(hidden_sizes) + [num_actions],
                                 dropout=dropout)
    self.num_actions = int(num_actions)

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.head(self.torso(observation))


class ValueNetwork(nn.Module):
  """Observations [B, ...] -> state values [B]."""

  def __init__(self, torso: nn.Module, torso_size: int,
               hidden_sizes: Sequence[int]):
    super().__init__()
    self.torso = torso
    self.head = dqn_networks.MLP(torso_size, list(hidden_sizes) + [1])

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.head(self.torso(observation)).squeeze(-1)


def _check_spec(environment_spec) -> None:
  if not isinstance(environment_spec, specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an EnvironmentSpec, got '
        f'{type(environment_spec).__name__}.')


def make_policy_network(environment_spec: specs.EnvironmentSpec,
                        hidden_sizes: Sequence[int] = (128,),
                        dropout: float = 0.0) -> PolicyNetwork:
  """A categorical policy (logits) for the spec's observations and actions."""
  _check_spec(environment_spec)
  hidden_sizes = check_hidden_sizes(hidden_sizes)
  torso, torso_size = dqn_networks.make_torso(environment_spec.observations)
  return PolicyNetwork(torso, torso_size, hidden_sizes,
                       num_actions_of(environment_spec.actions), dropout)


def make_value_network(environment_spec: specs.EnvironmentSpec,
                       hidden_sizes: Sequence[int] = (128,)) -> ValueNetwork:
  """A state-value network V(o) for the spec's observations."""
  _check_spec(environment_spec)
  hidden_sizes = check_hidden_sizes(hidden_sizes)
  torso, torso_size = dqn_networks.make_torso(environment_spec.observations)
  return ValueNetwork(torso, torso_size, hidden_sizes)
