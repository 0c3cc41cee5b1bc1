"""The single-process on-policy agent: one learner step per batch of finished episodes.

`rlkit.agents.agent.Agent` steps its learner at a fixed ratio of learner steps
to observed transitions, which suits replay. On-policy learners instead
consume each episode exactly once, right after it ends, so that the next
episode is collected with the updated policy: this agent counts finished
episodes and runs one learner step per `episodes_per_update` of them.
"""

import numbers
from typing import Any, Dict, Mapping, Optional, Sequence

import dm_env
import numpy as np

from rlkit import core
from rlkit import types
from rlkit.agents import agent as agent_lib

_FIRST = int(dm_env.StepType.FIRST)
_LAST = int(dm_env.StepType.LAST)


class OnPolicyAgent(agent_lib.AgentBase):
  """Acts with `actor`; after every `episodes_per_update` episodes, one learner step.

  The actor's adder writes each episode to the queue table when the episode
  ends (within `observe` of its LAST timestep), so when `update()` runs the
  learner step, the batch is in the table and sampling it does not block.
  Episodes in the queue but not yet learned from are not part of the saved
  state: save between learner steps (e.g. right after an update) to lose none.

  Batched timesteps (a `BatchedEnvironment` run by `BatchedEnvironmentLoop`)
  count every copy: each copy's LAST ends one episode. Copies still in an
  episode go on with the updated policy, as in batched A2C.

  Args:
    actor: the collecting actor (its adder writes whole episodes).
    learner: consumes `episodes_per_update` episodes per step.
    episodes_per_update: items (finished episodes, or rollouts) per learner step.
    item_every_steps: None: an item is a finished episode; n: the adder writes
      an item (a rollout) every n transitions of each copy, so every n-th
      transition a copy observes ends one item.
    resources: closed by `close()` in reverse order (e.g. the episode reader,
      then the replay server), via their `close()` or `stop()`.
    replay_server, networks: see `AgentBase`.
  """

  def __init__(self, actor: core.Actor, learner: core.Learner, *,
               episodes_per_update: int = 1, item_every_steps: Optional[int] = None,
               resources: Sequence[Any] = (), replay_server: Optional[Any] = None,
               networks: Any = None):
    super().__init__(actor, learner, resources, replay_server, networks)
    if (not isinstance(episodes_per_update, numbers.Integral) or
        isinstance(episodes_per_update, bool) or episodes_per_update < 1):
      raise ValueError(
          f'episodes_per_update must be a positive integer, got {episodes_per_update!r}.')
    if item_every_steps is not None and (
        not isinstance(item_every_steps, numbers.Integral) or item_every_steps < 1):
      raise ValueError(
          f'item_every_steps must be None or a positive integer, got {item_every_steps!r}.')
    self._episodes_per_update = int(episodes_per_update)
    self._item_every_steps = item_every_steps
    self._copy_steps: Optional[np.ndarray] = None
    self._pending_episodes = 0
    self._num_episodes = 0

  @property
  def num_episodes(self) -> int:
    return self._num_episodes

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
    if self._item_every_steps is None:
      self._pending_episodes += num_finished
    else:
      self._pending_episodes += self._count_rollouts(step_type)

  def _count_rollouts(self, step_type: Any) -> int:
    """Items completed by this step: one per copy whose transitions reach a multiple of n."""
    moved = np.atleast_1d(np.asarray(step_type) != _FIRST)
    if self._copy_steps is None or self._copy_steps.shape != moved.shape:
      self._copy_steps = np.zeros(moved.shape, np.int64)
    self._copy_steps += moved
    done = moved & (self._copy_steps % self._item_every_steps == 0)
    return int(np.count_nonzero(done))

  def _learner_step_due(self) -> bool:
    return self._pending_episodes >= self._episodes_per_update

  def _learner_step_taken(self) -> None:
    self._pending_episodes -= self._episodes_per_update

  def _save_counts(self) -> Dict[str, Any]:
    return {'pending_episodes': self._pending_episodes, 'num_episodes': self._num_episodes}

  def _restore_counts(self, state: Mapping[str, Any]) -> None:
    # Episodes pending at save time are not in a fresh queue.
    self._pending_episodes = 0
    self._num_episodes = int(state['num_episodes'])

  def restore(self, state: Mapping[str, Any]) -> None:
    missing = {'learner', 'num_episodes', 'num_observations', 'num_learner_steps'} - set(state)
    if missing:
      raise ValueError(f'OnPolicyAgent.restore: state lacks {sorted(missing)}.')
    super().restore(state)
