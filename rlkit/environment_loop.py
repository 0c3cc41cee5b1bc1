"""The actor-environment interaction loop (Acme's `EnvironmentLoop`)."""

import operator
import time
from typing import Optional, Sequence

import dm_env
import numpy as np
import tree

from rlkit import core
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import observers as observers_lib


def _zeros_like_spec(spec) -> np.ndarray:
  return np.zeros(spec.shape, spec.dtype)


def check_budget(num_episodes: Optional[int], num_steps: Optional[int]) -> None:
  """Raises ValueError unless at most one budget is given, as a non-negative int."""
  if num_episodes is not None and num_steps is not None:
    raise ValueError(
        f'Give num_episodes or num_steps, not both (got num_episodes='
        f'{num_episodes}, num_steps={num_steps}).')
  for name, value in (('num_episodes', num_episodes), ('num_steps', num_steps)):
    if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
      raise ValueError(f'{name} must be a non-negative integer or None, got {value!r}.')


class EnvironmentLoop(core.Worker):
  """Runs an actor in an environment and logs one row per episode.

  Per episode: `reset()`, `actor.observe_first`, then until the last timestep
  `actor.select_action`, `environment.step`, `actor.observe` and, when
  `should_update`, `actor.update()`. Each row holds `episode_length`,
  `episode_return`, `steps_per_second`, `episode_duration`, the counter's
  counts (`episodes`, `steps`, with the counter's prefix) and every observer's
  metrics.

  Args:
    environment: a dm_env environment.
    actor: the Actor to run.
    counter: counts episodes and steps; a fresh Counter when None.
    logger: where rows go; `loggers.make_default_logger(label)` when None.
    should_update: whether to call `actor.update()` after every step.
    label: the logger's label.
    observers: objects with `observe_first(env, timestep)`,
      `observe(env, timestep, action)` and `get_metrics()`.
  """

  def __init__(
      self,
      environment: dm_env.Environment,
      actor: core.Actor,
      counter: Optional[counting.Counter] = None,
      logger: Optional[loggers.Logger] = None,
      should_update: bool = True,
      label: str = 'environment_loop',
      observers: Sequence[observers_lib.EnvLoopObserver] = (),
  ):
    if not isinstance(environment, dm_env.Environment):
      raise TypeError(
          f'environment must be a dm_env.Environment, got {type(environment).__name__}.')
    if not isinstance(actor, core.Actor):
      raise TypeError(f'actor must be an rlkit.core.Actor, got {type(actor).__name__}.')
    self._environment = environment
    self._actor = actor
    self._counter = counter or counting.Counter()
    self._logger = logger or loggers.make_default_logger(label)
    self._should_update = should_update
    self._observers = tuple(observers)
    self._reward_spec = environment.reward_spec()

  def run_episode(self) -> loggers.LoggingData:
    """Runs one episode and returns its row (not logged; `run` logs it)."""
    start_time = time.monotonic()
    environment, actor, observers = self._environment, self._actor, self._observers
    should_update = self._should_update
    episode_steps = 0
    episode_return = tree.map_structure(_zeros_like_spec, self._reward_spec)
    scalar_return = not tree.is_nested(episode_return)
    if scalar_return:
      episode_return = episode_return.item()

    timestep = environment.reset()
    actor.observe_first(timestep)
    for observer in observers:
      observer.observe_first(environment, timestep)

    while not timestep.last():
      action = actor.select_action(timestep.observation)
      timestep = environment.step(action)
      actor.observe(action, next_timestep=timestep)
      for observer in observers:
        observer.observe(environment, timestep, action)
      if should_update:
        actor.update()
      episode_steps += 1
      if scalar_return:
        episode_return += timestep.reward
      else:
        episode_return = tree.map_structure(
            operator.add, episode_return, timestep.reward)

    counts = self._counter.increment(episodes=1, steps=episode_steps)
    duration = time.monotonic() - start_time
    result = {
        'episode_length': episode_steps,
        'episode_return': episode_return,
        'steps_per_second': episode_steps / max(duration, 1e-9),
        'episode_duration': duration,
    }
    result.update(counts)
    for observer in observers:
      result.update(observer.get_metrics())
    return result

  def run(self, num_episodes: Optional[int] = None,
          num_steps: Optional[int] = None) -> int:
    """Runs episodes until `num_episodes` or `num_steps` (never both).

    With `num_steps`, the episode that crosses the budget is finished, so
    slightly more steps may run. With neither, runs forever.

    Returns:
      The number of environment steps taken.
    """
    check_budget(num_episodes, num_steps)

    episode_count, step_count = 0, 0
    while not ((num_episodes is not None and episode_count >= num_episodes) or
               (num_steps is not None and step_count >= num_steps)):
      result = self.run_episode()
      episode_count += 1
      step_count += int(result['episode_length'])
      self._logger.write(result)
    return step_count
