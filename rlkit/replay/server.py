"""An in-process Reverb server, and clients of servers at an address."""

import math
import os
import re
import shutil
import tempfile
import weakref
from typing import Dict, Mapping, Optional, Sequence

import reverb

_ADDRESS = re.compile(r'^(?P<host>[^\s:]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)$')


def _check_address(address: str) -> str:
  if not isinstance(address, str):
    raise TypeError(f'address must be a "host:port" string, got {address!r}.')
  match = _ADDRESS.match(address)
  if not match or not 0 < int(match.group('port')) < 65536:
    raise ValueError(
        f'Invalid Reverb server address {address!r}; expected "host:port" '
        f'with a port in 1..65535, e.g. "localhost:8000".')
  return address


def connect(address: str, timeout_s: float = 10.0) -> reverb.Client:
  """A client of the server at `address`, once that server has answered.

  Args:
    address: "host:port".
    timeout_s: how long to wait for the server (whole seconds, at least 1).

  Raises:
    ValueError: if `address` is not "host:port".
    ConnectionError: if no server answers within the timeout.
  """
  _check_address(address)
  if not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
    raise ValueError(f'timeout_s must be > 0, got {timeout_s!r}.')
  client = reverb.Client(address)
  try:
    client.server_info(timeout=max(1, math.ceil(timeout_s)))
  except (reverb.errors.DeadlineExceededError, RuntimeError) as e:
    raise ConnectionError(
        f'No Reverb server answered at {address} within {timeout_s}s: {e}') from e
  return client


def _has_checkpoint(directory: str) -> bool:
  """Whether Reverb's checkpointer would restore from `directory`."""
  if not os.path.isdir(directory):
    return False
  return any(os.path.exists(os.path.join(directory, entry, 'DONE'))
             for entry in os.listdir(directory))


class ReplayServer:
  """A Reverb server running in this process.

  Args:
    tables: the tables to serve (fresh `reverb.Table` objects).
    port: the port to listen on; a free one when None.
    checkpoint_dir: where `checkpoint()` writes; when the directory already
      holds a checkpoint, the server starts with the tables it contains
      (which must match `tables` by name and signature). When None,
      checkpoints go to a temporary directory that `stop()` removes.

  `can_sample` reads the rate limiters in-process (well under a microsecond),
  so a single-process loop can call it on every step. After a restore the
  server runs Reverb's restored copies of the tables, which this process cannot
  reach directly: `can_sample` then asks the server (about 0.2 ms) and applies
  the limiter's rule to its restored insert and sample counts.
  """

  def __init__(self,
               tables: Sequence[reverb.Table],
               port: Optional[int] = None,
               checkpoint_dir: Optional[str] = None):
    tables = list(tables)
    if not tables:
      raise ValueError('ReplayServer needs at least one table.')
    for table in tables:
      if not isinstance(table, reverb.Table):
        raise TypeError(f'tables must be reverb.Table objects, got {table!r}.')
    names = [table.name for table in tables]
    if len(set(names)) != len(names):
      raise ValueError(f'Table names must be unique, got {names}.')
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 0 < port < 65536):
      raise ValueError(f'port must be in 1..65535 or None, got {port!r}.')
    self._restored = False
    # Without a directory Reverb would make a temporary one of its own and
    # leave it behind; this one goes with stop(), garbage collection or exit.
    self._temporary_dir = None
    if checkpoint_dir is None:
      self._temporary_dir = tempfile.mkdtemp(prefix='rlkit-replay-')
      self._remove_temporary_dir = weakref.finalize(
          self, shutil.rmtree, self._temporary_dir, ignore_errors=True)
    else:
      self._remove_temporary_dir = lambda: None
      checkpoint_dir = os.fspath(checkpoint_dir)
      os.makedirs(checkpoint_dir, exist_ok=True)
      self._restored = _has_checkpoint(checkpoint_dir)
    self._tables: Dict[str, reverb.Table] = dict(zip(names, tables))
    self._checkpoint_dir = checkpoint_dir
    checkpointer = reverb.checkpointers.DefaultCheckpointer(
        checkpoint_dir or self._temporary_dir)
    try:
      self._server = reverb.Server(tables, port=port, checkpointer=checkpointer)
    except BaseException:
      self._remove_temporary_dir()
      raise
    self._port = self._server.port
    self._client: Optional[reverb.Client] = None
    self._stopped = False

  @property
  def port(self) -> int:
    return self._port

  @property
  def address(self) -> str:
    return f'localhost:{self._port}'

  @property
  def tables(self) -> Mapping[str, reverb.Table]:
    return dict(self._tables)

  @property
  def checkpoint_dir(self) -> Optional[str]:
    return self._checkpoint_dir

  @property
  def restored(self) -> bool:
    """Whether the server started from a checkpoint in `checkpoint_dir`."""
    return self._restored

  def client(self) -> reverb.Client:
    """A client of this server (the same one on every call)."""
    self._check_running()
    if self._client is None:
      self._client = reverb.Client(self.address)
    return self._client

  def checkpoint(self) -> str:
    """Writes the tables' contents to the checkpoint directory; returns its path."""
    return self.client().checkpoint()

  def table_sizes(self) -> Dict[str, int]:
    """The number of items in each table (about 0.2 ms: one server call)."""
    info = self.client().server_info()
    return {name: info[name].current_size for name in self._tables}

  def can_sample(self, table: str, num_samples: int = 1) -> bool:
    """Whether `num_samples` samples from `table` would proceed without waiting."""
    self._check_running()
    if table not in self._tables:
      raise KeyError(f'No table {table!r}; tables are {sorted(self._tables)}.')
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
      raise ValueError(f'num_samples must be an int >= 1, got {num_samples!r}.')
    if not self._restored:
      return self._tables[table].can_sample(num_samples)
    info = self.client().server_info()[table]
    limiter = info.rate_limiter_info
    if info.current_size < limiter.min_size_to_sample:
      return False
    diff = (limiter.insert_stats.completed * limiter.samples_per_insert -
            limiter.sample_stats.completed - num_samples)
    return diff >= limiter.min_diff

  def stop(self) -> None:
    """Stops the server (idempotent); clients of it then fail."""
    if not self._stopped:
      self._stopped = True
      self._client = None
      self._server.stop()
      self._remove_temporary_dir()

  def _check_running(self) -> None:
    if self._stopped:
      raise RuntimeError(f'The replay server at {self.address} was stopped.')

  def __enter__(self) -> 'ReplayServer':
    return self

  def __exit__(self, *unused) -> None:
    self.stop()

  def __repr__(self) -> str:
    state = 'stopped' if self._stopped else 'running'
    return f'ReplayServer({self.address}, tables={sorted(self._tables)}, {state})'
