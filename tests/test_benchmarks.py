"""Smoke runs of every benchmark with tiny budgets: they run and print their reports.

Nothing here is timed; the assertions are on the reports' shape and numbers.
"""

import importlib
import json
import math
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
from typing import Dict, List

from absl import flags
import pytest
import torch

import benchmarks
from benchmarks import dqn_cartpole
from benchmarks import env_processes
from benchmarks import environments
from benchmarks import pg_cartpole
from benchmarks import replay
from benchmarks import soak_resume
from benchmarks import vectorized
from tests import forkserver

MODULES = ['environments', 'replay', 'dqn_cartpole', 'pg_cartpole', 'vectorized',
           'env_processes', 'soak_resume', 'startup']
# Benchmarks whose absl flags live in their own FlagValues, so they import side by side
# (soak_resume parses with argparse).
ABSL_MODULES = ['environments', 'replay', 'dqn_cartpole', 'pg_cartpole', 'vectorized',
                'env_processes', 'startup', 'overhead', 'ppo', 'distributed', 'continuous',
                'qr_dqn_cartpole']


@pytest.fixture(autouse=True)
def _keep_torch_threads():
  """The benchmarks set torch's thread count for their process; later tests get it back."""
  threads = torch.get_num_threads()
  yield
  torch.set_num_threads(threads)


def _number(text: str) -> float:
  """'1,234' -> 1234.0, '29.8k' -> 29800.0, '3.7%' -> 3.7; fails on anything else."""
  text = text.strip().replace(',', '')
  scale = 1.0
  if text.endswith('k'):
    text, scale = text[:-1], 1e3
  elif text.endswith('%'):
    text = text[:-1]
  return float(text) * scale


def _positive(text: str) -> float:
  value = _number(text)
  assert math.isfinite(value) and value > 0, text
  return value


def _non_negative(text: str) -> float:
  value = _number(text)
  assert math.isfinite(value) and value >= 0, text
  return value


def _line(pattern: str, output: str) -> re.Match:
  match = re.search(pattern, output, re.MULTILINE)
  assert match, f'no line matching {pattern!r} in:\n{output}'
  return match


def _table(output: str, title: str) -> List[Dict[str, str]]:
  """The rows of a `replay.print_table` table, as {header: cell}, by the dashes' columns."""
  lines = output.splitlines()
  start = lines.index(title)
  header, dashes = lines[start + 1], lines[start + 2]
  spans = [m.span() for m in re.finditer(r'-+', dashes)]
  names = [header[a:b].strip() for a, b in spans]
  rows = []
  for line in lines[start + 3:]:
    if not line.strip():
      break
    rows.append({name: line[a:b].strip() for name, (a, b) in zip(names, spans)})
  return rows


@pytest.mark.parametrize('name', MODULES)
def test_docstring_says_how_to_run_and_help_works(name, capsys):
  module = importlib.import_module(f'benchmarks.{name}')
  assert f'python -m benchmarks.{name}' in module.__doc__
  assert re.search(r'\bvs\b|against|compar', module.__doc__)
  with pytest.raises(SystemExit) as exit_info:
    module.main(['--help'])
  assert exit_info.value.code == 0
  usage = capsys.readouterr().out
  assert usage.startswith('usage:') and module.__doc__.splitlines()[0] in ' '.join(
      usage.split())


def test_every_benchmark_imports_beside_the_others():
  names = sorted(name for _, name, _ in pkgutil.iter_modules([os.path.dirname(benchmarks.__file__)]))
  assert set(ABSL_MODULES) <= set(names)
  code = ''.join(f'import benchmarks.{name}\n' for name in names)
  subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, timeout=300,
                 cwd=os.path.dirname(os.path.dirname(benchmarks.__file__)))


@pytest.mark.parametrize('name', ABSL_MODULES)
def test_benchmarks_take_absl_flags(name):
  module = importlib.import_module(f'benchmarks.{name}')
  assert not hasattr(module, 'argparse')
  assert isinstance(module.FLAGS, flags.FlagValues) and module.FLAGS is not flags.FLAGS
  assert list(module.FLAGS), f'benchmarks.{name} defines no absl flags'


@pytest.mark.parametrize('name, argv, named', [
    ('environments', ['--steps', '0'], '0'),
    ('environments', ['--rounds', '-2'], '-2'),
    ('replay', ['--items', '150'], '150'),
    ('replay', ['--seconds', 'nan'], 'nan'),
    ('replay', ['--tf-threads', '-1'], '-1'),
    ('dqn_cartpole', ['--frameworks', 'rlkit,tianshou'], 'tianshou'),
    ('dqn_cartpole', ['--seeds', '0,x'], '0,x'),
    ('dqn_cartpole', ['--eval_episodes', '0'], '0'),
    ('dqn_cartpole', ['--rlkit_config', '{"batch_size": 32'], '{"batch_size": 32'),
    ('pg_cartpole', ['--agents', 'dqn'], 'dqn'),
    ('pg_cartpole', ['--envs', 'CartPole-v2'], 'CartPole-v2'),
    ('pg_cartpole', ['--overrides', 'learning_rate=-1'], 'learning_rate=-1'),
    ('pg_cartpole', ['--budget_s', '0'], '0.0'),
    ('pg_cartpole', ['--threshold', '300'], '300'),
    ('vectorized', ['--num_envs', '1'], '1'),
    ('vectorized', ['--eval_episodes', '0'], '0'),
    ('vectorized', ['--single_steps', '0'], '0'),
    ('env_processes', ['--num_envs', '1'], '1'),
    ('env_processes', ['--processes', '5', '--num_envs', '4'], '5'),
    ('env_processes', ['--work_us', '0'], '0'),
    ('soak_resume', ['--kills', '-1'], '-1'),
    ('soak_resume', ['--max_delay', 'inf'], 'inf'),
    ('soak_resume', ['--final_episodes', '0'], '0'),
])
def test_bad_flag_values_fail_at_once_naming_the_value(name, argv, named, capsys):
  module = importlib.import_module(f'benchmarks.{name}')
  with pytest.raises(SystemExit) as exit_info:
    module.main(argv)
  assert exit_info.value.code == 2
  error = capsys.readouterr().err.strip().splitlines()[-1]
  assert 'error:' in error and named in error, error


def test_soak_resume_refuses_a_work_dir_in_use(tmp_path, capsys):
  (tmp_path / 'old').write_text('')
  with pytest.raises(SystemExit):
    soak_resume.main([f'--work_dir={tmp_path}'])
  assert f'--work_dir={tmp_path} is not empty' in capsys.readouterr().err


def test_environments(capsys):
  environments.main(['--steps', '300', '--rounds', '2'])
  output = capsys.readouterr().out
  assert output.startswith('300 steps per measurement, 2 alternating rounds')
  for name in ('raw gymnasium CartPole-v1', 'dm_env adapter', 'raw GridWorld simple',
               'EnvironmentLoop+RandomActor'):
    _positive(_line(rf'^{re.escape(name)}\s+([\d,]+) steps/s$', output).group(1))
  ratios = re.findall(r'^ratio \(median of rounds\)\s+(\S+)\s+target >= (\S+)\s+'
                      r'(OK|BELOW TARGET)$', output, re.MULTILINE)
  assert [target for _, target, _ in ratios] == ['0.7', '0.75']
  for ratio, _, _ in ratios:
    _positive(ratio)


def test_replay_with_options(capsys):
  replay.main(['--items', '200', '--seconds', '0.01', '--rounds', '1', '--options'])
  output = capsys.readouterr().out
  _line(r'^replay benchmark: \d+ cores, load average [\d.]+ at start, medians of 1 ', output)
  insert = _table(output, 'insert (transitions/s, one step at a time)')
  assert [r['path'] for r in insert] == ['NStepTransitionAdder n=1', 'NStepTransitionAdder n=3']
  for row in insert:
    assert {_positive(row[k]) for k in ('reverb', 'ring buffer', 'ratio')}
    assert row['>=20k'] in ('yes', 'NO')
  sample = _table(output, 'sample as torch tensors (transitions/s; CPU us per transition, '
                  'all threads)')
  assert [r['batch'] for r in sample] == ['64', '256']
  for row in sample:
    assert {_positive(row[k]) for k in ('iterator', 'ring buffer', 'ratio')}
    _non_negative(row['cpu us'])
    assert row['>=100k'] in ('yes', 'NO')
  learner = _table(output, 'DQN learner step (MLP 4-256-256-2, Adam, 1 torch thread)')
  assert [(r['batch'], r['data source']) for r in learner] == [
      ('64', 'replay iterator'), ('64', 'ring buffer'),
      ('256', 'replay iterator'), ('256', 'ring buffer')]
  for row in learner:
    _positive(row['step ms'])
    _non_negative(row['wait ms'])
    assert 0 <= _number(row['wait share']) <= 100
    assert row['<10%'] in (('yes', 'NO') if row['data source'] == 'replay iterator' else ('',))
  layouts = _table(output, 'transition layouts (transitions/s; CPU us per sampled '
                   'transition, all threads)')
  assert [r['layout'] for r in layouts] == ['columns', 'packed']
  for row in layouts:
    assert {_positive(row[k]) for k in ('insert n=3', 'b=64', 'b=256')}
    _non_negative(row['cpu us 64'])
  variants = _table(output, 'data-path variants (transitions/s; CPU us per transition)')
  assert len(variants) == 8
  assert 'iterator, 2 workers, dlpack (default)' in [r['variant'] for r in variants]
  for row in variants:
    assert _positive(row['b=64']) and _positive(row['b=256'])
  chunks = _table(output, 'adder chunk_length (n=1): insert and sample rates')
  assert [r['chunk'] for r in chunks] == ['1', '4', '16']
  for row in chunks:
    assert {_positive(row[k]) for k in ('insert', 'b=64', 'b=256')}
  _line(r'^load average at end: [\d.]+$', output)


def test_dqn_cartpole_rlkit_and_sb3(tmp_path, monkeypatch, capsys):
  # Its worker processes fork from the tests' warm interpreter (tests/forkserver.py).
  monkeypatch.setattr(dqn_cartpole, 'subprocess', forkserver.SUBPROCESS)
  results_path = tmp_path / 'results.json'
  dqn_cartpole.main(['--seeds=0', '--rlkit_steps=1200', '--sb3_steps=1200',
                     '--eval_every=1000', '--eval_episodes=1', '--threshold=1',
                     '--rlkit_config={"min_replay_size": 500}', f'--output={results_path}'])
  output = capsys.readouterr().out
  for framework in ('rlkit', 'sb3'):
    match = _line(rf'^{framework}\s+seed 0: 1 at (\S+) s \((\d+) steps\), final (\S+), '
                  r'(\S+) steps/s, train (\S+) s \| evals: (\d+) (\d+)$', output)
    assert match.group(2) == '1000'
    _non_negative(match.group(1))
    _positive(match.group(3))
    _positive(match.group(4))
    _positive(match.group(5))
  _line(r'^framework\s+seed\s+t->1 \(s\)\s+steps->1\s+final\s+steps/s\s+train \(s\)$', output)
  for framework in ('rlkit', 'sb3'):
    row = _line(rf'^{framework}\s+0\s+(\S+)\s+1000\s+(\S+)\s+(\S+)\s+(\S+)$', output)
    _non_negative(row.group(1))
    assert all(_positive(row.group(i)) for i in (2, 3, 4))
    median = _line(rf'^{framework}\s+med\s+(\S+)\s+solved at end: 1/1$', output)
    _non_negative(median.group(1))
  ratio = _line(r'^Median time to 1: rlkit (\S+) s, SB3 (\S+) s, ratio rlkit/SB3 = (\S+) '
                r'\(target <= 0\.5\)\.$', output)
  _positive(ratio.group(3))
  assert f'Results written to {results_path}' in output
  results = json.loads(results_path.read_text())
  assert sorted(results) == ['rlkit', 'sb3']
  rlkit, sb3 = results['rlkit'][0], results['sb3'][0]
  assert rlkit['config']['min_replay_size'] == 500 and rlkit['learner_steps'] > 0
  for result in (rlkit, sb3):
    steps = [h['steps'] for h in result['history']]
    assert len(steps) == 2 and steps[0] == 1000 and steps[1] >= 1200
    assert result['summary']['train_seconds'] > 0


def test_pg_cartpole_both_agents_both_envs(capsys):
  pg_cartpole.main(['--seeds=1', '--threshold=1', '--eval_every=1', '--eval_envs=2',
                    '--max_episodes=3', '--budget_s=60', '--overrides=learning_rate=0.01'])
  output = capsys.readouterr().out
  assert "Config overrides: {'learning_rate': 0.01}" in output
  assert 'Threshold: 1 on every env' in output
  assert output.count('agent         env          seed solved  seconds episodes') == 4
  for agent in ('reinforce', 'actor_critic'):
    for env in ('CartPole-v0', 'CartPole-v1'):
      row = _line(rf'^{agent}\s+{env}\s+0\s+True\s+(\S+)\s+1\s+(\d+)\s+1\s+(\S+)\s+(\S+)$',
                  output)
      assert all(_positive(row.group(i)) for i in (1, 2, 3, 4))
      verdict = ('target median <= (9.0|15.3) s: (OK|MISSED)' if env == 'CartPole-v0'
                 else 'target >= 4 of 1 solved: MISSED')
      summary = _line(rf'^  {agent}\s+{env}\s+median\s+(\S+) s  solved 1/1  {verdict}$',
                      output)
      _positive(summary.group(1))
  assert len(re.findall(r'^  median (\S+) s, solved 1/1  target', output, re.MULTILINE)) == 4


def test_vectorized(capsys):
  vectorized.main(['--vector_steps=40', '--num_envs=2', '--single_steps=50',
                   '--eval_episodes=2'])
  output = capsys.readouterr().out
  _line(r'^\s+envs\s+env steps\s+wall s\s+steps/s\s+greedy mean \(2 ep\)$', output)
  for envs, steps in ((2, 80), (1, 50)):
    _line(rf'^{envs} envs: \d+ steps in \S+ s, greedy mean \S+$', output)
    row = _line(rf'^\s+{envs}\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)$', output)
    assert int(row.group(1)) >= steps
    _non_negative(row.group(2))
    _positive(row.group(3))
    _positive(row.group(4))
  ratio = _line(r'^steps/s ratio vectorized / single: (\S+) \(target >= 4\); vectorized '
                r'greedy mean (\S+) \(target >= 195\)$', output)
  _positive(ratio.group(1))
  _positive(ratio.group(2))


def test_env_processes(capsys):
  env_processes.main(['--num_envs=2', '--processes=2', '--steps=20', '--rounds=1',
                      '--work_us=50'])
  output = capsys.readouterr().out
  for title in ('cheap step', r'costly step \(\+50 us\)'):
    _line(rf'^{title}: environment steps/s, and ratio to rlkit in process$', output)
  for name in (r'rlkit BatchedEnvironment \(in process\)',
               r'rlkit SubprocessBatchedEnvironment \(2 processes\)',
               'gymnasium SyncVectorEnv', r'gymnasium AsyncVectorEnv \(2 processes\)'):
    rows = re.findall(rf'^  {name}\s+(\S+)\s+(\S+)x$', output, re.MULTILINE)
    assert len(rows) == 2, (name, output)
    for rate, ratio in rows:
      _positive(rate)
      _positive(ratio)


def _processes_mentioning(text: str) -> List[str]:
  """'pid: command line' of each live process whose command line mentions `text`."""
  found = []
  for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
      with open(f'/proc/{pid}/cmdline', 'rb') as f:
        cmdline = f.read()
    except OSError:
      continue
    if text.encode() in cmdline:
      command = cmdline.replace(b'\0', b' ').decode(errors='replace')
      found.append(f'{pid}: {command}')
  return found


def test_soak_resume_two_kills_and_reference(tmp_path, monkeypatch, capsys):
  monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
  # Its launcher processes fork from the tests' warm interpreter (tests/forkserver.py).
  monkeypatch.setattr(soak_resume, 'subprocess', forkserver.SUBPROCESS)
  soak_resume.main(['--kills=2', '--num_steps=1500', '--checkpoint_every_steps=250',
                    '--eval_every=500', '--eval_episodes=1', '--final_episodes=1',
                    '--max_delay=0.1', '--timeout=120'])
  output = capsys.readouterr().out
  assert 'Soak: 2 SIGKILLs across one run of' in output
  _line(r'^kill  1: past step\s+\d+, newest checkpoint \d+, interrupted: ', output)
  _line(r'^kill  2 \(aimed\): past step\s+\d+, newest checkpoint \d+, interrupted: ', output)
  _line(r'^kill \| aimed \| newest ckpt \| the kill interrupted\s+\| next start resumed from '
        r'\| ok$', output)
  rows = [[cell.strip() for cell in line.split('|')] for line in output.splitlines()
          if re.match(r'^\s+\d+ \|', line)]
  assert [row[:2] for row in rows] == [['1', ''], ['2', 'yes']]
  for _, _, newest, phase, resumed, ok in rows:
    assert int(newest) > 0 and phase
    assert resumed == 'None' or int(resumed) > 0
    assert ok.split()[0] in ('yes', 'NO')
  succeeded = int(_line(r'^Resumes succeeded:\s+(\d)/2 ', output).group(1))
  assert succeeded == sum(row[-1].startswith('yes') for row in rows)
  _line(r'^Final start:\s+exit status 0, finished the budget$', output)
  counts = _line(r'^Final counts:\s+(\d+) steps \(budget 1500\), (\d+) episodes, (\d+) learner '
                 r'steps$', output)
  assert int(counts.group(1)) >= 1500
  refilled = int(_line(r'^Replay and agent steps:\s+matched in \d/2 resumes; refilled with a '
                       r'warning in (\d)', output).group(1))
  # A kill between the replay and agent writes refills the replay: with DQN's
  # min_replay_size of 1000, a late refill leaves too few steps to learn again.
  assert int(counts.group(3)) > 0 or refilled, output[-3000:]
  _line(r'^train\.csv:\s+\d+ rows, ', output)
  _line(r'^Learner ratio kept:\s+(yes|NO) \(learner steps \+ budget \S+, expected \S+\)$',
        output)
  for label in ('Soaked run', 'Reference'):
    _line(rf'^{label}: launcher evaluations \(1 episodes each\): \d+(, \d+)*; the final '
          r'one \S+: (not )?solved$', output)
    final = _line(rf'^{label}: saved policy \(registry\.load_policy\), 1 greedy episodes: '
                  r'(\S+) \+- (\S+) \(checkpoint step \d+\)', output)
    _positive(final.group(1))
  size = _line(r'^Agent checkpoint \(\.pt\):\s+(\S+) kB; .* median (\S+) ms, max (\S+) ms '
               r'\((\d+) checkpoints\)$', output)
  assert all(_positive(size.group(i)) for i in (1, 2, 3, 4))
  reverb = _line(r'^Reverb checkpoint:\s+(\S+) MB for (\d+) items; (\d+) ms to write', output)
  _positive(reverb.group(1))
  _positive(reverb.group(2))
  _line(r'^Replay restored:\s+\d+ items inserted over the run, \d+ from the logged episodes',
        output)
  _positive(_line(r'^Start to training again:\s+median (\S+) s, max \S+ s', output).group(1))
  _line(r'^Uninterrupted reference \(same command, other --run_dir\): exit status 0, \d+ '
        r'steps, \d+ s$', output)
  assert not [p for p in os.listdir(tmp_path) if p.startswith('soak_resume-')]
  assert not _processes_mentioning(str(tmp_path))


def test_soak_resume_cleans_up_after_a_timeout(tmp_path, monkeypatch, capsys):
  monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
  with pytest.raises(TimeoutError, match='no checkpoint past step'):
    soak_resume.main(['--kills=1', '--num_steps=1500', '--timeout=1'])
  assert 'Soak: 1 SIGKILLs across one run of' in capsys.readouterr().out
  assert not os.listdir(tmp_path)
  assert not _processes_mentioning(str(tmp_path))


def test_startup_smoke(capsys):
  from benchmarks import startup  # pylint: disable=g-import-not-at-top
  startup.main(['--smoke', '--timeout=240'])
  output = capsys.readouterr().out
  _positive(_line(r'^python -c "import reverb, torch": (\S+) s$', output).group(1))
  row = _line(r'^run_dqn\s+(\S+)\s+(\S+)x\s+(\S+)\s+(\S+)\s+(\S+)\s+(OK|ABOVE TARGET)\s+'
              r'(\S+)\s+(OK|ABOVE TARGET)$', output)
  first, shutdown, total = (_positive(row.group(i)) for i in (1, 3, 4))
  assert first + shutdown <= total
  assert _positive(row.group(5)) < total and _positive(row.group(7)) < total
  assert 'Targets: a bad flag and a bad environment rejected (exit 2) in under 1 s.' in output
  if row.group(8) == 'ABOVE TARGET':
    _line(r'^Imports before run_dqn rejects --env=gym:NoSuchEnv-v0 \(python -X importtime', output)


def test_startup_rejects_an_unknown_launcher(capsys):
  from benchmarks import startup  # pylint: disable=g-import-not-at-top
  with pytest.raises(SystemExit) as exit_info:
    startup.main(['--launchers=dqn,nope'])
  assert exit_info.value.code == 2
  assert 'no launcher for nope' in capsys.readouterr().err

def test_overhead_smoke_prints_both_arms_and_ratios(capsys):
  from benchmarks import overhead  # pylint: disable=g-import-not-at-top
  assert 'python -m benchmarks.overhead' in overhead.__doc__
  overhead.main(['--smoke'])
  output = capsys.readouterr().out
  _line(r'^path\s+arm\s+round\s+env steps\s+learner\s+seconds\s+steps/s$', output)
  for path in ('single', 'vectorized'):
    for arm in ('rlkit', 'bare'):
      row = _line(rf'^{path}\s+{arm}\s+0\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)$', output)
      assert int(row.group(1)) >= 400 and int(row.group(2)) > 0
      _positive(row.group(3))
      _positive(row.group(4))
    ratio = _line(rf'^{path}: rlkit median (\S+) steps/s, bare median (\S+) steps/s, ratio '
                  r'rlkit / bare (\S+) \(target >= 0\.85\)$', output)
    assert all(_positive(ratio.group(i)) for i in (1, 2, 3))
  with pytest.raises(SystemExit) as exit_info:
    overhead.main(['--rounds=0'])
  assert exit_info.value.code == 2
  assert '--rounds must be >= 1, got 0' in capsys.readouterr().err


def test_continuous_smoke_runs_both_frameworks_and_prints_the_ratios(tmp_path, capsys,
                                                                     monkeypatch):
  from benchmarks import continuous  # pylint: disable=g-import-not-at-top
  output_path = tmp_path / 'runs.jsonl'
  monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
  continuous.FLAGS(['continuous', '--smoke', '--seeds=0', f'--output={output_path}',
                    '--rows=sac:pendulum,td3:pendulum,d4pg:pendulum'])
  try:
    continuous.main([])
  finally:
    continuous.FLAGS.unparse_flags()
  output = capsys.readouterr().out
  for row in ('sac:pendulum', 'td3:pendulum'):
    for framework in ('rlkit', 'sb3'):
      _line(rf'^{row} {framework} seed 0: 400 steps$', output)
      median = _line(rf'^{row}\s+{framework}\s+(\S+)\s+(\S+)\s+(\S+)$', output)
      assert -2000 < float(median.group(2)) <= 0
      _positive(median.group(3))
    _positive(_line(rf'^{row}\s+ratio\s+(?:\S+\s+)?(\S+)\s+\(rlkit / sb3\)$', output).group(1))
  _line(r'^d4pg:pendulum: sb3 has no d4pg; rlkit only\.$', output)
  assert -2000 < float(_line(r'^d4pg:pendulum\s+rlkit\s+\S+\s+(\S+)\s+\S+$', output).group(1)) <= 0
  assert not re.search(r'^d4pg:pendulum\s+(sb3|ratio)', output, re.M)
  _line(r'^  200 steps: greedy return \S+ after \d+ s of training$', output)
  records = [json.loads(line) for line in output_path.read_text().splitlines()]
  assert [(r['row'], r['framework']) for r in records] == [
      ('sac:pendulum', 'rlkit'), ('sac:pendulum', 'sb3'),
      ('td3:pendulum', 'rlkit'), ('td3:pendulum', 'sb3'), ('d4pg:pendulum', 'rlkit')]
  assert all([p['steps'] for p in r['history']] == [200, 400] for r in records)
  assert not [p for p in os.listdir(tmp_path) if p.startswith('SB3-')], 'SB3 wrote a log folder'


def test_continuous_control_suite_rows_reach_sb3_through_a_gymnasium_view_of_the_same_env():
  import numpy as np  # pylint: disable=g-import-not-at-top
  from benchmarks import continuous  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  row = continuous.ROWS['sac:cartpole-swingup']
  assert row.gym_id is None and row.steps == 100_000 and row.threshold is None
  assert continuous.ROWS['sac:halfcheetah'].gym_id == 'HalfCheetah-v5'
  view = continuous._dm_env_as_gym(row.env, 3)  # pylint: disable=protected-access
  same = factory.make_environment(row.env, seed=3)
  assert view.observation_space.shape == (5,) and view.action_space.shape == (1,)
  np.testing.assert_array_equal(view.action_space.low, [-1.0])
  observation, _ = view.reset(seed=123)
  np.testing.assert_array_equal(observation, same.reset().observation)
  actions = np.random.default_rng(0).uniform(-1, 1, (1000, 1)).astype(np.float32)
  for t, action in enumerate(actions):
    observation, reward, terminated, truncated, _ = view.step(action)
    timestep = same.step(action)
    np.testing.assert_array_equal(observation, timestep.observation)
    assert reward == timestep.reward and not terminated
    if truncated:
      break
  assert t == 999 and truncated and timestep.last()  # A time limit: truncated, not terminated.
