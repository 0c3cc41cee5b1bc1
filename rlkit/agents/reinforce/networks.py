"""Categorical policy and state-value networks built from an environment spec.

The torso follows the observation spec as the Q-networks do (see
`rlkit.agents.dqn.networks`): scalar integer observations are one-hot encoded,
H x W x C images go through the GridWorld conv torso, anything else is
flattened. An MLP head maps the features to logits (policy) or to one value.
"""

import numbers
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from rlkit import specs
from rlkit.agents.dqn import networks as dqn_networks


class MLP(nn.Module):
  """Linear layers with ReLU (and optional dropout) between them.

  Dropout follows every hidden activation and is active in training mode only,
  as in seed 001's policy network (linear, dropout 0.6, ReLU, linear). The
  forward pass calls `F.linear` directly: it is the actors' per-step cost.
  """

  def __init__(self, input_size: int, layer_sizes: Sequence[int],
               dropout: float = 0.0, activate_final: bool = False):
    super().__init__()
    if not 0.0 <= dropout < 1.0:
      raise ValueError(f'dropout must be in [0, 1), got {dropout!r}.')
    sizes = [int(input_size)] + [int(s) for s in layer_sizes]
    self.layers = nn.ModuleList(
        nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1))
    self.dropout = float(dropout)
    self._activate_final = activate_final
    self.output_size = sizes[-1]

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    last = len(self.layers) - 1
    for i, layer in enumerate(self.layers):
      x = F.linear(x, layer.weight, layer.bias)
      if i < last or self._activate_final:
        x = F.relu(x)
        if self.dropout and self.training:
          x = F.dropout(x, self.dropout, training=True)
    return x


def _num_values(spec) -> int:
  if isinstance(spec, specs.DiscreteArray):
    return int(spec.num_values)
  if isinstance(spec, specs.BoundedArray):
    return int(np.max(spec.maximum)) + 1
  raise TypeError(
      f'An integer observation needs a bounded spec (DiscreteArray or '
      f'BoundedArray) to be one-hot encoded, got {spec!r}.')


def make_torso(observation_spec) -> Tuple[nn.Module, int]:
  """Returns (torso, feature size) for a single-array observation spec."""
  if not hasattr(observation_spec, 'shape') or not hasattr(observation_spec, 'dtype'):
    raise TypeError(
        f'Policy networks need a single array observation spec, got {observation_spec!r}.')
  shape = tuple(observation_spec.shape)
  if np.issubdtype(observation_spec.dtype, np.integer) and int(np.prod(shape)) == 1:
    num_values = _num_values(observation_spec)
    return dqn_networks.OneHot(num_values), num_values
  if len(shape) == 3:
    torso = dqn_networks.GridConvTorso(shape)
    return torso, torso.output_size
  return dqn_networks.Flatten(), int(np.prod(shape)) if shape else 1


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
    self.head = MLP(torso_size, list(hidden_sizes) + [num_actions], dropout)
    self.num_actions = int(num_actions)

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.head(self.torso(observation))


class ValueNetwork(nn.Module):
  """Observations [B, ...] -> state values [B]."""

  def __init__(self, torso: nn.Module, torso_size: int,
               hidden_sizes: Sequence[int]):
    super().__init__()
    self.torso = torso
    self.head = MLP(torso_size, list(hidden_sizes) + [1])

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
  torso, torso_size = make_torso(environment_spec.observations)
  return PolicyNetwork(torso, torso_size, hidden_sizes,
                       num_actions_of(environment_spec.actions), dropout)


def make_value_network(environment_spec: specs.EnvironmentSpec,
                       hidden_sizes: Sequence[int] = (128,)) -> ValueNetwork:
  """A state-value network V(o) for the spec's observations."""
  _check_spec(environment_spec)
  hidden_sizes = check_hidden_sizes(hidden_sizes)
  torso, torso_size = make_torso(environment_spec.observations)
  return ValueNetwork(torso, torso_size, hidden_sizes)
