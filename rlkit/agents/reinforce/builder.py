"""Builds the REINFORCE agent's pieces from a `REINFORCEConfig`.

The data path (a Reverb queue of whole episodes) is
`episode_builder.EpisodeQueueBuilder`'s; the networks are the policy and,
with `use_baseline`, a state-value baseline, trained by one optimizer. The
learner's 'policy' variables are the policy network's state dict.
"""

from typing import Any, Iterator, NamedTuple, Optional

import torch
from torch import nn

from rlkit import specs
from rlkit.agents import builders
from rlkit.agents import pg_data
from rlkit.agents.reinforce import config as config_lib
from rlkit.agents.reinforce import episode_builder
from rlkit.agents.reinforce import learning
from rlkit.agents.reinforce import networks as networks_lib
from rlkit.agents.reinforce import policy as policy_lib

QUEUE_TABLE = 'reinforce_queue'


class REINFORCENetworks(NamedTuple):
  policy: nn.Module
  baseline: Optional[nn.Module]


class REINFORCEBuilder(episode_builder.EpisodeQueueBuilder):
  """Builds the REINFORCE agent from a `REINFORCEConfig` (defaults when None)."""

  config_class = config_lib.REINFORCEConfig
  table_name = QUEUE_TABLE

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> REINFORCENetworks:
    """The policy (and baseline); with `seed`, their initialisation is reproducible."""
    config = self.config
    with torch.random.fork_rng(devices=[]):
      if seed is not None:
        torch.manual_seed(seed)
      policy = networks_lib.make_policy_network(
          environment_spec, config.hidden_sizes, config.dropout)
      baseline = None
      if config.use_baseline:
        baseline = networks_lib.make_value_network(
            environment_spec, config.baseline_hidden_sizes)
    return REINFORCENetworks(policy, baseline)

  def make_policy(self, networks: REINFORCENetworks, environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policy_lib.CategoricalPolicy:
    """Sampling from the policy network's softmax, or (`evaluation`) its mode."""
    if not isinstance(networks, REINFORCENetworks):
      raise TypeError(f'networks must be REINFORCENetworks, got {type(networks).__name__}.')
    return policy_lib.CategoricalPolicy(
        logits=networks.policy, variables=networks.policy,
        num_actions=networks_lib.num_actions_of(environment_spec.actions),
        action_dtype=environment_spec.actions.dtype, evaluation=bool(evaluation))

  def make_learner(self, networks: REINFORCENetworks,
                   dataset: Iterator[pg_data.EpisodeBatch],
                   logger_fn: builders.LoggerFactory, environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None, counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.REINFORCELearner:
    """The learner; `horizon` is unused (the learning rate is constant)."""
    del environment_spec, replay_client, horizon
    config = self.config
    return learning.REINFORCELearner(
        networks.policy, dataset, baseline_network=networks.baseline,
        discount=config.discount, learning_rate=config.learning_rate,
        standardize_returns=config.standardize_returns,
        baseline_cost=config.baseline_cost, entropy_cost=config.entropy_cost,
        max_gradient_norm=config.max_gradient_norm, counter=counter,
        logger=logger_fn('learner'), device=config.device)
