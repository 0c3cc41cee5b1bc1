"""rlkit.utils.tree_utils.unflattener: tree.unflatten_as, prepared once."""

import collections

import numpy as np
import pytest
import tree

from rlkit import types
from rlkit.utils import tree_utils

STRUCTURES = [
    np.zeros(3),
    types.Transition(1, 2, 3, 4, 5, ()),
    types.Transition(1, 2, 3, 4, 5, {'b': [6, 7], 'a': (8,)}),
    collections.OrderedDict([('z', 1), ('a', {'y': 2, 'c': 3})]),
    [1, (2, 3), [], {'k': 4}],
]


@pytest.mark.parametrize('structure', STRUCTURES, ids=lambda s: type(s).__name__)
def test_rebuilds_what_unflatten_as_rebuilds(structure):
  leaves = [f'leaf{i}' for i in range(len(tree.flatten(structure)))]
  rebuilt = tree_utils.unflattener(structure)(leaves)
  expected = tree.unflatten_as(structure, leaves)
  assert type(rebuilt) is type(expected)
  assert tree.flatten_with_path(rebuilt) == tree.flatten_with_path(expected)
  if isinstance(expected, dict):
    assert list(rebuilt) == list(expected)  # The mapping's own key order.


def test_the_same_function_serves_many_calls():
  unflatten = tree_utils.unflattener({'b': 0, 'a': 0})
  assert unflatten([1, 2]) == {'a': 1, 'b': 2}
  assert unflatten([3, 4]) == {'a': 3, 'b': 4}


def test_a_wrong_number_of_leaves_is_named():
  unflatten = tree_utils.unflattener(types.Transition(1, 2, 3, 4, 5, ()))
  with pytest.raises(ValueError, match='has 5 leaves, got 4'):
    unflatten([1, 2, 3, 4])
