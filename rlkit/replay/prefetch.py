"""A background thread that keeps a bounded buffer of produced items."""

import queue
import threading
from typing import Callable, Generic, Optional, TypeVar

T = TypeVar('T')

# How often a blocked producer re-checks whether it was asked to stop.
_POLL_S = 0.1


class _Failure:
  """Wraps the exception that ended the producer."""

  def __init__(self, error: BaseException):
    self.error = error


class ThreadPrefetcher(Generic[T]):
  """Calls `produce` in a daemon thread and buffers up to `buffer_size` items.

  `produce(stop)` returns the next item, or None when it has nothing yet (it
  should then return within a short time so that `close()` is prompt; `stop` is
  the event `close()` sets). The first exception it raises ends the thread and
  is raised by every later `get()`, after the items produced before it.
  `cleanup()`, if given, runs in the thread when it ends.
  """

  def __init__(self,
               produce: Callable[[threading.Event], Optional[T]],
               buffer_size: int,
               name: str = 'prefetch',
               cleanup: Optional[Callable[[], None]] = None):
    if not callable(produce):
      raise TypeError(f'produce must be callable, got {produce!r}.')
    if cleanup is not None and not callable(cleanup):
      raise TypeError(f'cleanup must be callable or None, got {cleanup!r}.')
    if not isinstance(buffer_size, int) or buffer_size < 1:
      raise ValueError(f'buffer_size must be an int >= 1, got {buffer_size!r}.')
    self._produce = produce
    self._cleanup = cleanup
    self._queue = queue.Queue(maxsize=buffer_size)
    self._stop = threading.Event()
    self._error: Optional[BaseException] = None
    self._thread = threading.Thread(target=self._run, name=name, daemon=True)
    self._thread.start()

  def _run(self) -> None:
    try:
      while not self._stop.is_set():
        item = self._produce(self._stop)
        if item is not None:
          self._put(item)
    except BaseException as e:  # pylint: disable=broad-except
      self._put(_Failure(e))
    finally:
      if self._cleanup is not None:
        self._cleanup()

  def _put(self, item) -> None:
    while not self._stop.is_set():
      try:
        self._queue.put(item, timeout=_POLL_S)
        return
      except queue.Full:
        continue

  def get(self, timeout: Optional[float] = None) -> T:
    """Returns the next item.

    Raises:
      queue.Empty: if no item arrived within `timeout` seconds.
      The producer's exception, once the items before it are consumed.
    """
    if self._error is not None:
      raise self._error
    item = self._queue.get(timeout=timeout)
    if isinstance(item, _Failure):
      self._error = item.error
      raise self._error
    return item

  def ready(self) -> bool:
    """True if `get()` would return (or raise) without blocking."""
    return self._error is not None or not self._queue.empty()

  def close(self, timeout: Optional[float] = None) -> bool:
    """Stops the thread; returns whether it ended within `timeout` seconds."""
    self._stop.set()
    while True:
      try:
        self._queue.get_nowait()
      except queue.Empty:
        break
    if self._thread is not threading.current_thread():
      self._thread.join(timeout)
    return not self._thread.is_alive()
