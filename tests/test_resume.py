"""Killing and resuming the DQN launcher, as subprocesses with small budgets.

What a resumed run can match depends on where randomness comes from:

* Acting is deterministic (seeded environments, exploration generator,
  network initialization; one torch thread). With learning switched off
  (`--min_replay_size` above the budget), a run killed with SIGKILL and
  resumed must produce the same episodes, logs and final checkpoint, bit for
  bit, as an uninterrupted run.
* Learning is not: Reverb's uniform selector draws from a generator seeded
  from the OS (absl::BitGen, no seed option), and the replay iterator samples
  ahead in a background thread. Two uninterrupted runs with the same seed
  already train different weights, so a resumed learning run is checked for
  what holds regardless: contiguous logs, counters that continue, the learner
  ratio kept exactly, the replay restored (every transition of the run, before
  and after the kill, is in the table) and the same total budget.

A SIGKILL during a checkpoint write is covered at the Checkpointer level by
tests/test_checkpointing.py (test_sigkill_while_saving_leaves_a_loadable_checkpoint);
here kills land at random moments, between or during writes, and the run
must resume from whatever they left.
"""

import csv
import os
import random
import re
import signal
import sys
import time

import pytest
import torch

from rlkit.utils import checkpointing
from tests import forkserver

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_STEP = 3  # DQNConfig.n_step default, used by the launcher below.
# Tiny DQN on CartPole: one learner step (batch 16) per environment step.
LEARNING = ['--env=gym:CartPole-v1', '--min_replay_size=100', '--batch_size=16',
            '--samples_per_insert=16', '--hidden_sizes=16', '--eval_episodes=2',
            '--novideo', '--noplots', '--log_every_seconds=0']
# No learner step (min_replay_size > budget): acting only, fully deterministic.
# Epsilon decays over the whole run, so the schedule position matters throughout.
ACTING = ['--env=gym:CartPole-v1', '--min_replay_size=100000', '--hidden_sizes=16',
          '--epsilon_decay_fraction=1.0', '--eval_every=1000', '--eval_episodes=3',
          '--novideo', '--noplots', '--log_every_seconds=0']
# Columns that hold wall times.
TIMING_COLUMNS = ('steps_per_second', 'episode_duration', 'evaluation_seconds',
                  'env_reset_duration_sec', 'select_action_duration_sec', 'env_step_duration_sec')


def _env():
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1',
              OMP_NUM_THREADS='1')


def _command(run_dir, *args):
  return [sys.executable, '-m', 'experiments.run_dqn', f'--run_dir={run_dir}', *args]


def _run(command, timeout=120):
  return forkserver.run_command(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                                timeout=timeout)


def _start(command, log_path):
  assert command[:2] == [sys.executable, '-m'], command
  with open(log_path, 'w') as log:
    return forkserver.start(*command[2:], env=_env(), stdout=log, stderr=forkserver.STDOUT)


def _checkpoint_steps(run_dir):
  directory = os.path.join(run_dir, 'checkpoints')
  if not os.path.isdir(directory):
    return []
  return sorted(int(m.group(1)) for m in map(re.compile(r'^ckpt-(\d+)\.pt$').match,
                                             os.listdir(directory)) if m)


def _wait_for_checkpoint(process, run_dir, min_step, timeout=90):
  """Waits until a checkpoint of at least `min_step` exists."""
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    steps = _checkpoint_steps(run_dir)
    if steps and steps[-1] >= min_step:
      return steps[-1]
    assert process.poll() is None, f'the run ended (status {process.returncode}) first'
    time.sleep(0.002)
  raise AssertionError(f'no checkpoint >= {min_step} within {timeout} s')


def _kill_at_random(command, run_dir, log_path, rng, low, high):
  """Starts `command` and SIGKILLs it at a random moment past a random checkpoint."""
  process = _start(command, log_path)
  try:
    _wait_for_checkpoint(process, run_dir, rng.randrange(low, high))
    time.sleep(rng.uniform(0.0, 0.05))
    assert process.poll() is None, 'the run finished before the kill'
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()


def _rows(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def _without_timing(rows):
  return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in rows]


def _assert_contiguous(rows, budget):
  """One row per episode, none missing or repeated, ending at the budget."""
  assert [int(row['actor_episodes']) for row in rows] == list(range(1, len(rows) + 1))
  total = 0
  for row in rows:
    total += int(row['episode_length'])
    assert int(row['actor_steps']) == total, (row, total)
  # The run stops after the episode that reaches the budget.
  assert int(rows[-1]['actor_steps']) >= budget > int(rows[-2]['actor_steps'])


def _final_state(run_dir):
  checkpointer = checkpointing.Checkpointer(os.path.join(run_dir, 'checkpoints'))
  return checkpointer.restore(), checkpointer.last_restore


def _assert_same(a, b, where='state'):
  assert type(a) is type(b), (where, type(a), type(b))
  if isinstance(a, dict):
    assert sorted(a, key=str) == sorted(b, key=str), where
    for key in a:
      _assert_same(a[key], b[key], f'{where}[{key!r}]')
  elif isinstance(a, (list, tuple)):
    assert len(a) == len(b), where
    for i, (x, y) in enumerate(zip(a, b)):
      _assert_same(x, y, f'{where}[{i}]')
  elif isinstance(a, torch.Tensor):
    assert a.dtype == b.dtype and torch.equal(a, b), where
  elif hasattr(a, 'dtype'):  # numpy arrays and scalars
    assert a.dtype == b.dtype and (a == b).all(), where
  else:
    assert a == b, (where, a, b)


def _resumed_at(stdout):
  match = re.search(r'Resumed from \S+ckpt-(\d+)\.pt at (\d+) steps', stdout)
  assert match, stdout[-2000:]
  assert match.group(1) == match.group(2)
  return int(match.group(1))


def test_killed_run_resumes_to_the_same_result_when_deterministic(tmp_path):
  budget = 3000
  args = [f'--num_steps={budget}', '--checkpoint_every_steps=100', *ACTING]
  reference, killed = str(tmp_path / 'reference'), str(tmp_path / 'killed')
  result = _run(_command(reference, *args))
  assert result.returncode == 0, result.stderr[-3000:]

  _kill_at_random(_command(killed, *args), killed, tmp_path / 'killed.log',
                  random.Random(8), 300, 1500)
  assert checkpointing.Checkpointer(os.path.join(killed, 'checkpoints')).latest()
  resumed = _run(_command(killed, *args))
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert 0 < _resumed_at(resumed.stdout) < budget

  reference_rows = _rows(os.path.join(reference, 'logs', 'train.csv'))
  _assert_contiguous(reference_rows, budget)
  assert (_without_timing(_rows(os.path.join(killed, 'logs', 'train.csv'))) ==
          _without_timing(reference_rows))
  assert (_without_timing(_rows(os.path.join(killed, 'logs', 'evaluator.csv'))) ==
          _without_timing(_rows(os.path.join(reference, 'logs', 'evaluator.csv'))))
  # The whole final state: networks, optimizer, epsilon position, exploration
  # and environment generators, counters, global RNGs.
  state, info = _final_state(killed)
  reference_state, reference_info = _final_state(reference)
  assert info['step'] == reference_info['step'] == int(reference_rows[-1]['actor_steps'])
  _assert_same(state, reference_state)


def _replay_insertions(run_dir, config_args):
  """Items inserted into the main table, read from the run's Reverb checkpoint."""
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.agents.dqn import builder  # pylint: disable=g-import-not-at-top
  from rlkit.agents.dqn import config as dqn_config  # pylint: disable=g-import-not-at-top
  from rlkit.agents.value_based import builder as value_builder  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.replay import server as server_lib  # pylint: disable=g-import-not-at-top
  spec = specs.make_environment_spec(factory.make_environment('gym:CartPole-v1', seed=0))
  dqn = builder.DQNBuilder(dqn_config.DQNConfig(**config_args))
  server = server_lib.ReplayServer(dqn.make_replay_tables(spec, None),
                                   checkpoint_dir=os.path.join(run_dir, 'checkpoints', 'replay'))
  try:
    assert server.restored
    info = server.client().server_info()[value_builder.MAIN_TABLE]
    return info.rate_limiter_info.insert_stats.completed, info.current_size
  finally:
    server.stop()


def _items_per_episode(length):
  # NStepTransitionAdder (see its docstring): windows grow from o_0 to n
  # steps, slide, then shrink to the final observation.
  return length + min(length, N_STEP) - 1


def _replay_matches_resume_point(run_dir):
  """Whether Reverb's newest checkpoint is the one of the agent checkpoint to resume.

  Reverb keeps only its newest checkpoint and writes it just before
  ckpt-<step>.pt: a kill between the two (or a corrupt newest .pt) leaves the
  replay ahead of the agent, and a kill between ckpt-<step>.pt and its sidecar
  leaves a checkpoint that cannot name its snapshot. The run then refills the
  replay (run_checkpoints.align_replay).
  """
  checkpointer = checkpointing.Checkpointer(os.path.join(run_dir, 'checkpoints'))
  newest = checkpointer.checkpoints()[-1]
  if newest.path != checkpointer.latest() or newest.metadata is None:
    return False
  directory = os.path.join(run_dir, 'checkpoints', 'replay')
  done = [name for name in os.listdir(directory)
          if os.path.exists(os.path.join(directory, name, 'DONE'))]
  return bool(done) and os.path.basename(newest.metadata['replay_checkpoint']) == max(done)


def test_killed_learning_run_continues_counts_replay_and_budget(tmp_path):
  budget, min_replay = 1500, 100
  args = [f'--num_steps={budget}', '--checkpoint_every_steps=200', '--eval_every=0',
          *LEARNING]
  reference, killed = str(tmp_path / 'reference'), str(tmp_path / 'killed')
  result = _run(_command(reference, *args))
  assert result.returncode == 0, result.stderr[-3000:]

  _kill_at_random(_command(killed, *args), killed, tmp_path / 'killed.log',
                  random.Random(80), 200, 800)
  assert checkpointing.Checkpointer(os.path.join(killed, 'checkpoints')).latest()
  replay_in_step = _replay_matches_resume_point(killed)
  resumed = _run(_command(killed, *args))
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  resumed_step = _resumed_at(resumed.stdout)
  assert 0 < resumed_step < budget

  for run_dir in (reference, killed):
    rows = _rows(os.path.join(run_dir, 'logs', 'train.csv'))
    _assert_contiguous(rows, budget)
    state, info = _final_state(run_dir)
    counts, agent = state['counter'], state['agent']
    actor_steps = int(rows[-1]['actor_steps'])
    assert info['step'] == counts['actor_steps'] == actor_steps
    assert counts['actor_episodes'] == len(rows)
    assert agent['num_observations'] == agent['actor']['epsilon']['step'] == actor_steps
    # Counters continue: the learner's own count, the agent's and the shared
    # counter agree, and with one learner step per observation past
    # min_replay_size none was lost or repeated across the kill.
    learner_steps = agent['learner']['num_steps']
    assert learner_steps == agent['num_learner_steps'] == counts['learner_steps']
    assert learner_steps + agent['budget'] == actor_steps - min_replay + 1
    assert learner_steps >= actor_steps - min_replay - 5  # the budget was spent
    learner_rows = [int(row['learner_steps'])
                    for row in _rows(os.path.join(run_dir, 'logs', 'learner.csv'))]
    assert learner_rows == sorted(set(learner_rows)) and learner_rows[-1] <= learner_steps
    # The replay holds every transition of the run, before and after the kill.
    inserted, size = _replay_insertions(run_dir, dict(
        min_replay_size=min_replay, batch_size=16, samples_per_insert=16.0,
        hidden_sizes=(16,)))
    expected = sum(_items_per_episode(int(row['episode_length'])) for row in rows)
    assert size == inserted
    if run_dir == reference or replay_in_step:
      assert inserted == expected, (run_dir, inserted, expected)
    else:  # Refilled from the resume point on, and said so.
      assert 0 < inserted < expected, (run_dir, inserted, expected)
  refilled = 'starts empty and refills' in resumed.stderr
  assert refilled != replay_in_step, resumed.stderr[-3000:]


def test_sigterm_writes_a_checkpoint_at_the_stop_and_resuming_finishes(tmp_path):
  budget = 2500
  run_dir = str(tmp_path / 'run')
  command = _command(run_dir, f'--num_steps={budget}', '--checkpoint_every_steps=500',
                     '--eval_every=0', *LEARNING)
  log_path = tmp_path / 'terminated.log'
  process = _start(command, log_path)
  try:
    _wait_for_checkpoint(process, run_dir, 500)
    time.sleep(random.Random(3).uniform(0.0, 0.1))
    assert process.poll() is None, 'the run finished before SIGTERM'
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log_path.read_text()[-3000:]
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()
  output = log_path.read_text()
  match = re.search(r'SIGTERM: checkpoint written to (\S+ckpt-(\d+)\.pt)', output)
  assert match, output[-3000:]
  stopped_at = int(match.group(2))
  assert 500 <= stopped_at < budget
  assert 'Done:' not in output
  rows = _rows(os.path.join(run_dir, 'logs', 'train.csv'))
  assert int(rows[-1]['actor_steps']) == stopped_at  # nothing after the checkpoint
  state, info = _final_state(run_dir)
  assert info['path'] == match.group(1)
  assert state['counter']['actor_steps'] == stopped_at
  assert info['metadata']['actor_steps'] == stopped_at

  resumed = _run(command)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert _resumed_at(resumed.stdout) == stopped_at
  assert 'Done:' in resumed.stdout
  _assert_contiguous(_rows(os.path.join(run_dir, 'logs', 'train.csv')), budget)
  assert _final_state(run_dir)[0]['counter']['actor_steps'] >= budget


# Importing Reverb (TensorFlow) before the launcher parses its flags, as a
# launcher that imports its agent at the top does: TensorFlow's own absl flags
# (--delta_threshold, ...) are then defined.
_WITH_TENSORFLOW_FLAGS = '''
import runpy, sys
import reverb
sys.argv = ['run_dqn'] + sys.argv[1:]
runpy.run_module('experiments.run_dqn', run_name='__main__', alter_sys=True)
'''


def test_noresume_starts_over_and_other_settings_are_refused(tmp_path):
  run_dir = str(tmp_path / 'run')
  args = ['--checkpoint_every_steps=100', '--eval_every=0', *LEARNING]
  first = _run([sys.executable, '-c', _WITH_TENSORFLOW_FLAGS, f'--run_dir={run_dir}',
                '--num_steps=300', *args])
  assert first.returncode == 0, first.stderr[-3000:]
  flags_text = open(os.path.join(run_dir, 'flags.txt')).read()
  assert '--env=gym:CartPole-v1' in flags_text and '--learning_rate=' in flags_text
  # Only the launcher's flags: none of TensorFlow's or absl's.
  assert 'delta_threshold' not in flags_text and 'hbm_oom_exit' not in flags_text
  assert 'verbosity' not in flags_text

  # The same command without TensorFlow loaded first resumes.
  second = _run(_command(run_dir, '--num_steps=600', *args))
  assert second.returncode == 0, second.stderr[-3000:]
  assert _resumed_at(second.stdout) >= 300
  rows = _rows(os.path.join(run_dir, 'logs', 'train.csv'))
  _assert_contiguous(rows, 600)

  fresh = _run(_command(run_dir, '--num_steps=200', '--noresume', *args))
  assert fresh.returncode == 0, fresh.stderr[-3000:]
  assert 'Resumed' not in fresh.stdout
  rows = _rows(os.path.join(run_dir, 'logs', 'train.csv'))
  _assert_contiguous(rows, 200)
  steps = _checkpoint_steps(run_dir)
  assert steps and steps[-1] == int(rows[-1]['actor_steps']) < 600
  state, _ = _final_state(run_dir)
  assert state['counter']['actor_steps'] == steps[-1]

  before = {name: os.path.getmtime(os.path.join(run_dir, 'checkpoints', name))
            for name in os.listdir(os.path.join(run_dir, 'checkpoints'))}
  flags_before = open(os.path.join(run_dir, 'flags.txt')).read()
  for flag, difference in (('--env=gridworld:simple',
                             "environment: saved {'kwargs': {}, 'name': 'gym:CartPole-v1'}"),
                            ('--hidden_sizes=32', 'config.hidden_sizes: saved [16], now [32]')):
    refused = _run(_command(run_dir, '--num_steps=200', *args, flag), timeout=60)
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert f'holds a run with other settings ({difference}' in refused.stderr, (
        refused.stderr[-2000:])
    assert '--noresume' in refused.stderr and 'Traceback' not in refused.stderr
    # Nothing of the run was touched.
    assert {name: os.path.getmtime(os.path.join(run_dir, 'checkpoints', name))
            for name in os.listdir(os.path.join(run_dir, 'checkpoints'))} == before
    assert open(os.path.join(run_dir, 'flags.txt')).read() == flags_before


def test_environment_rng_state_continues_the_random_stream():
  import numpy as np  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top

  def starts(environment, count=3):
    # CartPole's random initial state; GridWorld's random goal.
    return [(np.asarray(environment.reset().observation).tolist(),
             getattr(environment, 'goal_state', None)) for _ in range(count)]

  for name, kwargs in (('gym:CartPole-v1', {}),
                       ('gridworld:random_goal', {'randomize_goals': True})):
    original = factory.make_environment(name, seed=1, **kwargs)
    first = starts(original)
    state = original.get_rng_state()
    expected = starts(original)
    assert expected != first, name
    # As a resumed launcher makes it: fresh, with the same seed.
    restored = factory.make_environment(name, seed=1, **kwargs)
    restored.set_rng_state(state)
    assert starts(restored) == expected, name
    with pytest.raises(ValueError, match='get_rng_state'):
      restored.set_rng_state({'unrelated': 1})
