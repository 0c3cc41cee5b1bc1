"""Launcher processes forked from a warm interpreter, for tests.

A fresh `python -m experiments.run_dqn ...` spends about 7 s importing
TensorFlow (for Reverb), torch and gymnasium before it reads a flag; the suite
starts about a hundred of them. Like multiprocessing's forkserver, one server
process per test process imports those libraries once and forks a child per
command. The child then runs the module exactly as `python -m` would
(`runpy.run_module(..., run_name='__main__')`, with its own argv, cwd,
environment and stdio), and exits through the normal interpreter shutdown, so
exit statuses, atexit handlers and signal handling are those of a fresh process.

What a fork cannot give: anything that happens while those libraries are
imported (native log lines, import-time environment variables, which modules a
launcher imports before it checks its flags). Tests of those start a real
interpreter with `subprocess` instead.

    result = forkserver.run('experiments.run_dqn', '--num_steps=100', timeout=60)
    process = forkserver.start('experiments.run_dqn', ..., stdout=log_file)

Code that starts `[sys.executable, '-m', ...]` itself (the benchmarks) gets the
same by `monkeypatch.setattr(module, 'subprocess', forkserver.SUBPROCESS)`.
"""

import atexit
import gc
import json
import os
import runpy
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
import types
import warnings
from typing import Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a launcher imports anyway; the slow ones (seconds in all) are TensorFlow, torch
# (with torch._dynamo, which the optimizers pull in) and matplotlib.
PRELOAD = ('numpy', 'torch', 'torch._dynamo', 'reverb', 'gymnasium', 'matplotlib',
           'matplotlib.figure', 'rlkit.agents.registry', 'rlkit.agents.value_based.builder',
           'rlkit.experiments.run_experiment', 'experiments.launcher')
PIPE, STDOUT, DEVNULL = subprocess.PIPE, subprocess.STDOUT, subprocess.DEVNULL
_HEADER = struct.Struct('!I')
# Read once: a test may point `tempfile.tempdir` at its own directory.
_TEMP_ROOT = tempfile.gettempdir()


# ---------------------------------------------------------------- server side

def _serve(path: str) -> Optional[dict]:
  """Forks one child per request; returns the request in the child, None at the end."""
  listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
  listener.bind(path)
  listener.listen(64)
  print('ready', flush=True)
  children = {}  # pidfd -> (pid, connection)
  while True:
    waiting = [listener, sys.stdin] + list(children)
    readable, _, _ = select.select(waiting, [], [])
    if sys.stdin in readable and not sys.stdin.buffer.read1(1):
      return None  # The test process has gone.
    for pidfd in [r for r in readable if isinstance(r, int)]:
      pid, connection = children.pop(pidfd)
      _, status = os.waitpid(pid, 0)
      os.close(pidfd)
      _send(connection, {'returncode': _returncode(status)})
      connection.close()
    if listener in readable:
      connection, _ = listener.accept()
      request, fds = _receive_request(connection)
      pid = os.fork()
      if pid == 0:
        listener.close()
        for _, other in children.values():
          other.close()
        for pidfd in children:
          os.close(pidfd)
        connection.close()
        for target, fd in enumerate(fds):
          os.dup2(fd, target)
          os.close(fd)
        return request
      for fd in fds:
        os.close(fd)
      _send(connection, {'pid': pid})
      children[os.pidfd_open(pid)] = (pid, connection)


def _returncode(status: int) -> int:
  return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _receive_request(connection: socket.socket):
  size_bytes, fds, _, _ = socket.recv_fds(connection, _HEADER.size, 3)
  (size,) = _HEADER.unpack(size_bytes)
  body = b''
  while len(body) < size:
    body += connection.recv(size - len(body))
  return json.loads(body), fds


def _send(connection: socket.socket, message: dict, fds: List[int] = ()) -> None:
  body = json.dumps(message).encode()
  socket.send_fds(connection, [_HEADER.pack(len(body))], list(fds))
  connection.sendall(body)


def _run_in_child(request: dict) -> None:
  """Becomes `python -m request['module'] *request['args']`."""
  os.chdir(request['cwd'])
  os.environ.clear()
  os.environ.update(request['env'])
  import random  # pylint: disable=g-import-not-at-top
  import numpy  # pylint: disable=g-import-not-at-top
  random.seed()
  numpy.random.seed()
  sys.stdin = open(0, 'r', closefd=False)
  sys.stdout = open(1, 'w', closefd=False, buffering=1)
  sys.stderr = open(2, 'w', closefd=False, buffering=1)
  sys.argv = [request['module'], *request['args']]
  try:
    runpy.run_module(request['module'], run_name='__main__', alter_sys=True)
    code = 0
  except SystemExit as exit_:
    code = _exit_status(exit_.code)
  except KeyboardInterrupt:
    traceback.print_exc()
    code = -signal.SIGINT
  except BaseException:  # pylint: disable=broad-except
    traceback.print_exc()
    code = 1
  _exit(code)


def _exit_status(code) -> int:
  if code is None or isinstance(code, int):
    return code or 0
  print(code, file=sys.stderr)
  return 1


def _exit(code: int) -> None:
  """The interpreter's exit, less its teardown of modules.

  Tearing the preloaded modules down touches every page they share with the
  server (copy on write): about 3 s of a forked child's exit, none of a fresh
  process's. Threads are joined and atexit handlers run as at a normal exit.
  """
  threading._shutdown()  # pylint: disable=protected-access
  atexit._run_exitfuncs()  # pylint: disable=protected-access
  for stream in (sys.stdout, sys.stderr):
    try:
      stream.flush()
    except (OSError, ValueError):
      pass
  if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
  os._exit(code)  # pylint: disable=protected-access


def _main(path: str) -> None:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  # The preload is the case rlkit.utils.verbosity warns about (native log levels
  # fixed before the launcher sets them); tests of that run a fresh interpreter.
  warnings.filterwarnings('ignore', message=r'configure_output\(', category=RuntimeWarning)
  import importlib  # pylint: disable=g-import-not-at-top
  for name in PRELOAD:
    importlib.import_module(name)
  gc.freeze()  # Children's collections then leave the preloaded objects' pages shared.
  request = _serve(path)
  if request is not None:
    _run_in_child(request)


# ---------------------------------------------------------------- client side

class _Server:
  """The server process of this test process, started on first use."""

  def __init__(self):
    self.directory = tempfile.mkdtemp(prefix='rlkit-forkserver-', dir=_TEMP_ROOT)
    self.path = os.path.join(self.directory, 'socket')
    self.process = subprocess.Popen(
        [sys.executable, '-m', 'tests.forkserver', self.path], cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = self.process.stdout.readline()
    if line.strip() != b'ready':
      raise RuntimeError(f'the fork server did not start (said {line!r})')


_SERVER: Dict[int, _Server] = {}
_LOCK = threading.Lock()


def _server() -> _Server:
  with _LOCK:
    server = _SERVER.get(os.getpid())
    if server is None or server.process.poll() is not None:
      server = _SERVER[os.getpid()] = _Server()
    return server


class ForkedProcess:
  """The parts of `subprocess.Popen` the tests use, for a forked launcher."""

  def __init__(self, module: str, args: List[str], *, cwd: str, env: Optional[dict],
               stdin=DEVNULL, stdout=None, stderr=None):
    self.args = ['-m', module, *args]
    self.returncode = None
    self.stdout = self.stderr = None
    ours, theirs = [], []
    fds = []
    for target, spec in ((0, stdin), (1, stdout), (2, stderr)):
      if spec is PIPE:
        read_end, write_end = os.pipe()
        ours_end, child_end = (write_end, read_end) if target == 0 else (read_end, write_end)
        theirs.append(child_end)
        ours.append((target, ours_end))
        fds.append(child_end)
      elif spec is STDOUT and target == 2:
        fds.append(fds[1])
      elif spec is DEVNULL or spec is None and target == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        theirs.append(fd)
        fds.append(fd)
      elif spec is None:
        fds.append(target)
      else:
        fds.append(spec.fileno() if hasattr(spec, 'fileno') else int(spec))
    self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    self._connection.connect(_server().path)
    _send(self._connection, {'module': module, 'args': list(args), 'cwd': cwd,
                             'env': dict(os.environ if env is None else env)}, fds)
    for fd in theirs:
      os.close(fd)
    for target, fd in ours:
      stream = os.fdopen(fd, 'w' if target == 0 else 'r')
      setattr(self, ('stdin', 'stdout', 'stderr')[target], stream)
    self.pid = self._receive()['pid']

  def _receive(self) -> dict:
    header = b''
    while len(header) < _HEADER.size:
      chunk = self._connection.recv(_HEADER.size - len(header))
      if not chunk:
        raise RuntimeError('the fork server closed the connection')
      header += chunk
    (size,) = _HEADER.unpack(header)
    body = b''
    while len(body) < size:
      body += self._connection.recv(size - len(body))
    return json.loads(body)

  def poll(self) -> Optional[int]:
    if self.returncode is None and select.select([self._connection], [], [], 0)[0]:
      self._finish()
    return self.returncode

  def wait(self, timeout: Optional[float] = None) -> int:
    if self.returncode is None:
      if not select.select([self._connection], [], [], timeout)[0]:
        raise subprocess.TimeoutExpired(self.args, timeout)
      self._finish()
    return self.returncode

  def _finish(self):
    self.returncode = self._receive()['returncode']
    self._connection.close()

  def communicate(self, input=None, timeout: Optional[float] = None):  # pylint: disable=redefined-builtin
    del input
    results = {}

    def read(name, stream):
      results[name] = stream.read()
      stream.close()

    readers = [threading.Thread(target=read, args=(name, stream), daemon=True)
               for name, stream in (('stdout', self.stdout), ('stderr', self.stderr))
               if stream is not None]
    for reader in readers:
      reader.start()
    self.wait(timeout)
    for reader in readers:
      reader.join(timeout)
    return results.get('stdout'), results.get('stderr')

  def send_signal(self, sig: int) -> None:
    if self.poll() is None:
      os.kill(self.pid, sig)

  def terminate(self) -> None:
    self.send_signal(signal.SIGTERM)

  def kill(self) -> None:
    self.send_signal(signal.SIGKILL)


def start(module: str, *args: str, cwd: str = ROOT, env: Optional[dict] = None,
          stdin=DEVNULL, stdout=None, stderr=None):
  """Like `subprocess.Popen([python, '-m', module, *args], ...)`; text streams.

  Without a fork server (no `os.pidfd_open` on this system) it is that Popen.
  """
  if hasattr(os, 'pidfd_open'):
    return ForkedProcess(module, list(args), cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                         stderr=stderr)
  return subprocess.Popen([sys.executable, '-m', module, *args], cwd=cwd, env=env,
                          stdin=stdin, stdout=stdout, stderr=stderr, text=True)


def run(module: str, *args: str, cwd: str = ROOT, env: Optional[dict] = None,
        timeout: Optional[float] = None) -> subprocess.CompletedProcess:
  """Like `subprocess.run([python, '-m', module, *args], capture_output=True, text=True)`."""
  process = start(module, *args, cwd=cwd, env=env, stdout=PIPE, stderr=PIPE)
  try:
    stdout, stderr = process.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    process.kill()
    process.wait()
    raise
  return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _module_command(command) -> Optional[List[str]]:
  """[module, *args] of a `[sys.executable, '-m', module, *args]` command, else None."""
  command = list(command)
  if len(command) > 2 and command[:2] == [sys.executable, '-m']:
    return command[2:]
  return None


def popen(command, *, cwd: Optional[str] = None, env: Optional[dict] = None, stdin=None,
          stdout=None, stderr=None, text: Optional[bool] = None, **kwargs):
  """`subprocess.Popen`, forking `python -m` commands (text streams); others as they are."""
  module_command = _module_command(command)
  if module_command is None or kwargs:
    return subprocess.Popen(command, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                            stderr=stderr, text=text, **kwargs)
  return start(*module_command, cwd=cwd or os.getcwd(), env=env,
               stdin=DEVNULL if stdin is None else stdin, stdout=stdout, stderr=stderr)


def run_command(command, *, capture_output: bool = False, text: Optional[bool] = None,
                cwd: Optional[str] = None, env: Optional[dict] = None,
                timeout: Optional[float] = None, check: bool = False, **kwargs):
  """`subprocess.run`, forking `python -m` commands that capture their text output."""
  module_command = _module_command(command)
  if module_command is None or not capture_output or not text or kwargs:
    return subprocess.run(command, capture_output=capture_output, text=text, cwd=cwd, env=env,
                          timeout=timeout, check=check, **kwargs)
  result = run(*module_command, cwd=cwd or os.getcwd(), env=env, timeout=timeout)
  if check:
    result.check_returncode()
  return result


# A stand-in for the `subprocess` module of code under test.
SUBPROCESS = types.SimpleNamespace(
    Popen=popen, run=run_command, PIPE=PIPE, STDOUT=STDOUT, DEVNULL=DEVNULL,
    TimeoutExpired=subprocess.TimeoutExpired, CompletedProcess=subprocess.CompletedProcess,
    CalledProcessError=subprocess.CalledProcessError)


if __name__ == '__main__':
  _main(sys.argv[1])
