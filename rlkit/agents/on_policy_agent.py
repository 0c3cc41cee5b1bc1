"""The single-process on-policy agent: one learner step per batch of finished episodes.

`rlkit.agents.agent.Agent` steps its learner at a fixed ratio of learner steps
to observed transitions, which suits replay. On-policy learners instead
consume each episode exactly once, right after it ends, so that the next
episode is collected with the updated policy: this agent counts finished
episodes and runs one learner step per `episodes_per_update` of them.
"""

import numbers
from typing import Any, Dict, List, Mapping, Sequence

import dm_env
import numpy as np

from rlkit import core
from rlkit import types
from rlkit.agents import agent as agent_lib

_FIRST = int(dm_env.StepType.FIRST)
_LAST = int(dm_env.StepType.LAST)


class OnPolicyAgent(core.Actor, core.VariableSource, core.Saveable):
  """Acts with `actor`; after every `episodes_per_update` episodes, one learner step.

  The actor's adder writes each episode to the queue table when the episode
  ends (within `observe` of its LAST timestep), so when `update()` runs the
  learner step, the batch is in the table and sampling it does not block.

  Batched timesteps (a `BatchedEnvironment` run by `BatchedEnvironmentLoop`)
  count every copy: each copy's LAST ends one episode. Copies still in an
  episode go on with the updated policy, as in batched A2C.

  Args:
    actor: the collecting actor (its adder writes whole episodes).
    learner: consumes `episodes_per_update` episodes per step.
    episodes_per_update: finished episodes per learner step.
    resources: closed by `close()` in reverse order (e.g. the episode reader,
      then the replay server), via their `close()` or `stop()`.
  """

  def __init__(self, actor: core.Actor, learner: core.Learner, *,
               episodes_per_update: int = 1, resources: Sequence[Any] = ()):
    if not isinstance(actor, core.Actor):
      raise TypeError(f'actor must be an rlkit Actor, got {type(actor).__name__}.')
    if not isinstance(learner, core.Learner):
      raise TypeError(f'learner must be an rlkit Learner, got {type(learner).__name__}.')
    if (not isinstance(episodes_per_update, numbers.Integral) or
        isinstance(episodes_per_update, bool) or episodes_per_update < 1):
      raise ValueError(
          f'episodes_per_update must be a positive integer, got {episodes_per_update!r}.')
    self._actor = actor
    self._learner = learner
    self._episodes_per_update = int(episodes_per_update)
    self._resources = list(resources)
    self._pending_episodes = 0
    self._num_episodes = 0
    self._num_observations = 0
    self._num_learner_steps = 0

  @property
  def actor(self) -> core.Actor:
    return self._actor

  @property
  def learner(self) -> core.Learner:
    return self._learner

  @property
  def num_episodes(self) -> int:
    return self._num_episodes

  @property
  def num_observations(self) -> int:
    return self._num_observations

  @property
  def num_learner_steps(self) -> int:
    return self._num_learner_steps

  def select_action(self, observation: types.NestedArray) -> types.NestedArray:
    return self._actor.select_action(observation)

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    self._actor.observe_first(timestep)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    self._actor.observe(action, next_timestep)
    step_type = next_timestep.step_type
    if np.ndim(step_type):  # A batched timestep: one entry per environment copy.
      num_moved = int(np.count_nonzero(step_type != _FIRST))
      num_finished = int(np.count_nonzero(step_type == _LAST))
    else:
      num_moved, num_finished = 1, int(next_timestep.last())
    self._num_observations += num_moved
    self._num_episodes += num_finished
    self._pending_episodes += num_finished

  def update(self, wait: bool = False) -> None:
    """Runs one learner step per complete batch of episodes, then syncs the actor."""
    stepped = False
    while self._pending_episodes >= self._episodes_per_update:
      self._learner.step()
      self._pending_episodes -= self._episodes_per_update
      self._num_learner_steps += 1
      stepped = True
    if stepped or wait:
      self._actor.update(wait)

  def get_variables(self, names: Sequence[str]) -> List[types.NestedArray]:
    return self._learner.get_variables(names)

  def save(self) -> Dict[str, Any]:
    """Learner, actor (when it saves) and the episode bookkeeping.

    Episodes already in the queue but not yet learned from are not part of
    the state: save between learner steps (e.g. right after an update) to
    lose none.
    """
    state = {'learner': self._learner.save(),
             'pending_episodes': self._pending_episodes,
             'num_episodes': self._num_episodes,
             'num_observations': self._num_observations,
             'num_learner_steps': self._num_learner_steps}
    actor_save = getattr(self._actor, 'save', None)
    if callable(actor_save):
      state['actor'] = actor_save()
    return state

  def restore(self, state: Mapping[str, Any]) -> None:
    missing = {'learner', 'num_episodes', 'num_observations', 'num_learner_steps'} - set(state)
    if missing:
      raise ValueError(f'OnPolicyAgent.restore: state lacks {sorted(missing)}.')
    self._learner.restore(state['learner'])
    if 'actor' in state and callable(getattr(self._actor, 'restore', None)):
      self._actor.restore(state['actor'])
    # Episodes pending at save time are not in a fresh queue.
    self._pending_episodes = 0
    self._num_episodes = int(state['num_episodes'])
    self._num_observations = int(state['num_observations'])
    self._num_learner_steps = int(state['num_learner_steps'])

  def close(self) -> None:
    """Closes the resources (reader, then replay server); idempotent."""
    agent_lib.close_resources(self._resources)

  def __enter__(self) -> 'OnPolicyAgent':
    return self

  def __exit__(self, *args) -> None:
    self.close()
