"""Builds the REINFORCE agent's pieces from a config and an environment spec.

Data path: the collect actor's `EpisodeAdder` writes each finished episode as
one item into a Reverb queue table; the learner's `pg_data.EpisodeReader`
takes `episodes_per_update` items per step (the queue removes them), and the
`OnPolicyAgent` runs that step as soon as the episodes exist.
"""

import copy
from typing import NamedTuple, Optional

import torch
from torch import nn

from rlkit import core
from rlkit import specs
from rlkit.adders import batched as batched_adders
from rlkit.adders import episode as episode_adders
from rlkit.agents import on_policy_agent
from rlkit.agents import pg_data
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.reinforce import actor as actor_lib
from rlkit.agents.reinforce import config as config_lib
from rlkit.agents.reinforce import learning
from rlkit.agents.reinforce import networks as networks_lib
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from rlkit.utils import counting
from rlkit.utils import loggers

QUEUE_TABLE = 'reinforce_queue'
# An adder waiting longer than this on a full queue raises instead of hanging.
ADDER_TIMEOUT_S = 60.0


class REINFORCENetworks(NamedTuple):
  policy: nn.Module
  baseline: Optional[nn.Module]


class EpisodeBuilder:
  """The on-policy data path shared by REINFORCE and actor-critic builders.

  Subclasses provide `make_networks`, `make_learner`, `make_actor` and
  `make_evaluation_actor`; the config needs `episodes_per_update`,
  `max_episode_length` and `table_size`.

  Args:
    config: the agent's hyper-parameters.
    table_name: name of the Reverb queue table.
  """

  config_class = None

  def __init__(self, config=None, table_name: str = QUEUE_TABLE):
    config = config if config is not None else self.config_class()
    if not isinstance(config, self.config_class):
      raise TypeError(
          f'config must be a {self.config_class.__name__}, got {type(config).__name__}.')
    if not isinstance(table_name, str) or not table_name:
      raise ValueError(f'table_name must be a non-empty string, got {table_name!r}.')
    self._config = config
    self._table_name = table_name

  @property
  def config(self):
    return self._config

  @property
  def table_name(self) -> str:
    return self._table_name

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec,
                         num_envs: int = 1):
    """The queue; with `num_envs` copies, room for all their episodes ending at once."""
    size = max(self._config.table_size, self._config.episodes_per_update + num_envs)
    return [tables.make_queue_table(self._table_name, environment_spec, max_size=size)]

  def make_adder(self, client, environment_spec: specs.EnvironmentSpec,
                 num_envs: Optional[int] = None):
    """Writes each episode, at its end, as one item of the queue table.

    With `num_envs`, a `BatchedAdder` with one episode adder per copy.
    """
    def make_episode_adder():
      return episode_adders.EpisodeAdder(
          client, self._table_name,
          max_sequence_length=self._config.max_episode_length + 1,
          environment_spec=environment_spec, timeout_s=ADDER_TIMEOUT_S)
    if num_envs is None:
      return make_episode_adder()
    return batched_adders.BatchedAdder.from_factory(make_episode_adder, num_envs)

  def make_dataset_iterator(self, client, environment_spec: specs.EnvironmentSpec,
                            can_sample=None) -> pg_data.EpisodeReader:
    return pg_data.EpisodeReader(
        client, self._table_name, self._config.episodes_per_update,
        environment_spec, can_sample=can_sample)

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None):
    raise NotImplementedError

  def make_learner(self, networks, iterator,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers.Logger] = None) -> core.Learner:
    raise NotImplementedError

  def make_actor(self, networks, environment_spec: specs.EnvironmentSpec, *,
                 adder=None, seed: Optional[int] = None,
                 batched: bool = False) -> actor_lib.CategoricalActor:
    raise NotImplementedError

  def make_evaluation_actor(self, networks, environment_spec: specs.EnvironmentSpec,
                            variable_source: Optional[core.VariableSource] = None
                           ) -> actor_lib.CategoricalActor:
    raise NotImplementedError

  def make_agent(self, environment_spec: specs.EnvironmentSpec, *,
                 seed: Optional[int] = None,
                 counter: Optional[counting.Counter] = None,
                 learner_logger: Optional[loggers.Logger] = None,
                 num_envs: Optional[int] = None,
                 total_steps: Optional[int] = None,
                 replay_checkpoint_dir: Optional[str] = None
                ) -> on_policy_agent.OnPolicyAgent:
    """A single-process agent with an in-process Reverb queue.

    The collect actor shares the learner's networks; `agent.close()` stops
    the server. Dropout while collecting draws from torch's global generator
    (seed it with `torch.manual_seed` for reproducible runs).

    Args:
      environment_spec: the training environment's specs.
      seed: seeds the network initialisation and the action sampling.
      counter: the run's parent counter; the learner counts under 'learner'.
      learner_logger: the learner's logger (one row per update; filter it).
      num_envs: for a `BatchedEnvironment` of this many copies (run by
        `BatchedEnvironmentLoop`): a batched actor, one episode adder per
        copy. `environment_spec` is then one copy's spec
        (`single_environment_spec()`).
      total_steps: unused (nothing decays with the step count); accepted so
        the launchers can build every agent alike.
      replay_checkpoint_dir: unused: the queue only ever holds the episodes
        of the next update, which a resumed run collects again.
    """
    del total_steps, replay_checkpoint_dir
    if not isinstance(environment_spec, specs.EnvironmentSpec):
      raise TypeError(
          f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
    if num_envs is not None and (not isinstance(num_envs, int) or isinstance(num_envs, bool)
                                 or num_envs < 1):
      raise ValueError(f'num_envs must be a positive integer or None, got {num_envs!r}.')
    server = server_lib.ReplayServer(self.make_replay_tables(environment_spec, num_envs or 1))
    try:
      client = server.client()
      adder = self.make_adder(client, environment_spec, num_envs)
      iterator = self.make_dataset_iterator(client, environment_spec, server.can_sample)
      networks = self.make_networks(environment_spec, seed)
      learner = self.make_learner(
          networks, iterator, counting.Counter(counter or counting.Counter(), prefix='learner'),
          learner_logger)
      actor = self.make_actor(networks, environment_spec, adder=adder, seed=seed,
                              batched=num_envs is not None)
    except BaseException:
      server.stop()
      raise
    return on_policy_agent.OnPolicyAgent(
        actor, learner, episodes_per_update=self._config.episodes_per_update,
        resources=(server, adder, iterator))

  def make_greedy_actor(self, agent: on_policy_agent.OnPolicyAgent,
                        environment_spec: specs.EnvironmentSpec
                       ) -> actor_lib.CategoricalActor:
    """The evaluation policy of `agent`: greedy, on a copy its `update(wait=True)` syncs."""
    if not isinstance(agent, on_policy_agent.OnPolicyAgent):
      raise TypeError(f'agent must be an OnPolicyAgent, got {type(agent).__name__}.')
    return self.make_evaluation_actor(self.networks_of(agent.learner), environment_spec,
                                      variable_source=agent)

  def networks_of(self, learner: core.Learner):
    """The networks a learner of this builder trains."""
    raise NotImplementedError

  def load_networks(self, networks, learner_state) -> None:
    """Loads the network weights of a learner's `save()` into `networks`."""
    raise NotImplementedError

  def load_greedy_actor(self, learner_state, environment_spec: specs.EnvironmentSpec
                       ) -> actor_lib.CategoricalActor:
    """The greedy policy of a checkpoint, without a learner or replay.

    Args:
      learner_state: what the learner's `save()` returned (in a launcher
        checkpoint: `state['agent']['learner']`).
      environment_spec: the specs of the environment it was trained on.
    """
    networks = self.make_networks(environment_spec)
    self.load_networks(networks, learner_state)
    return self.make_evaluation_actor(networks, environment_spec)


def make_evaluation_actor(network: nn.Module, policy_fn, num_actions: int,
                          action_dtype,
                          variable_source: Optional[core.VariableSource] = None
                         ) -> actor_lib.CategoricalActor:
  """A greedy actor on an eval-mode copy of `network`, following `variable_source`.

  Args:
    network: the module whose 'policy' variables the source provides.
    policy_fn: maps the copy to the module that returns logits (identity for
      a policy network, `PolicyLogits` for an actor-critic network).
    num_actions: number of discrete actions.
    action_dtype: dtype of the returned actions.
    variable_source: the learner or agent; `update(wait=True)` pulls its
      current weights into the copy. None: a frozen copy.
  """
  copied = copy.deepcopy(network).eval()
  client = None
  if variable_source is not None:
    client = variable_client_lib.VariableClient(
        variable_source, copied, key='policy', update_period=10**9)
  return actor_lib.CategoricalActor(
      policy_fn(copied), num_actions, greedy=True, variable_client=client,
      action_dtype=action_dtype)


class REINFORCEBuilder(EpisodeBuilder):
  """Builds the REINFORCE agent from a `REINFORCEConfig` (see `EpisodeBuilder`)."""

  config_class = config_lib.REINFORCEConfig

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> REINFORCENetworks:
    """The policy (and baseline); with `seed`, their initialisation is reproducible."""
    config = self._config
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

  def networks_of(self, learner: learning.REINFORCELearner) -> REINFORCENetworks:
    return REINFORCENetworks(learner.policy_network, learner.baseline_network)

  def load_networks(self, networks: REINFORCENetworks, learner_state) -> None:
    networks.policy.load_state_dict(learner_state['policy_network'])
    if networks.baseline is not None:
      networks.baseline.load_state_dict(learner_state['baseline_network'])

  def make_learner(self, networks: REINFORCENetworks, iterator,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers.Logger] = None) -> learning.REINFORCELearner:
    config = self._config
    return learning.REINFORCELearner(
        networks.policy, iterator, baseline_network=networks.baseline,
        discount=config.discount, learning_rate=config.learning_rate,
        standardize_returns=config.standardize_returns,
        baseline_cost=config.baseline_cost, entropy_cost=config.entropy_cost,
        max_gradient_norm=config.max_gradient_norm, counter=counter, logger=logger)

  def make_actor(self, networks: REINFORCENetworks,
                 environment_spec: specs.EnvironmentSpec, *, adder=None,
                 seed: Optional[int] = None,
                 batched: bool = False) -> actor_lib.CategoricalActor:
    """The sampling collect actor on the (shared) policy network."""
    return actor_lib.CategoricalActor(
        networks.policy, networks_lib.num_actions_of(environment_spec.actions),
        batched=batched, adder=adder, action_dtype=environment_spec.actions.dtype,
        seed=seed)

  def make_evaluation_actor(self, networks: REINFORCENetworks,
                            environment_spec: specs.EnvironmentSpec,
                            variable_source: Optional[core.VariableSource] = None
                           ) -> actor_lib.CategoricalActor:
    """The greedy (mode) actor on an eval-mode copy of the policy (no dropout)."""
    return make_evaluation_actor(
        networks.policy, lambda network: network,
        networks_lib.num_actions_of(environment_spec.actions),
        environment_spec.actions.dtype, variable_source)
