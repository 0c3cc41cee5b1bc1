"""The absl launchers, run as processes (forked from a warm interpreter) with tiny budgets."""

import csv
import os
import re
import signal
import time

import pytest

from rlkit.agents import registry
from tests import forkserver

TINY_DQN = ['--min_replay_size=50', '--batch_size=16', '--hidden_sizes=16',
            '--conv_channels=4,8', '--eval_episodes=2']


def _run(module, *args, timeout=120):
  return forkserver.run(module, *args, timeout=timeout)


def _rows(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def test_run_dqn_writes_flags_logs_checkpoint_video_and_plots(tmp_path):
  run_dir = tmp_path / 'dqn'
  result = _run('experiments.run_dqn', f'--run_dir={run_dir}', '--num_steps=400',
                '--eval_every=200', *TINY_DQN)
  assert result.returncode == 0, result.stderr[-3000:]
  flags_text = (run_dir / 'flags.txt').read_text()
  assert '--env=gridworld:simple' in flags_text and '--observation_type=GRID' in flags_text
  assert '--learning_rate=0.003' in flags_text and '--batch_size=16' in flags_text
  train = _rows(run_dir / 'logs' / 'train.csv')
  assert int(train[-1]['actor_steps']) >= 400
  assert {'episode_return', 'episode_length', 'epsilon', 'learner_steps'} <= set(train[0])
  evaluations = _rows(run_dir / 'logs' / 'evaluator.csv')
  assert len(evaluations) >= 2 and 'return_mean' in evaluations[0]
  assert _rows(run_dir / 'logs' / 'learner.csv')[0]['loss']
  checkpoints = sorted(os.listdir(run_dir / 'checkpoints'))
  assert any(name.endswith('.pt') for name in checkpoints)
  assert (run_dir / 'videos' / 'greedy.mp4').stat().st_size > 0
  assert (run_dir / 'plots' / 'learning_curves.png').exists()
  assert (run_dir / 'plots' / 'greedy_policy.png').exists()
  assert f'Run directory: {run_dir}' in result.stdout
  # The saved policy loads outside the launcher.
  loaded = registry.load_policy(str(run_dir))
  assert loaded.environment_name == 'gridworld:simple'
  assert loaded.environment_kwargs == {'observation_type': 'GRID'}
  environment = loaded.make_environment(seed=0)
  timestep = environment.reset()
  assert 0 <= int(loaded.actor.select_action(timestep.observation)) < 4


def test_run_nfq_and_resume_continue_the_same_run(tmp_path):
  run_dir = tmp_path / 'nfq'
  common = [f'--run_dir={run_dir}', '--eval_every=0', '--novideo', '--noplots',
            '--eval_episodes=2']
  first = _run('experiments.run_nfq', '--num_steps=300', *common)
  assert first.returncode == 0, first.stderr[-3000:]
  steps_first = int(_rows(run_dir / 'logs' / 'train.csv')[-1]['actor_steps'])
  learner_first = int(_rows(run_dir / 'logs' / 'learner.csv')[-1]['learner_steps'])
  second = _run('experiments.run_nfq', '--num_steps=600', *common)
  assert second.returncode == 0, second.stderr[-3000:]
  assert 'Resumed from' in second.stdout
  steps = [int(row['actor_steps']) for row in _rows(run_dir / 'logs' / 'train.csv')]
  assert steps == sorted(set(steps)), 'duplicated or out-of-order rows after resuming'
  assert steps[0] < steps_first < steps[-1] and steps[-1] >= 600
  learner_steps = [int(row['learner_steps']) for row in _rows(run_dir / 'logs' / 'learner.csv')]
  assert learner_steps == sorted(set(learner_steps)) and learner_steps[-1] > learner_first
  # A different configuration is refused, naming the flag.
  third = _run('experiments.run_nfq', '--num_steps=600', '--learning_rate=0.01', *common)
  assert third.returncode != 0
  assert 'learning_rate' in third.stderr and third.returncode == 2


def test_sigterm_writes_a_final_checkpoint(tmp_path):
  run_dir = tmp_path / 'dqn'
  process = forkserver.start(
      'experiments.run_dqn', f'--run_dir={run_dir}', '--env=gym:CartPole-v1',
      '--num_steps=1000000', '--eval_every=0', '--checkpoint_every_steps=0',
      '--log_every_seconds=0', *TINY_DQN, stdout=forkserver.PIPE, stderr=forkserver.PIPE)
  training = False
  try:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not training:
      training = process.stdout.readline().startswith('[train] ')
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
  finally:
    if process.poll() is None:
      process.kill()
  assert training, 'the launcher printed a [train] progress line'
  assert process.returncode == 0, stderr[-3000:]
  assert 'SIGTERM: checkpoint written' in stdout
  assert any(name.endswith('.pt') for name in os.listdir(run_dir / 'checkpoints'))


def test_help_lists_config_flags_with_defaults():
  result = _run('experiments.run_dqn', '--help')  # absl exits with status 1 after --help.
  for text in ('--learning_rate', "(default: '0.003')", '--n_step', '--[no]double_q',
               '--target_update_period', '--epsilon_decay_fraction', '--env',
               "(default: 'gridworld:simple')", '--num_steps', '--eval_every',
               'Valid: in [0.0, 1.0]'):
    assert text in result.stdout, text
  nfq_help = _run('experiments.run_nfq', '--help')
  assert "--epsilon: Constant epsilon" in nfq_help.stdout and "(default: '0.6')" in nfq_help.stdout


@pytest.mark.parametrize('module,flag,expected', [
    ('experiments.run_dqn', '--env=gym:NoSuchEnv-v0', 'NoSuchEnv-v0'),
    ('experiments.run_dqn', '--learning_rate=-1', '--learning_rate=-1.0 is out of range'),
    ('experiments.run_dqn', '--epsilon=1.5', '--epsilon=1.5 is out of range'),
    ('experiments.run_nfq', '--env=gridworld:nosuchtask', 'nosuchtask'),
    ('experiments.run_dqn', '--hidden_sizes=64,x', 'hidden_sizes'),
])
def test_bad_flags_fail_fast_with_a_message(tmp_path, module, flag, expected):
  run_dir = tmp_path / 'run'
  result = _run(module, flag, f'--run_dir={run_dir}', timeout=60)
  assert result.returncode != 0
  assert expected in result.stderr, result.stderr[-2000:]
  assert 'Traceback' not in result.stderr
  # Nothing started: no logs, no checkpoint.
  assert not (run_dir / 'logs').exists() or not os.listdir(run_dir / 'logs')


def test_run_dqn_records_evaluation_videos_and_logs_the_random_baseline(tmp_path):
  import imageio.v3 as iio
  run_dir = tmp_path / 'dqn_videos'
  result = _run('experiments.run_dqn', '--env=gridworld:simple', '--observation_type=GRID',
                '--num_steps=400', '--eval_every=200', '--eval_episodes=2',
                '--record_every=2', '--fps=10', '--novideo', '--noplots',
                f'--run_dir={run_dir}')
  assert result.returncode == 0, result.stderr[-3000:]
  videos = sorted((run_dir / 'videos').glob('evaluator-*.mp4'))
  # Evaluations at 200, 400 steps (2 episodes each): episodes 2 and 4 are recorded.
  assert len(videos) == 2
  frames = iio.imread(videos[0])
  assert frames.ndim == 4 and frames.shape[1:] == (288, 320, 3) and len(frames) >= 2
  rows = _rows(run_dir / 'logs' / 'evaluator.csv')
  assert rows and all(float(r['baseline_return_mean']) < float('inf') for r in rows)
  assert len({r['baseline_return_mean'] for r in rows}) == 1


@pytest.mark.parametrize('module, extra', [
    ('experiments.run_dqn', ('--min_replay_size=100',)),
    ('experiments.run_actor_critic', ()),
])
def test_launchers_take_num_envs_and_resume(tmp_path, module, extra):
  run_dir = tmp_path / 'vectorized'
  common = ('--env=gym:CartPole-v1', '--num_envs=4', '--eval_every=500',
            '--eval_episodes=2', '--novideo', '--noplots', f'--run_dir={run_dir}', *extra)
  first = _run(module, '--num_steps=600', *common)
  assert first.returncode == 0, first.stderr[-3000:]
  rows = _rows(run_dir / 'logs' / 'train.csv')
  # Copies finish episodes at their own pace (a learning copy may still be in its first).
  copies = {r['env_index'] for r in rows}
  assert copies <= {'0', '1', '2', '3'} and len(copies) >= 3, copies
  assert int(re.search(r'Done: (\d+) steps', first.stdout).group(1)) >= 600
  second = _run(module, '--num_steps=1200', *common)
  assert second.returncode == 0, second.stderr[-3000:]
  assert 'Resumed from' in second.stdout
  rows = _rows(run_dir / 'logs' / 'train.csv')
  # One row per finished episode, none lost or repeated across the resume
  # (episodes ending in the same vector step share their counts).
  episodes = [int(r['actor_episodes']) for r in rows]
  assert episodes == sorted(episodes) and episodes[-1] == len(rows)
  keys = [(r['env_index'], r['actor_steps']) for r in rows]
  assert len(set(keys)) == len(keys)
  assert int(re.search(r'Done: (\d+) steps', second.stdout).group(1)) >= 1200


def test_env_processes_give_the_same_episodes_as_in_process_copies(tmp_path):
  # No learning (the replay never reaches min_replay_size): the seeded
  # epsilon-greedy actor alone decides, so both runs must see the same episodes.
  common = ('--env=gym:CartPole-v1', '--num_envs=4', '--num_steps=1600',
            '--min_replay_size=100000', '--eval_every=0', '--eval_episodes=1',
            '--novideo', '--noplots', '--norandom_baseline')
  episodes = {}
  for processes in (0, 2):
    run_dir = tmp_path / f'processes{processes}'
    result = _run('experiments.run_dqn', f'--env_processes={processes}',
                  f'--run_dir={run_dir}', *common)
    assert result.returncode == 0, result.stderr[-3000:]
    episodes[processes] = [(r['env_index'], r['episode_length'], r['episode_return'])
                           for r in _rows(run_dir / 'logs' / 'train.csv')]
  assert len(episodes[0]) >= 8
  assert episodes[2] == episodes[0]


@pytest.mark.parametrize('args, message', [
    (('--num_envs=1', '--env_processes=2'), '--env_processes=2 needs --num_envs > 1'),
    (('--num_envs=2', '--env_processes=3'), '--env_processes=3 must be at most --num_envs=2'),
])
def test_bad_env_processes_stop_the_launcher(tmp_path, args, message):
  result = _run('experiments.run_dqn', '--env=gym:CartPole-v1', f'--run_dir={tmp_path}/r',
                *args)
  assert result.returncode == 2
  assert message in result.stderr + result.stdout
  assert not os.path.exists(tmp_path / 'r')
