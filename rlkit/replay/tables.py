"""Reverb tables for transitions and sequences, built from an environment spec.

Rate limiting, as in Acme:
  * `samples_per_insert=None`: `MinSize(min_size_to_sample)`; inserts never wait.
  * `samples_per_insert=x`: `SampleToInsertRatio` keeps about x samples per
    inserted item, with an error buffer of
    `max(min_size_to_sample * x * samples_per_insert_tolerance_rate, max(1, x))`
    (Acme's formula, floored at the smallest buffer Reverb accepts).

Single-process training: inserting and sampling from one thread can deadlock
on a `SampleToInsertRatio` table (the insert waits for samples that the same
thread would take next). Build such tables with `block_inserts=False` (or pass
them through `disable_insert_blocking`), as Acme's single-process runner does:
inserts never wait, sampling still follows the ratio, and the loop asks
`ReplayServer.can_sample(table, batch_size)` before each learner step.
"""

import sys
from typing import Any, Optional

import reverb

from rlkit import specs
from rlkit import types
from rlkit.replay import signatures

DEFAULT_PRIORITY_TABLE = 'priority_table'

_REMOVERS = {
    'fifo': reverb.selectors.Fifo,
    'lifo': reverb.selectors.Lifo,
    'uniform': reverb.selectors.Uniform,
    'min_heap': reverb.selectors.MinHeap,
}


def _check_name(name: Any) -> str:
  if not isinstance(name, str) or not name:
    raise ValueError(f'Table name must be a non-empty string, got {name!r}.')
  return name


def _check_int(name: str, value: Any, minimum: int) -> int:
  if isinstance(value, bool) or not isinstance(value, int):
    raise TypeError(f'{name} must be an int, got {value!r}.')
  if value < minimum:
    raise ValueError(f'{name} must be >= {minimum}, got {value}.')
  return value


def _make_remover(remover: str):
  if remover not in _REMOVERS:
    raise ValueError(
        f'Unknown remover {remover!r}; expected one of {sorted(_REMOVERS)}.')
  return _REMOVERS[remover]()


def make_rate_limiter(min_size_to_sample: int = 1,
                      samples_per_insert: Optional[float] = None,
                      samples_per_insert_tolerance_rate: float = 0.1,
                      block_inserts: bool = True) -> reverb.rate_limiters.RateLimiter:
  """The rate limiter described in the module docstring."""
  _check_int('min_size_to_sample', min_size_to_sample, 1)
  if samples_per_insert is None:
    return reverb.rate_limiters.MinSize(min_size_to_sample)
  if not isinstance(samples_per_insert, (int, float)) or not samples_per_insert > 0:
    raise ValueError(
        f'samples_per_insert must be > 0 (or None for no ratio), got '
        f'{samples_per_insert!r}.')
  if (not isinstance(samples_per_insert_tolerance_rate, (int, float))
      or not samples_per_insert_tolerance_rate >= 0):
    raise ValueError(
        f'samples_per_insert_tolerance_rate must be >= 0, got '
        f'{samples_per_insert_tolerance_rate!r}.')
  spi = float(samples_per_insert)
  error_buffer = max(
      min_size_to_sample * spi * samples_per_insert_tolerance_rate,
      max(1.0, spi))
  limiter = reverb.rate_limiters.SampleToInsertRatio(
      samples_per_insert=spi,
      min_size_to_sample=min_size_to_sample,
      error_buffer=error_buffer)
  if block_inserts:
    return limiter
  return _non_blocking(spi, min_size_to_sample, min_size_to_sample * spi - error_buffer)


def _non_blocking(samples_per_insert: float, min_size_to_sample: int,
                  min_diff: float) -> reverb.rate_limiters.RateLimiter:
  return reverb.rate_limiters.RateLimiter(
      samples_per_insert=samples_per_insert,
      min_size_to_sample=min_size_to_sample,
      min_diff=min_diff,
      max_diff=sys.float_info.max)


def disable_insert_blocking(table: reverb.Table) -> reverb.Table:
  """A new, empty copy of `table` whose rate limiter never blocks inserts."""
  if not isinstance(table, reverb.Table):
    raise TypeError(f'Expected a reverb.Table, got {type(table).__name__}.')
  info = table.info.rate_limiter_info
  return table.replace(rate_limiter=_non_blocking(
      info.samples_per_insert, info.min_size_to_sample, info.min_diff))


def _make_table(name: str, signature: Any, sampler: Any, remover: str,
                max_size: int, min_size_to_sample: int,
                samples_per_insert: Optional[float],
                samples_per_insert_tolerance_rate: float,
                block_inserts: bool, max_times_sampled: int) -> reverb.Table:
  _check_name(name)
  _check_int('max_size', max_size, 1)
  _check_int('min_size_to_sample', min_size_to_sample, 1)
  _check_int('max_times_sampled', max_times_sampled, 0)
  if min_size_to_sample > max_size:
    raise ValueError(
        f'min_size_to_sample ({min_size_to_sample}) must be <= max_size '
        f'({max_size}), or the table could never be sampled.')
  return reverb.Table(
      name=name,
      sampler=sampler,
      remover=_make_remover(remover),
      max_size=max_size,
      rate_limiter=make_rate_limiter(min_size_to_sample, samples_per_insert,
                                     samples_per_insert_tolerance_rate,
                                     block_inserts),
      max_times_sampled=max_times_sampled,
      signature=signature)


def make_transition_table(
    name: str = DEFAULT_PRIORITY_TABLE,
    environment_spec: Optional[specs.EnvironmentSpec] = None,
    max_size: int = 100_000,
    min_size_to_sample: int = 1,
    samples_per_insert: Optional[float] = None,
    samples_per_insert_tolerance_rate: float = 0.1,
    prioritized: bool = False,
    priority_exponent: float = 0.6,
    remover: str = 'fifo',
    extras_spec: types.NestedSpec = (),
    block_inserts: bool = True,
    max_times_sampled: int = 0,
    layout: str = 'columns',
) -> reverb.Table:
  """A table of `Transition` items (what `NStepTransitionAdder` writes).

  Args:
    name: the table's name.
    environment_spec: specs the signature is derived from (required).
    max_size: capacity; the remover evicts items beyond it.
    min_size_to_sample: sampling waits until the table holds this many items.
    samples_per_insert: None for no ratio (MinSize limiter), else the target
      number of samples per inserted item.
    samples_per_insert_tolerance_rate: relative slack of the ratio.
    prioritized: sample proportionally to priority ** priority_exponent
      instead of uniformly.
    priority_exponent: alpha of prioritized replay, >= 0.
    remover: 'fifo', 'lifo', 'uniform' or 'min_heap' (lowest priority first).
    extras_spec: spec of the extras the actor passes to `add`.
    block_inserts: False to let inserts run ahead of the sample ratio (for
      single-process training, see the module docstring).
    max_times_sampled: remove items after this many samples; 0 for never.
    layout: 'columns' (a `Transition` of columns, as Acme's) or 'packed' (one
      flat vector per item, sampled about twice as fast; the adder must use
      the same layout). See `rlkit.replay.packing`.
  """
  if environment_spec is None:
    raise TypeError('make_transition_table needs an environment_spec.')
  if not isinstance(priority_exponent, (int, float)) or not priority_exponent >= 0:
    raise ValueError(
        f'priority_exponent must be >= 0, got {priority_exponent!r}.')
  if prioritized:
    sampler = reverb.selectors.Prioritized(float(priority_exponent))
  else:
    sampler = reverb.selectors.Uniform()
  return _make_table(
      name, signatures.transition_signature(environment_spec, extras_spec, layout),
      sampler, remover, max_size, min_size_to_sample, samples_per_insert,
      samples_per_insert_tolerance_rate, block_inserts, max_times_sampled)


def make_sequence_table(
    name: str,
    environment_spec: specs.EnvironmentSpec,
    max_size: int,
    sequence_length: Optional[int] = None,
    min_size_to_sample: int = 1,
    samples_per_insert: Optional[float] = None,
    samples_per_insert_tolerance_rate: float = 0.1,
    remover: str = 'fifo',
    extras_spec: types.NestedSpec = (),
    block_inserts: bool = True,
) -> reverb.Table:
  """A uniformly sampled table of `Step` sequences (episode/sequence adders).

  `sequence_length=None` accepts items of any length (episodes, truncated
  sequences); an int requires exactly that many rows.
  """
  return _make_table(
      name,
      signatures.sequence_signature(environment_spec, sequence_length,
                                    extras_spec),
      reverb.selectors.Uniform(), remover, max_size, min_size_to_sample,
      samples_per_insert, samples_per_insert_tolerance_rate, block_inserts, 0)


def make_queue_table(name: str,
                     environment_spec: specs.EnvironmentSpec,
                     max_size: int,
                     sequence_length: Optional[int] = None,
                     extras_spec: types.NestedSpec = (),
                     item_type: str = 'sequence') -> reverb.Table:
  """A FIFO queue for on-policy data: each item is sampled once, in order.

  Writers block when the queue is full, until items are read.

  Args:
    name: the table's name.
    environment_spec: specs the signature is derived from.
    max_size: capacity of the queue.
    sequence_length: fixed sequence length, or None for any length
      (`item_type='sequence'` only).
    extras_spec: spec of the extras the actor passes to `add`.
    item_type: 'sequence' for `Step` sequences (episode/sequence adders) or
      'transition' for `Transition` items.
  """
  _check_name(name)
  _check_int('max_size', max_size, 1)
  if item_type == 'sequence':
    signature = signatures.sequence_signature(environment_spec, sequence_length,
                                              extras_spec)
  elif item_type == 'transition':
    if sequence_length is not None:
      raise ValueError('sequence_length applies to sequence queues only.')
    signature = signatures.transition_signature(environment_spec, extras_spec)
  else:
    raise ValueError(
        f"Unknown item_type {item_type!r}; expected 'sequence' or 'transition'.")
  return reverb.Table.queue(name=name, max_size=max_size, signature=signature)
