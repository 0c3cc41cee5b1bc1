"""Counter: increments, prefixes, parents and save/restore."""

import numpy as np
import pytest

from rlkit.utils import counting


def test_increment_returns_totals():
  counter = counting.Counter()
  counter.increment(steps=2)
  assert counter.increment(steps=3, episodes=1) == {'steps': 5, 'episodes': 1}


def test_children_write_prefixed_keys_to_the_parent():
  parent = counting.Counter()
  actor = counting.Counter(parent, 'actor')
  learner = counting.Counter(parent, 'learner')
  actor.increment(steps=10)
  learner.increment(steps=2)
  assert parent.get_counts() == {'actor_steps': 10, 'learner_steps': 2}
  assert actor.get_counts() == parent.get_counts()


def test_numpy_numbers_are_accepted_and_bad_values_rejected():
  counter = counting.Counter()
  counter.increment(steps=np.int64(4))
  assert counter.get_counts() == {'steps': 4}
  with pytest.raises(TypeError, match='steps'):
    counter.increment(steps='3')


def test_save_restore_roundtrip():
  counter = counting.Counter()
  counter.increment(steps=7)
  fresh = counting.Counter()
  fresh.restore(counter.save())
  assert fresh.increment(steps=1) == {'steps': 8}


def test_parent_must_be_a_counter():
  with pytest.raises(TypeError, match='parent'):
    counting.Counter(parent={'steps': 1})
