"""TD3's networks: a deterministic tanh policy and twin Q-networks."""

from typing import NamedTuple, Optional

import torch

from rlkit import specs
from rlkit.agents.continuous import networks as networks_lib


class TD3Networks(NamedTuple):
  policy: networks_lib.DeterministicPolicyNetwork
  critic: networks_lib.TwinCritic


def make_networks(environment_spec: specs.EnvironmentSpec, config,
                  seed: Optional[int] = None) -> TD3Networks:
  """Fresh TD3 networks for `environment_spec`; `seed` makes the init reproducible."""
  observation_size, action_size = networks_lib.dims_of(environment_spec)
  with torch.random.fork_rng(devices=[]):
    if seed is not None:
      torch.manual_seed(seed)
    return TD3Networks(
        policy=networks_lib.DeterministicPolicyNetwork(
            observation_size, action_size, config.policy_hidden_sizes),
        critic=networks_lib.TwinCritic(
            observation_size, action_size, config.critic_hidden_sizes))
