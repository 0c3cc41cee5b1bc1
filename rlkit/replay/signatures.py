"""Reverb table signatures derived from an environment spec.

A table with a signature rejects items of the wrong structure, shape or dtype
when they are written, instead of when they are sampled.
"""

from typing import Any, Optional, Sequence

import numpy as np
import tensorflow as tf
import tree

from rlkit import specs
from rlkit import types
from rlkit.adders import base
from rlkit.replay import packing


def _check_environment_spec(environment_spec: Any) -> None:
  if not isinstance(environment_spec, specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an rlkit.specs.EnvironmentSpec, got '
        f'{type(environment_spec).__name__}.')


def tensor_spec(spec: Any, prefix: Sequence[Optional[int]] = ()) -> tf.TensorSpec:
  """A `tf.TensorSpec` like `spec` (dm_env or tf spec), with `prefix` dims first."""
  if isinstance(spec, tf.TensorSpec):
    shape, dtype = tuple(spec.shape.as_list()), spec.dtype
  elif isinstance(spec, specs.Array):
    shape, dtype = tuple(spec.shape), tf.as_dtype(np.dtype(spec.dtype))
  elif isinstance(spec, np.ndarray):
    shape, dtype = spec.shape, tf.as_dtype(spec.dtype)
  else:
    raise TypeError(
        f'Cannot build a signature from {spec!r}: expected a dm_env Array '
        f'spec, a tf.TensorSpec or a numpy array.')
  return tf.TensorSpec(tuple(prefix) + tuple(shape), dtype)


def transition_signature(environment_spec: specs.EnvironmentSpec,
                         extras_spec: types.NestedSpec = (),
                         layout: str = 'columns') -> Any:
  """The signature of the (unbatched) `Transition` items of transition adders.

  `layout='columns'` gives a `Transition` of specs (Acme's); 'packed' one
  flat vector spec (see `rlkit.replay.packing`), or ValueError naming a leaf
  that cannot be packed losslessly.
  """
  _check_environment_spec(environment_spec)
  packing.check_layout(layout)
  for field in ('rewards', 'discounts'):
    if tree.is_nested(getattr(environment_spec, field)):
      raise TypeError(f'Nested {field} specs are not supported by the adders.')
  observation = tree.map_structure(tensor_spec, environment_spec.observations)
  columns = types.Transition(
      observation=observation,
      action=tree.map_structure(tensor_spec, environment_spec.actions),
      reward=tensor_spec(environment_spec.rewards),
      discount=tensor_spec(environment_spec.discounts),
      next_observation=tree.map_structure(tensor_spec,
                                          environment_spec.observations),
      extras=tree.map_structure(tensor_spec, extras_spec))
  if layout == 'columns':
    return columns
  return packing.PackedLayout(
      columns, packing.value_specs(environment_spec, extras_spec)).table_signature()


# 'auto' packs transitions of at most this many numbers: beyond it the copies
# of each observation (twice per item, in float) outweigh the sampler's
# per-column cost.
AUTO_PACKED_MAX_SIZE = 1024


def resolve_transition_layout(layout: str, environment_spec: specs.EnvironmentSpec,
                              extras_spec: types.NestedSpec = ()) -> str:
  """'columns' or 'packed' for `layout`; 'auto' is 'packed' where the spec allows it.

  The spec allows it when every leaf packs losslessly (`rlkit.replay.packing`)
  into at most `AUTO_PACKED_MAX_SIZE` numbers.
  """
  if layout != 'auto':
    return packing.check_layout(layout)
  try:
    packed = transition_signature(environment_spec, extras_spec, 'packed')
  except ValueError:
    return 'columns'
  return 'packed' if packed.shape[0] <= AUTO_PACKED_MAX_SIZE else 'columns'


def sequence_signature(environment_spec: specs.EnvironmentSpec,
                       sequence_length: Optional[int] = None,
                       extras_spec: types.NestedSpec = ()) -> base.Step:
  """The signature of episode and sequence items: a `Step` of [T, ...] specs.

  Args:
    environment_spec: the environment's specs.
    sequence_length: the fixed length T, or None for items of any length
      (whole episodes, or truncated sequences).
    extras_spec: spec of the extras the actor passes to `add`.
  """
  _check_environment_spec(environment_spec)
  if sequence_length is not None:
    base.check_positive_int('sequence_length', sequence_length)
  prefix = (sequence_length,)
  to_spec = lambda s: tensor_spec(s, prefix)
  return base.Step(
      observation=tree.map_structure(to_spec, environment_spec.observations),
      action=tree.map_structure(to_spec, environment_spec.actions),
      reward=tree.map_structure(to_spec, environment_spec.rewards),
      discount=tree.map_structure(to_spec, environment_spec.discounts),
      start_of_episode=tf.TensorSpec(prefix, tf.bool),
      extras=tree.map_structure(to_spec, extras_spec))
