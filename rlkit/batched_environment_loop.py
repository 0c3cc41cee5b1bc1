"""The EnvironmentLoop over a BatchedEnvironment: one actor call per vector step."""

import time
from typing import Any, Dict, List, Optional

import numpy as np

from rlkit import core
from rlkit import environment_loop
from rlkit.environments import batched
from rlkit.utils import counting
from rlkit.utils import loggers


class BatchedEnvironmentLoop(core.Worker):
  """Runs a batch-aware actor on N copies, logging one row per finished episode.

  The actor receives batched data: `select_action(observations[N, ...])`
  returns N actions; `observe_first` and `observe` get batched timesteps whose
  `step_type` says, per copy, where each trajectory is (a copy that was reset
  reports FIRST). Rows carry `env_index` besides the EnvironmentLoop's keys.
  Steps count environment transitions (resets are not steps).

  Args: as `EnvironmentLoop`, with a `batched.BatchedEnvironment`.
  """

  def __init__(
      self,
      environment: batched.BatchedEnvironmentBase,
      actor: core.Actor,
      counter: Optional[counting.Counter] = None,
      logger: Optional[loggers.Logger] = None,
      should_update: bool = True,
      label: str = 'environment_loop',
  ):
    if not isinstance(environment, batched.BatchedEnvironmentBase):
      raise TypeError(
          f'environment must be a batched environment (BatchedEnvironment or '
          f'SubprocessBatchedEnvironment), got {type(environment).__name__}.')
    environment_loop.check_actor(actor)
    self._environment = environment
    self._actor = actor
    self._counter = counter or counting.Counter()
    self._logger = logger or loggers.make_default_logger(label)
    self._should_update = should_update
    n = environment.num_envs
    self._timestep = None
    self._returns = np.zeros(n, np.float64)
    self._lengths = np.zeros(n, np.int64)
    self._start_times = np.zeros(n, np.float64)
    self._last_num_moved = 0

  def step(self) -> List[Dict[str, Any]]:
    """Takes one vector step; returns the rows of the episodes it finished.

    The first call resets every copy; later calls continue where the last one
    stopped, so a launcher can interleave steps with evaluation and
    checkpoints without cutting episodes short. Rows are also logged.
    """
    env, actor = self._environment, self._actor
    if self._timestep is None:
      self._timestep = env.reset()
      actor.observe_first(self._timestep)
      self._start_times[:] = time.monotonic()
    actions = actor.select_action(self._timestep.observation)
    timestep = self._timestep = env.step(actions)
    actor.observe(actions, next_timestep=timestep)
    if self._should_update:
      actor.update()
    moved = timestep.step_type != batched.FIRST
    num_moved = int(moved.sum())
    self._returns[moved] += timestep.reward[moved]
    self._lengths[moved] += 1
    finished = np.flatnonzero(timestep.step_type == batched.LAST)
    counts = self._counter.increment(steps=num_moved, episodes=len(finished))
    self._last_num_moved = num_moved
    now = time.monotonic()
    rows = []
    for i in finished:
      duration = now - self._start_times[i]
      row = {
          'env_index': int(i),
          'episode_length': int(self._lengths[i]),
          'episode_return': float(self._returns[i]),
          'steps_per_second': self._lengths[i] / max(duration, 1e-9),
          'episode_duration': duration,
      }
      row.update(counts)
      self._logger.write(row)
      rows.append(row)
      self._returns[i], self._lengths[i], self._start_times[i] = 0.0, 0, now
    return rows

  def run(self, num_episodes: Optional[int] = None,
          num_steps: Optional[int] = None) -> int:
    """Steps until `num_episodes` more episodes finished or `num_steps` transitions.

    Unlike the single loop, copies end episodes at different times, so the run
    stops as soon as the budget is reached, leaving other copies mid-episode;
    a later `run` or `step` continues them.

    Returns:
      The number of environment steps (transitions, summed over copies).
    """
    environment_loop.check_budget(num_episodes, num_steps)
    episodes, steps = 0, 0
    while not ((num_episodes is not None and episodes >= num_episodes) or
               (num_steps is not None and steps >= num_steps)):
      episodes += len(self.step())
      steps += self._last_num_moved
    return steps
