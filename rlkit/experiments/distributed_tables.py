"""Replay tables for a distributed run: inserts wait for the learner again.

Builders make tables for one process, where inserts never block (the
`samples_per_insert` limiter only holds sampling back; see
rlkit/replay/tables.py). With actors in other processes the ratio is kept
both ways, as in Acme's distributed agents: a table whose limiter was made
non-blocking gets the error buffer back, so inserts wait once the actors are
`error_buffer` samples ahead of the learner. Tables without a ratio (MinSize)
and queues keep their limiters.
"""

import sys

import reverb


def with_insert_blocking(table: reverb.Table) -> reverb.Table:
  """`table`, or a new empty copy whose samples-per-insert limiter also blocks inserts."""
  if not isinstance(table, reverb.Table):
    raise TypeError(f'Expected a reverb.Table, got {type(table).__name__}.')
  info = table.info.rate_limiter_info
  if info.max_diff < sys.float_info.max or info.samples_per_insert <= 0:
    return table
  offset = info.min_size_to_sample * info.samples_per_insert
  error_buffer = offset - info.min_diff
  if info.min_diff <= -sys.float_info.max or error_buffer <= 0:
    return table
  return table.replace(rate_limiter=reverb.rate_limiters.RateLimiter(
      samples_per_insert=info.samples_per_insert,
      min_size_to_sample=info.min_size_to_sample,
      min_diff=info.min_diff,
      max_diff=offset + error_buffer))
