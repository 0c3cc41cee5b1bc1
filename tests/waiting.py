"""Polling for a condition that other threads or processes make true."""

import time
from typing import Callable


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.01) -> bool:
  """Whether `condition()` became true within `timeout_s` (checked every `poll_s`)."""
  deadline = time.monotonic() + timeout_s
  while time.monotonic() < deadline:
    if condition():
      return True
    time.sleep(poll_s)
  return condition()
