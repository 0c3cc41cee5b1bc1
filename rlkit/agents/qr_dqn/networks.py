"""The QR-DQN network: DQN's torso and MLP with a head of N quantiles per action."""

import numbers
from typing import Sequence

import torch
from torch import nn

from rlkit import specs
from rlkit.agents.dqn import networks


class QuantileNetwork(nn.Module):
  """torso -> MLP -> [B, A, N] quantiles; `forward` returns their mean, the Q-values [B, A].

  Actors act on `forward`; the loss reads `quantiles`.
  """

  def __init__(self, torso: nn.Module, torso_size: int, hidden_sizes: Sequence[int],
               num_actions: int, num_quantiles: int):
    super().__init__()
    self.torso = torso
    self.head = networks.MLP(torso_size, list(hidden_sizes) + [num_actions * num_quantiles])
    self.num_actions = int(num_actions)
    self.num_quantiles = int(num_quantiles)

  def quantiles(self, observation: torch.Tensor) -> torch.Tensor:
    """theta_j(s, a) for j < N: [B, A, N], at the quantile midpoints (2j + 1) / 2N."""
    flat = self.head(self.torso(observation))
    return flat.view(flat.shape[0], self.num_actions, self.num_quantiles)

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.quantiles(observation).mean(dim=-1)


def make_quantile_network(environment_spec: specs.EnvironmentSpec,
                          hidden_sizes: Sequence[int] = (128, 128),
                          num_quantiles: int = 50,
                          conv_channels: Sequence[int] = (16, 32)) -> QuantileNetwork:
  """A `QuantileNetwork` for the spec's observations (DQN's torsos) and discrete actions."""
  if not isinstance(environment_spec, specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
  if not isinstance(num_quantiles, numbers.Integral) or num_quantiles < 1:
    raise ValueError(f'num_quantiles must be a positive integer, got {num_quantiles!r}.')
  for size in hidden_sizes:
    if not isinstance(size, numbers.Integral) or size < 1:
      raise ValueError(f'hidden_sizes must be positive integers, got {tuple(hidden_sizes)}.')
  num_actions = networks.num_actions_of(environment_spec.actions)
  torso, torso_size = networks.make_torso(environment_spec.observations, conv_channels)
  return QuantileNetwork(torso, torso_size, hidden_sizes, num_actions, num_quantiles)
