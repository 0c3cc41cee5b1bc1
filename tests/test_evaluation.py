"""evaluate(), random_baseline() and the Evaluator on real environments; the evaluate launcher."""

import csv
import math
import os

import imageio
import numpy as np
import pytest

from rlkit import evaluation
from rlkit.actors import RandomActor
from rlkit.environments import factory
from rlkit.utils import checkpointing
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import run_dir as run_dir_lib
from tests import fakes
from tests.test_video import ShortestPathActor
from tests import forkserver



def test_optimal_gridworld_policy_scores_ten_every_time():
  environment = factory.make_environment('gridworld:obstacle', observation_type='GRID')
  stats = evaluation.evaluate(environment, ShortestPathActor(environment), num_episodes=4)
  assert stats['return_mean'] == 10.0 and stats['return_std'] == 0.0
  assert stats['return_min'] == stats['return_max'] == 10.0
  assert stats['episodes'] == 4 and stats['returns'] == [10.0] * 4
  assert len(set(stats['lengths'])) == 1 and stats['lengths'][0] >= 8


def test_random_cartpole_statistics_are_consistent():
  environment = factory.make_environment('gym:CartPole-v1', seed=0)
  stats = evaluation.evaluate(environment, RandomActor(environment.action_spec(), seed=0), 10)
  returns = np.array(stats['returns'])
  assert stats['returns'] == [float(n) for n in stats['lengths']]  # +1 per step.
  assert stats['return_mean'] == pytest.approx(returns.mean())
  assert stats['return_std'] == pytest.approx(returns.std())
  assert stats['return_min'] == returns.min() and stats['return_max'] == returns.max()
  assert 8 <= stats['return_mean'] < 60 and stats['return_std'] > 0  # Random is poor.
  environment.close()


def test_random_baseline_is_reproducible_and_below_optimal():
  def run(seed):
    environment = factory.make_environment('gridworld:simple', max_episode_length=50)
    return evaluation.random_baseline(environment, num_episodes=5, seed=seed)
  first, second = run(3), run(3)
  assert first['returns'] == second['returns']
  assert first['return_mean'] < 10.0 and all(math.isfinite(r) for r in first['returns'])


def test_evaluator_logs_one_row_per_evaluation_to_the_run_csv(tmp_path):
  run = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'run'))
  parent = counting.Counter()
  parent.increment(actor_steps=100, learner_steps=25)
  environment = factory.make_environment('gridworld:simple', observation_type='GRID')
  baseline = evaluation.random_baseline(
      factory.make_environment('gridworld:simple', max_episode_length=30), 3, seed=0)
  evaluator = evaluation.Evaluator(
      environment, ShortestPathActor(environment), num_episodes=3, counter=parent,
      logger=run.make_logger('evaluator', time_delta=0, print_fn=lambda _: None),
      baseline=baseline)
  first = evaluator.run()
  parent.increment(actor_steps=100, learner_steps=25)
  second = evaluator.run(num_episodes=2)
  evaluator.close()

  with open(run.log_path('evaluator')) as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 2
  assert float(rows[0]['return_mean']) == 10.0 and float(rows[0]['return_std']) == 0.0
  assert [int(r['actor_steps']) for r in rows] == [100, 200]
  assert [int(r['learner_steps']) for r in rows] == [25, 50]
  assert [int(r['evaluator_episodes']) for r in rows] == [3, 5]
  assert int(rows[1]['evaluator_steps']) == sum(first['lengths']) + sum(second['lengths'])
  assert [int(r['episodes']) for r in rows] == [3, 2]
  assert float(rows[0]['baseline_return_mean']) == pytest.approx(baseline['return_mean'])
  assert parent.get_counts()['evaluator_episodes'] == 5


def test_evaluator_refreshes_the_actor_and_never_updates_it_per_step():
  actor = fakes.RecordingActor()
  evaluator = evaluation.Evaluator(fakes.FixedLengthEnvironment(episode_length=2), actor,
                                   num_episodes=2, logger=loggers.NoOpLogger())
  result = evaluator.run()
  updates = [call for call in actor.calls if call[0] == 'update']
  assert updates == [('update',)] and actor.calls[0] == ('update',)
  assert result['return_mean'] == 3.0 and result['evaluator_steps'] == 4


def test_evaluator_records_chosen_episodes(tmp_path):
  environment = factory.make_environment('gym:CartPole-v1', seed=0, render_mode='rgb_array')
  evaluator = evaluation.Evaluator(
      environment, RandomActor(environment.action_spec(), seed=1), num_episodes=3,
      logger=loggers.NoOpLogger(), video_directory=str(tmp_path), record_every=2, fps=50)
  first = evaluator.run()
  second = evaluator.run()
  assert sorted(os.listdir(tmp_path)) == ['evaluator-0.mp4', 'evaluator-2.mp4',
                                          'evaluator-4.mp4']
  lengths = first['lengths'] + second['lengths']
  for episode in (0, 2, 4):
    with imageio.v2.get_reader(str(tmp_path / f'evaluator-{episode}.mp4'),
                               format='FFMPEG') as reader:
      frames = [frame for frame in reader]
    assert len(frames) == lengths[episode] + 1 and frames[0].shape == (400, 608, 3)
  assert evaluator.video_paths == [str(tmp_path / f'evaluator-{e}.mp4') for e in (0, 2, 4)]
  environment.close()


def test_invalid_arguments_are_refused(tmp_path):
  environment = fakes.FixedLengthEnvironment()
  actor = fakes.RecordingActor()
  with pytest.raises(ValueError, match='num_episodes'):
    evaluation.evaluate(environment, actor, 0)
  with pytest.raises(ValueError, match='video_directory'):
    evaluation.Evaluator(environment, actor, 1, record_every=1)
  with pytest.raises(TypeError, match='counter'):
    evaluation.Evaluator(environment, actor, 1, counter={'steps': 0})
  with pytest.raises(ValueError, match='return_mean'):
    evaluation.Evaluator(environment, actor, 1, baseline={'mean': 1.0})


def _launch(*args):
  return forkserver.run('experiments.evaluate', *args, timeout=120)


def test_evaluate_launcher_fails_clearly_on_a_missing_run_dir(tmp_path):
  missing = str(tmp_path / 'no_such_run')
  result = _launch(f'--run_dir={missing}', '--episodes=2')
  assert result.returncode != 0
  assert missing in result.stderr and 'does not exist' in result.stderr
  assert 'Traceback' not in result.stderr


def test_evaluate_launcher_fails_clearly_without_a_checkpoint(tmp_path):
  run = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'run'),
                                        flags={'env': 'gridworld:simple'})
  result = _launch(f'--run_dir={run.path}')
  assert result.returncode != 0
  assert f'No checkpoint (ckpt-<step>.pt) in {run.checkpoints_dir}' in result.stderr
  assert 'Traceback' not in result.stderr


def test_evaluate_launcher_fails_clearly_on_a_corrupt_or_missing_checkpoint(tmp_path):
  run = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'run'))
  path = checkpointing.Checkpointer(run.checkpoints_dir).save({'w': np.arange(50)}, 7)
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)
  result = _launch(f'--run_dir={run.path}', f'--checkpoint={path}')
  assert result.returncode != 0
  assert path in result.stderr and 'corrupt or partial' in result.stderr
  result = _launch(f'--run_dir={run.path}', '--checkpoint=ckpt-8.pt')
  assert result.returncode != 0
  assert os.path.join(run.checkpoints_dir, 'ckpt-8.pt') in result.stderr
  assert 'Traceback' not in result.stderr


def test_launchers_evaluate_and_plot_a_trained_dqn_and_survive_a_corrupt_checkpoint(tmp_path):
  run_path = str(tmp_path / 'dqn')
  trained = forkserver.run(
      'experiments.run_dqn', '--env=gridworld:simple', f'--run_dir={run_path}',
      '--num_steps=400', '--eval_every=0', '--checkpoint_every_steps=200', '--novideo',
      '--noplots', timeout=300)
  assert trained.returncode == 0, trained.stderr[-2000:]
  run = run_dir_lib.RunDirectory.open(run_path)
  checkpoints = checkpointing.Checkpointer(run.checkpoints_dir).checkpoints()
  assert len(checkpoints) >= 2

  result = _launch(f'--run_dir={run_path}', '--episodes=3', '--record_video', '--fps=10')
  assert result.returncode == 0, result.stderr[-2000:]
  assert checkpoints[-1].path in result.stdout
  assert 'greedy' in result.stdout and 'random' in result.stdout
  with open(run.log_path('evaluate')) as f:
    row = list(csv.DictReader(f))[-1]
  assert int(row['checkpoint_step']) == checkpoints[-1].step
  assert float(row['return_std']) == 0.0  # Greedy policy, deterministic GridWorld.
  assert math.isfinite(float(row['random_return_mean']))
  with imageio.v2.get_reader(os.path.join(run.videos_dir, 'evaluate-0.mp4'),
                             format='FFMPEG') as reader:
    assert reader.count_frames() == float(row['episode_length_mean']) + 1
  assert os.path.exists(os.path.join(run.videos_dir, 'random-0.mp4'))

  plotted = forkserver.run('experiments.plot', f'--run_dir={run_path}', timeout=120)
  assert plotted.returncode == 0, plotted.stderr[-2000:]
  assert sorted(os.listdir(run.plots_dir)) == [
      'greedy_policy.png', 'learning_curves.png', 'q_values.png', 'state_values.png']

  with open(checkpoints[-1].path, 'r+b') as f:  # A partial newest checkpoint.
    f.truncate(os.path.getsize(checkpoints[-1].path) - 100)
  result = _launch(f'--run_dir={run_path}', '--episodes=2', '--norandom_baseline')
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'Skipping checkpoint' in result.stderr and checkpoints[-1].path in result.stderr
  assert checkpoints[-2].path in result.stdout
