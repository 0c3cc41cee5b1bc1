"""Builds the advantage actor-critic agent's pieces from an `ActorCriticConfig`.

The data path is REINFORCE's (`reinforce.episode_builder.EpisodeQueueBuilder`):
whole episodes through an `EpisodeAdder` into a Reverb queue, read by
`pg_data.EpisodeReader`, one learner step per `episodes_per_update` episodes.
Actors evaluate only the policy half (`PolicyLogits`); the learner's 'policy'
variables are the whole network's state dict (the halves may share a torso).
"""

from typing import Any, Iterator, Optional

import torch

from rlkit import specs
from rlkit.agents import builders
from rlkit.agents import pg_data
from rlkit.agents.actor_critic import config as config_lib
from rlkit.agents.actor_critic import learning
from rlkit.agents.actor_critic import networks as networks_lib
from rlkit.agents.reinforce import episode_builder
from rlkit.agents.reinforce import networks as pg_networks
from rlkit.agents.reinforce import policy as policy_lib

QUEUE_TABLE = 'actor_critic_queue'


class ActorCriticBuilder(episode_builder.EpisodeQueueBuilder):
  """Builds the A2C agent from an `ActorCriticConfig` (defaults when None)."""

  config_class = config_lib.ActorCriticConfig
  table_name = QUEUE_TABLE

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> networks_lib.ActorCriticNetwork:
    """The actor-critic network; with `seed`, its initialisation is reproducible."""
    with torch.random.fork_rng(devices=[]):
      if seed is not None:
        torch.manual_seed(seed)
      return networks_lib.make_actor_critic_network(
          environment_spec, self.config.hidden_sizes, self.config.shared_torso)

  def make_policy(self, networks: networks_lib.ActorCriticNetwork,
                  environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policy_lib.CategoricalPolicy:
    """Sampling from the policy head's softmax, or (`evaluation`) its mode."""
    return policy_lib.CategoricalPolicy(
        logits=networks_lib.PolicyLogits(networks), variables=networks,
        num_actions=pg_networks.num_actions_of(environment_spec.actions),
        action_dtype=environment_spec.actions.dtype, evaluation=bool(evaluation))

  def make_learner(self, networks: networks_lib.ActorCriticNetwork,
                   dataset: Iterator[pg_data.EpisodeBatch],
                   logger_fn: builders.LoggerFactory, environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None, counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.ActorCriticLearner:
    """The learner; `horizon` is unused (the learning rate is constant)."""
    del environment_spec, replay_client, horizon
    config = self.config
    return learning.ActorCriticLearner(
        networks, dataset, discount=config.discount,
        n_step=config.bootstrap_n_step, learning_rate=config.learning_rate,
        value_cost=config.value_cost, entropy_cost=config.entropy_cost,
        standardize_advantages=config.standardize_advantages,
        max_gradient_norm=config.max_gradient_norm, counter=counter,
        logger=logger_fn('learner'), device=config.device)
