"""The builder contract every agent meets (Acme's `ActorLearnerBuilder`, in torch).

A runner builds an agent only through these methods, in this order:

    networks = builder.make_networks(environment_spec, seed)
    policy = builder.make_policy(networks, environment_spec, evaluation=False)
    tables = builder.make_replay_tables(environment_spec, policy)   # -> a Reverb server
    dataset = builder.make_dataset_iterator(replay_client)
    adder = builder.make_adder(replay_client, environment_spec, policy)
    learner = builder.make_learner(networks, dataset, logger_fn, environment_spec,
                                   replay_client, counter, horizon=horizon)
    actor = builder.make_actor(seed, policy, environment_spec, variable_source, adder,
                               horizon=horizon, num_envs=num_envs)

and, for one process, `builder.update_rule()` says when the learner steps.
The same calls build every node of a distributed run (`rlkit.experiments`);
no agent code changes between the two.

Where torch differs from Acme's JAX (see BUILD_NOTES, "The builder contract"):
- Networks are `torch.nn.Module`s (or a NamedTuple of them) that hold their
  parameters; a policy is an object over those modules, not a pure function
  of parameters. `make_networks` is part of the builder (Acme keeps a network
  factory beside it), so a checkpoint can rebuild the networks from the config.
- Random keys are integer seeds.
- Variables: `learner.get_variables(['policy'])` returns what the actor's
  policy needs (a state dict). An actor made with a `variable_source` owns its
  networks and pulls them (every `variable_update_period` calls of `update()`,
  or at once with `update(wait=True)`); with `variable_source=None` the policy
  shares the learner's modules (one process) and never pulls.
- `horizon`: the environment steps the run's schedules span (epsilon, learning
  rate), handed over by the runner; None when unknown. Schedules never need it
  to be known (see BUILD_NOTES, "Schedules").
- `num_envs`: the actor acts on a batch of that many environment copies at once
  (one forward pass); None for a single environment.
"""

import abc
import dataclasses
import numbers
from typing import Any, Callable, Generic, Iterator, List, Optional, Sequence, TypeVar, Union

from rlkit import core
from rlkit import specs

Networks = TypeVar('Networks')
Policy = TypeVar('Policy')
Sample = TypeVar('Sample')

# label -> Logger; Acme's LoggerFactory(label, steps_key, instance) with the last two optional.
LoggerFactory = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class ReplayRatio:
  """Off-policy learning in one process (the `Agent`'s budget).

  After `min_observations` observed transitions, every further one adds
  `samples_per_insert / batch_size` learner steps to a budget that `update()`
  spends while the replay can deliver a batch.
  """
  min_observations: int
  samples_per_insert: float
  batch_size: int

  def __post_init__(self):
    if not isinstance(self.min_observations, numbers.Integral) or self.min_observations < 0:
      raise ValueError(f'min_observations must be an integer >= 0, got {self.min_observations!r}.')
    if not isinstance(self.samples_per_insert, numbers.Real) or not self.samples_per_insert > 0:
      raise ValueError(f'samples_per_insert must be > 0, got {self.samples_per_insert!r}.')
    if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1:
      raise ValueError(f'batch_size must be a positive integer, got {self.batch_size!r}.')


@dataclasses.dataclass(frozen=True)
class ItemsPerUpdate:
  """On-policy learning in one process (the `OnPolicyAgent`).

  One learner step as soon as `items` new items were written since the last
  one: with `item_every_steps=None` an item is a finished episode (one per
  LAST timestep of any copy); with `item_every_steps=n` the adder writes an
  item every n observed transitions of each environment copy (a rollout).
  """
  items: int
  item_every_steps: Optional[int] = None

  def __post_init__(self):
    if not isinstance(self.items, numbers.Integral) or self.items < 1:
      raise ValueError(f'items must be a positive integer, got {self.items!r}.')
    if self.item_every_steps is not None and (
        not isinstance(self.item_every_steps, numbers.Integral) or self.item_every_steps < 1):
      raise ValueError(
          f'item_every_steps must be None or a positive integer, got {self.item_every_steps!r}.')


UpdateRule = Union[ReplayRatio, ItemsPerUpdate]


class UnsupportedSpecError(ValueError):
  """An agent cannot act in an environment's spec (from `ActorLearnerBuilder.supports`)."""


class ActorLearnerBuilder(abc.ABC, Generic[Networks, Policy, Sample]):
  """Builds an agent's networks, replay, adder, actor, learner and policy.

  Subclasses take their config dataclass in `__init__` and keep it as
  `self.config`; every method builds one piece and holds no state that
  another call depends on, except what the builder owns on purpose (for
  example a priority tracker shared by its adder and learner).
  """

  config: Any

  @abc.abstractmethod
  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> Networks:
    """Fresh networks for `environment_spec`; `seed` makes their initialization reproducible."""

  @abc.abstractmethod
  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec,
                         policy: Policy) -> List[Any]:
    """The Reverb tables (`reverb.Table`) the adder writes and the dataset reads."""

  @abc.abstractmethod
  def make_dataset_iterator(self, replay_client: Any) -> Iterator[Sample]:
    """Batches for the learner, from the server `replay_client` talks to.

    The iterator may have `ready()` (a batch can be had without waiting) and
    `close()`; the single-process agent uses `ready()` to never block.
    """

  @abc.abstractmethod
  def make_adder(self, replay_client: Any, environment_spec: specs.EnvironmentSpec,
                 policy: Policy) -> Optional[Any]:
    """The adder one environment's actor writes its experience through (None: none)."""

  @abc.abstractmethod
  def make_actor(self, seed: int, policy: Policy, environment_spec: specs.EnvironmentSpec,
                 variable_source: Optional[core.VariableSource] = None,
                 adder: Optional[Any] = None, *, horizon: Optional[int] = None,
                 num_envs: Optional[int] = None) -> core.Actor:
    """An actor running `policy`; with `adder`, it writes what it observes."""

  @abc.abstractmethod
  def make_learner(self, networks: Networks, dataset: Iterator[Sample],
                   logger_fn: LoggerFactory, environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None,
                   counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> core.Learner:
    """The learner training `networks` on `dataset`; it logs to `logger_fn('learner')`."""

  @abc.abstractmethod
  def make_policy(self, networks: Networks, environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> Policy:
    """The collect policy, or with `evaluation` the greedy one, over `networks`."""

  @abc.abstractmethod
  def update_rule(self) -> UpdateRule:
    """When a single-process agent steps its learner."""

  def horizon_schedules(self) -> Sequence[str]:
    """Names of the schedules that span the run's horizon (e.g. 'epsilon'); () when none."""
    return ()

  def checkpoint_replay(self) -> bool:
    """Whether the replay is part of a checkpoint (False for on-policy queues)."""
    return isinstance(self.update_rule(), ReplayRatio)

  def supports(self, environment_spec: specs.EnvironmentSpec) -> Optional[str]:
    """None if the agent can act in `environment_spec`, else why not (one sentence)."""
    del environment_spec
    return None
