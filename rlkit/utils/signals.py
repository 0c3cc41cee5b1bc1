"""Turns SIGTERM/SIGINT into a flag a training loop checks between steps.

A launcher wraps its run in `Terminator()`; when a signal arrives, the handler
only records it, the loop finishes the current step, writes a final checkpoint
and exits cleanly. A second signal of the same kind falls back to the previous
handler (so a second Ctrl-C still interrupts at once).
"""

import signal
import threading
from typing import Optional


class Terminator:
  """Context manager that records SIGTERM and SIGINT instead of dying on them."""

  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self):
    self._event = threading.Event()
    self._previous = {}
    self._received: Optional[int] = None

  @property
  def requested(self) -> bool:
    """True once a termination signal arrived."""
    return self._event.is_set()

  @property
  def signal_name(self) -> Optional[str]:
    return signal.Signals(self._received).name if self._received else None

  def request(self) -> None:
    """Asks the run to stop, as a signal would (for tests and callbacks)."""
    self._event.set()

  def _handle(self, signum, frame):
    del frame
    if self._event.is_set() and signum == self._received:
      previous = self._previous.get(signum)
      signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
      signal.raise_signal(signum)
      return
    self._received = signum
    self._event.set()

  def __enter__(self) -> 'Terminator':
    if threading.current_thread() is threading.main_thread():
      for signum in self.SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc) -> None:
    for signum, previous in self._previous.items():
      signal.signal(signum, previous)
    self._previous.clear()
