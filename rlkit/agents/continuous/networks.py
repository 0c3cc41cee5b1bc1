"""MLP policies and critics for continuous actions, and the action scaling.

All modules take flat float observations [B, obs_dim] and work with actions
in the unit box [-1, 1]^action_dim (see `ActionScaler`).
"""

import math
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rlkit import specs

# Bounds of the tanh-Gaussian policy's log standard deviation (Stable-Baselines3's).
LOG_STD_MIN = -20.0
LOG_STD_MAX = 2.0


def mlp(input_size: int, hidden_sizes: Sequence[int], output_size: int) -> nn.Sequential:
  """Linear-ReLU layers of `hidden_sizes`, then a linear output layer."""
  layers = []
  size = int(input_size)
  for hidden in hidden_sizes:
    layers += [nn.Linear(size, int(hidden)), nn.ReLU()]
    size = int(hidden)
  layers.append(nn.Linear(size, int(output_size)))
  return nn.Sequential(*layers)


def dims_of(environment_spec: specs.EnvironmentSpec) -> Tuple[int, int]:
  """(observation size, action size) of a flat-observation, 1-D-action spec."""
  return (int(np.prod(environment_spec.observations.shape)),
          int(np.prod(environment_spec.actions.shape)))


class ActionScaler:
  """Maps unit-box actions u in [-1, 1] to the spec's [low, high] and back.

  a = low + (u + 1) (high - low) / 2, clipped to the bounds and cast to the
  spec's dtype; `to_unit` is the inverse, on torch tensors (for learners).
  """

  def __init__(self, action_spec: specs.BoundedArray):
    self.dtype = np.dtype(action_spec.dtype)
    self.low = np.broadcast_to(action_spec.minimum, action_spec.shape).astype(self.dtype)
    self.high = np.broadcast_to(action_spec.maximum, action_spec.shape).astype(self.dtype)
    self._center = (self.high.astype(np.float64) + self.low) / 2
    self._half_range = (self.high.astype(np.float64) - self.low) / 2

  def from_unit(self, unit_action: np.ndarray) -> np.ndarray:
    action = self._center + self._half_range * np.asarray(unit_action, np.float64)
    return np.clip(action, self.low, self.high).astype(self.dtype)

  def to_unit(self, action: torch.Tensor) -> torch.Tensor:
    center = torch.as_tensor(self._center, dtype=torch.float32, device=action.device)
    half_range = torch.as_tensor(self._half_range, dtype=torch.float32, device=action.device)
    return ((action.float() - center) / half_range).clamp(-1.0, 1.0)


class DeterministicPolicyNetwork(nn.Module):
  """obs [B, O] -> tanh(MLP(obs)) [B, A], an action in [-1, 1] (TD3, D4PG)."""

  def __init__(self, observation_size: int, action_size: int, hidden_sizes: Sequence[int]):
    super().__init__()
    self.net = mlp(observation_size, hidden_sizes, action_size)

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return torch.tanh(self.net(observation))


class TanhGaussianPolicyNetwork(nn.Module):
  """obs -> (mean, log_std) [B, A] of a Gaussian whose sample goes through tanh (SAC).

  `sample` draws u = tanh(mean + std * eps) with the reparameterization
  trick and returns log pi(u | obs) with the tanh change of variables:
  log pi(u) = sum_i [log N(x_i; mean_i, std_i) - log(1 - tanh(x_i)^2)],
  using log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)). With
  `log_prob_epsilon` > 0 the last term is log(1 - u_i^2 + epsilon) instead
  (Stable-Baselines3, CleanRL: 1e-6), which bounds what a saturated action
  costs in entropy.
  """

  def __init__(self, observation_size: int, action_size: int, hidden_sizes: Sequence[int],
               log_prob_epsilon: float = 0.0):
    super().__init__()
    self.log_prob_epsilon = float(log_prob_epsilon)
    self.torso = mlp(observation_size, hidden_sizes[:-1], hidden_sizes[-1])
    self.head = nn.Linear(int(hidden_sizes[-1]), 2 * int(action_size))

  def forward(self, observation: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    mean, log_std = self.head(F.relu(self.torso(observation))).chunk(2, dim=-1)
    return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

  def sample(self, observation: torch.Tensor, generator: torch.Generator = None
             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """(u [B, A] in (-1, 1), log pi(u | obs) [B]), differentiable in the parameters."""
    mean, log_std = self(observation)
    std = log_std.exp()
    eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    x = mean + std * eps
    log_prob = (-0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
    u = torch.tanh(x)
    if self.log_prob_epsilon > 0.0:
      return u, log_prob - torch.log(1.0 - u.pow(2) + self.log_prob_epsilon).sum(-1)
    return u, log_prob - (2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))).sum(-1)


class Critic(nn.Module):
  """(obs [B, O], action [B, A]) -> Q [B] (or [B, K] logits with output_size K)."""

  def __init__(self, observation_size: int, action_size: int, hidden_sizes: Sequence[int],
               output_size: int = 1):
    super().__init__()
    self.net = mlp(observation_size + action_size, hidden_sizes, output_size)
    self._squeeze = output_size == 1

  def forward(self, observation: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    out = self.net(torch.cat([observation, action], dim=-1))
    return out.squeeze(-1) if self._squeeze else out


class EnsembleLinear(nn.Module):
  """K independent linear layers applied at once: [K, B, in] -> [K, B, out] (one bmm).

  Each member is initialized as `nn.Linear` is (uniform in +-1/sqrt(in)).
  """

  def __init__(self, num_members: int, input_size: int, output_size: int):
    super().__init__()
    bound = 1.0 / math.sqrt(input_size)
    self.weight = nn.Parameter(
        torch.empty(num_members, input_size, output_size).uniform_(-bound, bound))
    self.bias = nn.Parameter(torch.empty(num_members, 1, output_size).uniform_(-bound, bound))

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return torch.baddbmm(self.bias, x, self.weight)


class TwinCritic(nn.Module):
  """Two independent Q-networks (SAC, TD3): (obs, action) -> (q1 [B], q2 [B]).

  The two MLPs run as one ensemble (batched matrix products), half the
  operations of two separate networks.
  """

  def __init__(self, observation_size: int, action_size: int, hidden_sizes: Sequence[int]):
    super().__init__()
    sizes = [observation_size + action_size, *map(int, hidden_sizes), 1]
    self.layers = nn.ModuleList(
        EnsembleLinear(2, sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1))

  def forward(self, observation: torch.Tensor, action: torch.Tensor
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    x = torch.cat([observation, action], dim=-1).expand(2, -1, -1)
    for layer in self.layers[:-1]:
      x = F.relu(layer(x))
    q = self.layers[-1](x)[..., 0]
    return q[0], q[1]

  def first(self, observation: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Q_1 alone, [B] (TD3's policy loss): half the arithmetic of `forward`."""
    x = torch.cat([observation, action], dim=-1)
    for layer in self.layers[:-1]:
      x = F.relu(torch.addmm(layer.bias[0], x, layer.weight[0]))
    last = self.layers[-1]
    return torch.addmm(last.bias[0], x, last.weight[0])[:, 0]
