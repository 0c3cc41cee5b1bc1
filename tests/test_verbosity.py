"""configure_output: quiet hides TensorFlow's, Reverb's and SDL's chatter; debug shows it."""

import os
import select
import subprocess
import sys

import pytest

from rlkit.utils import verbosity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imports TensorFlow and Reverb, checkpoints a server and restores it (Reverb's
# resume lines), renders CartPole (SDL), and writes lines that must get through.
SCRIPT = r"""
import logging, os, sys, tempfile
from rlkit.utils import verbosity
verbosity.configure_output(int(sys.argv[1]))
from absl import app

def main(argv):
  import reverb
  import tensorflow
  directory = tempfile.mkdtemp()
  def start():
    return reverb.Server([reverb.Table.queue('q', 10)], port=None,
                         checkpointer=reverb.checkpointers.DefaultCheckpointer(directory))
  server = start()
  client = reverb.Client(f'localhost:{server.port}')
  client.insert([1.0], {'q': 1.0})
  client.checkpoint()
  server.stop()
  start().stop()
  import gymnasium
  env = gymnasium.make('CartPole-v1', render_mode='rgb_array')
  env.reset(seed=0)
  frame = env.render()
  env.close()
  logging.getLogger('matplotlib').warning('a python warning')
  logging.getLogger('matplotlib').info('a python info line')
  print('our own line, frame', frame.shape, flush=True)
  print('an error of ours', file=sys.stderr, flush=True)
  os.write(2, b'[reverb/cc/x.cc:1] Check failed: kept because it is a problem\n')

app.run(main, argv=sys.argv[:1])  # As a launcher: absl sets Python logging from its flags.
"""

CHATTER = ('Stored checkpoint to', 'Still reading compressed trajectory data',
           'Started replay server', 'cpu_feature_guard', 'XDG_RUNTIME_DIR')


def _run(level: int) -> str:
  env = {k: v for k, v in os.environ.items()
         if k not in ('XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY', 'SDL_VIDEODRIVER',
                      'TF_CPP_MIN_LOG_LEVEL', 'GLOG_minloglevel')}
  result = subprocess.run([sys.executable, '-c', SCRIPT, str(level)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=240)
  assert result.returncode == 0, result.stderr
  return result.stdout + result.stderr


def test_quiet_hides_native_chatter_and_keeps_our_lines():
  output = _run(verbosity.QUIET)
  for line in CHATTER:
    assert line not in output, output
  assert '[reverb/cc/' in output  # The problem line only.
  assert output.count('[reverb/cc/') == 1, output
  assert 'a python warning' not in output and 'a python info line' not in output
  for line in ('our own line, frame (400, 600, 3)', 'an error of ours', 'Check failed'):
    assert line in output, output


def test_debug_shows_everything():
  output = _run(verbosity.DEBUG)
  # TensorFlow's cpu_feature_guard notice only appears on CPUs with instructions
  # (AVX2, FMA) its build does not use, so it is not required here.
  shown = tuple(line for line in CHATTER if line != 'cpu_feature_guard')
  for line in shown + ('a python warning', 'a python info line', 'our own line',
                       'an error of ours'):
    assert line in output, output


def test_the_filter_passes_partial_lines_at_once_and_drops_reverb_lines():
  process = subprocess.Popen([sys.executable, '-S', '-c', verbosity._FILTER_CODE],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
  try:
    process.stdin.write(b'progress 10%')
    process.stdin.flush()
    ready, _, _ = select.select([process.stdout], [], [], 30)
    assert ready and os.read(process.stdout.fileno(), 100) == b'progress 10%'
    process.stdin.write(b' 20%\n[reverb/cc/a.cc:1] Stored checkpoint to x\n[rev')
    process.stdin.flush()
    process.stdin.write(b'erb/cc/b.cc:2] Started replay server\n[reverb/cc/c.cc:3] '
                        b'Failed to read\nlast')
    process.stdin.close()
    assert process.stdout.read() == b' 20%\n[reverb/cc/c.cc:3] Failed to read\nlast'
  finally:
    process.kill()
    process.wait()


@pytest.mark.parametrize('value, level', [(0, 0), (2, 2), ('quiet', 0), ('Default', 1),
                                          ('debug', 2)])
def test_parse_level(value, level):
  assert verbosity.parse_level(value) == level


@pytest.mark.parametrize('value', [3, -1, True, 'loud', None, 1.0])
def test_bad_levels_are_rejected(value):
  with pytest.raises(ValueError, match='verbosity must be'):
    verbosity.parse_level(value)


ENV_SCRIPT = r"""
import os, stat, sys
from rlkit.utils import verbosity
verbosity.configure_output(sys.argv[1], filter_stderr=sys.argv[2] == '1')
xdg = os.environ.get('XDG_RUNTIME_DIR', '')
print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['GLOG_minloglevel'],
      stat.S_ISFIFO(os.fstat(2).st_mode), bool(xdg) and oct(os.stat(xdg).st_mode & 0o777),
      verbosity.verbosity())
"""


@pytest.mark.parametrize('level, filtered, expected', [
    ('quiet', '1', ['2', '2', 'True', '0o700', '0']),
    ('quiet', '0', ['2', '2', 'False', '0o700', '0']),
    ('default', '1', ['1', '1', 'True', '0o700', '1']),
    ('debug', '1', ['0', '0', 'False', 'False', '2']),
])
def test_environment_and_stderr_per_level(level, filtered, expected, tmp_path):
  env = {k: v for k, v in os.environ.items() if k != 'XDG_RUNTIME_DIR'}
  with open(tmp_path / 'stderr', 'w') as stderr:  # A file: fd 2 is a pipe only when filtered.
    result = subprocess.run([sys.executable, '-c', ENV_SCRIPT, level, filtered],
                            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT,
                            env=env, timeout=60)
  assert result.returncode == 0, (tmp_path / 'stderr').read_text()
  assert result.stdout.split() == expected
