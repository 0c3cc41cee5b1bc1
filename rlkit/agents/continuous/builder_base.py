"""What the SAC, TD3 and D4PG builders share: replay, adder, dataset, actor.

Replay: one uniform table of n-step transitions ('priority_table'; packed or
columns, `replay_layout` as for DQN), written
by an `NStepTransitionAdder` and read by `make_transition_iterator`, with a
samples-per-insert rate limiter whose inserts never block (single-process
training cannot deadlock; the agent steps the learner only when a batch can
be had). The learner steps `samples_per_insert / batch_size` times per
environment step after `min_replay_size` observations
(`builders.ReplayRatio`).

A subclass sets `agent_name` and implements `make_networks`, `make_policy`
and `make_learner`. Its config has the fields read here: n_step, discount,
batch_size, min_replay_size, max_replay_size, samples_per_insert,
samples_per_insert_tolerance_rate, replay_layout, prefetch_size, variable_update_period,
random_start_steps.
"""

from typing import Any, List, Optional

import reverb

from rlkit import core
from rlkit import specs
from rlkit.adders import transition as transition_adder
from rlkit.agents import builders
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.continuous import actor as actor_lib
from rlkit.agents.continuous import spec_checks
from rlkit.replay import dataset as dataset_lib
from rlkit.replay import signatures
from rlkit.replay import tables as tables_lib

TABLE = tables_lib.DEFAULT_PRIORITY_TABLE


class ContinuousBuilder(builders.ActorLearnerBuilder):
  """Shared builder methods; see the module docstring."""

  agent_name = 'continuous'
  config_cls: Any = None

  def __init__(self, config: Optional[Any] = None):
    config = config if config is not None else self.config_cls()
    if not isinstance(config, self.config_cls):
      raise TypeError(f'{type(self).__name__} needs a {self.config_cls.__name__}, got '
                      f'{type(config).__name__}.')
    self.config = config

  def supports(self, environment_spec: specs.EnvironmentSpec) -> Optional[str]:
    return spec_checks.unsupported_reason(environment_spec, self.agent_name)

  def _check_spec(self, environment_spec: specs.EnvironmentSpec) -> None:
    spec_checks.check_supported(environment_spec, self.agent_name)

  def _layout(self, environment_spec: specs.EnvironmentSpec) -> str:
    return signatures.resolve_transition_layout(self.config.replay_layout, environment_spec)

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec,
                         policy: Any = None) -> List[reverb.Table]:
    del policy
    self._check_spec(environment_spec)
    c = self.config
    return [tables_lib.make_transition_table(
        TABLE, environment_spec=environment_spec, max_size=c.max_replay_size,
        min_size_to_sample=min(c.min_replay_size, c.max_replay_size),
        samples_per_insert=c.samples_per_insert,
        samples_per_insert_tolerance_rate=c.samples_per_insert_tolerance_rate,
        block_inserts=False, layout=self._layout(environment_spec))]

  def make_dataset_iterator(self, replay_client: reverb.Client) -> dataset_lib.ReplayIterator:
    if not isinstance(replay_client, reverb.Client):
      raise TypeError(f'replay_client must be a reverb.Client, got '
                      f'{type(replay_client).__name__}.')
    return dataset_lib.make_transition_iterator(
        replay_client.server_address, TABLE, self.config.batch_size,
        prefetch=self.config.prefetch_size, sampling='caller')

  def make_adder(self, replay_client: reverb.Client, environment_spec: specs.EnvironmentSpec,
                 policy: Any = None) -> transition_adder.NStepTransitionAdder:
    del policy
    return transition_adder.NStepTransitionAdder(
        replay_client, self.config.n_step, self.config.discount,
        priority_fns={TABLE: None}, environment_spec=environment_spec,
        layout=self._layout(environment_spec))

  def make_actor(self, seed: int, policy: Any, environment_spec: specs.EnvironmentSpec,
                 variable_source: Optional[core.VariableSource] = None,
                 adder: Optional[Any] = None, *, horizon: Optional[int] = None,
                 num_envs: Optional[int] = None) -> actor_lib.ContinuousActor:
    """An actor of `policy`; with `variable_source` it pulls the 'policy' variables.

    An actor that writes (`adder` given) acts uniformly at random for its first
    `config.random_start_steps` steps; an evaluation actor never does. The
    noise is constant, so `horizon` is not used.
    """
    del horizon
    self._check_spec(environment_spec)
    client = None
    if variable_source is not None:
      client = variable_client_lib.VariableClient(
          variable_source, policy.module, 'policy', self.config.variable_update_period)
    return actor_lib.ContinuousActor(
        policy, environment_spec.actions, adder=adder, variable_client=client, seed=seed,
        batched=num_envs is not None,
        random_steps=self.config.random_start_steps if adder is not None else 0)

  def update_rule(self) -> builders.ReplayRatio:
    c = self.config
    return builders.ReplayRatio(c.min_replay_size, c.samples_per_insert, c.batch_size)

