"""Q-networks built from an environment spec, and the torsos and MLP all agents use.

`make_torso` picks the torso from the observation spec:

- a scalar integer observation (GridWorld `STATE_INDEX`) is one-hot encoded
  inside the network (`OneHot`), so no wrapper is needed; its number of
  values comes from the spec (`num_values`, or `maximum + 1`);
- an H x W x C float observation (GridWorld `GRID`, channels last) goes
  through a small conv net (`GridConvTorso`, seed 001's layers);
- any other float observation is flattened into an MLP (CartPole's 4
  numbers, `AGENT_GOAL_POS`, `AGENT_ONEHOT`).

The head is a linear layer with one output per discrete action.
"""

import numbers
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from rlkit import specs


class MLP(nn.Module):
  """Linear layers with ReLU (and optional dropout) between them.

  Dropout follows every hidden activation and is active in training mode
  only, as in seed 001's policy network (linear, dropout 0.6, ReLU, linear).
  The forward pass calls `F.linear` directly rather than a `Sequential` of
  modules, which halves its cost for the one-observation calls of actors.

  Args:
    input_size: features in.
    layer_sizes: output sizes of the linear layers.
    activate_final: ReLU (and dropout) after the last layer too.
    dropout: dropout rate in [0, 1).
  """

  def __init__(self, input_size: int, layer_sizes: Sequence[int],
               activate_final: bool = False, dropout: float = 0.0):
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


class OneHot(nn.Module):
  """Integer indices [B] -> float one-hot vectors [B, num_values]."""

  def __init__(self, num_values: int):
    super().__init__()
    self.num_values = int(num_values)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return F.one_hot(x.long().reshape(-1), self.num_values).to(torch.float32)


class Flatten(nn.Module):
  """[B, ...] float -> [B, prod(...)] float32."""

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    if x.dim() == 2 and x.dtype == torch.float32:  # Already flat: no op to dispatch.
      return x
    return x.reshape(x.shape[0], -1).to(torch.float32)


class GridConvTorso(nn.Module):
  """Channels-last images [B, H, W, C] -> features, seed 001's GridWorld conv net.

  conv 4x4 stride 2 (32) -> ReLU -> conv 3x3 (64) -> ReLU -> max-pool 3x3
  stride 1 (skipped when the map is too small) -> flatten.
  """

  def __init__(self, observation_shape: Tuple[int, int, int],
               channels: Sequence[int] = (32, 64)):
    super().__init__()
    height, width, in_channels = observation_shape
    c1, c2 = channels
    self.conv1 = nn.Conv2d(in_channels, c1, kernel_size=4, stride=2, padding=1)
    self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, stride=1, padding=1)
    with torch.no_grad():
      probe = self.conv2(self.conv1(torch.zeros(1, in_channels, height, width)))
    self._pool = probe.shape[-2] >= 3 and probe.shape[-1] >= 3
    if self._pool:
      probe = F.max_pool2d(probe, 3, 1)
    self.output_size = int(np.prod(probe.shape[1:]))

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    x = x.to(torch.float32).permute(0, 3, 1, 2)
    x = F.relu(self.conv1(x))
    x = F.relu(self.conv2(x))
    if self._pool:
      x = F.max_pool2d(x, 3, 1)
    return x.flatten(1)


class QNetwork(nn.Module):
  """torso -> MLP head with `num_actions` outputs: observations [B, ...] -> [B, A]."""

  def __init__(self, torso: nn.Module, torso_size: int,
               hidden_sizes: Sequence[int], num_actions: int):
    super().__init__()
    self.torso = torso
    self.head = MLP(torso_size, list(hidden_sizes) + [num_actions])
    self.num_actions = int(num_actions)

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.head(self.torso(observation))


def num_actions_of(action_spec) -> int:
  if not isinstance(action_spec, specs.DiscreteArray):
    raise TypeError(
        f'Value-based agents need a DiscreteArray action spec, got {action_spec!r}.')
  return int(action_spec.num_values)


def _num_values(spec) -> int:
  if isinstance(spec, specs.DiscreteArray):
    return int(spec.num_values)
  if isinstance(spec, specs.BoundedArray):
    return int(np.max(spec.maximum)) + 1
  raise TypeError(
      f'An integer observation needs a bounded spec (DiscreteArray or '
      f'BoundedArray) to be one-hot encoded, got {spec!r}.')


def make_torso(observation_spec,
               conv_channels: Sequence[int] = (32, 64)) -> Tuple[nn.Module, int]:
  """Returns (torso, feature size) for a single-array observation spec.

  Args:
    observation_spec: the environment's observation spec.
    conv_channels: the two conv layers' channels for image observations.
  """
  if not hasattr(observation_spec, 'shape') or not hasattr(observation_spec, 'dtype'):
    raise TypeError(
        f'Networks need a single array observation spec, got {observation_spec!r}.')
  shape = tuple(observation_spec.shape)
  if np.issubdtype(observation_spec.dtype, np.integer) and int(np.prod(shape)) == 1:
    num_values = _num_values(observation_spec)
    return OneHot(num_values), num_values
  if len(shape) == 3:
    torso = GridConvTorso(shape, conv_channels)
    return torso, torso.output_size
  return Flatten(), int(np.prod(shape)) if shape else 1


def make_q_network(environment_spec: specs.EnvironmentSpec,
                   hidden_sizes: Sequence[int] = (64, 64),
                   conv_channels: Sequence[int] = (32, 64)) -> QNetwork:
  """Builds a Q-network for the spec's observations and discrete actions.

  Args:
    environment_spec: the environment's specs.
    hidden_sizes: sizes of the hidden layers of the MLP head.
    conv_channels: the two conv layers' channels for image observations.

  Returns:
    A `QNetwork` mapping a batch of observations to [B, num_actions].
  """
  if not isinstance(environment_spec, specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
  for size in hidden_sizes:
    if not isinstance(size, numbers.Integral) or size < 1:
      raise ValueError(f'hidden_sizes must be positive integers, got {tuple(hidden_sizes)}.')
  num_actions = num_actions_of(environment_spec.actions)
  torso, torso_size = make_torso(environment_spec.observations, conv_channels)
  return QNetwork(torso, torso_size, hidden_sizes, num_actions)
