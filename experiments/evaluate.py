"""Evaluates a trained agent from its run directory, beside a random policy.

    python -m experiments.evaluate --run_dir=runs/dqn/20240101-120000 --episodes=10 \
        [--checkpoint=ckpt-5000.pt] [--record_video] [--fps=30]

The greedy policy is restored with `rlkit.agents.registry.load_policy` (no
training code runs) and played on a fresh instance of the run's environment.
Prints the return statistics of the agent and of a uniformly random policy,
appends them to <run>/logs/evaluate.csv and, with --record_video, writes
<run>/videos/evaluate-<episode>.mp4 and random-0.mp4.
"""

import math
import os
import sys
from typing import Any, Dict, Optional

from absl import flags

from experiments import cli

from rlkit import evaluation
from rlkit.actors import RandomActor
from rlkit.utils import checkpointing
from rlkit.utils import loggers
from rlkit.utils import run_dir as run_dir_lib
from rlkit.utils import video

_RUN_DIR = flags.DEFINE_string('run_dir', None, 'The run directory of a trained agent.')
_CHECKPOINT = flags.DEFINE_string(
    'checkpoint', None, 'A checkpoint file (path, or name in <run>/checkpoints); '
    'default: the newest loadable one.')
_EPISODES = flags.DEFINE_integer('episodes', 10, 'Evaluation episodes.', lower_bound=1)
_SEED = flags.DEFINE_integer('seed', 12345, 'Seed of the evaluation environment and '
                             'of the random policy.')
_RANDOM_BASELINE = flags.DEFINE_bool('random_baseline', True,
                                     'Also evaluate a uniformly random policy.')
_RECORD_VIDEO = flags.DEFINE_bool('record_video', False, 'Record episodes to mp4.')
_RECORD_EVERY = flags.DEFINE_integer(
    'record_every', None, 'With --record_video, record every this-many-th episode '
    '(default: only the first).', lower_bound=1)
_FPS = flags.DEFINE_float('fps', 30.0, 'Frames per second of the videos.', lower_bound=1e-3)
flags.mark_flag_as_required('run_dir')

# Columns of logs/evaluate.csv; the same in every row so runs can append.
_CSV_KEYS = ('checkpoint_step', 'episodes', 'return_mean', 'return_std', 'return_min',
             'return_max', 'episode_length_mean', 'random_return_mean', 'random_return_std')


class EvaluationError(Exception):
  """A usage error (missing run directory or checkpoint): one line, exit status 2."""


def _load_policy(run: run_dir_lib.RunDirectory, checkpoint: Optional[str]):
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  try:
    return registry.load_policy(run.path, checkpoint)
  except (FileNotFoundError, ValueError, KeyError) as e:
    message = e.args[0] if isinstance(e, KeyError) and e.args else e
    raise EvaluationError(f'Cannot load a policy from {run.path}: {message}') from e


def _resolve_checkpoint(run: run_dir_lib.RunDirectory, checkpoint: Optional[str]) -> Optional[str]:
  """The absolute path of --checkpoint, checked; None (the newest) if not given."""
  checkpointer = checkpointing.Checkpointer(run.checkpoints_dir)
  if checkpoint is None:
    if not checkpointer.checkpoints():
      raise EvaluationError(f'No checkpoint (ckpt-<step>.pt) in {run.checkpoints_dir}: '
                            f'the run saved none yet.')
    return None
  for candidate in (checkpoint, os.path.join(run.checkpoints_dir, checkpoint)):
    if os.path.isfile(candidate):
      problem = checkpointer.verify(candidate)
      if problem is not None:
        raise EvaluationError(problem)
      return os.path.abspath(candidate)
  raise EvaluationError(f'Checkpoint {checkpoint!r} does not exist (looked at {checkpoint} and '
                        f'{os.path.join(run.checkpoints_dir, checkpoint)}).')


def _make_environment(loaded: Any, seed: int, render: bool):
  try:
    return loaded.make_environment(seed=seed, render_mode='rgb_array' if render else None)
  except (TypeError, ValueError) as e:
    raise EvaluationError(f'Cannot make the environment {loaded.environment_name!r}: {e}') from e


def _row(stats: Dict[str, Any]) -> str:
  return (f"{stats['return_mean']:10.2f} {stats['return_std']:9.2f} "
          f"{stats['return_min']:9.2f} {stats['return_max']:9.2f} "
          f"{stats['episode_length_mean']:10.1f}")


def run_evaluation(run_dir: str, checkpoint: Optional[str], episodes: int, seed: int,
                   random_baseline: bool, record_video: bool,
                   record_every: Optional[int], fps: float) -> Dict[str, Any]:
  """The launcher's work; returns the trained policy's stats (and 'random')."""
  try:
    run = run_dir_lib.RunDirectory.open(run_dir)
  except (FileNotFoundError, NotADirectoryError, ValueError) as e:
    raise EvaluationError(str(e)) from e
  checkpoint = _resolve_checkpoint(run, checkpoint)
  loaded = _load_policy(run, checkpoint)
  environments = []

  def make(render: bool):
    environments.append(_make_environment(loaded, seed, render))
    return environments[-1]

  try:
    evaluator = evaluation.Evaluator(
        make(record_video), loaded.actor, episodes, logger=loggers.NoOpLogger(),
        label='evaluate', video_directory=run.videos_dir if record_video else None,
        record_every=(record_every or episodes) if record_video else None,
        fps=fps, update_actor=False)
    stats = evaluator.run()
    videos = evaluator.video_paths
    random_stats = None
    if random_baseline:
      environment = make(False)
      random_stats = evaluation.evaluate(
          environment, RandomActor(environment.action_spec(), seed=seed), episodes)
      if record_video:
        environment = make(True)
        videos.append(video.record_episode(
            environment, RandomActor(environment.action_spec(), seed=seed),
            os.path.join(run.videos_dir, 'random-0.mp4'), fps=fps)['path'])
  finally:
    for environment in environments:
      environment.close()

  print(f'Evaluation of {run.path}, checkpoint {loaded.checkpoint_path} (step {loaded.step}), '
        f'on {loaded.environment_name}, {episodes} episodes:')
  print(f"{'policy':8s} {'mean':>10s} {'std':>9s} {'min':>9s} {'max':>9s} {'length':>10s}")
  print(f"{'greedy':8s} {_row(stats)}")
  if random_stats is not None:
    print(f"{'random':8s} {_row(random_stats)}")
  for path in videos:
    print(f'Video: {path}')

  row = {key: stats[key] for key in _CSV_KEYS if key in stats}
  row['checkpoint_step'] = loaded.step
  row['random_return_mean'] = random_stats['return_mean'] if random_stats else math.nan
  row['random_return_std'] = random_stats['return_std'] if random_stats else math.nan
  logger = loggers.CSVLogger(run.logs_dir, 'evaluate')
  logger.write({key: row[key] for key in _CSV_KEYS})
  logger.close()
  print(f'Results appended to {run.log_path("evaluate")}')
  return dict(stats, random=random_stats, videos=videos)


def main(argv):
  if len(argv) > 1:
    cli.fail(f'unexpected arguments {argv[1:]}.')
  try:
    run_evaluation(_RUN_DIR.value, _CHECKPOINT.value, _EPISODES.value, _SEED.value,
                   _RANDOM_BASELINE.value, _RECORD_VIDEO.value, _RECORD_EVERY.value,
                   _FPS.value)
  except EvaluationError as e:
    cli.fail(str(e))
  except OSError as e:
    cli.fail(f'{e.strerror or e}: {e.filename}', cli.FAILURE)


if __name__ == '__main__':
  cli.run(main)
