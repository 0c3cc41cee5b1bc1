"""experiments/run_bsuite.py as a (forked) process: a two-id sweep with tiny budgets, and its usage errors."""

import csv
import os

import pytest

from tests import forkserver

TINY_DQN = ['--min_replay_size=50', '--batch_size=16', '--hidden_sizes=16', '--eval_episodes=2',
            '--noplots', '--notensorboard', '--norandom_baseline']


def _run(*args, timeout=180):
  return forkserver.run('experiments.run_bsuite', *args, timeout=timeout)


def _is_png(path) -> bool:
  with open(path, 'rb') as f:
    return f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_sweep_writes_bsuite_logs_one_run_per_id_and_the_scores(tmp_path):
  sweep = tmp_path / 'sweep'
  result = _run('--bsuite_ids=catch/0,bandit/0', '--max_episodes_per_id=20',
                f'--run_dir={sweep}', *TINY_DQN)
  assert result.returncode == 0, result.stderr[-3000:]
  assert sorted(os.listdir(sweep / 'bsuite')) == [
      'bsuite_id_-_bandit-0.csv', 'bsuite_id_-_catch-0.csv', 'completed.txt']
  with open(sweep / 'bsuite' / 'bsuite_id_-_catch-0.csv', newline='') as f:
    episodes = [int(row['episode']) for row in csv.DictReader(f)]
  assert episodes[-1] == 20
  for run in ('catch_0', 'bandit_0'):
    assert (sweep / run / 'run.json').exists()
    with open(sweep / run / 'logs' / 'train.csv', newline='') as f:
      assert int(list(csv.DictReader(f))[-1]['actor_episodes']) == 20
  assert '--env=bsuite:bandit/0' in (sweep / 'bandit_0' / 'flags.txt').read_text()
  table = (sweep / 'bsuite_scores.md').read_text()
  rows = [line for line in table.splitlines()[2:] if line.startswith('| ')]
  assert [row.split('|')[1].strip() for row in rows] == ['bandit', 'catch']
  assert '| catch/0 (20) |' in table and 'no (partial)' in table
  for row in rows:
    assert 0.0 <= float(row.split('|')[2]) <= 1.0
  assert table in result.stdout
  for plot in ('bsuite_radar.png', 'bsuite_bars.png'):
    path = sweep / plot
    if path.exists():
      assert _is_png(path)
    else:
      assert f'warning: no {plot[:-4]} plot' in result.stdout
  assert (sweep / 'bsuite_radar.png').exists()

  again = _run('--bsuite_ids=catch/0,bandit/0', '--max_episodes_per_id=20',
               f'--run_dir={sweep}', *TINY_DQN)
  assert again.returncode == 0, again.stderr[-3000:]
  assert again.stdout.count('completed earlier; skipped.') == 2
  assert '| catch/0 (20) |' in again.stdout


@pytest.mark.parametrize('args, named', [
    ([], '--bsuite_ids or --bsuite_subset'),
    (['--bsuite_ids=catch/0', '--bsuite_subset=basic'], '--bsuite_ids or --bsuite_subset'),
    (['--bsuite_ids=catch/99'], 'catch/99'),
    (['--bsuite_subset=basics'], 'basics'),
    (['--bsuite_ids=catch/0', '--env=gym:CartPole-v1'], '--env'),
    (['--bsuite_ids=catch/0', '--agent=sac'], '--agent=sac on bsuite:catch/0: sac needs'),
    (['--agent=nope'], '--agent=nope'),
    (['--bsuite_ids=catch/0', '--max_episodes_per_id=0'], 'max_episodes_per_id'),
])
def test_usage_errors_exit_2_naming_the_value(tmp_path, args, named):
  result = _run(f'--run_dir={tmp_path / "sweep"}', *args, timeout=120)
  assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
  assert 'run_bsuite.py: error:' in result.stderr and named in result.stderr, result.stderr


def test_report_scores_every_basic_experiment_under_pandas_2(tmp_path):
  """bsuite's scorers as installed (deep_sea's uses Series.append, gone in pandas 2)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from rlkit.environments import behaviour_suite  # pylint: disable=g-import-not-at-top
  from rlkit.utils import bsuite_report  # pylint: disable=g-import-not-at-top
  results = tmp_path / 'bsuite'
  rng = np.random.default_rng(0)
  ids = ('bandit/0', 'catch/0', 'deep_sea/0', 'memory_len/0')
  for bsuite_id in ids:
    environment = behaviour_suite.load(bsuite_id, results_dir=str(results))
    num_actions = environment.action_spec().num_values
    for _ in range(12):
      timestep = environment.reset()
      while not timestep.last():
        timestep = environment.step(int(rng.integers(num_actions)))
    environment.close()
  report = bsuite_report.write_report(str(results), str(tmp_path))
  assert sorted(report.scores) == sorted(i.partition('/')[0] for i in ids)
  assert all(0.0 <= score <= 1.0 for score in report.scores.values())
  assert report.episodes == {bsuite_id: 12 for bsuite_id in ids}
  assert not any(report.finished.values())
  assert '| deep_sea | ' in (tmp_path / 'bsuite_scores.md').read_text()
  import pandas as pd  # pylint: disable=g-import-not-at-top
  assert not hasattr(pd.Series, 'append')  # the shim is gone again
