"""The packed transition layout: a whole `Transition` in one flat column.

Reverb's sampler costs per column of an item, so a table whose items are one
float vector [observation, action, reward, discount, next_observation, extras]
(the leaves of the `Transition` in `tree.flatten` order, each raveled) samples
about twice as fast as the five-plus columns of the Acme-shaped layout.
`NStepTransitionAdder(layout='packed')` writes such items and
`rlkit.replay.dataset.make_transition_iterator` unpacks each sampled [B, k]
batch into a `Transition` of slices with the original shapes and dtypes, so
learners see the same batches with either layout.

The vector is float32, or float64 when a leaf is float64. Packing must be
lossless: floats no wider than the vector, bools, 8- and 16-bit integers, and
wider integers whose spec bounds (a `BoundedArray` or `DiscreteArray`) lie
within +-2**24 (float32) or +-2**53 (float64). Anything else is refused.

The packed table's signature is one `tf.TensorSpec([k])` whose name encodes
the columns signature it packs, so a reader needs nothing but the table.
"""

import base64
from typing import Any, List, Optional, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.python.saved_model import nested_structure_coder  # pylint: disable=g-direct-tensorflow-import
import torch
import tree

from rlkit import specs
from rlkit import types
from rlkit.utils import tree_utils

LAYOUTS = ('columns', 'packed')
_NAME_PREFIX = 'rlkit.packed_transition.v1:'
_EXACT_INTEGERS = {np.dtype(np.float32): 2**24, np.dtype(np.float64): 2**53}
_ALWAYS_EXACT = {  # Integer dtypes every packed dtype holds exactly.
    np.dtype(t) for t in (np.bool_, np.int8, np.uint8, np.int16, np.uint16)}


def check_layout(layout: Any) -> str:
  if layout not in LAYOUTS:
    raise ValueError(f'layout must be one of {LAYOUTS}, got {layout!r}.')
  return layout


def _spec_bound(spec: Any) -> Optional[float]:
  """The largest |value| a bounded integer spec allows, or None without bounds."""
  if isinstance(spec, specs.DiscreteArray):
    return float(spec.num_values - 1)
  if isinstance(spec, specs.BoundedArray):
    return float(max(np.max(np.abs(spec.minimum)), np.max(np.abs(spec.maximum))))
  return None


class PackedLayout:
  """Where each leaf of an unbatched `Transition` lies in one flat vector.

  Args:
    signature: the columns signature (a `Transition` of `tf.TensorSpec`).
    value_specs: optional `Transition` of dm_env specs with the same leaves
      (rewards and discounts may be None); integer leaves wider than 16 bits
      need bounds from them.
    check_bounds: False to skip the integer bounds (for a layout read back
      from a table, checked when the table was made).

  Raises:
    ValueError: a leaf cannot be packed losslessly (named in the message).
  """

  def __init__(self, signature: types.Transition, value_specs: Any = None, *,
               check_bounds: bool = True):
    if tuple(getattr(signature, '_fields', ())) != types.Transition._fields:
      raise TypeError(f'PackedLayout needs a Transition signature, got {signature!r}.')
    self.signature = signature
    paths_and_leaves = tree.flatten_with_path(signature)
    dtypes = [np.dtype(leaf.dtype.as_numpy_dtype) for _, leaf in paths_and_leaves]
    self.dtype = np.dtype(np.float64 if np.float64 in dtypes else np.float32)
    bounds = self._bounds(signature, value_specs)
    self._shapes: List[tuple] = []
    self._dtypes: List[np.dtype] = dtypes
    self._offsets: List[int] = []
    size = 0
    for (path, leaf), dtype, bound in zip(paths_and_leaves, dtypes, bounds):
      problem = self._problem(dtype, bound, check_bounds)
      if problem:
        where = '.'.join(str(p) for p in path)
        raise ValueError(
            f'Cannot pack Transition leaf {where} ({dtype.name}{leaf.shape.as_list()}) '
            f'into {self.dtype.name} losslessly: {problem}. Use layout=\'columns\'.')
      shape = tuple(leaf.shape.as_list())
      self._shapes.append(shape)
      self._offsets.append(size)
      size += int(np.prod(shape, dtype=np.int64))
    self._offsets.append(size)
    self.size = size
    self._torch_dtypes = [torch.from_numpy(np.zeros((), d)).dtype for d in dtypes]
    self._torch_packed = torch.from_numpy(np.zeros((), self.dtype)).dtype
    self._unflatten = tree_utils.unflattener(signature)

  @staticmethod
  def _bounds(signature: types.Transition, value_specs: Any) -> List[Optional[float]]:
    num_leaves = len(tree.flatten(signature))
    if value_specs is None:
      return [None] * num_leaves
    bounds = []
    for field in types.Transition._fields:
      leaves = tree.flatten(getattr(signature, field))
      field_specs = getattr(value_specs, field)
      flat_specs = ([None] * len(leaves) if field_specs is None
                    else tree.flatten(field_specs))
      if len(flat_specs) != len(leaves):
        raise ValueError(
            f'value_specs.{field} has {len(flat_specs)} leaves, the signature '
            f'{len(leaves)}.')
      bounds.extend(_spec_bound(s) for s in flat_specs)
    return bounds

  def _problem(self, dtype: np.dtype, bound: Optional[float],
               check_bounds: bool) -> Optional[str]:
    if dtype.kind == 'f':
      return None if dtype.itemsize <= self.dtype.itemsize else 'too wide'
    if dtype in _ALWAYS_EXACT or (dtype.kind in 'iu' and not check_bounds):
      return None
    if dtype.kind not in 'iu':
      return f'{dtype.name} is not a number type'
    limit = _EXACT_INTEGERS[self.dtype]
    if bound is None:
      return (f'its spec has no bounds, and {self.dtype.name} holds integers '
              f'exactly only up to 2**{int(np.log2(limit))}')
    if bound > limit:
      return (f'its spec allows |values| up to {bound:.0f}, beyond '
              f'2**{int(np.log2(limit))}')
    return None

  def table_signature(self) -> tf.TensorSpec:
    """The packed table's signature: one vector, its name describing the layout."""
    proto = nested_structure_coder.encode_structure(self.signature)
    name = _NAME_PREFIX + base64.b64encode(proto.SerializeToString()).decode('ascii')
    return tf.TensorSpec([self.size], tf.as_dtype(self.dtype), name=name)

  def pack(self, leaves: Sequence[np.ndarray]) -> np.ndarray:
    """One vector from the transition's leaves, in `tree.flatten` order."""
    return np.concatenate([np.ravel(leaf) for leaf in leaves], dtype=self.dtype,
                          casting='unsafe')

  def unpack(self, batch: torch.Tensor) -> types.Transition:
    """A `Transition` of [B, ...] slices (copies where the dtype differs)."""
    offsets, packed = self._offsets, self._torch_packed
    batch_size = batch.shape[0]
    leaves = []
    for i, (shape, dtype) in enumerate(zip(self._shapes, self._torch_dtypes)):
      start = offsets[i]
      leaf = (batch[:, start:offsets[i + 1]].reshape(batch_size, *shape) if shape
              else batch[:, start])
      leaves.append(leaf if dtype == packed else leaf.to(dtype))
    return self._unflatten(leaves)


def from_table_signature(signature: Any) -> Optional[PackedLayout]:
  """The layout of a packed table's signature; None for any other signature."""
  name = getattr(signature, 'name', None)
  if not isinstance(signature, tf.TensorSpec) or not (name or '').startswith(_NAME_PREFIX):
    return None
  proto = nested_structure_coder.struct_pb2.StructuredValue.FromString(
      base64.b64decode(name[len(_NAME_PREFIX):]))
  decoded = nested_structure_coder.decode_proto(proto)
  layout = PackedLayout(types.Transition(*decoded), check_bounds=False)
  if layout.size != signature.shape[0] or tf.as_dtype(layout.dtype) != signature.dtype:
    raise ValueError(
        f'Packed table signature {signature} does not match the layout its name '
        f'describes ({layout.dtype.name}[{layout.size}]).')
  return layout


def value_specs(environment_spec: specs.EnvironmentSpec,
                extras_spec: types.NestedSpec = ()) -> types.Transition:
  """The dm_env specs of a transition's leaves, for the integer bounds."""
  return types.Transition(
      observation=environment_spec.observations, action=environment_spec.actions,
      reward=None, discount=None, next_observation=environment_spec.observations,
      extras=extras_spec)
