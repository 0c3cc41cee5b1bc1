"""Wires replay tables, adder, iterators, network, learner and actor for DQN.

Tables: the main table 'priority_table' holds n-step transitions (uniform,
or prioritized with `config.prioritized`). With `add_one_step_loss` and
n_step > 1 (seed 004), a second table 'one_step_table' holds the 1-step
transitions of the same steps, written by a second adder; the learner draws
one batch from each per step and adds the two losses. The batches are
independent uniform samples of the same experience rather than seed 004's
index-aligned pairs: each loss stays an unbiased estimate of its own
expectation, and no coupling between the tables is needed.

Both tables get a samples-per-insert rate limiter (as Acme's) whose inserts
never block, so one thread can act and learn: the `Agent` steps the learner
only when its iterators are ready.
"""

import dataclasses
from typing import Any, Dict, List, Optional

import numpy as np
import reverb
import torch
from torch import nn

from rlkit import specs
from rlkit import types
from rlkit.adders import batched as batched_adder
from rlkit.adders import transition as transition_adder
from rlkit.agents import agent as agent_lib
from rlkit.agents.dqn import actor as actor_lib
from rlkit.agents.dqn import batched_actor
from rlkit.agents.dqn import config as config_lib
from rlkit.agents.dqn import learning
from rlkit.agents.dqn import networks
from rlkit.replay import dataset
from rlkit.replay import priorities
from rlkit.replay import server as server_lib
from rlkit.replay import tables as tables_lib
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import schedules

MAIN_TABLE = tables_lib.DEFAULT_PRIORITY_TABLE
ONE_STEP_TABLE = 'one_step_table'


class _FanOutAdder:
  """Passes every call to several adders (the n-step and the 1-step one)."""

  def __init__(self, adders):
    self._adders = list(adders)

  def add_first(self, timestep):
    for adder in self._adders:
      adder.add_first(timestep)

  def add(self, action, next_timestep, extras=()):
    for adder in self._adders:
      adder.add(action, next_timestep, extras)

  def reset(self):
    for adder in self._adders:
      adder.reset()

  def close(self):
    for adder in self._adders:
      adder.close()


class DQNBuilder:
  """Builds the pieces of a DQN agent from a `DQNConfig`.

  `make_agent` builds everything for a single process; the other methods
  build one piece each, for other layouts (e.g. a learner in one process and
  actors in others, talking to the same Reverb server).
  """

  def __init__(self, config: Optional[config_lib.DQNConfig] = None):
    config = config if config is not None else config_lib.DQNConfig()
    if not dataclasses.is_dataclass(config):
      raise TypeError(f'config must be a config dataclass, got {type(config).__name__}.')
    self._config = config

  @property
  def config(self):
    return self._config

  # Replay options; NFQ overrides these for its smaller config.
  @property
  def n_step(self) -> int:
    return self._config.n_step

  @property
  def prioritized(self) -> bool:
    return self._config.prioritized

  @property
  def one_step_table(self) -> bool:
    return bool(self._config.add_one_step_loss and self._config.n_step > 1)

  def table_names(self) -> List[str]:
    return [MAIN_TABLE] + ([ONE_STEP_TABLE] if self.one_step_table else [])

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec) -> List[reverb.Table]:
    c = self._config
    common = dict(
        environment_spec=environment_spec, max_size=c.max_replay_size,
        min_size_to_sample=min(c.min_replay_size, c.max_replay_size),
        samples_per_insert=c.samples_per_insert,
        samples_per_insert_tolerance_rate=c.samples_per_insert_tolerance_rate,
        block_inserts=False)
    tables = [tables_lib.make_transition_table(
        MAIN_TABLE, prioritized=self.prioritized,
        priority_exponent=getattr(c, 'priority_exponent', 0.6), **common)]
    if self.one_step_table:
      tables.append(tables_lib.make_transition_table(ONE_STEP_TABLE, **common))
    return tables

  def make_replay_server(self, environment_spec: specs.EnvironmentSpec,
                         checkpoint_dir: Optional[str] = None) -> server_lib.ReplayServer:
    return server_lib.ReplayServer(self.make_replay_tables(environment_spec),
                                   checkpoint_dir=checkpoint_dir)

  def make_adder(self, client: reverb.Client,
                 environment_spec: Optional[specs.EnvironmentSpec] = None):
    discount = self._config.discount
    adder = transition_adder.NStepTransitionAdder(
        client, self.n_step, discount, priority_fns={MAIN_TABLE: None},
        environment_spec=environment_spec)
    if not self.one_step_table:
      return adder
    one_step = transition_adder.NStepTransitionAdder(
        client, 1, discount, priority_fns={ONE_STEP_TABLE: None},
        environment_spec=environment_spec)
    return _FanOutAdder([adder, one_step])

  def make_iterators(self, server_address: str,
                     environment_spec: Optional[specs.EnvironmentSpec] = None
                     ) -> List[dataset.ReplayIterator]:
    return [dataset.make_transition_iterator(
        server_address, table, self._config.batch_size,
        prefetch=self._config.prefetch_size, environment_spec=environment_spec)
            for table in self.table_names()]

  def make_network(self, environment_spec: specs.EnvironmentSpec,
                   seed: Optional[int] = None) -> nn.Module:
    """The Q-network; with `seed`, its initialization is reproducible."""
    with torch.random.fork_rng(devices=[]):
      if seed is not None:
        torch.manual_seed(seed)
      return networks.make_q_network(
          environment_spec, self._config.hidden_sizes,
          getattr(self._config, 'conv_channels', (16, 32)))

  def learner_steps(self, total_steps: Optional[int]) -> Optional[int]:
    """Learner steps in a run of `total_steps` environment steps (None if unknown)."""
    if total_steps is None:
      return None
    c = self._config
    return max(1, int((total_steps - c.min_replay_size + 1) * c.samples_per_insert
                      / c.batch_size))

  def make_learner(self, network: nn.Module, iterators: List[Any],
                   client: Optional[reverb.Client] = None,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers.Logger] = None,
                   total_steps: Optional[int] = None) -> learning.DQNLearner:
    """The learner; `total_steps` (environment steps) sets the learning-rate decay."""
    c = self._config
    decay_steps = 0
    if c.learning_rate_final_fraction != 1.0:
      if total_steps is None:
        raise ValueError(
            f'learning_rate_final_fraction={c.learning_rate_final_fraction} decays the '
            f'learning rate over the training, so the number of training steps is needed.')
      decay_steps = self.learner_steps(total_steps)
    priority_update_fn = None
    if c.prioritized:
      if client is None:
        raise ValueError('Prioritized replay needs a replay client to update priorities.')
      tracker = priorities.shared_tracker(client, MAIN_TABLE)

      def priority_update_fn(keys: np.ndarray, values: np.ndarray) -> None:
        priorities.update_priorities(client, MAIN_TABLE, keys, values, tracker)

    return learning.DQNLearner(
        network, iterators[0], discount=c.discount, learning_rate=c.learning_rate,
        target_update_period=c.target_update_period, tau=c.tau, loss=c.loss,
        huber_delta=c.huber_delta, max_gradient_norm=c.max_gradient_norm,
        double_q=c.double_q,
        importance_sampling_exponent=(
            c.importance_sampling_exponent if c.prioritized else None),
        priority_update_fn=priority_update_fn,
        one_step_iterator=iterators[1] if len(iterators) > 1 else None,
        learning_rate_decay_steps=decay_steps,
        learning_rate_final_fraction=c.learning_rate_final_fraction,
        counter=counter, logger=logger)

  def make_epsilon_schedule(self, total_steps: Optional[int] = None) -> schedules.Schedule:
    """Constant `epsilon`, or the linear decay over a fraction of `total_steps`."""
    c = self._config
    if c.epsilon_decay_fraction == 0:
      return schedules.ConstantSchedule(c.epsilon)
    if total_steps is None or total_steps < 1:
      raise ValueError(
          f'epsilon_decay_fraction={c.epsilon_decay_fraction} decays epsilon over a '
          f'fraction of the training steps, so the number of training steps is needed '
          f'(got {total_steps!r}); train for a number of steps, or set '
          f'epsilon_decay_fraction=0 for a constant epsilon.')
    return schedules.LinearSchedule(
        c.epsilon_init, c.epsilon_final,
        max(1, int(round(c.epsilon_decay_fraction * total_steps))))

  def make_actor(self, network: nn.Module, environment_spec: specs.EnvironmentSpec,
                 adder: Any = None, epsilon: Any = 0.0,
                 seed: Optional[int] = None, batched: bool = False) -> actor_lib.DQNActor:
    """An epsilon-greedy actor; `epsilon=0.0` and no adder gives the evaluation policy.

    With `batched`, the actor acts on batches from a `BatchedEnvironment`.
    """
    actor_cls = batched_actor.BatchedDQNActor if batched else actor_lib.DQNActor
    return actor_cls(
        network, networks.num_actions_of(environment_spec.actions), epsilon=epsilon,
        adder=adder, action_dtype=environment_spec.actions.dtype, seed=seed)

  def make_agent(self, environment_spec: specs.EnvironmentSpec, *,
                 total_steps: Optional[int] = None, seed: Optional[int] = None,
                 counter: Optional[counting.Counter] = None,
                 learner_logger: Optional[loggers.Logger] = None,
                 replay_checkpoint_dir: Optional[str] = None,
                 num_envs: int = 1) -> agent_lib.Agent:
    """A single-process `Agent` with an in-process Reverb server.

    The actor shares the learner's online network (no copies). Close the
    agent (`agent.close()`) to stop the iterators and the server.

    Args:
      environment_spec: the training environment's spec.
      total_steps: training environment steps, for the epsilon and learning
        rate decays (needed unless both are constant).
      seed: seeds the network initialization and exploration.
      counter: parent counter; the learner counts under prefix 'learner'.
      learner_logger: the learner's logger (one row per step; filter it).
      replay_checkpoint_dir: where the Reverb server checkpoints its tables and
        restores them from when a checkpoint is there.
      num_envs: copies of the environment the agent acts in at once (a
        `BatchedEnvironment` when > 1): the actor then acts on batches and
        every copy writes through its own adder.
    """
    if not isinstance(num_envs, int) or num_envs < 1:
      raise ValueError(f'num_envs must be a positive integer, got {num_envs!r}.')
    if not isinstance(environment_spec, specs.EnvironmentSpec):
      raise TypeError(
          f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
    epsilon = self.make_epsilon_schedule(total_steps)
    server = self.make_replay_server(environment_spec, replay_checkpoint_dir)
    iterators: List[Any] = []
    try:
      client = server.client()
      if num_envs == 1:
        adder = self.make_adder(client, environment_spec)
      else:
        adder = batched_adder.BatchedAdder.from_factory(
            lambda: self.make_adder(client, environment_spec), num_envs)
      iterators = self.make_iterators(server.address, environment_spec)
      network = self.make_network(environment_spec, seed)
      learner = self.make_learner(
          network, iterators, client,
          counter=counting.Counter(counter, prefix='learner'), logger=learner_logger,
          total_steps=total_steps)
      actor = self.make_actor(network, environment_spec, adder, epsilon, seed,
                              batched=num_envs > 1)
    except BaseException:
      for iterator in iterators:
        iterator.close()
      server.stop()
      raise
    batch_size = self._config.batch_size
    table_names = self.table_names()

    def can_sample() -> bool:
      return all(server.can_sample(table, batch_size) for table in table_names)

    return agent_lib.Agent(
        actor, learner, min_observations=self._config.min_replay_size,
        samples_per_insert=self._config.samples_per_insert,
        batch_size=batch_size, iterators=iterators, can_sample=can_sample,
        resources=[server, adder] + iterators, replay_server=server)
