"""The on-policy data path REINFORCE and actor-critic share, as a builder base.

Each finished episode is one item of a Reverb queue table, written by an
`EpisodeAdder` when the episode ends; the learner's `pg_data.EpisodeReader`
takes `episodes_per_update` items per step (the queue removes them), and the
single-process runner steps the learner as soon as that many episodes have
ended (`update_rule()`: `ItemsPerUpdate(episodes_per_update)`).

Queue size: with N environment copies, up to episodes_per_update + N - 1
episodes can be in the queue before a learner step takes a batch; the
`queue_size` field's default leaves room for 64 copies more than a batch
(`config_fields.QUEUE_ROOM_FOR_COPIES`), and the adder's TimeoutError on a
full queue names the field to raise.
"""

import abc
from typing import Any, List, Optional

import reverb
import tree

from rlkit import core
from rlkit import specs
from rlkit.adders import episode as episode_adders
from rlkit.agents import builders
from rlkit.agents import pg_data
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.reinforce import actor as actor_lib
from rlkit.agents.reinforce import policy as policy_lib
from rlkit.replay import tables

# An adder waiting longer than this on a full queue raises instead of hanging.
ADDER_TIMEOUT_S = 60.0


class QueueEpisodeAdder(episode_adders.EpisodeAdder):
  """An `EpisodeAdder` whose timeout on a full queue says which config field to raise."""

  def __init__(self, client: reverb.Client, table: str, max_sequence_length: int,
               environment_spec: specs.EnvironmentSpec, queue_size: int,
               timeout_s: float = ADDER_TIMEOUT_S):
    super().__init__(client, table, max_sequence_length=max_sequence_length,
                     environment_spec=environment_spec, timeout_s=timeout_s)
    self._queue_size = queue_size

  def _timeout_message(self) -> str:
    return (f'The queue table {self._table!r} (max_size {self._queue_size} episodes) stayed '
            f'full for timeout_s={self._timeout_s}: with N environment copies it must hold '
            f'episodes_per_update + N - 1 episodes; raise the config field queue_size '
            f'(--queue_size), or check that the learner consumes the queue.')


class EpisodeQueueBuilder(builders.ActorLearnerBuilder):
  """Builds the on-policy pieces both policy-gradient agents share.

  Subclasses set `config_class` (a config with `episodes_per_update`,
  `max_episode_length`, `table_size`, `variable_update_period` and
  `device`) and `table_name`, and provide `make_networks`, `make_policy`
  and `make_learner`.
  """

  config_class: type
  table_name: str

  def __init__(self, config: Any = None):
    config = config if config is not None else self.config_class()
    if not isinstance(config, self.config_class):
      raise TypeError(
          f'config must be a {self.config_class.__name__}, got {type(config).__name__}.')
    self.config = config

  def supports(self, environment_spec: specs.EnvironmentSpec) -> Optional[str]:
    name = type(self).__name__.replace('Builder', '')
    if not isinstance(environment_spec.actions, specs.DiscreteArray):
      return (f'{name} needs discrete actions (a DiscreteArray); got '
              f'{environment_spec.actions!r}.')
    if tree.is_nested(environment_spec.observations):
      return (f'{name} needs a single observation array; got the nested '
              f'{environment_spec.observations!r}.')
    return None

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec,
                         policy: policy_lib.CategoricalPolicy) -> List[reverb.Table]:
    """The queue of whole episodes, `config.table_size` of them at most."""
    del policy
    return [tables.make_queue_table(self.table_name, environment_spec,
                                    max_size=self.config.table_size)]

  def make_dataset_iterator(self, replay_client: reverb.Client) -> pg_data.EpisodeReader:
    return pg_data.EpisodeReader(replay_client, self.table_name,
                                 self.config.episodes_per_update)

  def make_adder(self, replay_client: reverb.Client, environment_spec: specs.EnvironmentSpec,
                 policy: policy_lib.CategoricalPolicy) -> QueueEpisodeAdder:
    """Writes each episode, at its end, as one item of the queue table."""
    del policy
    return QueueEpisodeAdder(
        replay_client, self.table_name,
        max_sequence_length=self.config.max_episode_length + 1,
        environment_spec=environment_spec, queue_size=self.config.table_size)

  def make_actor(self, seed: int, policy: policy_lib.CategoricalPolicy,
                 environment_spec: specs.EnvironmentSpec,
                 variable_source: Optional[core.VariableSource] = None,
                 adder: Optional[Any] = None, *, horizon: Optional[int] = None,
                 num_envs: Optional[int] = None) -> actor_lib.CategoricalActor:
    """Samples from the policy (collect) or takes its mode (`policy.evaluation`).

    Without `variable_source` it acts on the policy's modules as they are
    (in one process, the learner's, dropout included while collecting).
    With one, the actor owns the modules: eval mode for an evaluation
    policy (no dropout), train mode otherwise, and it pulls the 'policy'
    variables every `config.variable_update_period` calls of `update()`
    and at once on `update(wait=True)`. `horizon` is unused (no schedules).
    """
    del horizon
    if not isinstance(policy, policy_lib.CategoricalPolicy):
      raise TypeError(f'policy must come from {type(self).__name__}.make_policy, got '
                      f'{type(policy).__name__}.')
    del environment_spec  # The policy carries the number of actions and their dtype.
    client = None
    if variable_source is not None:
      policy.variables.train(not policy.evaluation)
      client = variable_client_lib.VariableClient(
          variable_source, policy.variables, key='policy',
          update_period=self.config.variable_update_period)
    return actor_lib.CategoricalActor(
        policy.logits, policy.num_actions, greedy=policy.evaluation,
        batched=num_envs is not None, adder=adder, variable_client=client,
        action_dtype=policy.action_dtype, seed=seed)

  def update_rule(self) -> builders.ItemsPerUpdate:
    """One learner step per `episodes_per_update` finished episodes."""
    return builders.ItemsPerUpdate(items=self.config.episodes_per_update)

  @abc.abstractmethod
  def make_policy(self, networks: Any, environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policy_lib.CategoricalPolicy:
    """The categorical policy over `networks` (sampling, or the mode with `evaluation`)."""
