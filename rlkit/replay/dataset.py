"""Batches sampled from a Reverb table, delivered as torch tensors.

A `reverb.TrajectoryDataset` samples items in Reverb's C++ worker threads and
TensorFlow batches them; each batch reaches torch without copying (DLPack).
Two ways to pull the batches (`sampling=`):

- 'thread' (the default): a Python thread keeps `prefetch` batches ready, so
  `next()` normally returns at once, and `next()` never waits longer than
  `timeout_s`, even when the server went away mid-sample (Reverb's sampler
  then blocks forever, in that thread).
- 'caller': `next()` pulls from TensorFlow's own prefetch buffer in the
  calling thread. No Python thread runs beside the learner, so the two never
  hand the GIL to each other: with one batch-of-64 DQN learner step per two
  CartPole steps on 2 cores this took rlkit from 0.58x to 0.77x the steps/s of
  a bare single-file loop (benchmarks/overhead.py, BUILD_NOTES). For a server
  in the caller's process only (both runners keep the learner's server in
  its process): a server that stops while sampling would block `next()`.

Sampling never hangs silently on a table that cannot be sampled: when no
batch arrives within `timeout_s`, `next()` asks the server (for at most 1 s
more) and raises `TimeoutError` if it answers (empty or rate-limited table)
or `ConnectionError` if it does not. A later `next()` succeeds once data
arrives. `ready()` says whether a batch is waiting; a single-process agent
steps its learner only then, or when the table's rate limiter allows a batch.

Measured on 2 cores (benchmarks/replay.py): Reverb's C++ sampler costs about
9-13 us of CPU per sampled transition (decompressing each column's chunk,
allocating tensors), in its own threads. With a core free for them, the
iterator delivers 125-150k transitions/s at batch 64 and ~170k/s at 256.
"""
import math
import queue
import threading
import time
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Union

import numpy as np
import reverb
import tensorflow as tf
from tensorflow.python.ops import gen_dataset_ops  # pylint: disable=g-direct-tensorflow-import
import torch
import torch.utils.dlpack
import tree

from rlkit import specs
from rlkit import types
from rlkit.replay import packing
from rlkit.replay import prefetch as prefetch_lib
from rlkit.utils import tree_utils

_CONVERSIONS = ('dlpack', 'numpy')
SAMPLING_MODES = ('thread', 'caller')
# The background thread wakes up at least this often while the table cannot be
# sampled, so that `close()` stays prompt.
_MAX_POLL_S = 1.0


class SampleInfo(NamedTuple):
  """Per-item sampling details, each a torch tensor of shape [batch_size].

  `key` is torch.uint64 (pass it to `rlkit.replay.update_priorities`, or
  `key.tolist()` to `reverb.Client.mutate_priorities`); `probability` and
  `priority` are float64; `table_size` is int64.
  """
  key: torch.Tensor
  probability: torch.Tensor
  table_size: torch.Tensor
  priority: torch.Tensor


class ReplaySample(NamedTuple):
  """A batch: sampling info and the data (a nest of [batch_size, ...] tensors)."""
  info: SampleInfo
  data: Any


def _tf_to_torch_dlpack(tensor: tf.Tensor) -> torch.Tensor:
  out = torch.utils.dlpack.from_dlpack(tf.experimental.dlpack.to_dlpack(tensor))
  if tensor.dtype == tf.bool:
    out = out.view(torch.bool)
  return out


def _tf_to_torch_numpy(tensor: tf.Tensor) -> torch.Tensor:
  return torch.from_numpy(tensor.numpy())


def _check_int(name: str, value: Any, minimum: int = 1) -> None:
  if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
      or value < minimum):
    raise ValueError(f'{name} must be an int >= {minimum}, got {value!r}.')


def _check_device(device: Any) -> torch.device:
  try:
    return torch.device(device)
  except (RuntimeError, TypeError) as e:
    raise ValueError(
        f"device must be a torch device such as 'cpu', got {device!r}.") from e


def _check_common(server_address: Any, table: Any, batch_size: Any,
                  prefetch: Any, timeout_s: Any) -> None:
  if not isinstance(server_address, str) or not server_address:
    raise TypeError(
        f"server_address must be a non-empty 'host:port' string, got "
        f'{server_address!r}.')
  if not isinstance(table, str) or not table:
    raise TypeError(f'table must be a non-empty string, got {table!r}.')
  _check_int('batch_size', batch_size)
  _check_int('prefetch', prefetch)
  if (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
      or not math.isfinite(timeout_s) or timeout_s <= 0):
    raise ValueError(
        f'timeout_s must be a finite number > 0, got {timeout_s!r}.')


_CONNECTION_ERRORS = (tf.errors.UnavailableError, tf.errors.CancelledError,
                      tf.errors.AbortedError, tf.errors.DeadlineExceededError,
                      tf.errors.NotFoundError)


class _BatchProducer:
  """Pulls TensorFlow batches of a Reverb dataset and converts them to torch.

  Called repeatedly from the prefetch thread; returns None when the table could
  not be sampled within the dataset's rate limiter timeout (the dataset then
  ends and a fresh iterator is made on the next call).

  Each fetch runs TensorFlow's `IteratorGetNext` op directly on the iterator's
  resource and takes its flat list of tensors: `next(iterator)` would rebuild
  TensorFlow's nest of the element (shapes set tensor by tensor) only for it
  to be flattened again, about 150 us of Python per fetch. The batches cut
  from a fetch are sliced leaf by leaf and rebuilt with prepared
  `tree_utils.unflattener`s.
  """

  def __init__(self, tf_dataset: tf.data.Dataset, signature: Any,
               batch_size: int, batches_per_fetch: int,
               convert: Callable[[tf.Tensor], torch.Tensor],
               device: torch.device, as_data: Optional[Callable[[Any], Any]],
               describe: str):
    self._dataset = tf_dataset
    self._batch_size = batch_size
    self._batches_per_fetch = batches_per_fetch
    if device.type == 'cpu':
      self._convert = convert
    else:
      self._convert = lambda t: convert(t).to(device, non_blocking=True)
    self._as_data = as_data
    self._describe = describe
    element = tf_dataset.element_spec  # reverb.ReplaySample(info, data)
    flat_specs = tf.nest.flatten(element)
    self._output_types = [s.dtype for s in flat_specs]
    self._output_shapes = [s.shape for s in flat_specs]
    info_fields = list(type(element.info)._fields)
    self._num_info = len(info_fields)
    self._info_indices = [info_fields.index(f) for f in SampleInfo._fields]
    self._unflatten_data = tree_utils.unflattener(signature)
    self._unflatten_out = None  # The structure `as_data` returns, seen at the first fetch.
    self._iterator = None
    self._resource = None
    self._pending: List[ReplaySample] = []

  def __call__(self, stop: threading.Event) -> Optional[ReplaySample]:
    if self._pending:
      return self._pending.pop()
    if self._resource is None:
      # The iterator owns the resource; it is kept alive with it.
      self._iterator = iter(self._dataset)
      self._resource = self._iterator._iterator_resource  # pylint: disable=protected-access
    try:
      flat = gen_dataset_ops.iterator_get_next(
          self._resource, output_types=self._output_types,
          output_shapes=self._output_shapes)
    except tf.errors.OutOfRangeError:
      self.release()
      return None
    except tf.errors.OpError as e:
      self.release()
      error_type = (ConnectionError
                    if isinstance(e, _CONNECTION_ERRORS) else RuntimeError)
      raise error_type(
          f'Sampling {self._describe} failed: {type(e).__name__}: '
          f'{e.message}') from e
    if stop.is_set():
      return None
    convert = self._convert
    info = [convert(flat[i]) for i in self._info_indices]  # Not Reverb's times_sampled.
    data = self._unflatten_data([convert(t) for t in flat[self._num_info:]])
    if self._as_data is not None:
      data = self._as_data(data)
    if self._batches_per_fetch == 1:
      return ReplaySample(info=SampleInfo(*info), data=data)
    leaves = tree.flatten(data)
    if self._unflatten_out is None:
      self._unflatten_out = tree_utils.unflattener(data)
    unflatten, num_info = self._unflatten_out, len(info)
    parts = []
    for columns in zip(*[torch.tensor_split(t, self._batches_per_fetch) for t in info + leaves]):
      parts.append(ReplaySample(info=SampleInfo(*columns[:num_info]),
                                data=unflatten(columns[num_info:])))
    self._pending = parts[:0:-1]
    return parts[0]

  def has_pending(self) -> bool:
    """Whether batches cut from the last fetch are waiting."""
    return bool(self._pending)

  def release(self) -> None:
    """Drops the TensorFlow iterator, which stops Reverb's sampler threads."""
    self._iterator = None
    self._resource = None
    self._pending = []


class ReplayIterator(Iterator[ReplaySample]):
  """Iterates over batches of a Reverb table as torch tensors.

  Use `make_transition_iterator` to build one for a transition table. Use as a
  context manager, or call `close()`, to stop the background thread. The
  table's signature must have fixed shapes (items are batched as they are).
  """

  def __init__(self,
               server_address: str,
               table: str,
               batch_size: int,
               prefetch: int = 2,
               device: Union[str, torch.device] = 'cpu',
               timeout_s: float = 30.0,
               *,
               max_in_flight_samples_per_worker: Optional[int] = None,
               num_workers_per_iterator: Optional[int] = None,
               batches_per_fetch: int = 1,
               conversion: str = 'dlpack',
               as_data: Any = None,
               signature: Any = None,
               sampling: str = 'thread'):
    """Connects to the table and starts the background thread.

    Args:
      server_address: 'host:port' of the Reverb server.
      table: name of the table to sample from; it must have a signature.
      batch_size: items per batch.
      prefetch: batches the Python thread keeps ready ('thread'), or fetches
        TensorFlow keeps ready ('caller'); >= 1.
      device: torch device the tensors are moved to.
      timeout_s: how long `next()` (and connecting) waits before raising.
      max_in_flight_samples_per_worker: items Reverb fetches per request;
        None picks the items per fetch (measured best).
      num_workers_per_iterator: Reverb sampler threads (-1: Reverb's default,
        1); None: 2 with 'thread' (measured fastest there on 2 cores), 1 with
        'caller' (as fast, and items arrive in the order sampled).
      batches_per_fetch: batches cut (without copying) from each TensorFlow
        batch; more amortizes the per-batch overhead on small batches.
      conversion: 'dlpack' (zero-copy) or 'numpy' (copies, for comparison).
      as_data: optional function applied to the unflattened data nest.
      signature: the table signature, if already fetched.
      sampling: 'thread' or 'caller' (module docstring).

    Raises:
      ValueError, TypeError: for invalid arguments or a table without
        signature or missing on the server.
      ConnectionError: if the server does not answer within `timeout_s`.
    """
    _check_common(server_address, table, batch_size, prefetch, timeout_s)
    _check_int('batches_per_fetch', batches_per_fetch)
    device = _check_device(device)
    if conversion not in _CONVERSIONS:
      raise ValueError(
          f'conversion must be one of {_CONVERSIONS}, got {conversion!r}.')
    if sampling not in SAMPLING_MODES:
      raise ValueError(
          f'sampling must be one of {SAMPLING_MODES}, got {sampling!r}.')
    if num_workers_per_iterator is None:
      num_workers_per_iterator = 2 if sampling == 'thread' else 1
    if num_workers_per_iterator != -1:
      _check_int('num_workers_per_iterator (or -1)', num_workers_per_iterator)
    fetch_size = int(batch_size) * int(batches_per_fetch)
    if max_in_flight_samples_per_worker is None:
      max_in_flight_samples_per_worker = fetch_size
    _check_int('max_in_flight_samples_per_worker',
               max_in_flight_samples_per_worker)

    self._address = server_address
    self._table = table
    self._batch_size = int(batch_size)
    self._timeout_s = float(timeout_s)
    self._client = reverb.Client(server_address)
    if signature is None:
      signature = fetch_signature(server_address, table, timeout_s,
                                  client=self._client)
    self.signature = signature
    self._closed = False
    self._server_lost = False

    poll_ms = int(1000 * min(self._timeout_s, _MAX_POLL_S))
    tf_dataset = reverb.TrajectoryDataset(
        server_address=server_address,
        table=table,
        dtypes=tree.map_structure(lambda s: s.dtype, signature),
        shapes=tree.map_structure(lambda s: s.shape, signature),
        max_in_flight_samples_per_worker=int(max_in_flight_samples_per_worker),
        num_workers_per_iterator=int(num_workers_per_iterator),
        rate_limiter_timeout_ms=poll_ms)
    tf_dataset = tf_dataset.batch(fetch_size, drop_remainder=True).prefetch(
        1 if sampling == 'thread' else int(prefetch))
    producer = _BatchProducer(
        tf_dataset, signature, self._batch_size, int(batches_per_fetch),
        convert=(_tf_to_torch_dlpack
                 if conversion == 'dlpack' else _tf_to_torch_numpy),
        device=device, as_data=as_data,
        describe=f'table {table!r} at the Reverb server at {server_address}')
    self._producer = producer
    self._prefetcher = None
    if sampling == 'thread':
      # The thread holds the producer, not `self`, so that an iterator that is
      # dropped without close() is garbage collected and stops its thread.
      self._prefetcher = prefetch_lib.ThreadPrefetcher(
          producer, buffer_size=int(prefetch), name=f'replay-prefetch-{table}',
          cleanup=producer.release)
    else:
      self._never_stop = threading.Event()

  @property
  def server_address(self) -> str:
    return self._address

  @property
  def table(self) -> str:
    return self._table

  @property
  def batch_size(self) -> int:
    return self._batch_size

  @property
  def sampling(self) -> str:
    return 'thread' if self._prefetcher is not None else 'caller'

  def __iter__(self) -> 'ReplayIterator':
    return self

  def __next__(self) -> ReplaySample:
    """Returns the next batch, waiting at most `timeout_s`.

    Raises:
      TimeoutError: no batch within `timeout_s` but the server answers (the
        table is empty or its rate limiter blocks sampling).
      ConnectionError: the server does not answer or sampling failed.
      RuntimeError: the iterator was closed.
    """
    if self._closed:
      raise RuntimeError(
          f'ReplayIterator for table {self._table!r} at {self._address} is '
          f'closed.')
    if self._prefetcher is None:
      return self._next_in_caller()
    try:
      return self._prefetcher.get(timeout=self._timeout_s)
    except queue.Empty:
      pass
    except ConnectionError:
      self._server_lost = True
      raise
    raise self._timeout_error()

  def _next_in_caller(self) -> ReplaySample:
    # The producer returns None when the TensorFlow dataset ended at its
    # rate-limiter poll (no item within 1 s); it then starts a fresh one.
    deadline = time.monotonic() + self._timeout_s
    while True:
      try:
        batch = self._producer(self._never_stop)
      except ConnectionError:
        self._server_lost = True
        raise
      if batch is not None:
        return batch
      if time.monotonic() >= deadline:
        raise self._timeout_error()

  def _timeout_error(self) -> Exception:
    waited = (f'No batch of {self._batch_size} from table {self._table!r} at '
              f'{self._address} within timeout_s={self._timeout_s}')
    try:
      info = self._client.server_info(1)
    except Exception as e:  # pylint: disable=broad-except
      self._server_lost = True
      return ConnectionError(
          f'{waited}: the Reverb server does not answer ({e}).')
    table_info = info.get(self._table)
    if table_info is None:
      self._server_lost = True
      return ConnectionError(
          f'{waited}: the table no longer exists on the server.')
    return TimeoutError(
        f'{waited}: the server answers, the table holds '
        f'{table_info.current_size} items; it is empty or its rate limiter '
        f'does not allow sampling yet (insert more data, or sample only when '
        f'ready()).')

  def ready(self) -> bool:
    """True if `next()` returns (or raises) at once, without waiting.

    With sampling='caller' only batches cut from a fetch count (TensorFlow's
    buffer cannot be asked): False means `next()` may wait for Reverb.
    """
    if self._closed:
      return False
    if self._prefetcher is None:
      return self._producer.has_pending()
    return self._prefetcher.ready()

  def close(self, timeout_s: float = 5.0) -> bool:
    """Stops the background thread; returns whether it ended in `timeout_s`.

    The thread does not end when the server went away while it sampled
    (Reverb's sampler then blocks forever); it is a daemon thread and is
    abandoned, after a short wait when `next()` already reported the loss.
    """
    if self._closed:
      return True
    self._closed = True
    if self._prefetcher is None:
      self._producer.release()
      return True
    if self._server_lost:
      timeout_s = min(timeout_s, 0.2)
    return self._prefetcher.close(timeout_s)

  def __enter__(self) -> 'ReplayIterator':
    return self

  def __exit__(self, *unused_exc_info) -> None:
    self.close()

  def __del__(self):
    prefetcher = getattr(self, '_prefetcher', None)
    if prefetcher is not None and not getattr(self, '_closed', True):
      prefetcher.close(timeout=0)


def fetch_signature(server_address: str, table: str, timeout_s: float,
                    client: Optional[reverb.Client] = None):
  """Returns the signature of `table` (a nest of tf.TensorSpec).

  Raises:
    ConnectionError: if the server does not answer within `timeout_s`.
    ValueError: if the table does not exist or has no signature.
  """
  client = client or reverb.Client(server_address)
  try:
    info = client.server_info(max(1, math.ceil(timeout_s)))
  except (RuntimeError, reverb.errors.DeadlineExceededError) as e:
    raise ConnectionError(
        f'Reverb server at {server_address} did not answer within '
        f'{timeout_s}s (reading the signature of table {table!r}): {e}') from e
  if table not in info:
    raise ValueError(
        f'Table {table!r} not found on the Reverb server at {server_address}; '
        f'it has {sorted(info)}.')
  signature = info[table].signature
  if signature is None:
    raise ValueError(
        f'Table {table!r} at {server_address} has no signature; create it '
        f'with one (e.g. from the environment spec).')
  return signature


def _to_transition(data) -> types.Transition:
  return types.Transition(*data)


def _check_environment_spec(signature, environment_spec: specs.EnvironmentSpec,
                            table: str) -> None:
  expected = {
      'observation': environment_spec.observations,
      'action': environment_spec.actions,
      'reward': environment_spec.rewards,
      'discount': environment_spec.discounts,
      'next_observation': environment_spec.observations,
  }
  for field, spec in expected.items():
    got = getattr(signature, field)
    try:
      tree.assert_same_structure(spec, got)
    except (ValueError, TypeError) as e:
      raise ValueError(
          f'Table {table!r} field {field!r} has structure {got}, the '
          f'environment spec has {spec}.') from e
    for s, g in zip(tree.flatten(spec), tree.flatten(got)):
      if (tuple(s.shape) != tuple(g.shape.as_list())
          or np.dtype(s.dtype) != g.dtype.as_numpy_dtype):
        raise ValueError(
            f'Table {table!r} field {field!r} holds {g.dtype.name}'
            f'{g.shape.as_list()}, the environment spec has '
            f'{np.dtype(s.dtype).name}{list(s.shape)}.')


def make_transition_iterator(
    server_address: str,
    table: str,
    batch_size: int,
    prefetch: int = 2,
    environment_spec: Optional[specs.EnvironmentSpec] = None,
    device: Union[str, torch.device] = 'cpu',
    timeout_s: float = 30.0,
    **kwargs) -> ReplayIterator:
  """Iterator over batches of `types.Transition` from a transition table.

  Yields `ReplaySample(info, data)` where `data` is a `types.Transition` whose
  leaves are torch tensors with a leading batch dimension. Tables of either
  layout (`rlkit.replay.packing`) give the same batches: a packed table's
  [B, k] vectors are unpacked into slices of the original shapes and dtypes.

  Args:
    server_address: 'host:port' of the Reverb server.
    table: a table whose items are unbatched `types.Transition`s.
    batch_size: transitions per batch.
    prefetch: batches kept ready in a background thread.
    environment_spec: if given, the table signature must match it.
    device: torch device of the returned tensors.
    timeout_s: `next()` raises TimeoutError/ConnectionError after this long
      (see the module docstring); also the time allowed to connect.
    **kwargs: tuning options of `ReplayIterator`.

  Raises:
    ValueError: if the table's items are not transitions (or do not match
      `environment_spec`), or for invalid arguments.
    ConnectionError: if the server does not answer within `timeout_s`.
  """
  if environment_spec is not None and not isinstance(environment_spec,
                                                     specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an rlkit.specs.EnvironmentSpec or None, got '
        f'{type(environment_spec).__name__}.')
  _check_common(server_address, table, batch_size, prefetch, timeout_s)
  _check_device(device)
  signature = fetch_signature(server_address, table, timeout_s)
  layout = packing.from_table_signature(signature)
  columns = signature if layout is None else layout.signature
  fields = getattr(columns, '_fields', None)
  if tuple(fields or ()) != types.Transition._fields:
    raise ValueError(
        f'Table {table!r} at {server_address} does not hold transitions: its '
        f'signature is {signature}, expected fields {types.Transition._fields}.')
  if environment_spec is not None:
    _check_environment_spec(columns, environment_spec, table)
  return ReplayIterator(
      server_address, table, batch_size, prefetch=prefetch, device=device,
      timeout_s=timeout_s, signature=signature,
      as_data=_to_transition if layout is None else layout.unpack, **kwargs)
