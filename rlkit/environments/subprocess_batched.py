"""N copies of an environment stepped in worker processes.

`SubprocessBatchedEnvironment` has the interface and the semantics of
`rlkit.environments.batched.BatchedEnvironment` (batched specs, per-copy
automatic reset, distinct reproducible seeds), but the copies live in
`num_processes` worker processes, each running a `BatchedEnvironment` over its
share of the copies; a step sends every worker its actions first and then
collects the results, so the workers step in parallel. With the same
`make_env` and seed it produces exactly the timesteps of the in-process
version.

It pays off when stepping the environment costs more than sending its
observations between processes (physics simulators, emulators, rendering);
for a cheap environment such as CartPole the in-process version is faster.
Workers are started with the 'spawn' method (safe beside TensorFlow and torch
threads), so `make_env` must be picklable: a module-level function or a
`functools.partial` of one, not a lambda.
"""

import multiprocessing
import pickle
import signal
import traceback
from multiprocessing import connection
from typing import Any, Callable, Dict, List, Optional, Sequence

import dm_env
import numpy as np

from rlkit import specs
from rlkit.environments import batched

_START_METHODS = ('spawn', 'forkserver', 'fork')


def _error(error: Exception):
  """(the exception, or a RuntimeError if it cannot be pickled; its traceback)."""
  try:
    pickle.loads(pickle.dumps(error))
  except Exception:  # pylint: disable=broad-except
    error = RuntimeError(f'{type(error).__name__}: {error}')
  return error, traceback.format_exc()


def _worker(conn: connection.Connection,
            make_env: Callable[[Optional[int]], dm_env.Environment],
            seeds: Sequence[Optional[int]]) -> None:
  """Serves (command, argument) requests on `conn` until 'close'.

  Ctrl-C reaches every process of the terminal's group: the worker ignores
  it, so that the parent can still read the copies' states for its final
  checkpoint; it ends when the parent closes it or goes away.
  """
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  try:
    environment = batched.BatchedEnvironment([make_env(s) for s in seeds])
  except Exception as e:  # pylint: disable=broad-except
    conn.send(('error', _error(e)))
    conn.close()
    return
  conn.send(('ok', environment.single_environment_spec()))
  commands = {
      'reset': lambda _: environment.reset(),
      'step': environment.step,
      'get_rng_state': lambda _: environment.get_rng_state(),
      'set_rng_state': environment.set_rng_state,
      'render': environment.render,
  }
  try:
    while True:
      try:
        command, argument = conn.recv()
      except EOFError:
        return
      if command == 'close':
        return
      try:
        conn.send(('ok', commands[command](argument)))
      except Exception as e:  # pylint: disable=broad-except
        conn.send(('error', _error(e)))
  finally:
    environment.close()
    conn.close()


class SubprocessBatchedEnvironment(batched.BatchedEnvironmentBase):
  """Steps N copies of an environment in worker processes.

  Args:
    make_env: picklable function seed -> environment, called in the workers.
    num_envs: number of copies.
    seed: base seed; copy i gets `batched.copy_seeds(seed, num_envs)[i]`.
    num_processes: worker processes (default: min(num_envs, CPU count));
      the copies are split among them in order, as evenly as possible.
    start_method: multiprocessing start method: 'spawn' (default),
      'forkserver' or 'fork' (fast, but unsafe once TensorFlow or torch
      started threads).
    timeout_s: how long any reply of a worker may take (starting it included)
      before a TimeoutError.
  """

  def __init__(self,
               make_env: Callable[[Optional[int]], dm_env.Environment],
               num_envs: int,
               seed: Optional[int] = None,
               num_processes: Optional[int] = None,
               start_method: str = 'spawn',
               timeout_s: float = 120.0):
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
      raise ValueError(f'num_envs must be a positive integer, got {num_envs!r}.')
    if num_processes is None:
      num_processes = min(num_envs, multiprocessing.cpu_count())
    if (isinstance(num_processes, bool) or not isinstance(num_processes, (int, np.integer))
        or not 1 <= num_processes <= num_envs):
      raise ValueError(
          f'num_processes must be an integer in [1, num_envs={num_envs}], got '
          f'{num_processes!r}.')
    if start_method not in _START_METHODS:
      raise ValueError(f'start_method must be one of {_START_METHODS}, got {start_method!r}.')
    if not isinstance(timeout_s, (int, float)) or isinstance(timeout_s, bool) or timeout_s <= 0:
      raise ValueError(f'timeout_s must be a number > 0, got {timeout_s!r}.')
    try:
      pickle.dumps(make_env)
    except Exception as e:  # pylint: disable=broad-except
      raise TypeError(
          f'make_env must be picklable to reach the worker processes (a '
          f'module-level function or a functools.partial of one, not a lambda '
          f'or a local function); got {make_env!r}: {e}') from e

    self._num_envs = int(num_envs)
    self._timeout_s = float(timeout_s)
    self._closed = False
    self._started = False
    seeds = batched.copy_seeds(seed, self._num_envs)
    shares = np.array_split(np.arange(self._num_envs), int(num_processes))
    self._sizes = [len(share) for share in shares]
    context = multiprocessing.get_context(start_method)
    self._connections: List[connection.Connection] = []
    self._processes = []
    for index, share in enumerate(shares):
      parent_end, child_end = context.Pipe()
      process = context.Process(
          target=_worker, args=(child_end, make_env, [seeds[i] for i in share]),
          name=f'rlkit-env-worker-{index}', daemon=True)
      process.start()
      child_end.close()
      self._connections.append(parent_end)
      self._processes.append(process)
    try:
      worker_specs = self._receive_all('start')
    except BaseException:
      self.close()
      raise
    self._single_spec: specs.EnvironmentSpec = worker_specs[0]
    for index, spec in enumerate(worker_specs[1:], start=1):
      if spec != self._single_spec:
        self.close()
        raise ValueError(
            f'Worker {index} built environments with spec {spec}; worker 0 has '
            f'{self._single_spec}. make_env must build the same environment for '
            f'every seed.')

  @property
  def num_envs(self) -> int:
    return self._num_envs

  @property
  def num_processes(self) -> int:
    return len(self._processes)

  def single_environment_spec(self) -> specs.EnvironmentSpec:
    return self._single_spec

  def reset(self) -> dm_env.TimeStep:
    self._send_all('reset', [None] * self.num_processes)
    timestep = _concatenate(self._receive_all('reset'))
    self._started = True
    return timestep

  def step(self, actions) -> dm_env.TimeStep:
    if not self._started:
      return self.reset()
    actions = self._check_actions(actions)
    self._send_all('step', np.split(actions, np.cumsum(self._sizes)[:-1]))
    return _concatenate(self._receive_all('step'))

  def get_rng_state(self) -> List[Optional[Dict[str, Any]]]:
    self._send_all('get_rng_state', [None] * self.num_processes)
    return [state for states in self._receive_all('get_rng_state') for state in states]

  def set_rng_state(self, states: Sequence[Optional[Dict[str, Any]]]) -> None:
    states = list(states)
    if len(states) != self._num_envs:
      raise ValueError(f'Expected {self._num_envs} copy states, got {len(states)}.')
    bounds = np.cumsum([0] + self._sizes)
    self._send_all('set_rng_state',
                   [states[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
    self._receive_all('set_rng_state')

  def render(self, index: int = 0):
    if not 0 <= index < self._num_envs:
      raise ValueError(f'index must be in [0, {self._num_envs}), got {index!r}.')
    worker = int(np.searchsorted(np.cumsum(self._sizes), index, side='right'))
    local = index - sum(self._sizes[:worker])
    self._send(worker, 'render', local)
    return self._receive(worker, 'render')

  def close(self) -> None:
    """Stops the workers (closing their environments); safe to call twice."""
    if self._closed:
      return
    self._closed = True
    for conn in self._connections:
      try:
        conn.send(('close', None))
      except (OSError, ValueError):
        pass
    for process in self._processes:
      process.join(timeout=5.0)
      if process.is_alive():
        process.terminate()
        process.join(timeout=5.0)
    for conn in self._connections:
      conn.close()

  def __del__(self):
    if not getattr(self, '_closed', True):
      self.close()

  def _check_open(self) -> None:
    if self._closed:
      raise RuntimeError('SubprocessBatchedEnvironment was closed.')

  def _send_all(self, command: str, arguments: Sequence[Any]) -> None:
    for worker, argument in enumerate(arguments):
      self._send(worker, command, argument)

  def _send(self, worker: int, command: str, argument: Any) -> None:
    self._check_open()
    try:
      self._connections[worker].send((command, argument))
    except OSError as e:
      process = self._processes[worker]
      self.close()
      raise RuntimeError(
          f'Environment worker {worker} (pid {process.pid}) died before '
          f'{command!r} with exit code {process.exitcode}.') from e

  def _receive_all(self, command: str) -> List[Any]:
    """Every worker's reply; reads them all before raising the first error."""
    replies, errors = [], []
    for worker in range(self.num_processes):
      try:
        replies.append(self._receive(worker, command))
      except Exception as e:  # pylint: disable=broad-except
        errors.append(e)
    if errors:
      raise errors[0]
    return replies

  def _receive(self, worker: int, command: str) -> Any:
    conn = self._connections[worker]
    process = self._processes[worker]
    try:
      ready = conn.poll(self._timeout_s)
      if ready:
        status, value = conn.recv()
    except (EOFError, OSError):
      ready, status = True, None
    if not ready or status is None:
      self.close()
    if not ready:
      raise TimeoutError(
          f'Environment worker {worker} did not answer {command!r} within '
          f'timeout_s={self._timeout_s}.')
    if status is None:
      raise RuntimeError(
          f'Environment worker {worker} (pid {process.pid}) died during '
          f'{command!r} with exit code {process.exitcode}.')
    if status == 'error':
      error, worker_traceback = value
      error.add_note(f'Raised in environment worker {worker} during '
                     f'{command!r}:\n{worker_traceback}')
      raise error
    return value


def _concatenate(timesteps: Sequence[dm_env.TimeStep]) -> dm_env.TimeStep:
  if len(timesteps) == 1:
    return timesteps[0]
  return dm_env.TimeStep(*(np.concatenate(field) for field in zip(*timesteps)))
