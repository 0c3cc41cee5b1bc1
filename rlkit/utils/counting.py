"""A hierarchical counter of steps, episodes and other events (Acme's `Counter`)."""

import numbers
import threading
from typing import Dict, Mapping, Optional, Union

Number = Union[int, float]


class Counter:
  """Counts events; increments propagate to an optional parent counter.

  With a prefix, keys are stored in the parent as `'{prefix}_{key}'`, so an
  actor counter `Counter(parent, 'actor')` and a learner counter
  `Counter(parent, 'learner')` share one parent without clashing.
  """

  def __init__(self, parent: Optional['Counter'] = None, prefix: str = ''):
    if parent is not None and not isinstance(parent, Counter):
      raise TypeError(f'parent must be a Counter or None, got {parent!r}.')
    self._parent = parent
    self._prefix = prefix
    self._counts: Dict[str, Number] = {}
    self._lock = threading.Lock()

  def increment(self, **counts: Number) -> Dict[str, Number]:
    """Adds `counts` to this counter (and its parents); returns all counts."""
    for key, value in counts.items():
      if not isinstance(value, numbers.Number) or isinstance(value, bool):
        raise TypeError(f'Counter.increment: {key}={value!r} is not a number.')
    with self._lock:
      for key, value in counts.items():
        self._counts[key] = self._counts.get(key, 0) + value
    if self._parent is not None:
      return self._parent.increment(
          **{self._prefix_key(k): v for k, v in counts.items()})
    return self.get_counts()

  def get_counts(self) -> Dict[str, Number]:
    """Returns all counts: the root counter's, whose keys carry the prefixes.

    A child with prefix 'actor' thus reports `actor_steps` beside the
    learner's `learner_steps`, as Acme's loops log them.
    """
    if self._parent is not None:
      return self._parent.get_counts()
    with self._lock:
      return dict(self._counts)

  def get_steps_key(self) -> str:
    """The key under which `get_counts()` reports this counter's steps.

    `'steps'` for a root counter, `'actor_steps'` for `Counter(root, 'actor')`.
    """
    key = 'steps'
    counter = self
    while counter._parent is not None:  # pylint: disable=protected-access
      key = counter._prefix_key(key)  # pylint: disable=protected-access
      counter = counter._parent  # pylint: disable=protected-access
    return key

  def save(self) -> Mapping[str, Number]:
    with self._lock:
      return dict(self._counts)

  def restore(self, state: Mapping[str, Number]) -> None:
    with self._lock:
      self._counts = dict(state)

  def _prefix_key(self, key: str) -> str:
    return f'{self._prefix}_{key}' if self._prefix else key
