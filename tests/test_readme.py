"""The README's commands still parse: every launcher flag exists, every module is there."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_COMMAND = re.compile(r'\.venv/bin/python -m (\S+)([^`\n]*)')


def readme_commands():
  """(module, args) of every `.venv/bin/python -m` command in README.md."""
  with open(os.path.join(ROOT, 'README.md')) as f:
    text = f.read()
  commands = []
  for module, rest in _COMMAND.findall(text):
    rest = rest.split('  #')[0]
    # Optional parts `[--flag=value]` are checked too; `[--flag=...]` repeats one.
    rest = re.sub(r'\[([^\]]*\.\.\.[^\]]*)\]', '', rest)
    rest = re.sub(r'\[([^\]]*)\]', r'\1', rest)
    rest = rest.replace('<timestamp>', '20260101-000000')
    commands.append((module, tuple(shlex.split(rest))))
  return commands


COMMANDS = readme_commands()


def test_the_readme_has_commands_for_launchers_and_benchmarks():
  modules = {module for module, _ in COMMANDS}
  assert {'experiments.run_dqn', 'experiments.run_nfq', 'experiments.run_reinforce',
          'experiments.run_actor_critic', 'experiments.evaluate',
          'experiments.plot'} <= modules
  assert sum(m.startswith('benchmarks.') for m in modules) >= 6


@pytest.mark.parametrize('module, args', COMMANDS,
                         ids=[f'{m} {" ".join(a)}'[:80] for m, a in COMMANDS])
def test_readme_command_parses(module, args):
  assert importlib.util.find_spec(module) is not None, module
  if not module.startswith('experiments.'):
    return  # Benchmarks: test_benchmarks.py runs each one.
  result = subprocess.run(
      [sys.executable, '-m', module, *args, '--only_check_args'], cwd=ROOT,
      capture_output=True, text=True, timeout=120,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert result.returncode == 0, result.stderr[-2000:]
