"""The run directory is never damaged: refused commands change nothing, resume keeps agent and replay paired.

One short real DQN run makes the directory; every refused command must exit
with 2 and leave its files byte-identical; resumes after each kind of damage
use a consistent agent/replay pair and say what they lost.
"""

import hashlib
import json
import os
import shutil
import time

import pytest

from rlkit.experiments import run_checkpoints
from tests import forkserver

COMMON = ('--env=gym:CartPole-v1', '--eval_every=0', '--eval_episodes=2', '--novideo',
          '--noplots', '--norandom_baseline', '--min_replay_size=100', '--batch_size=32',
          '--hidden_sizes=32', '--checkpoint_every_steps=300')


def _run(module, *args, timeout=240):
  return forkserver.run(module, *args, timeout=timeout)

# One xdist worker runs this module (and a session fixture outlives other modules' tests
# in between), so the fixture's DQN run happens once.
pytestmark = pytest.mark.xdist_group('run_directory_safety')


def _snapshot(path):
  digests = {}
  for root, _, files in os.walk(path):
    for name in files:
      full = os.path.join(root, name)
      with open(full, 'rb') as f:
        digests[os.path.relpath(full, path)] = hashlib.sha256(f.read()).hexdigest()
  return digests


@pytest.fixture(scope='session')
def dqn_run(tmp_path_factory):
  run_dir = tmp_path_factory.mktemp('runs') / 'dqn'
  result = _run('experiments.run_dqn', f'--run_dir={run_dir}', '--num_steps=700', *COMMON)
  assert result.returncode == 0, result.stderr[-2000:]
  return run_dir


@pytest.fixture
def copy_of(dqn_run, tmp_path):
  target = tmp_path / 'copy'
  shutil.copytree(dqn_run, target)
  return target


REFUSED = [
    pytest.param(('experiments.run_nfq', '--env=gym:CartPole-v1', '--eval_every=0'),
                 "holds a 'dqn' run; refusing to use it for 'nfq'", id='another-agent'),
    pytest.param(('experiments.run_dqn', '--learning_rate=0.5', '--num_steps=900') + COMMON,
                 'learning_rate', id='other-config'),
    pytest.param(('experiments.run_dqn', '--num_episodes=3', '--num_steps=900') + COMMON[1:],
                 'both set a budget', id='two-budgets'),
    pytest.param(('experiments.run_dqn', '--min_replay_size=500', '--max_replay_size=100',
                  '--env=gym:CartPole-v1'), 'above --max_replay_size', id='replay-sizes'),
    pytest.param(('experiments.run_dqn', '--observation_type=GRID', '--env=gym:CartPole-v1'),
                 'GridWorld only', id='observation-type-on-gym'),
    pytest.param(('experiments.run_dqn', '--env=gym:NoSuchThing-v0'),
                 'NoSuchThing', id='unknown-environment'),
    pytest.param(('experiments.run_dqn', '--num_steps=0'), 'num_steps', id='bad-value'),
    pytest.param(('experiments.plot', '--x_key=foo'), "x_key 'foo'", id='plot-unknown-x'),
    pytest.param(('experiments.evaluate', '--checkpoint=ckpt-1.pt'), 'does not exist',
                 id='evaluate-missing-checkpoint'),
]


@pytest.mark.parametrize('command, message', REFUSED)
def test_refused_commands_exit_2_and_change_nothing(copy_of, command, message):
  module, *args = command
  before = _snapshot(copy_of)
  result = _run(module, f'--run_dir={copy_of}', *args)
  assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
  assert message in result.stderr
  assert 'Traceback' not in result.stderr
  assert _snapshot(copy_of) == before


def test_an_unwritable_run_directory_is_one_line(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('not a directory')
  result = _run('experiments.run_dqn', f'--run_dir={blocker}/run', '--num_steps=200', *COMMON)
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [line for line in result.stderr.splitlines() if 'error:' in line]
  assert len(errors) == 1 and 'Traceback' not in result.stderr


def _resume(run_dir):
  return _run('experiments.run_dqn', f'--run_dir={run_dir}', '--num_steps=900', *COMMON)


def _newest(directory):
  return max((p for p in os.listdir(directory) if p.endswith('.pt')),
             key=lambda p: int(p[5:-3]))


def test_truncated_newest_agent_checkpoint_drops_the_newer_replay(copy_of):
  checkpoints = copy_of / 'checkpoints'
  newest = checkpoints / _newest(checkpoints)
  newest.write_bytes(newest.read_bytes()[:100])
  result = _resume(copy_of)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'Skipping checkpoint' in result.stdout + result.stderr
  assert 'replay starts empty' in result.stdout + result.stderr
  assert os.listdir(checkpoints / run_checkpoints.STALE_REPLAY_DIR)


def test_deleted_replay_is_named_and_refilled(copy_of):
  shutil.rmtree(copy_of / 'checkpoints' / run_checkpoints.REPLAY_DIR)
  result = _resume(copy_of)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'replay' in result.stdout and 'is missing' in result.stdout


def test_both_newest_halves_damaged_resume_from_the_previous_pair(copy_of):
  checkpoints = copy_of / 'checkpoints'
  newest = checkpoints / _newest(checkpoints)
  newest.write_bytes(b'')
  shutil.rmtree(checkpoints / run_checkpoints.REPLAY_DIR)
  result = _resume(copy_of)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'Resumed from' in result.stdout and newest.name not in result.stdout.split(
      'Resumed from')[1].splitlines()[0]


def test_an_intact_resume_keeps_the_replay(copy_of):
  result = _resume(copy_of)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'replay starts empty' not in result.stdout + result.stderr
  assert not os.path.exists(copy_of / 'checkpoints' / run_checkpoints.STALE_REPLAY_DIR)


def test_a_checkpoint_without_sidecar_does_not_guess_its_replay(tmp_path):
  snapshot = tmp_path / run_checkpoints.REPLAY_DIR / '2026-01-01T00:00:00'
  snapshot.mkdir(parents=True)
  (snapshot / 'DONE').write_text('')
  message = run_checkpoints.align_replay(str(tmp_path), None, checkpoint_replay=True)
  assert 'no sidecar' in message and 'starts empty' in message
  assert not os.listdir(tmp_path / run_checkpoints.REPLAY_DIR)
  assert os.listdir(tmp_path / run_checkpoints.STALE_REPLAY_DIR) == [snapshot.name]
  assert run_checkpoints.align_replay(str(tmp_path / 'none'), None, True) is None


class _TimedReplay:
  """A replay server stand-in that records when its checkpoint was written."""

  def __init__(self, directory):
    self.directory, self.written = directory, None

  def checkpoint(self):
    path = os.path.join(self.directory, 'snapshot')
    os.makedirs(path)
    self.written = time.monotonic()
    return path


def test_the_pause_hook_holds_the_gap_between_replay_and_agent_writes(tmp_path, monkeypatch):
  checkpointer = run_checkpoints.RunCheckpointer(str(tmp_path), keep=1)
  replay = _TimedReplay(str(tmp_path / 'replay'))
  monkeypatch.setenv(run_checkpoints.PAUSE_ENV, '0.3')
  path = checkpointer.save({'x': 1}, 5, {'actor_steps': 5}, replay)
  assert time.monotonic() - replay.written >= 0.3
  with open(path[:-3] + '.json') as f:
    assert json.load(f)['metadata']['replay_checkpoint'].endswith('snapshot')
  monkeypatch.setenv(run_checkpoints.PAUSE_ENV, 'soon')
  with pytest.raises(ValueError, match="RLKIT_TEST_PAUSE_BETWEEN_CHECKPOINT_WRITES='soon'"):
    checkpointer.save({'x': 1}, 6, {'actor_steps': 6}, replay)
