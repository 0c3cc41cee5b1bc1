"""The tutorial recipes in experiments/recipes/: headers, flags, and a tiny run of each.

Every recipe is run once by its launcher with a tiny budget (two at a time, as
subprocesses); the full runs are recorded in BUILD_NOTES.md.
"""

import concurrent.futures
import csv
import glob
import os
import re
import subprocess
from typing import Dict, List, NamedTuple

import pytest

from rlkit.utils import run_dir as run_dir_lib
from tests import forkserver

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES_DIR = os.path.join(ROOT, 'experiments', 'recipes')
RECIPES = sorted(glob.glob(os.path.join(RECIPES_DIR, '*.flags')))
NAMES = [os.path.basename(path)[:-len('.flags')] for path in RECIPES]
LAUNCHER_LINE = re.compile(r'^# Launcher: (experiments/(run_\w+)\.py)$', re.MULTILINE)
# Overridden by the tiny runs; everything else must reach flags.txt unchanged.
BUDGET_FLAGS = ('num_steps', 'num_episodes', 'eval_every', 'eval_episodes', 'video',
                'plots', 'run_dir', 'resume')
STOP_RUN = 'stop_at_return'
# One xdist worker runs this module (and a session fixture outlives other modules' tests
# in between), so the fixture's tiny runs happen once.
pytestmark = pytest.mark.xdist_group('recipes')


class TinyRun(NamedTuple):
  result: subprocess.CompletedProcess
  run_dir: str
  args: List[str]


def _read(path: str) -> str:
  with open(path) as f:
    return f.read()


def _launcher(path: str) -> str:
  """The launcher module named in the recipe's header, e.g. 'experiments.run_dqn'."""
  match = LAUNCHER_LINE.search(_read(path))
  assert match, f'{path} has no "# Launcher: experiments/run_<agent>.py" line'
  return f'experiments.{match.group(2)}'


def _recipe_flags(path: str) -> Dict[str, object]:
  return run_dir_lib.parse_flags_text(_read(path), source=path)


def _tiny_budget(flags: Dict[str, object]) -> List[str]:
  if 'num_episodes' in flags:
    return ['--num_episodes=2']
  num_envs = int(flags.get('num_envs', 1))
  min_replay = int(flags.get('min_replay_size', 0))
  # Random CartPole episodes last 10-40 steps, but a policy that learns within the budget
  # may balance one episode to its limit (CartPole-v0: 200): the run finishes its last
  # episode, so one finished episode is what the budget guarantees.
  return [f'--num_steps={max(200, 25 * num_envs, min_replay + 100)}']


def _tiny_args(path: str) -> List[str]:
  return [*_tiny_budget(_recipe_flags(path)), '--eval_every=0', '--eval_episodes=2']


def _launch(path: str, run_dir: str, args: List[str]) -> TinyRun:
  args = [f'--flagfile={path}', *args, '--novideo', '--noplots', f'--run_dir={run_dir}']
  result = forkserver.run(_launcher(path), *args, timeout=150)
  return TinyRun(result, run_dir, args)


@pytest.fixture(scope='session')
def tiny_runs(tmp_path_factory) -> Dict[str, TinyRun]:
  """A tiny run of every recipe, and one that stops at --stop_at_return."""
  root = str(tmp_path_factory.mktemp('recipes'))
  jobs = {name: (path, _tiny_args(path)) for name, path in zip(NAMES, RECIPES)}
  jobs[STOP_RUN] = (os.path.join(RECIPES_DIR, 'seed001_nfq_gridworld.flags'),
                    ['--num_episodes=100', '--eval_every=50', '--eval_episodes=1',
                     '--stop_at_return=-1e9'])
  with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    futures = {name: pool.submit(_launch, path, os.path.join(root, name), args)
               for name, (path, args) in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def _rows(path: str) -> List[Dict[str, str]]:
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def test_there_is_a_recipe_per_seed():
  seeds = {name[:len('seed000')] for name in NAMES}
  assert seeds == {'seed000', 'seed001', 'seed002', 'seed003', 'seed004'}


@pytest.mark.parametrize('path', RECIPES, ids=NAMES)
def test_header_names_the_seed_and_an_existing_launcher(path):
  text = _read(path)
  name = os.path.basename(path)
  assert text.startswith(f'# Seed {name[4:7]} '), 'the first line names the seed'
  launcher_file = LAUNCHER_LINE.search(text).group(1)
  assert os.path.isfile(os.path.join(ROOT, launcher_file)), launcher_file
  command = (f'.venv/bin/python -m {_launcher(path)} '
             f'--flagfile=experiments/recipes/{name}')
  assert f'# Run: {command}\n' in text


@pytest.mark.parametrize('path', RECIPES, ids=NAMES)
def test_lines_are_comments_or_single_flags(path):
  # absl reads '#' only at the start of a line; a trailing comment would become
  # part of the flag's value.
  for number, line in enumerate(_read(path).splitlines(), start=1):
    if line and not line.startswith('#'):
      assert re.fullmatch(r'--\w+(=\S+)?', line), f'{path}:{number}: {line!r}'
  flags = _recipe_flags(path)
  assert not any(isinstance(v, list) for v in flags.values()), 'a flag is given twice'
  assert not set(flags) & {'run_dir', 'resume', 'runs_root'}, 'recipes leave the run dir open'


@pytest.mark.parametrize('name', NAMES)
def test_tiny_run_parses_every_flag_and_writes_its_logs(tiny_runs, name):
  run = tiny_runs[name]
  assert run.result.returncode == 0, run.result.stderr[-3000:]
  assert 'Greedy evaluation over 2 episodes' in run.result.stdout
  saved = run_dir_lib.parse_flags_text(_read(os.path.join(run.run_dir, 'flags.txt')))
  for flag, value in _recipe_flags(os.path.join(RECIPES_DIR, f'{name}.flags')).items():
    if flag in BUDGET_FLAGS:
      continue
    assert flag in saved, f'--{flag} did not reach the run'
    if isinstance(value, bool):
      assert saved[flag] is value, flag
    else:
      try:
        assert float(saved[flag]) == float(value), flag
      except ValueError:
        assert saved[flag] == value, flag
  logs = os.path.join(run.run_dir, 'logs')
  train = _rows(os.path.join(logs, 'train.csv'))
  step_budget = [int(a.split('=')[1]) for a in run.args if a.startswith('--num_steps=')]
  if step_budget:  # The run took its whole budget and finished at least one episode.
    assert train and int(train[-1]['actor_steps']) >= step_budget[0]
    assert int(train[-1]['actor_episodes']) >= 1
  else:
    assert train and int(train[-1]['actor_episodes']) >= 2
  evaluations = _rows(os.path.join(logs, 'evaluator.csv'))
  assert evaluations and float(evaluations[-1]['evaluator_episodes']) >= 2
  assert any(f.endswith('.pt') for f in os.listdir(os.path.join(run.run_dir, 'checkpoints')))


def test_max_episode_steps_truncates_and_reaches_the_saved_environment(tiny_runs):
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  run = tiny_runs['seed001_dqn_gridworld']
  train = _rows(os.path.join(run.run_dir, 'logs', 'train.csv'))
  assert max(int(row['episode_length']) for row in train) <= 50
  loaded = registry.load_policy(run.run_dir)
  assert loaded.environment_kwargs == {'observation_type': 'GRID', 'max_episode_length': 50}


def test_stop_at_return_ends_training_at_the_first_good_evaluation(tiny_runs):
  run = tiny_runs[STOP_RUN]
  assert run.result.returncode == 0, run.result.stderr[-3000:]
  assert 'Solved at' in run.result.stdout
  train = _rows(os.path.join(run.run_dir, 'logs', 'train.csv'))
  evaluations = _rows(os.path.join(run.run_dir, 'logs', 'evaluator.csv'))
  assert len(train) < 100 and 50 <= int(train[-1]['actor_steps']) < 50 + 200
  assert [row['actor_steps'] for row in evaluations] == [train[-1]['actor_steps']]
