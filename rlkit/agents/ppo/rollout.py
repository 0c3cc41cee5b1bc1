"""Fixed-length rollouts that cross episode boundaries: the item, its adder and reader.

`rlkit.adders.SequenceAdder` never lets a sequence cross an episode (Acme's
semantics); PPO's rollouts do (CleanRL's `num_steps` per environment copy),
so GAE needs, per transition t of the rollout:

    observation o_t, action a_t (the unclipped sample), reward r_t,
    discount d_t (the environment's: 0 at a termination, 1 at a truncation),
    next_observation o'_t (the observation a_t led to; at the end of an
      episode its final observation, not the next episode's first),
    last_t (whether a_t ended the episode), extras (the behaviour log-prob).

`d_t` stops the bootstrap at terminations and `last_t` the advantage
recursion at every episode end, while `V(o'_t)` bootstraps truncations. The
next observation is stored for every transition (twice the observation
bytes of a T + 1 layout, but exact at truncations inside a rollout).
"""

import time
from typing import Any, Iterator, List, NamedTuple, Optional

import dm_env
import numpy as np
import reverb
import torch
import tree
from reverb import pybind

from rlkit import specs
from rlkit import types
from rlkit.adders import base
from rlkit.replay import signatures


class Rollout(NamedTuple):
  """One rollout ([T, ...] leaves), or a batch of them ([N, T, ...])."""
  observation: Any
  action: Any
  reward: Any
  discount: Any
  next_observation: Any
  last: Any
  extras: Any


def signature(environment_spec: specs.EnvironmentSpec, unroll_length: int,
              extras_spec: types.NestedSpec = ()) -> Rollout:
  """The table signature of rollouts of `unroll_length` transitions."""
  base.check_positive_int('unroll_length', unroll_length)
  prefix = (unroll_length,)
  to_spec = lambda s: signatures.tensor_spec(s, prefix)
  observation = tree.map_structure(to_spec, environment_spec.observations)
  return Rollout(
      observation=observation,
      action=tree.map_structure(to_spec, environment_spec.actions),
      reward=to_spec(environment_spec.rewards),
      discount=to_spec(environment_spec.discounts),
      next_observation=observation,
      last=to_spec(specs.Array((), np.bool_)),
      extras=tree.map_structure(to_spec, extras_spec))


class RolloutAdder(base.WriterAdder):
  """Writes every `unroll_length` consecutive transitions of one environment as an item.

  Rollouts do not overlap and run on across episodes; `add_first` of the next
  episode continues the rollout in progress. `reset()` (or `add_first` while
  an episode is open) drops the rollout in progress, since its next
  transition would not follow the last one. Each item is confirmed by the
  server before `add` returns, so a learner can read it at once.

  The rollout's steps are copied into numpy buffers [T, ...] and reach
  Reverb as one row when it is complete: one `Append` per rollout instead of
  one per step (each costs 20-30 us of CPU in a training loop beside the
  writer's thread; BUILD_NOTES, "PPO").

  Args:
    client: a `reverb.Client` of the server holding `table`.
    table: a table with `signature(environment_spec, unroll_length, ...)`.
    unroll_length: transitions per item.
    environment_spec: when given, observations and actions are checked.
    priority: the priority of every item.
    timeout_s: how long the server may hold back an item (a full queue)
      before TimeoutError; None waits indefinitely (distributed actors wait
      for the learner).
  """

  def __init__(self, client: reverb.Client, table: str, unroll_length: int,
               environment_spec: Optional[specs.EnvironmentSpec] = None,
               priority: float = 1.0, timeout_s: Optional[float] = None):
    if not isinstance(client, reverb.Client):
      raise TypeError(f'client must be a reverb.Client, got {type(client).__name__}.')
    if not isinstance(table, str) or not table:
      raise ValueError(f'table must be a non-empty name, got {table!r}.')
    self._length = base.check_positive_int('unroll_length', unroll_length)
    super().__init__(environment_spec, max_in_flight_items=1, timeout_s=timeout_s)
    self._table = table
    self._priority = base.check_priority(table, priority)
    self._writer = client._client.NewTrajectoryWriter(  # pylint: disable=protected-access
        pybind.ConstantChunkerOptions(max_chunk_length=1, num_keep_alive_refs=1), True)
    self._buffers: Optional[List[np.ndarray]] = None  # One [T, ...] array per leaf.
    self._num_rows = 0
    self._num_leaves: Optional[int] = None
    self._observation: Optional[list] = None
    self._episode_open = False

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    base.check_first(timestep)
    self._check_open()
    if self._episode_open:
      self.reset()
    self._observation = self._observations.flatten(timestep.observation)
    self._episode_open = True

  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = ()) -> None:
    base.check_next(next_timestep, self._episode_open)
    next_observation = self._observations.flatten(next_timestep.observation)
    last = next_timestep.last()
    row = (self._observation + self._actions.flatten(action) +
           [self._rewards.cast(self._rewards.value(next_timestep.reward)),
            self._discounts.cast(self._discounts.value(next_timestep.discount))] +
           next_observation + [np.asarray(last, np.bool_)])
    if not (isinstance(extras, tuple) and not extras):
      row += self._extras.flatten(extras)
    if self._num_leaves is not None and len(row) != self._num_leaves:
      raise ValueError(
          f'The step has {len(row)} leaves but earlier steps had {self._num_leaves}; '
          f'extras must have the same structure on every step.')
    self._num_leaves = len(row)
    if self._buffers is None:
      self._buffers = [np.empty((self._length,) + np.shape(x), np.asarray(x).dtype)
                       for x in row]
    t = self._num_rows
    for buffer, x in zip(self._buffers, row):
      buffer[t] = x
    self._num_rows = t + 1
    if self._num_rows == self._length:
      cells = self._writer.Append(self._buffers)
      self._writer.CreateItem(self._table, self._priority, [[cell] for cell in cells],
                              [True] * len(cells))
      self._num_rows = 0
      self._flush(0)
    self._observation = next_observation
    if last:
      self._episode_open = False

  def reset(self) -> None:
    """Drops the rollout in progress (its transitions are not written)."""
    self._num_rows = 0
    self._episode_open = False
    self._observation = None

  def _end_episode(self) -> None:
    self.reset()
    self._end_writer_episode()

  def _timeout_message(self) -> str:
    return (f'Reverb did not accept a rollout for table {self._table!r} within '
            f'timeout_s={self._timeout_s} (the queue is full: the learner does not '
            f'read it, or the queue is smaller than the rollouts written between reads).')


class RolloutReader(Iterator[Rollout]):
  """Reads batches of `rollouts_per_batch` rollouts from a queue table, synchronously.

  The structure comes from the table's signature on the server. Each `next()`
  removes the rollouts from the queue and returns a `Rollout` of CPU tensors
  [N, T, ...] (no prefetching: an on-policy learner must not read rollouts
  before they exist). It waits at most `timeout_s` for them.

  Args:
    client: a `reverb.Client` of the server holding `table`.
    table: the queue table's name.
    rollouts_per_batch: rollouts per batch.
    timeout_s: how long `next()` waits for enough rollouts before TimeoutError.
  """

  def __init__(self, client: reverb.Client, table: str, rollouts_per_batch: int,
               timeout_s: float = 60.0):
    if not callable(getattr(client, 'sample', None)):
      raise TypeError(f'client must be a reverb.Client, got {type(client).__name__}.')
    if not isinstance(table, str) or not table:
      raise ValueError(f'table must be a non-empty string, got {table!r}.')
    self._n = base.check_positive_int('rollouts_per_batch', rollouts_per_batch)
    if not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
      raise ValueError(f'timeout_s must be a number > 0, got {timeout_s!r}.')
    info = client.server_info(10)
    if table not in info:
      raise ValueError(f'Table {table!r} is not on the server; it has {sorted(info)}.')
    table_signature = info[table].signature
    if tuple(getattr(table_signature, '_fields', ())) != Rollout._fields:
      raise ValueError(
          f'Table {table!r} does not hold rollouts: its signature is {table_signature}, '
          f'expected fields {Rollout._fields}.')
    self._client = client
    self._table = table
    self._timeout_s = float(timeout_s)
    self._structure = Rollout(*table_signature)
    self._num_columns = len(tree.flatten(self._structure))

  @property
  def rollouts_per_batch(self) -> int:
    return self._n

  def ready(self) -> bool:
    """Whether the queue holds a batch."""
    return self._client.server_info(10)[self._table].current_size >= self._n

  def __iter__(self) -> 'RolloutReader':
    return self

  def __next__(self) -> Rollout:
    deadline = time.monotonic() + self._timeout_s
    while not self.ready():
      if time.monotonic() > deadline:
        size = self._client.server_info(10)[self._table].current_size
        raise TimeoutError(
            f'Table {self._table!r} holds {size} rollouts, fewer than the '
            f'{self._n} of a batch, after {self._timeout_s}s; step the learner only '
            f'after that many rollouts were written.')
      time.sleep(0.01)
    columns = [[] for _ in range(self._num_columns)]
    for sample in self._client.sample(self._table, self._n, emit_timesteps=False):
      if len(sample.data) != self._num_columns:
        raise ValueError(
            f'Items of table {self._table!r} have {len(sample.data)} columns; a '
            f'rollout of its signature has {self._num_columns}.')
      for column, value in zip(columns, sample.data):
        column.append(value)
    stacked = [torch.from_numpy(np.stack(column)) for column in columns]
    return tree.unflatten_as(self._structure, stacked)

  def close(self) -> None:
    """Nothing to release (no background thread)."""
