"""SAC's networks: a tanh-Gaussian policy and twin Q-networks."""

from typing import NamedTuple, Optional

import torch

from rlkit import specs
from rlkit.agents.continuous import networks as networks_lib


class SACNetworks(NamedTuple):
  policy: networks_lib.TanhGaussianPolicyNetwork
  critic: networks_lib.TwinCritic


def make_networks(environment_spec: specs.EnvironmentSpec, config,
                  seed: Optional[int] = None) -> SACNetworks:
  """Fresh SAC networks for `environment_spec`; `seed` makes the init reproducible."""
  observation_size, action_size = networks_lib.dims_of(environment_spec)
  with torch.random.fork_rng(devices=[]):
    if seed is not None:
      torch.manual_seed(seed)
    return SACNetworks(
        policy=networks_lib.TanhGaussianPolicyNetwork(
            observation_size, action_size, config.policy_hidden_sizes,
            log_prob_epsilon=config.log_prob_epsilon),
        critic=networks_lib.TwinCritic(
            observation_size, action_size, config.critic_hidden_sizes))
