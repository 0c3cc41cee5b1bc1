"""What every value-based builder shares: replay, adder, dataset, actor, learner.

A value-based agent is a config (a `DQNConfig` or a subclass of it), a
network and a loss; its builder subclasses `ValueBasedBuilder` and names
those three (`config_class`, `_make_network`, `_make_loss`). The public
methods are exactly the `ActorLearnerBuilder` contract's.

Tables: the main table 'priority_table' holds n-step transitions (uniform,
or prioritized with `config.prioritized`). With `add_one_step_loss` and
n_step > 1 (seed 004), a second table 'one_step_table' holds the 1-step
transitions of the same steps, written by a second adder; the dataset yields
one batch of each per step (`NStepAndOneStep`) and the loss adds the two
(`WithOneStepLoss`). The batches are independent uniform samples of the same
experience rather than seed 004's index-aligned pairs: each loss stays an
unbiased estimate of its own expectation, and the tables need no coupling.

Layout (`config.replay_layout`): both tables and adders store transitions
packed into one vector per item where the spec allows it ('auto', see
`rlkit.replay.packing`), or as Acme's `Transition` columns; the dataset reads
the layout from the table, so learners get the same batches.

Both tables get a samples-per-insert rate limiter (as Acme's) whose inserts
never block, so one thread can act and learn: the single-process agent steps
the learner only when the dataset is ready.

Prioritized replay: the builder creates one `MaxPriorityTracker` per replay
server and hands it to the adders (new items enter at the maximum) and the
learner (its priority updates raise the maximum).
"""

import abc
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from rlkit import core
from rlkit import specs
from rlkit.adders import transition as transition_adder
from rlkit.agents import builders
from rlkit.agents import policies
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.dqn import actor as actor_lib
from rlkit.agents.dqn import batched_actor
from rlkit.agents.dqn import config as dqn_config
from rlkit.agents.value_based import learning
from rlkit.agents.value_based import losses
from rlkit.replay import priorities
from rlkit.replay import signatures
from rlkit.replay import tables as tables_lib
from rlkit.utils import schedules

MAIN_TABLE = tables_lib.DEFAULT_PRIORITY_TABLE
ONE_STEP_TABLE = 'one_step_table'


class FanOutAdder:
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


class PairedIterator:
  """Yields `NStepAndOneStep(next(n_step), next(one_step))`; ready when both are."""

  def __init__(self, n_step, one_step):
    self._n_step = n_step
    self._one_step = one_step

  def __iter__(self):
    return self

  def __next__(self) -> losses.NStepAndOneStep:
    return losses.NStepAndOneStep(next(self._n_step), next(self._one_step))

  def ready(self) -> bool:
    return self._n_step.ready() and self._one_step.ready()

  def close(self) -> None:
    self._n_step.close()
    self._one_step.close()


class ValueBasedBuilder(builders.ActorLearnerBuilder):
  """The builder of a value-based agent, but for its network and loss.

  Networks: one module from observations [B, ...] to Q-values [B, A] (its
  forward is what actors act on; a loss may call other methods of it, e.g.
  QR-DQN's `quantiles`). Policy: a `policies.QPolicy`.
  """

  config_class = dqn_config.DQNConfig

  def __init__(self, config: Optional[dqn_config.DQNConfig] = None):
    config = self.config_class() if config is None else config
    if not isinstance(config, self.config_class):
      raise TypeError(f'{type(self).__name__} takes a {self.config_class.__name__}, got '
                      f'{type(config).__name__}.')
    self.config = config
    self._trackers: Dict[str, priorities.MaxPriorityTracker] = {}

  @abc.abstractmethod
  def _make_network(self, environment_spec: specs.EnvironmentSpec) -> nn.Module:
    """A fresh network (initialized from torch's global generator)."""

  @abc.abstractmethod
  def _make_loss(self) -> Any:
    """The loss object (see `rlkit.agents.value_based.losses`) of one batch."""

  # Pieces the subclasses share.

  @property
  def _one_step_table(self) -> bool:
    return bool(self.config.add_one_step_loss and self.config.n_step > 1)

  def _layout(self, environment_spec: specs.EnvironmentSpec) -> str:
    return signatures.resolve_transition_layout(self.config.replay_layout, environment_spec)

  def _tracker(self, replay_client: Any) -> priorities.MaxPriorityTracker:
    """The priority tracker of the main table of `replay_client`'s server."""
    return self._trackers.setdefault(replay_client.server_address,
                                     priorities.MaxPriorityTracker())

  # The builder contract.

  def supports(self, environment_spec: specs.EnvironmentSpec) -> Optional[str]:
    actions = environment_spec.actions
    if not isinstance(actions, specs.DiscreteArray):
      return (f'{type(self).__name__} needs discrete actions (a DiscreteArray); got '
              f'{actions!r}. Agents for continuous actions: sac, td3, d4pg, ppo.')
    observations = environment_spec.observations
    if not hasattr(observations, 'shape') or not hasattr(observations, 'dtype'):
      return (f'{type(self).__name__} needs a single array observation spec; got '
              f'{observations!r}.')
    return None

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
      if seed is not None:
        torch.manual_seed(seed)
      return self._make_network(environment_spec)

  def make_policy(self, networks: nn.Module, environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policies.QPolicy:
    del environment_spec
    if not isinstance(networks, nn.Module):
      raise TypeError(f'networks must be the Q-network (a torch.nn.Module), got '
                      f'{type(networks).__name__}.')
    return policies.QPolicy(networks, bool(evaluation))

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec,
                         policy: Any = None) -> List[Any]:
    del policy
    c = self.config
    common = dict(
        environment_spec=environment_spec, max_size=c.max_replay_size,
        min_size_to_sample=min(c.min_replay_size, c.max_replay_size),
        samples_per_insert=c.samples_per_insert,
        samples_per_insert_tolerance_rate=c.samples_per_insert_tolerance_rate,
        block_inserts=False, layout=self._layout(environment_spec))
    tables = [tables_lib.make_transition_table(
        MAIN_TABLE, prioritized=c.prioritized, priority_exponent=c.priority_exponent,
        **common)]
    if self._one_step_table:
      tables.append(tables_lib.make_transition_table(ONE_STEP_TABLE, **common))
    return tables

  def _batches_per_fetch(self) -> int:
    """`config.batches_per_fetch`, or 1 where the rate limiter's slack could not cover a fetch.

    The sampler takes whole fetches ahead of the learner (one in Reverb's
    worker, `prefetch_size` in TensorFlow's buffer, one being batched); the
    samples-per-insert limiter lets it run `tolerance * min_replay_size *
    samples_per_insert` samples ahead. A fetch larger than a fraction of that
    would hold samples the learner's due steps need, and the single-process
    agent would step only once its later inserts free more.
    """
    c = self.config
    slack = c.samples_per_insert_tolerance_rate * c.min_replay_size * c.samples_per_insert
    in_flight = c.batch_size * c.batches_per_fetch * (c.prefetch_size + 2)
    return c.batches_per_fetch if slack >= 2 * in_flight else 1

  def make_dataset_iterator(self, replay_client: Any) -> Any:
    from rlkit.replay import dataset  # pylint: disable=g-import-not-at-top
    c = self.config
    batches_per_fetch = self._batches_per_fetch()

    def iterator(table):
      return dataset.make_transition_iterator(
          replay_client.server_address, table, c.batch_size, prefetch=c.prefetch_size,
          batches_per_fetch=batches_per_fetch, sampling='caller')

    if not self._one_step_table:
      return iterator(MAIN_TABLE)
    n_step = iterator(MAIN_TABLE)
    try:
      return PairedIterator(n_step, iterator(ONE_STEP_TABLE))
    except BaseException:
      n_step.close()
      raise

  def make_adder(self, replay_client: Any, environment_spec: specs.EnvironmentSpec,
                 policy: Any = None) -> Any:
    del policy
    c = self.config
    trackers = {MAIN_TABLE: self._tracker(replay_client)} if c.prioritized else None
    layout = self._layout(environment_spec)
    adder = transition_adder.NStepTransitionAdder(
        replay_client, c.n_step, c.discount, priority_fns={MAIN_TABLE: None},
        environment_spec=environment_spec, priority_trackers=trackers, layout=layout)
    if not self._one_step_table:
      return adder
    one_step = transition_adder.NStepTransitionAdder(
        replay_client, 1, c.discount, priority_fns={ONE_STEP_TABLE: None},
        environment_spec=environment_spec, layout=layout)
    return FanOutAdder([adder, one_step])

  def horizon_schedules(self) -> Tuple[str, ...]:
    c = self.config
    return tuple(name for name, decays in (
        ('epsilon', c.epsilon_decay_fraction != 0),
        ('learning_rate', c.learning_rate_final_fraction != 1.0)) if decays)

  def _epsilon_schedule(self, horizon: Optional[int]) -> schedules.Schedule:
    """Constant `epsilon`, or the decay over a fraction of the horizon (a fixed span without one)."""
    c = self.config
    if c.epsilon_decay_fraction == 0:
      return schedules.ConstantSchedule(c.epsilon)
    return schedules.over_training(
        c.epsilon_init, c.epsilon_final, horizon=horizon, fraction=c.epsilon_decay_fraction,
        steps_without_horizon=c.epsilon_decay_steps)

  def _learning_rate_schedule(self, horizon: Optional[int]) -> schedules.Schedule:
    """Linear to `learning_rate * learning_rate_final_fraction` over the horizon's learner steps."""
    c = self.config
    return schedules.over_training(
        c.learning_rate, c.learning_rate * c.learning_rate_final_fraction,
        horizon=schedules.learner_steps(horizon, c.min_replay_size, c.samples_per_insert,
                                        c.batch_size))

  def make_actor(self, seed: int, policy: policies.QPolicy,
                 environment_spec: specs.EnvironmentSpec,
                 variable_source: Optional[core.VariableSource] = None,
                 adder: Optional[Any] = None, *, horizon: Optional[int] = None,
                 num_envs: Optional[int] = None) -> actor_lib.DQNActor:
    if not isinstance(policy, policies.QPolicy):
      raise TypeError(f'policy must be a policies.QPolicy (from make_policy), got '
                      f'{type(policy).__name__}.')
    client = None
    if variable_source is not None:
      client = variable_client_lib.VariableClient(
          variable_source, policy.network, update_period=self.config.variable_update_period)
    epsilon = 0.0 if policy.evaluation else self._epsilon_schedule(horizon)
    actor_cls = actor_lib.DQNActor if num_envs is None else batched_actor.BatchedDQNActor
    return actor_cls(
        policy.network, int(environment_spec.actions.num_values), epsilon=epsilon,
        adder=adder, variable_client=client, action_dtype=environment_spec.actions.dtype,
        seed=seed)

  def make_learner(self, networks: nn.Module, dataset: Any,
                   logger_fn: builders.LoggerFactory,
                   environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None,
                   counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.ValueLearner:
    del environment_spec
    c = self.config
    loss_fn = self._make_loss()
    if self._one_step_table:
      loss_fn = losses.WithOneStepLoss(loss_fn)
    priority_update_fn = None
    if c.prioritized:
      if replay_client is None:
        raise ValueError(f'{type(self).__name__} with prioritized=True needs a replay client '
                         f'to update priorities; got replay_client=None.')
      tracker = self._tracker(replay_client)

      def priority_update_fn(keys: np.ndarray, values: np.ndarray) -> None:
        priorities.update_priorities(replay_client, MAIN_TABLE, keys, values, tracker)

    return learning.ValueLearner(
        networks, dataset, loss_fn,
        learning_rate=self._learning_rate_schedule(horizon),
        target_update_period=c.target_update_period, tau=c.tau,
        max_gradient_norm=c.max_gradient_norm, priority_update_fn=priority_update_fn,
        device=c.device, counter=counter, logger=logger_fn('learner'))

  def update_rule(self) -> builders.ReplayRatio:
    c = self.config
    return builders.ReplayRatio(c.min_replay_size, c.samples_per_insert, c.batch_size)

  def _importance_sampling_exponent(self) -> Optional[float]:
    """beta of the loss's importance weights; None for uniform replay."""
    return self.config.importance_sampling_exponent if self.config.prioritized else None
