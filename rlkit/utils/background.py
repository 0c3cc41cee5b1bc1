"""One job at a time in a background thread, for writes the caller need not wait for.

    writer = BackgroundJob('checkpoint')
    writer.submit(write_checkpoint)   # returns at once
    ...
    writer.submit(write_checkpoint)   # first waits for the previous one
    writer.wait()                     # before reading what it wrote

Used as a context manager it waits for the running job on exit; when an
exception is already on its way out, the job's own error is dropped.

A job's exception is raised by the next `submit()` or `wait()`, so a failed
write is never silently lost.
"""

import threading
from typing import Any, Callable, Optional


class BackgroundJob:
  """Runs submitted functions one after the other in a daemon thread."""

  def __init__(self, name: str):
    self._name = name
    self._thread: Optional[threading.Thread] = None
    self._error: Optional[BaseException] = None
    self._result: Any = None

  @property
  def busy(self) -> bool:
    """Whether a job is still running."""
    return self._thread is not None and self._thread.is_alive()

  def submit(self, fn: Callable[[], Any]) -> None:
    """Waits for the previous job (raising its error), then starts `fn`."""
    self.wait()
    self._result = None

    def run():
      try:
        self._result = fn()
      except BaseException as e:  # pylint: disable=broad-except
        self._error = e

    self._thread = threading.Thread(target=run, name=f'rlkit-{self._name}', daemon=True)
    self._thread.start()

  def wait(self) -> Any:
    """Waits for the running job; returns its result or raises its error."""
    if self._thread is not None:
      self._thread.join()
      self._thread = None
    error, self._error = self._error, None
    if error is not None:
      raise error
    return self._result

  def __enter__(self) -> 'BackgroundJob':
    return self

  def __exit__(self, exc_type, unused_exc, unused_tb) -> None:
    try:
      self.wait()
    except BaseException:  # pylint: disable=broad-except
      if exc_type is None:
        raise
