"""Helpers for nests of arrays (Acme's `acme.utils.tree_utils`)."""

from typing import Any, List, Sequence

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
