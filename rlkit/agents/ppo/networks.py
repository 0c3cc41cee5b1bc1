"""PPO's networks: a policy (with the observation normalizer) and a value MLP.

As in CleanRL and SB3: separate tanh MLPs for the policy and the value,
orthogonal initialization (gain sqrt(2) for hidden layers, 0.01 for the
policy's output, 1 for the value's), and for continuous actions a diagonal
Gaussian whose log standard deviation is a state-independent parameter.

The observation normalizer (`RunningMeanStd`) lives inside the policy
module, so the policy's `state_dict` (what actors pull and checkpoints keep)
carries its statistics; the value network reads observations normalized by
the same statistics.
"""

import math
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from rlkit import specs
from rlkit.utils import running_statistics

_LOG_2PI = math.log(2.0 * math.pi)


def _layer(in_size: int, out_size: int, gain: float) -> nn.Linear:
  layer = nn.Linear(in_size, out_size)
  nn.init.orthogonal_(layer.weight, gain)
  nn.init.zeros_(layer.bias)
  return layer


def make_mlp(in_size: int, hidden_sizes: Sequence[int], out_size: int,
             output_gain: float) -> nn.Sequential:
  """Tanh MLP, orthogonally initialized (CleanRL's `layer_init`)."""
  layers = []
  for size in hidden_sizes:
    layers += [_layer(in_size, size, math.sqrt(2.0)), nn.Tanh()]
    in_size = size
  layers.append(_layer(in_size, out_size, output_gain))
  return nn.Sequential(*layers)


class PolicyNetwork(nn.Module):
  """Observations [B, D] -> distribution parameters (logits, or Gaussian means).

  Subclasses define the distribution: `sample`, `mode`, `log_prob`, `entropy`
  of the parameters `forward` returns.
  """

  def __init__(self, observation_size: int, hidden_sizes: Sequence[int], out_size: int,
               normalizer: Optional[running_statistics.RunningMeanStd]):
    super().__init__()
    self.normalizer = normalizer
    self.mlp = make_mlp(observation_size, hidden_sizes, out_size, output_gain=0.01)

  def normalize(self, observation: torch.Tensor) -> torch.Tensor:
    return observation if self.normalizer is None else self.normalizer(observation)

  def forward(self, observation: torch.Tensor) -> torch.Tensor:
    return self.mlp(self.normalize(observation))


class CategoricalPolicy(PolicyNetwork):
  """A categorical distribution over `num_actions`; parameters are logits [B, A]."""

  def __init__(self, observation_size: int, hidden_sizes: Sequence[int], num_actions: int,
               normalizer: Optional[running_statistics.RunningMeanStd]):
    super().__init__(observation_size, hidden_sizes, num_actions, normalizer)

  def sample(self, logits: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    """Samples with `generator`, a CPU generator, on any device."""
    probs = torch.softmax(logits, dim=-1).cpu()
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1).to(logits.device)

  def mode(self, logits: torch.Tensor) -> torch.Tensor:
    return logits.argmax(dim=-1)

  def log_prob(self, logits: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    log_probs = torch.log_softmax(logits, dim=-1)
    return log_probs.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)

  def entropy(self, logits: torch.Tensor) -> torch.Tensor:
    log_probs = torch.log_softmax(logits, dim=-1)
    return -(log_probs.exp() * log_probs).sum(-1)


class GaussianPolicy(PolicyNetwork):
  """A diagonal Gaussian with state-independent log-std; parameters are means [B, A]."""

  def __init__(self, observation_size: int, hidden_sizes: Sequence[int], action_size: int,
               normalizer: Optional[running_statistics.RunningMeanStd],
               initial_log_std: float = 0.0):
    super().__init__(observation_size, hidden_sizes, action_size, normalizer)
    self.log_std = nn.Parameter(torch.full((action_size,), float(initial_log_std)))

  def sample(self, mean: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    """Samples with `generator`, a CPU generator, on any device."""
    noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
    return mean + self.log_std.exp() * noise

  def mode(self, mean: torch.Tensor) -> torch.Tensor:
    return mean

  def log_prob(self, mean: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    z = (action - mean) * torch.exp(-self.log_std)
    return (-0.5 * z ** 2 - self.log_std - 0.5 * _LOG_2PI).sum(-1)

  def entropy(self, mean: torch.Tensor) -> torch.Tensor:
    per_dim = 0.5 + 0.5 * _LOG_2PI + self.log_std
    return per_dim.sum().expand(mean.shape[:-1])


class PPONetworks(nn.Module):
  """The policy and the value network; `seed` is the seed they were made with.

  `value(observation)` reads observations normalized by the policy's
  normalizer (one set of statistics for both).
  """

  def __init__(self, policy: PolicyNetwork, value_mlp: nn.Module, seed: Optional[int] = None):
    super().__init__()
    self.policy = policy
    self.value_mlp = value_mlp
    self.seed = seed

  def value(self, observation: torch.Tensor) -> torch.Tensor:
    return self.value_mlp(self.policy.normalize(observation)).squeeze(-1)


def is_discrete(action_spec: specs.Array) -> bool:
  return isinstance(action_spec, specs.DiscreteArray)


def is_discrete_policy(policy: PolicyNetwork) -> bool:
  return isinstance(policy, CategoricalPolicy)


def make_networks(environment_spec: specs.EnvironmentSpec, hidden_sizes: Sequence[int], *,
                  normalize_observations: bool = True, observation_clip: float = 10.0,
                  initial_log_std: float = 0.0, seed: Optional[int] = None) -> PPONetworks:
  """The networks for flat observations and discrete or continuous actions."""
  observation_size = int(np.prod(environment_spec.observations.shape))
  normalizer = (running_statistics.RunningMeanStd((observation_size,), clip=observation_clip)
                if normalize_observations else None)
  actions = environment_spec.actions
  if is_discrete(actions):
    policy = CategoricalPolicy(observation_size, hidden_sizes, int(actions.num_values),
                               normalizer)
  else:
    policy = GaussianPolicy(observation_size, hidden_sizes, int(np.prod(actions.shape)),
                            normalizer, initial_log_std)
  value_mlp = make_mlp(observation_size, hidden_sizes, 1, output_gain=1.0)
  return PPONetworks(policy, value_mlp, seed)
