"""D4PG's networks: a deterministic tanh policy and a categorical distributional critic."""

from typing import NamedTuple, Optional

import torch

from rlkit import specs
from rlkit.agents.continuous import networks as networks_lib


class D4PGNetworks(NamedTuple):
  policy: networks_lib.DeterministicPolicyNetwork
  critic: networks_lib.Critic  # (obs, action) -> logits [B, num_atoms].


def make_networks(environment_spec: specs.EnvironmentSpec, config,
                  seed: Optional[int] = None) -> D4PGNetworks:
  """Fresh D4PG networks for `environment_spec`; `seed` makes the init reproducible."""
  observation_size, action_size = networks_lib.dims_of(environment_spec)
  with torch.random.fork_rng(devices=[]):
    if seed is not None:
      torch.manual_seed(seed)
    return D4PGNetworks(
        policy=networks_lib.DeterministicPolicyNetwork(
            observation_size, action_size, config.policy_hidden_sizes),
        critic=networks_lib.Critic(
            observation_size, action_size, config.critic_hidden_sizes,
            output_size=config.num_atoms))
