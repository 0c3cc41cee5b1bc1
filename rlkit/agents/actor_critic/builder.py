"""Builds the advantage actor-critic agent's pieces from a config and a spec.

The data path is REINFORCE's (`reinforce.builder.EpisodeBuilder`): whole
episodes through an `EpisodeAdder` into a Reverb queue, read by
`pg_data.EpisodeReader`, one learner step per `episodes_per_update` episodes.
"""

from typing import Optional

import torch

from rlkit import core
from rlkit import specs
from rlkit.agents.actor_critic import actor as actor_lib
from rlkit.agents.actor_critic import config as config_lib
from rlkit.agents.actor_critic import learning
from rlkit.agents.actor_critic import networks as networks_lib
from rlkit.agents.reinforce import builder as reinforce_builder
from rlkit.agents.reinforce import networks as pg_networks
from rlkit.utils import counting
from rlkit.utils import loggers

QUEUE_TABLE = 'actor_critic_queue'


class ActorCriticBuilder(reinforce_builder.EpisodeBuilder):
  """Builds the A2C agent from an `ActorCriticConfig`.

  Args:
    config: the agent's hyper-parameters (defaults when None).
    table_name: name of the Reverb queue table.
  """

  config_class = config_lib.ActorCriticConfig

  def __init__(self, config: Optional[config_lib.ActorCriticConfig] = None,
               table_name: str = QUEUE_TABLE):
    super().__init__(config, table_name)

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> networks_lib.ActorCriticNetwork:
    """The actor-critic network; with `seed`, its initialisation is reproducible."""
    with torch.random.fork_rng(devices=[]):
      if seed is not None:
        torch.manual_seed(seed)
      return networks_lib.make_actor_critic_network(
          environment_spec, self._config.hidden_sizes, self._config.shared_torso)

  def networks_of(self, learner: learning.ActorCriticLearner
                 ) -> networks_lib.ActorCriticNetwork:
    return learner.network

  def load_networks(self, networks: networks_lib.ActorCriticNetwork, learner_state) -> None:
    networks.load_state_dict(learner_state['network'])

  def make_learner(self, networks: networks_lib.ActorCriticNetwork, iterator,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers.Logger] = None) -> learning.ActorCriticLearner:
    config = self._config
    return learning.ActorCriticLearner(
        networks, iterator, discount=config.discount,
        n_step=config.bootstrap_n_step, learning_rate=config.learning_rate,
        value_cost=config.value_cost, entropy_cost=config.entropy_cost,
        standardize_advantages=config.standardize_advantages,
        max_gradient_norm=config.max_gradient_norm, counter=counter, logger=logger)

  def make_actor(self, networks: networks_lib.ActorCriticNetwork,
                 environment_spec: specs.EnvironmentSpec, *, adder=None,
                 seed: Optional[int] = None,
                 batched: bool = False) -> actor_lib.CategoricalActor:
    """The sampling collect actor on the (shared) network's policy head."""
    return actor_lib.make_actor(networks, environment_spec, adder=adder, seed=seed,
                                batched=batched)

  def make_evaluation_actor(self, networks: networks_lib.ActorCriticNetwork,
                            environment_spec: specs.EnvironmentSpec,
                            variable_source: Optional[core.VariableSource] = None
                           ) -> actor_lib.CategoricalActor:
    """The greedy (mode) actor on a copy of the network."""
    return reinforce_builder.make_evaluation_actor(
        networks, networks_lib.PolicyLogits,
        pg_networks.num_actions_of(environment_spec.actions),
        environment_spec.actions.dtype, variable_source)
