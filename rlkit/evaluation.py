"""Evaluating a policy: return statistics over N episodes, a random baseline, videos.

`evaluate(environment, actor, num_episodes)` is the plain function (the
tutorials' `evaluate`/`compute_avg_return`). `Evaluator` is what launchers run
every `eval_every` steps: its own environment, counter prefix 'evaluator' and
logger (the run's logs/evaluator.csv), optionally recording every
`record_every`-th evaluation episode to video.
"""

import math
import numbers
import time
from typing import Any, Dict, List, Mapping, Optional

import dm_env
import numpy as np

from rlkit import core
from rlkit import environment_loop
from rlkit.actors import random as random_actor
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import observers as observers_lib
from rlkit.utils import video

STAT_KEYS = ('return_mean', 'return_std', 'return_min', 'return_max',
             'episode_length_mean', 'episodes')


def _check_num_episodes(num_episodes: Any) -> int:
  if (isinstance(num_episodes, bool) or not isinstance(num_episodes, numbers.Integral)
      or num_episodes < 1):
    raise ValueError(f'num_episodes must be a positive integer, got {num_episodes!r}.')
  return int(num_episodes)


def summarize(returns, lengths) -> Dict[str, Any]:
  """Statistics of episode returns and lengths (std is the population std)."""
  returns = np.asarray(returns, dtype=np.float64)
  lengths = np.asarray(lengths, dtype=np.float64)
  if returns.size == 0:
    raise ValueError('Cannot summarize zero episodes.')
  return {
      'return_mean': float(returns.mean()),
      'return_std': float(returns.std()),
      'return_min': float(returns.min()),
      'return_max': float(returns.max()),
      'episode_length_mean': float(lengths.mean()),
      'episodes': int(returns.size),
      'returns': [float(r) for r in returns],
      'lengths': [int(n) for n in lengths],
  }


def _episode_return(row: Mapping[str, Any]) -> float:
  value = row['episode_return']
  if not isinstance(value, numbers.Number) and np.ndim(value) != 0:
    raise TypeError(f'Evaluation needs a scalar reward; the episode return is {value!r}.')
  return float(value)


def _run_episodes(loop: environment_loop.EnvironmentLoop, num_episodes: int):
  returns, lengths = [], []
  for _ in range(num_episodes):
    row = loop.run_episode()
    returns.append(_episode_return(row))
    lengths.append(int(row['episode_length']))
  return returns, lengths


def evaluate(environment: dm_env.Environment, actor: core.Actor,
             num_episodes: int,
             observers=()) -> Dict[str, Any]:
  """Runs `actor` for `num_episodes` episodes, without updates.

  Returns:
    dict with return_mean, return_std, return_min, return_max,
    episode_length_mean, episodes, and the lists returns and lengths.
  """
  num_episodes = _check_num_episodes(num_episodes)
  loop = environment_loop.EnvironmentLoop(
      environment, actor, counter=counting.Counter(), logger=loggers.NoOpLogger(),
      should_update=False, observers=observers)
  return summarize(*_run_episodes(loop, num_episodes))


def random_baseline(environment: dm_env.Environment, num_episodes: int,
                    seed: Optional[int] = None) -> Dict[str, Any]:
  """`evaluate` with a uniformly random policy (`RandomActor`) on the same environment."""
  actor = random_actor.RandomActor(environment.action_spec(), seed=seed)
  return evaluate(environment, actor, num_episodes)


class Evaluator(core.Worker):
  """Evaluates an actor on its own environment and logs one row per evaluation.

  Each `run()` plays `num_episodes` episodes (no actor updates; the actor's
  weights are refreshed first with `actor.update(wait=True)` when
  `update_actor`), then writes one row: the counter's counts (e.g.
  `actor_steps`, `learner_steps` of the shared parent counter, and the
  evaluator's own `evaluator_episodes`, `evaluator_steps`), return_mean,
  return_std, return_min, return_max, episode_length_mean, episodes,
  evaluation_seconds and, given a `baseline`, baseline_return_mean/std.

  Args:
    environment: an environment instance used only for evaluation.
    actor: the (greedy) actor to evaluate.
    num_episodes: episodes per evaluation.
    counter: the run's parent counter; the evaluator counts under prefix
      'evaluator' below it. A fresh parent when None.
    logger: where rows go; `loggers.make_default_logger(label)` when None.
    label: the logger's label.
    baseline: stats of a reference policy (e.g. `random_baseline(...)`),
      logged beside each evaluation.
    video_directory: where to write videos; needed when `record_every`.
    record_every: record every this-many-th evaluation episode (counted across
      evaluations) as `<video_directory>/<label>-<episode>.mp4`.
    fps: frames per second of the videos.
    update_actor: call `actor.update(wait=True)` before each evaluation.
  """

  def __init__(self,
               environment: dm_env.Environment,
               actor: core.Actor,
               num_episodes: int,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None,
               label: str = 'evaluator',
               baseline: Optional[Mapping[str, Any]] = None,
               video_directory: Optional[str] = None,
               record_every: Optional[int] = None,
               fps: float = 30,
               update_actor: bool = True):
    self._num_episodes = _check_num_episodes(num_episodes)
    if counter is not None and not isinstance(counter, counting.Counter):
      raise TypeError(f'counter must be a Counter or None, got {type(counter).__name__}.')
    if record_every is not None and video_directory is None:
      raise ValueError('record_every needs a video_directory to write the videos to.')
    if baseline is not None and 'return_mean' not in baseline:
      raise ValueError(f'baseline must hold return_mean (a dict from evaluate/random_baseline), '
                       f'got keys {sorted(baseline)}.')
    self._actor = actor
    self._counter = counting.Counter(counter or counting.Counter(), prefix='evaluator')
    # The keys exist from the start, so CSV logs sharing the parent counter
    # (e.g. train.csv) have them in their header.
    self._counter.increment(episodes=0, steps=0)
    self._logger = logger or loggers.make_default_logger(label)
    self._baseline = baseline
    self._update_actor = update_actor
    observers: List[observers_lib.EnvLoopObserver] = []
    self._recorder = None
    if record_every is not None:
      self._recorder = video.VideoRecorder(video_directory, record_every=record_every,
                                           prefix=label, fps=fps)
      observers.append(self._recorder)
    self._loop = environment_loop.EnvironmentLoop(
        environment, actor, counter=self._counter, logger=loggers.NoOpLogger(),
        should_update=False, observers=observers)
    self.last_result: Optional[Dict[str, Any]] = None

  @property
  def video_paths(self) -> List[str]:
    """Videos written so far."""
    return list(self._recorder.paths) if self._recorder is not None else []

  def run(self, num_episodes: Optional[int] = None) -> Dict[str, Any]:
    """Runs one evaluation and logs its row; returns the row plus returns/lengths."""
    num_episodes = (self._num_episodes if num_episodes is None
                    else _check_num_episodes(num_episodes))
    if self._update_actor:
      self._actor.update(wait=True)
    start = time.monotonic()
    try:
      returns, lengths = _run_episodes(self._loop, num_episodes)
    except BaseException:
      if self._recorder is not None:
        self._recorder.close()
      raise
    stats = summarize(returns, lengths)
    row: Dict[str, Any] = dict(self._counter.get_counts())
    row.update({key: stats[key] for key in STAT_KEYS})
    row['evaluation_seconds'] = time.monotonic() - start
    if self._baseline is not None:
      row['baseline_return_mean'] = float(self._baseline['return_mean'])
      std = self._baseline.get('return_std')
      row['baseline_return_std'] = float(std) if std is not None else math.nan
    self._logger.write(row)
    self.last_result = dict(row, returns=stats['returns'], lengths=stats['lengths'])
    return self.last_result

  def close(self) -> None:
    if self._recorder is not None:
      self._recorder.close()
    self._logger.close()
