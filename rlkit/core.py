"""The small interfaces every rlkit component implements (Acme's `acme.core`).

Nothing here imports torch or Reverb, so environments and actors can be
written and tested without either.
"""

import abc
import itertools
from typing import Any, Generic, List, Optional, Sequence, TypeVar

import dm_env

from rlkit import types

T = TypeVar('T')


class Actor(abc.ABC):
  """Interacts with an environment: chooses actions and observes the results.

  The loop calls, per episode: `observe_first(timestep)` after `reset()`, then
  repeatedly `select_action(observation)`, `observe(action, next_timestep)`
  and `update()`.
  """

  @abc.abstractmethod
  def select_action(self, observation: types.NestedArray) -> types.NestedArray:
    """Samples an action from the policy for `observation`."""

  @abc.abstractmethod
  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    """Records the first timestep of an episode (no action precedes it)."""

  @abc.abstractmethod
  def observe(self, action: types.NestedArray,
              next_timestep: dm_env.TimeStep) -> None:
    """Records the action taken and the timestep it led to."""

  @abc.abstractmethod
  def update(self, wait: bool = False) -> None:
    """Updates the actor's parameters (e.g. pulls weights from a learner).

    Args:
      wait: if True, block until fresh parameters are available.
    """


class VariableSource(abc.ABC):
  """Something that provides named parameters (usually a learner)."""

  @abc.abstractmethod
  def get_variables(self, names: Sequence[str]) -> List[types.NestedArray]:
    """Returns the current value of each named variable collection, in order."""


class Worker(abc.ABC):
  """A component that runs until stopped (a learner, an actor loop, ...)."""

  @abc.abstractmethod
  def run(self) -> None:
    """Runs the worker."""


class Saveable(abc.ABC, Generic[T]):
  """A component whose state can be checkpointed and restored."""

  @abc.abstractmethod
  def save(self) -> T:
    """Returns the state to checkpoint."""

  @abc.abstractmethod
  def restore(self, state: T) -> None:
    """Restores the state returned by an earlier `save()`."""


class Learner(VariableSource, Worker, Saveable):
  """Updates parameters from data; the actors pull them through get_variables."""

  @abc.abstractmethod
  def step(self) -> None:
    """Performs one update step."""

  def run(self, num_steps: Optional[int] = None) -> None:
    """Runs `num_steps` update steps, or forever when it is None."""
    if num_steps is not None and num_steps < 0:
      raise ValueError(f'num_steps must be >= 0 or None, got {num_steps}.')
    iterator = range(num_steps) if num_steps is not None else itertools.count()
    for _ in iterator:
      self.step()

  def save(self) -> Any:
    raise NotImplementedError(f'{type(self).__name__} does not implement save().')

  def restore(self, state: Any) -> None:
    raise NotImplementedError(
        f'{type(self).__name__} does not implement restore().')
