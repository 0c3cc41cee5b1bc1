"""How much a run prints besides its own lines: `configure_output(verbosity)`.

Launchers call it first, before TensorFlow, Reverb or pygame are imported
(they read their settings from the environment once, at import):

* 0 (QUIET): our progress line and summary only; TensorFlow C++ INFO and
  WARNING lines, Python logging below ERROR, Reverb's informational lines
  and SDL's XDG_RUNTIME_DIR complaint are hidden.
* 1 (DEFAULT): as quiet, but warnings (TensorFlow's, Python logging's) show.
* 2 (DEBUG): everything, unfiltered, and Python logging at DEBUG.

Where the chatter comes from:

* TensorFlow's `cpu_feature_guard` notice at import is a C++ INFO line:
  TF_CPP_MIN_LOG_LEVEL (GLOG_minloglevel for libraries logging with glog).
* Reverb's lines (`[reverb/cc/...] Stored checkpoint to`, `Still reading
  compressed trajectory data`, server start/stop, ...) come from Reverb's own
  logging, which writes every message to std::clog (file descriptor 2) with
  no level and no setting to turn it off. Below DEBUG, file descriptor 2 is
  therefore piped through a small filter process that drops `[reverb/cc/`
  lines unless they mention a problem (error, fail, warn, invalid, ...); all
  other stderr output passes unchanged. A separate process, not a thread, so
  that what a crashing run writes last (a fatal Reverb check, a native
  abort) still gets through; it runs in its own session (a Ctrl-C or a signal
  to the run's process group does not stop it) and ends when every writer
  has closed the pipe.
* `error: XDG_RUNTIME_DIR is invalid or not set` is SDL's (pygame, used by
  gymnasium's classic-control rendering) when it initialises video without
  that variable; when unset it is pointed at a private temporary directory,
  which changes nothing else (the video driver is untouched).
* Matplotlib's INFO lines (`generated new fontManager`) reach the terminal
  because absl's `app.run` sets Python logging to INFO.
"""

import atexit
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from typing import Optional, Union

QUIET, DEFAULT, DEBUG = 0, 1, 2
LEVELS = {'quiet': QUIET, 'default': DEFAULT, 'debug': DEBUG}

# TF_CPP_MIN_LOG_LEVEL / GLOG_minloglevel: 0 shows INFO, 1 WARNING, 2 ERROR.
_NATIVE_MIN_LEVEL = {QUIET: '2', DEFAULT: '1', DEBUG: '0'}
_GRPC_VERBOSITY = {QUIET: 'ERROR', DEFAULT: 'ERROR', DEBUG: 'INFO'}
_PYTHON_LEVEL = {QUIET: logging.ERROR, DEFAULT: logging.WARNING, DEBUG: logging.DEBUG}
_ABSL_LEVEL = {QUIET: 'error', DEFAULT: 'warning', DEBUG: 'debug'}  # absl's own scale.
_LIBRARIES_LOADING_ENV = ('tensorflow', 'reverb')

REVERB_PREFIX = b'[reverb/cc/'
PROBLEM_WORDS = (b'error', b'fail', b'warn', b'invalid', b'unable', b'cannot', b'could not',
                 b'abort', b'fatal', b'corrupt', b'not found', b'denied')

# The filter process: copies stdin to stdout, dropping Reverb's informational
# lines. A partial line (a prompt, a progress bar on stderr) is passed on at
# once unless it may still become a Reverb line. Standard library only; runs
# with `python -S`.
_FILTER_CODE = f"""
import os, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
prefix, words = {REVERB_PREFIX!r}, {PROBLEM_WORDS!r}

def keep(line):
  return not line.startswith(prefix) or any(w in line.lower() for w in words)

def write(data):
  while data:
    data = data[os.write(1, data):]

pending, passing = b'', False  # passing: the current line is being passed on.
try:
  while True:
    chunk = os.read(0, 65536)
    if not chunk:
      break
    data, pending, out = pending + chunk, b'', []
    while data:
      end = data.find(b'\\n') + 1  # 0: no complete line.
      if passing:
        part = data[:end] if end else data
        out.append(part)
        data, passing = data[len(part):], not end
      elif end:
        line, data = data[:end], data[end:]
        if keep(line):
          out.append(line)
      elif data.startswith(prefix) or prefix.startswith(data):
        pending, data = data, b''  # May be a Reverb line: wait for its end.
      else:
        out.append(data)
        data, passing = b'', True
    write(b''.join(out))
  if pending and keep(pending):
    write(pending)
except (BrokenPipeError, KeyboardInterrupt):
  pass
"""

_state = {'verbosity': None, 'filter': None, 'saved_stderr': None, 'xdg_dir': None}


def verbosity() -> Optional[int]:
  """The level last given to `configure_output` (None: never called)."""
  return _state['verbosity']


def parse_level(value: Union[int, str]) -> int:
  """0/1/2 or 'quiet'/'default'/'debug' -> the level."""
  if isinstance(value, str) and value.strip().lower() in LEVELS:
    return LEVELS[value.strip().lower()]
  if isinstance(value, int) and not isinstance(value, bool) and value in LEVELS.values():
    return value
  raise ValueError(f'verbosity must be 0, 1, 2 or one of {sorted(LEVELS)}, got {value!r}.')


def configure_output(verbosity_level: Union[int, str], filter_stderr: bool = True) -> None:
  """Sets what TensorFlow, Reverb, SDL and Python logging print (see module doc).

  Call it before TensorFlow or Reverb is imported: their native log levels
  are read once, at import (a RuntimeWarning says so otherwise). It may be
  called again; the last call wins (the stderr filter is started or stopped).

  Args:
    verbosity_level: 0/1/2 or 'quiet'/'default'/'debug'.
    filter_stderr: whether (below DEBUG) file descriptor 2 goes through the
      Reverb line filter; pass False where something else owns descriptor 2
      (pytest's output capture, for a run started inside a test).
  """
  level = parse_level(verbosity_level)
  loaded = [name for name in _LIBRARIES_LOADING_ENV if name in sys.modules]
  if loaded and os.environ.get('TF_CPP_MIN_LOG_LEVEL') != _NATIVE_MIN_LEVEL[level]:
    warnings.warn(f'configure_output({level}) after {", ".join(loaded)} was imported: their '
                  'native log levels are already set; call it first.', RuntimeWarning,
                  stacklevel=2)
  os.environ['TF_CPP_MIN_LOG_LEVEL'] = _NATIVE_MIN_LEVEL[level]
  os.environ['GLOG_minloglevel'] = _NATIVE_MIN_LEVEL[level]
  os.environ['GRPC_VERBOSITY'] = _GRPC_VERBOSITY[level]
  if level < DEBUG:
    os.environ.setdefault('PYGAME_HIDE_SUPPORT_PROMPT', '1')
    _set_xdg_runtime_dir()
  _set_python_logging(level)
  if level < DEBUG and filter_stderr:
    _start_filter()
  else:
    _stop_filter()
  _state['verbosity'] = level


def _set_python_logging(level: int) -> None:
  python_level = _PYTHON_LEVEL[level]
  try:
    from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
    absl_logging.set_verbosity(_ABSL_LEVEL[level])  # What absl's app.run applies to the root.
  except ImportError:
    pass
  logging.getLogger().setLevel(python_level)
  logging.getLogger('tensorflow').setLevel(python_level)


def _set_xdg_runtime_dir() -> None:
  if os.environ.get('XDG_RUNTIME_DIR'):
    return
  directory = tempfile.mkdtemp(prefix='rlkit-xdg-')  # Mode 0700, as SDL wants.
  os.environ['XDG_RUNTIME_DIR'] = directory
  _state['xdg_dir'] = directory
  atexit.register(shutil.rmtree, directory, True)


def _start_filter() -> None:
  if _state['filter'] is not None:
    return
  try:
    sys.stderr.flush()
  except (AttributeError, ValueError):
    pass
  saved = os.dup(2)
  read_end, write_end = os.pipe()
  try:
    process = subprocess.Popen([sys.executable, '-S', '-c', _FILTER_CODE], stdin=read_end,
                               stdout=saved, stderr=saved, close_fds=True,
                               start_new_session=True)
  except OSError:
    os.close(read_end)
    os.close(write_end)
    os.close(saved)
    return
  os.close(read_end)
  os.dup2(write_end, 2)
  os.close(write_end)
  _state['filter'], _state['saved_stderr'] = process, saved
  atexit.register(_stop_filter)


def _stop_filter() -> None:
  """Puts the original stderr back and lets the filter drain and exit."""
  process, saved = _state['filter'], _state['saved_stderr']
  if process is None:
    return
  try:
    sys.stderr.flush()
  except (AttributeError, ValueError):
    pass
  os.dup2(saved, 2)
  os.close(saved)
  _state['filter'] = _state['saved_stderr'] = None
  try:
    process.wait(timeout=2)
  except subprocess.TimeoutExpired:
    pass  # A child process still holds the pipe; the filter ends with it.
