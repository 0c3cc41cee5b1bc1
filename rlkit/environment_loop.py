"""The actor-environment interaction loop (Acme's `EnvironmentLoop`)."""

import time
from typing import Any, Optional, Sequence

import dm_env
import numpy as np
import tree

from rlkit import core
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import observers as observers_lib


_ACTOR_METHODS = ('select_action', 'observe_first', 'observe', 'update')


def _zeros_like_spec(spec) -> np.ndarray:
  return np.zeros(spec.shape, spec.dtype)


def check_actor(actor: Any) -> None:
  """Raises TypeError unless `actor` has the four methods of `core.Actor`.

  Any object with them is accepted (duck typing, as in Acme); it need not
  subclass `rlkit.core.Actor`.
  """
  missing = [name for name in _ACTOR_METHODS
             if not callable(getattr(actor, name, None))]
  if missing:
    raise TypeError(
        f'actor must have the methods {list(_ACTOR_METHODS)} of an '
        f'rlkit.core.Actor; {type(actor).__name__} lacks {missing}.')


def _accumulate(total: np.ndarray, reward: Any) -> np.ndarray:
  """`total + reward`, broadcast to the larger shape, in `total`'s dtype."""
  return np.add(total, reward, dtype=total.dtype, casting='unsafe')


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
  `episode_return` (the sum of the rewards, a nest like the reward spec, of
  its dtype), `steps_per_second`, `env_reset_duration_sec`,
  `select_action_duration_sec` and `env_step_duration_sec` (means per call),
  `episode_duration`, the counter's counts (`episodes`, `steps`, with the
  counter's prefix) and every observer's metrics.

  Args:
    environment: a dm_env environment.
    actor: the actor to run: any object with `select_action`,
      `observe_first`, `observe` and `update` (see `rlkit.core.Actor`).
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
    check_actor(actor)
    self._environment = environment
    self._actor = actor
    self._counter = counter or counting.Counter()
    self._logger = logger or loggers.make_default_logger(label)
    self._should_update = should_update
    self._observers = tuple(observers)
    self._reward_spec = environment.reward_spec()

  def run_episode(self) -> loggers.LoggingData:
    """Runs one episode and returns its row (not logged; `run` logs it)."""
    clock = time.monotonic
    start_time = clock()
    environment, actor, observers = self._environment, self._actor, self._observers
    should_update = self._should_update
    episode_steps = 0
    select_action_time = env_step_time = 0.0
    reward_spec = self._reward_spec
    scalar_return = not tree.is_nested(reward_spec) and tuple(reward_spec.shape) == ()
    if scalar_return:
      episode_return = 0.0
    else:
      episode_return = tree.map_structure(_zeros_like_spec, reward_spec)

    timestep = environment.reset()
    env_reset_duration = clock() - start_time
    actor.observe_first(timestep)
    for observer in observers:
      observer.observe_first(environment, timestep)

    while not timestep.last():
      before_action = clock()
      action = actor.select_action(timestep.observation)
      before_step = clock()
      timestep = environment.step(action)
      after_step = clock()
      select_action_time += before_step - before_action
      env_step_time += after_step - before_step
      actor.observe(action, next_timestep=timestep)
      for observer in observers:
        observer.observe(environment, timestep, action)
      if should_update:
        actor.update()
      episode_steps += 1
      if scalar_return:
        episode_return += timestep.reward
      else:
        episode_return = tree.map_structure(_accumulate, episode_return,
                                            timestep.reward)
    if scalar_return:
      episode_return = np.dtype(reward_spec.dtype).type(episode_return)

    counts = self._counter.increment(episodes=1, steps=episode_steps)
    duration = clock() - start_time
    per_step = 1.0 / max(episode_steps, 1)
    result = {
        'episode_length': episode_steps,
        'episode_return': episode_return,
        'steps_per_second': episode_steps / max(duration, 1e-9),
        'env_reset_duration_sec': env_reset_duration,
        'select_action_duration_sec': select_action_time * per_step,
        'env_step_duration_sec': env_step_time * per_step,
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
