"""The run's counts on Ray: `CounterNode` holds them, `RemoteCounter` reports to it.

Its own module, light on imports (no torch, no TensorFlow), so that the counter
node's process starts in a fraction of a second instead of importing what the
other nodes need.
"""

import os
import threading
import time
from typing import Any, Dict, Mapping, Optional

import ray

from rlkit.utils import counting

# How long a node waits for a Ray call to a peer before giving up on it.
CALL_TIMEOUT_S = 60.0
# Seconds between a node's reports to the counter node (bounds the counter's load).
COUNTER_FLUSH_S = 0.05


class CounterNode:
  """The run's counts, and each node's own share of them (`per_source`)."""

  def __init__(self, counts: Optional[Mapping[str, float]] = None):
    self._counts: Dict[str, float] = dict(counts or {})
    self._per_source: Dict[str, Dict[str, float]] = {}
    self._restarts: Dict[str, int] = {}

  def increment(self, source: str, counts: Mapping[str, float]) -> Dict[str, float]:
    own = self._per_source.setdefault(source, {})
    for key, value in counts.items():
      self._counts[key] = self._counts.get(key, 0) + value
      own[key] = own.get(key, 0) + value
    return dict(self._counts)

  def get_counts(self) -> Dict[str, float]:
    return dict(self._counts)

  def note_restart(self, label: str) -> int:
    self._restarts[label] = self._restarts.get(label, 0) + 1
    return self._restarts[label]

  def restarts(self) -> Dict[str, int]:
    return dict(self._restarts)

  def per_source(self) -> Dict[str, Dict[str, float]]:
    return {name: dict(counts) for name, counts in self._per_source.items()}

  def pid(self) -> int:
    return os.getpid()


class RemoteCounter(counting.Counter):
  """A `counting.Counter` whose counts live in a `CounterNode`.

  Increments are kept here and sent at most every `flush_every_s` (and on
  `flush()`); `get_counts()` is the counter node's last answer plus what is
  not sent yet. A child `Counter(remote, prefix='actor')` works as in one process.
  """

  def __init__(self, handle: Any, source: str, flush_every_s: float = COUNTER_FLUSH_S):
    super().__init__()
    self._handle, self._source = handle, source
    self._flush_every_s = float(flush_every_s)
    self._pending: Dict[str, float] = {}
    self._remote: Dict[str, float] = {}
    self._last_flush = 0.0
    self._remote_lock = threading.Lock()

  def increment(self, **counts) -> Dict[str, float]:
    counting.Counter().increment(**counts)  # the same checks as a local counter
    with self._remote_lock:
      for key, value in counts.items():
        self._pending[key] = self._pending.get(key, 0) + value
    if time.monotonic() - self._last_flush >= self._flush_every_s:
      self.flush()
    return self.get_counts()

  def flush(self, timeout_s: float = CALL_TIMEOUT_S) -> Dict[str, float]:
    """Sends what is pending (or asks for the counts) and waits for the answer."""
    with self._remote_lock:
      pending, self._pending = self._pending, {}
      try:
        self._remote = ray.get(self._handle.increment.remote(self._source, pending),
                               timeout=timeout_s)
      except BaseException:
        for key, value in pending.items():
          self._pending[key] = self._pending.get(key, 0) + value
        raise
      self._last_flush = time.monotonic()
      return dict(self._remote)

  def get_counts(self) -> Dict[str, float]:
    with self._remote_lock:
      counts = dict(self._remote)
      for key, value in self._pending.items():
        counts[key] = counts.get(key, 0) + value
      return counts

  def save(self) -> Mapping[str, float]:
    return self.get_counts()

  def restore(self, state: Mapping[str, float]) -> None:
    raise NotImplementedError('A RemoteCounter is restored through its CounterNode.')
