"""The single-process agent (`Agent`) and `AgentBase`, what it shares with `OnPolicyAgent`."""

import abc
import numbers
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import dm_env
import numpy as np

from rlkit import core
from rlkit import types

_FIRST = int(dm_env.StepType.FIRST)


def close_resources(resources: List[Any]) -> None:
  """Pops and closes `resources` last first, with `close()` or else `stop()`."""
  while resources:
    resource = resources.pop()
    for method in ('close', 'stop'):
      if callable(getattr(resource, method, None)):
        getattr(resource, method)()
        break


class AgentBase(core.Actor, core.VariableSource, core.Saveable):
  """Acts with `actor` and runs `learner` steps in `update()` while one is due.

  Subclasses count what `observe` brings, say when a learner step is due
  (`_learner_step_due`, `_learner_step_taken`) and which counts beyond the
  observations and learner steps they save (`_save_counts`, `_restore_counts`).

  Args:
    actor: the collecting actor.
    learner: trained by `update()`; also the agent's VariableSource.
    resources: closed by `close()` in reverse order, via their `close()` or
      `stop()`.
    replay_server: the in-process `ReplayServer`, if any (runners checkpoint
      its tables through it).
    networks: the networks the learner trains (and the actor shares).
  """

  def __init__(self, actor: core.Actor, learner: core.Learner, resources: Sequence[Any],
               replay_server: Optional[Any] = None, networks: Any = None):
    if not isinstance(actor, core.Actor):
      raise TypeError(f'actor must be an rlkit Actor, got {type(actor).__name__}.')
    if not isinstance(learner, core.Learner):
      raise TypeError(f'learner must be an rlkit Learner, got {type(learner).__name__}.')
    self._actor = actor
    self._learner = learner
    self._resources = list(resources)
    self._replay_server = replay_server
    self._networks = networks
    self._num_observations = 0
    self._num_learner_steps = 0

  @property
  def actor(self) -> core.Actor:
    return self._actor

  @property
  def learner(self) -> core.Learner:
    return self._learner

  @property
  def replay_server(self) -> Optional[Any]:
    return self._replay_server

  @property
  def networks(self) -> Any:
    return self._networks

  @property
  def num_observations(self) -> int:
    return self._num_observations

  @property
  def num_learner_steps(self) -> int:
    """Learner steps this agent has run (since construction or restore)."""
    return self._num_learner_steps

  def select_action(self, observation: types.NestedArray) -> types.NestedArray:
    return self._actor.select_action(observation)

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    self._actor.observe_first(timestep)

  @abc.abstractmethod
  def _learner_step_due(self) -> bool:
    """Whether `update()` should run a learner step now."""

  @abc.abstractmethod
  def _learner_step_taken(self) -> None:
    """Accounts for the learner step `update()` just ran."""

  def update(self, wait: bool = False) -> None:
    """Runs the learner steps due; then refreshes the actor's parameters."""
    stepped = False
    while self._learner_step_due():
      self._learner.step()
      self._learner_step_taken()
      self._num_learner_steps += 1
      stepped = True
    if stepped or wait:
      self._actor.update(wait)

  def get_variables(self, names: Sequence[str]) -> List[types.NestedArray]:
    return self._learner.get_variables(names)

  @abc.abstractmethod
  def _save_counts(self) -> Dict[str, Any]:
    """The subclass's own bookkeeping, as saved."""

  @abc.abstractmethod
  def _restore_counts(self, state: Mapping[str, Any]) -> None:
    """Restores what `_save_counts` saved."""

  def save(self) -> Dict[str, Any]:
    """Learner, actor (when it saves), observation and learner-step counts."""
    state = {'learner': self._learner.save(), **self._save_counts(),
             'num_observations': self._num_observations,
             'num_learner_steps': self._num_learner_steps}
    actor_save = getattr(self._actor, 'save', None)
    if callable(actor_save):
      state['actor'] = actor_save()
    return state

  def restore(self, state: Mapping[str, Any]) -> None:
    self._learner.restore(state['learner'])
    if 'actor' in state and callable(getattr(self._actor, 'restore', None)):
      self._actor.restore(state['actor'])
    self._num_observations = int(state['num_observations'])
    self._restore_counts(state)
    self._num_learner_steps = int(state['num_learner_steps'])

  def close(self) -> None:
    """Closes the resources (idempotent)."""
    close_resources(self._resources)

  def __enter__(self) -> 'AgentBase':
    return self

  def __exit__(self, *args) -> None:
    self.close()


class Agent(AgentBase):
  """Acts with `actor` and steps `learner` at a fixed ratio to observations.

  After `min_observations` environment steps have been observed, every
  further observation adds `samples_per_insert / batch_size` learner steps to
  a fractional budget (e.g. 0.25 means one learner step every 4 environment
  steps, 4.0 four steps per environment step). `update()` (called by the
  EnvironmentLoop after each `observe`) runs the whole steps of the budget,
  but only while there is data to learn from: every iterator is `ready()`
  (a batch is prefetched), or `can_sample()` says the tables can deliver a
  batch now (then the step waits only for a sample in flight). The agent
  never waits on an empty table or a rate limiter, so acting and learning in
  one thread cannot deadlock. Steps it could not take stay in the budget and
  run at a later `update()`.

  Args:
    actor: the collecting actor (writes to the replay through its adder).
    learner: trained by `update()`; also the agent's VariableSource.
    min_observations: observations before the first learner step.
    samples_per_insert: transitions sampled per observed transition.
    batch_size: transitions per learner step.
    iterators: the learner's replay iterators (objects with `ready()`).
    can_sample: returns whether every table the learner samples can deliver
      a batch without waiting (e.g. `ReplayServer.can_sample`); None means
      the learner steps only when all iterators are ready. With neither
      iterators nor `can_sample`, the learner always steps.
    resources: closed by `close()` in reverse order (iterators, then the
      replay server), via their `close()` or `stop()`.
    replay_server, networks: see `AgentBase`.
  """

  def __init__(self, actor: core.Actor, learner: core.Learner, *,
               min_observations: int, samples_per_insert: float,
               batch_size: int, iterators: Sequence[Any] = (),
               can_sample: Optional[Callable[[], bool]] = None,
               resources: Sequence[Any] = (),
               replay_server: Optional[Any] = None, networks: Any = None):
    super().__init__(actor, learner, resources, replay_server, networks)
    if not isinstance(min_observations, numbers.Integral) or min_observations < 0:
      raise ValueError(
          f'min_observations must be a non-negative integer, got {min_observations!r}.')
    if not isinstance(samples_per_insert, numbers.Real) or not samples_per_insert > 0:
      raise ValueError(f'samples_per_insert must be > 0, got {samples_per_insert!r}.')
    if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
      raise ValueError(f'batch_size must be a positive integer, got {batch_size!r}.')
    for iterator in iterators:
      if not callable(getattr(iterator, 'ready', None)):
        raise TypeError(f'iterators need a ready() method, got {type(iterator).__name__}.')
    self._min_observations = int(min_observations)
    self._steps_per_observation = float(samples_per_insert) / int(batch_size)
    self._iterators = tuple(iterators)
    if can_sample is not None and not callable(can_sample):
      raise TypeError(f'can_sample must be callable or None, got {can_sample!r}.')
    self._can_sample = can_sample
    self._budget = 0.0

  @property
  def learner_steps_per_observation(self) -> float:
    return self._steps_per_observation

  def q_values(self, observation: types.NestedArray):
    """The actor's Q-values for one observation (value-based actors only)."""
    q_values = getattr(self._actor, 'q_values', None)
    if q_values is None:
      raise AttributeError(f'{type(self._actor).__name__} has no q_values().')
    return q_values(observation)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    self._actor.observe(action, next_timestep)
    # A batched timestep (one entry per environment copy) holds one
    # transition per copy that was not just reset.
    step_type = next_timestep.step_type
    num_transitions = (1 if np.ndim(step_type) == 0 else
                       int(np.count_nonzero(step_type != _FIRST)))
    before = self._num_observations
    self._num_observations += num_transitions
    eligible = self._num_observations - max(before, self._min_observations - 1)
    if eligible > 0:
      self._budget += eligible * self._steps_per_observation

  def _ready(self) -> bool:
    for iterator in self._iterators:
      if not iterator.ready():
        return self._can_sample is not None and self._can_sample()
    return True

  def _learner_step_due(self) -> bool:
    return self._budget >= 1.0 and self._ready()

  def _learner_step_taken(self) -> None:
    self._budget -= 1.0

  def _save_counts(self) -> Dict[str, Any]:
    return {'budget': self._budget}

  def _restore_counts(self, state: Mapping[str, Any]) -> None:
    self._budget = float(state['budget'])
