"""Priorities for prioritized replay: new items enter at the maximum priority.

Prioritized replay (Schaul et al., 2016) inserts every new item at the largest
priority seen so far, so that it is sampled at least once soon. Reverb cannot
report a table's largest priority, so the writer and the learner share a
`MaxPriorityTracker`: adders write new items at `tracker.value`, and
`update_priorities` (the learner's call after computing TD errors) raises it.

There is no process-wide registry of trackers: whoever builds the adder and
the learner (an agent's builder) creates the tracker and hands it to both.
Like the reference implementations, the tracker keeps the running maximum of
every priority set (it never decreases), an upper bound of the table's current
maximum. Actors in other processes keep their own tracker, fed only by their
priority functions.
"""

import threading
from typing import Any, Optional, Sequence, Union

import numpy as np
import reverb

INITIAL_PRIORITY = 1.0


class MaxPriorityTracker:
  """The running maximum of the priorities written to or set in one table."""

  def __init__(self, initial: float = INITIAL_PRIORITY):
    initial = float(initial)
    if not np.isfinite(initial) or initial <= 0:
      raise ValueError(f'initial priority must be finite and > 0, got {initial}.')
    self._value = initial
    self._lock = threading.Lock()

  @property
  def value(self) -> float:
    """The priority at which new items enter."""
    return self._value

  def update(self, priorities: Union[float, Sequence[float], np.ndarray]) -> float:
    """Raises the maximum to the largest of `priorities`; returns it."""
    largest = float(np.max(priorities)) if np.size(priorities) else self._value
    if largest > self._value:
      with self._lock:
        self._value = max(self._value, largest)
    return self._value

  def __repr__(self) -> str:
    return f'MaxPriorityTracker(value={self._value})'


def update_priorities(client: reverb.Client,
                      table: str,
                      keys: Any,
                      priorities: Any,
                      tracker: Optional[MaxPriorityTracker] = None) -> None:
  """Sets the priorities of sampled items and raises the table's maximum.

  Args:
    client: a client of the server holding `table`.
    table: the table the keys were sampled from.
    keys: the items' keys (`ReplaySample.info.key`), any integer array.
    priorities: one finite, non-negative priority per key (e.g. |TD error|).
      Reverb raises them to the table's priority exponent when sampling.
    tracker: the tracker the table's adders insert with, raised to the new
      maximum; None when nothing inserts at the maximum priority.
  """
  if not isinstance(client, reverb.Client):
    raise TypeError(f'client must be a reverb.Client, got {type(client).__name__}.')
  keys = np.asarray(keys).reshape(-1)
  priorities = np.asarray(priorities, dtype=np.float64).reshape(-1)
  if keys.shape != priorities.shape:
    raise ValueError(
        f'Got {keys.size} keys but {priorities.size} priorities; pass one '
        f'priority per key.')
  if not np.issubdtype(keys.dtype, np.integer):
    raise TypeError(f'keys must be integers, got dtype {keys.dtype}.')
  if priorities.size and (not np.all(np.isfinite(priorities))
                          or np.min(priorities) < 0):
    raise ValueError(
        f'priorities must be finite and >= 0, got min {np.min(priorities)} '
        f'and max {np.max(priorities)}.')
  if tracker is not None and not isinstance(tracker, MaxPriorityTracker):
    raise TypeError(f'tracker must be a MaxPriorityTracker or None, got {type(tracker).__name__}.')
  client.mutate_priorities(
      table, updates=dict(zip(keys.astype(np.uint64).tolist(), priorities.tolist())))
  if tracker is not None:
    tracker.update(priorities)
