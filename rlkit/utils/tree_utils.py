"""Helpers for nests of arrays (Acme's `acme.utils.tree_utils`)."""

import collections
from typing import Any, Callable, Iterator, List, Sequence

import numpy as np
import tree


def stack_sequence_fields(sequence: Sequence[Any]) -> Any:
  """Stacks a list of identically nested objects into one nest of arrays.

  `[Transition(o0, a0, ...), Transition(o1, a1, ...)]` becomes
  `Transition(np.stack([o0, o1]), np.stack([a0, a1]), ...)`.

  Raises:
    ValueError: if `sequence` is empty or its elements differ in structure.
  """
  sequence = list(sequence)
  if not sequence:
    raise ValueError('stack_sequence_fields needs at least one element, got none.')
  first = sequence[0]
  for i, element in enumerate(sequence[1:], start=1):
    try:
      tree.assert_same_structure(first, element)
    except (TypeError, ValueError) as e:
      raise ValueError(
          f'Element {i} does not have the structure of element 0: {e}') from None
  columns = zip(*[tree.flatten(element) for element in sequence])
  return tree.unflatten_as(first, [np.stack(column) for column in columns])


def unstack_sequence_fields(struct: Any, batch_size: int) -> List[Any]:
  """The inverse of `stack_sequence_fields`: `batch_size` nests of rows."""
  if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
      or batch_size < 0:
    raise ValueError(f'batch_size must be a non-negative int, got {batch_size!r}.')
  leaves = tree.flatten(struct)
  for leaf in leaves:
    if np.shape(leaf)[:1] != (batch_size,):
      raise ValueError(
          f'Every leaf needs a leading dimension of batch_size={batch_size}, '
          f'got one of shape {np.shape(leaf)}.')
  return [tree.unflatten_as(struct, [leaf[i] for leaf in leaves])
          for i in range(batch_size)]


def broadcast_structures(*args: Any) -> List[Any]:
  """Gives every argument the structure of the nested one(s).

  Non-nested arguments (arrays, scalars) are repeated at each leaf of the
  nested structure; nested arguments must all share it. Leaf shapes are left
  alone (numpy broadcasting applies later, leaf by leaf).

  Raises:
    ValueError: if two nested arguments have different structures.
  """
  structure = None
  for arg in args:
    if tree.is_nested(arg):
      if structure is None:
        structure = arg
      else:
        try:
          tree.assert_same_structure(structure, arg)
        except (TypeError, ValueError) as e:
          raise ValueError(f'Cannot broadcast structures {structure!r} and '
                           f'{arg!r}: {e}') from None
  if structure is None:
    return list(args)
  return [arg if tree.is_nested(arg) else tree.map_structure(lambda _: arg, structure)
          for arg in args]


def unflattener(structure: Any) -> Callable[[Sequence[Any]], Any]:
  """`lambda leaves: tree.unflatten_as(structure, leaves)`, prepared once.

  For a hot path that rebuilds the same structure every call (a sampled
  batch): the returned function builds the nest from `leaves` (in
  `tree.flatten` order) with one closure per node, several times faster than
  `tree.unflatten_as`, which walks the structure on every call. Namedtuples,
  tuples, lists, dicts and OrderedDicts are rebuilt here; any other nest type
  falls back to `tree.unflatten_as`.
  """
  build = _node_builder(structure)
  num_leaves = len(tree.flatten(structure))

  def unflatten(leaves: Sequence[Any]) -> Any:
    if len(leaves) != num_leaves:
      raise ValueError(f'The structure has {num_leaves} leaves, got {len(leaves)}.')
    return build(iter(leaves))

  return unflatten


def _node_builder(node: Any) -> Callable[[Iterator[Any]], Any]:
  if not tree.is_nested(node):
    return next
  if isinstance(node, tuple) and hasattr(node, '_fields'):
    cls, children = type(node), [_node_builder(child) for child in node]
    return lambda leaves: cls(*[child(leaves) for child in children])
  if type(node) in (tuple, list):
    cls, children = type(node), [_node_builder(child) for child in node]
    return lambda leaves: cls([child(leaves) for child in children])
  if type(node) in (dict, collections.OrderedDict):
    cls, keys = type(node), list(node)
    ordered = sorted(keys)  # tree.flatten's order
    children = [_node_builder(node[key]) for key in ordered]

    def build_mapping(leaves):
      values = {key: child(leaves) for key, child in zip(ordered, children)}
      return cls((key, values[key]) for key in keys)

    return build_mapping
  size = len(tree.flatten(node))
  return lambda leaves: tree.unflatten_as(node, [next(leaves) for _ in range(size)])
