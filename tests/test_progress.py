"""ProgressReporter: a live tqdm line on a terminal, plain lines otherwise."""

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from rlkit.utils import progress

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LIVE_SCRIPT = """
import time
from rlkit.utils import progress
reporter = progress.ProgressReporter(budget=1000, unit='steps')
assert reporter.live
for i in range(1, 6):
  reporter.update({'actor_steps': 200 * i, 'actor_episodes': i},
                  train_return=10.0 * i, eval_return=(99.5 if i >= 3 else None))
  time.sleep(0.12)
reporter.write('a message')
reporter.close()
"""


def _run_on_a_terminal(script: str, rows: int, columns: int) -> str:
  parent, child = pty.openpty()
  fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack('HHHH', rows, columns, 0, 0))
  process = subprocess.Popen([sys.executable, '-c', script], stdin=child, stdout=child,
                             stderr=subprocess.PIPE, cwd=ROOT, close_fds=True)
  os.close(child)
  chunks = []
  deadline = time.monotonic() + 60
  while time.monotonic() < deadline:
    ready, _, _ = select.select([parent], [], [], 0.5)
    if ready:
      try:
        data = os.read(parent, 4096)
      except OSError:  # EIO once the child's side is closed.
        break
      if not data:
        break
      chunks.append(data)
    elif process.poll() is not None:
      break
  os.close(parent)
  _, stderr = process.communicate(timeout=30)
  assert process.returncode == 0, stderr.decode()
  return b''.join(chunks).decode()


@pytest.mark.parametrize('rows, columns', [(40, 120), (0, 0)])  # (0, 0): a bare pty.
def test_a_terminal_gets_one_line_redrawn_in_place(rows, columns):
  output = _run_on_a_terminal(LIVE_SCRIPT, rows, columns)
  redraws = output.split('\r')
  assert len(redraws) >= 4, repr(output)
  last = [r for r in redraws if '1000/1000' in r][-1]
  assert '[train]' in last and 'steps/s' in last
  assert 'return=50.0' in last and 'eval=99.5' in last
  assert re.search(r'\d\d:\d\d<\d\d:\d\d', last), last  # elapsed<ETA
  assert 'a message' in output
  # One line: the redraws are carriage returns, not new lines.
  before_close = output.split('a message')[0]
  assert before_close.count('\n') <= 1, repr(before_close)


def _plain_reporter(stream, **kwargs):
  return progress.ProgressReporter(stream=stream, **kwargs)


def test_without_a_terminal_plain_lines_every_period(monkeypatch):
  clock = [100.0]
  monkeypatch.setattr(progress.time, 'monotonic', lambda: clock[0])
  stream = io.StringIO()
  reporter = _plain_reporter(stream, budget=1000, period_s=10.0)
  assert not reporter.live
  reporter.update({'actor_steps': 100}, train_return=5.0)
  for steps in (200, 300):
    clock[0] += 4.0
    reporter.update({'actor_steps': steps}, train_return=6.0)
  clock[0] += 4.0  # 12 s after the first line.
  reporter.update({'actor_steps': 400}, train_return=7.0, eval_return=55.0)
  clock[0] += 1.0
  reporter.update({'actor_steps': 450})
  reporter.close()
  reporter.close()
  lines = stream.getvalue().splitlines()
  assert len(lines) == 3, lines
  assert lines[0].startswith('[train] 100/1000 steps (10%)')
  assert lines[1] == ('[train] 400/1000 steps (40%) | elapsed 0:00:12 | 25 steps/s | '
                      'ETA 0:00:24 | return 7.0 | eval 55.0')
  assert lines[2].startswith('[train] 450/1000 steps (45%)')
  assert '\r' not in stream.getvalue()


def test_episode_budget_and_unknown_budget():
  stream = io.StringIO()
  reporter = _plain_reporter(stream, budget=50, unit='episodes')
  reporter.update({'actor_steps': 10, 'actor_episodes': 2})
  reporter.close()
  assert stream.getvalue().startswith('[train] 2/50 episodes (4%)')

  stream = io.StringIO()
  reporter = _plain_reporter(stream, budget=None)
  reporter.update({'actor_steps': 10})
  reporter.close()
  assert stream.getvalue().startswith('[train] 10 steps | elapsed')
  assert 'ETA' not in stream.getvalue()


def test_as_a_logger_it_takes_train_and_evaluator_rows():
  stream = io.StringIO()
  reporter = _plain_reporter(stream, budget=100, period_s=1e9)
  train, evaluator = reporter.logger(), reporter.logger('return_mean', evaluation=True)
  train.write({'actor_steps': 10, 'episode_return': 3.0})
  evaluator.write({'actor_steps': 10, 'return_mean': 8.25})
  train.close()
  evaluator.close()
  reporter.close()
  assert stream.getvalue().splitlines()[-1].endswith('| return 3.0 | eval 8.2')


@pytest.mark.parametrize('kwargs, message', [
    ({'budget': 0}, 'budget'),
    ({'budget': 1.5}, 'budget'),
    ({'unit': 'hours'}, 'unit'),
    ({'period_s': 0}, 'period_s'),
])
def test_bad_arguments_are_rejected(kwargs, message):
  with pytest.raises(ValueError, match=message):
    progress.ProgressReporter(stream=io.StringIO(), **kwargs)


def test_counts_without_the_progress_key_are_rejected():
  reporter = _plain_reporter(io.StringIO(), unit='episodes')
  with pytest.raises(KeyError, match='actor_episodes'):
    reporter.update({'actor_steps': 3})
