"""Adders of whole episodes and of fixed-length sequences of `Step` rows.

Rows follow Acme's convention. For an episode o_0, a_0, r_0, d_0, ..., o_T
(r_t and d_t are the reward and discount of the timestep a_t led to):

    row t < T:  Step(o_t, a_t, r_t, d_t, start_of_episode=(t == 0), e_t)
    row T:      Step(o_T, 0, 0, 0, False, 0)     (the final observation; zeros)

so an episode of T actions has T + 1 rows. A truncated episode is recognized
by d_{T-1} > 0 (bootstrap from o_T); a terminated one has d_{T-1} = 0.
Rewards and discounts may be nests (their leaves are columns).
"""

import enum
from typing import Any, Callable, List, Optional, Union

import dm_env
import numpy as np
import reverb
import tree
from reverb import pybind

from rlkit import specs
from rlkit import types
from rlkit.adders import base
from rlkit.replay import signatures

PaddingFn = Callable[[tuple, np.dtype], np.ndarray]


class EndBehavior(enum.Enum):
  """What a SequenceAdder does with the sequence in progress at an episode's end.

  WRITE: writes the last `sequence_length` rows (ignoring the period); an
    episode shorter than that writes nothing.
  CONTINUE: writes nothing special; sequences run on into the next episode
    (its first row has `start_of_episode` True).
  ZERO_PAD: completes the sequence with all-zero rows (fixed-length items).
  TRUNCATE: writes the rows it has (items of any length).
  """
  WRITE = 'write'
  CONTINUE = 'continue'
  ZERO_PAD = 'zero_pad'
  TRUNCATE = 'truncate'


def _end_behavior(value: Any) -> EndBehavior:
  if isinstance(value, EndBehavior):
    return value
  try:
    return EndBehavior(str(value).lower())
  except ValueError:
    raise ValueError(
        f'Unknown end_of_episode_behavior {value!r}; expected an EndBehavior or '
        f'one of {[b.value for b in EndBehavior]}.') from None


class _RowAdder(base.WriterAdder):
  """Shared machinery: checks, one Reverb row per step, items over rows."""

  def __init__(self, client: reverb.Client, table: str, keep_rows: int,
               environment_spec: Optional[specs.EnvironmentSpec],
               priority: float, max_in_flight_items: int,
               timeout_s: Optional[float]):
    if not isinstance(client, reverb.Client):
      raise TypeError(f'client must be a reverb.Client, got {type(client).__name__}.')
    if not isinstance(table, str) or not table:
      raise ValueError(f'table must be a non-empty name, got {table!r}.')
    super().__init__(environment_spec, max_in_flight_items, timeout_s)
    self._table = table
    self._priority = base.check_priority(table, priority)
    self._writer = client._client.NewTrajectoryWriter(  # pylint: disable=protected-access
        pybind.AutoTunedChunkerOptions(num_keep_alive_refs=keep_rows,
                                       throughput_weight=1.0),
        True)
    self._rows: List[list] = []  # References of this episode's rows.
    self._last_row: Optional[List] = None
    self._observation: Optional[list] = None
    self._episode_open = False
    self._start_of_episode = False
    spec = environment_spec
    self._nested_rewards = base.NestCaster('reward', spec.rewards if spec else None)
    self._nested_discounts = base.NestCaster('discount', spec.discounts if spec else None)

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    base.check_first(timestep)
    self._check_open()
    if self._episode_open:
      self.reset()
    self._observation = self._observations.flatten(timestep.observation)
    self._episode_open = True
    self._start_of_episode = True
    self._on_first()

  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = ()) -> None:
    base.check_next(next_timestep, self._episode_open)
    reward, discount = next_timestep.reward, next_timestep.discount
    if tree.is_nested(reward) or tree.is_nested(discount):
      reward_and_discount = (self._nested_rewards.flatten(reward) +
                             self._nested_discounts.flatten(discount))
    else:
      reward_and_discount = [self._rewards.cast(self._rewards.value(reward)),
                             self._discounts.cast(self._discounts.value(discount))]
    row = (self._observation + self._actions.flatten(action) + reward_and_discount +
           [np.bool_(self._start_of_episode)])
    self._start_column = len(row) - 1
    if not (isinstance(extras, tuple) and not extras):
      row += self._extras.flatten(extras)
    if self._last_row is not None and len(row) != len(self._last_row):
      raise ValueError(
          f'The step has {len(row)} leaves but earlier steps had '
          f'{len(self._last_row)}; extras must have the same structure on '
          f'every step.')
    self._before_row(next_timestep)
    self._append(row)
    self._start_of_episode = False
    self._observation = self._observations.flatten(next_timestep.observation)
    if next_timestep.last():
      num_obs = len(self._observation)
      self._append(self._observation + base.zeros_like(row[num_obs:]))
      self._on_last()
      self._end_episode()

  def _append(self, row: list) -> None:
    self._rows.append(self._writer.Append(row))
    self._last_row = row
    self._on_row()

  def _create_item(self, first: int, last: int) -> None:
    """Writes rows[first:last] as one item."""
    rows = self._rows[first:last]
    columns = [list(column) for column in zip(*rows)]
    self._writer.CreateItem(self._table, self._priority, columns,
                            [False] * len(columns))
    self._pending += 1
    if self._pending >= self._max_in_flight:
      self._flush(self._max_in_flight // 2)

  def _end_episode(self) -> None:
    self._rows = []
    self._episode_open = False
    self._observation = None
    self._end_writer_episode()

  def _timeout_message(self) -> str:
    return (f'Reverb did not accept the items for table {self._table!r} within '
            f'timeout_s={self._timeout_s} (a full queue or a rate limiter that '
            f'blocks inserts).')

  def flush(self) -> None:
    """Blocks until every item written so far is in the table."""
    self._flush(0)

  def reset(self) -> None:
    """Drops the episode in progress (its unwritten rows are lost)."""
    self._end_episode()

  def _on_first(self) -> None:
    pass

  def _before_row(self, next_timestep: dm_env.TimeStep) -> None:
    pass

  def _on_row(self) -> None:
    pass

  def _on_last(self) -> None:
    pass


class EpisodeAdder(_RowAdder):
  """Writes each episode as one item of T + 1 `Step` rows, when it ends.

  Args:
    client: a `reverb.Client` of the server holding `table`.
    table: the table to write to (`make_sequence_table` or `make_queue_table`
      with `sequence_length=None`).
    max_sequence_length: the most rows an episode may have, counting the
      final-observation row (so at most max_sequence_length - 1 actions).
    environment_spec: when given, observations and actions are checked
      against it and rewards/discounts cast to its dtypes.
    priority: the priority of every item.
    max_in_flight_items: the adder waits once this many items are unconfirmed.
    timeout_s: how long a wait for the server may take before TimeoutError;
      None waits indefinitely.
    padding_fn: when given, every episode is padded to `max_sequence_length`
      rows with rows of `padding_fn(shape, dtype)` per column (e.g. `np.zeros`;
      `start_of_episode` is False), so items have a fixed length (Acme's
      `padding_fn`).
  """

  def __init__(self,
               client: reverb.Client,
               table: str,
               max_sequence_length: int,
               environment_spec: Optional[specs.EnvironmentSpec] = None,
               priority: float = 1.0,
               max_in_flight_items: int = 8,
               timeout_s: Optional[float] = None,
               padding_fn: Optional[PaddingFn] = None):
    self._max_sequence_length = base.check_positive_int('max_sequence_length',
                                                        max_sequence_length)
    if max_sequence_length < 2:
      raise ValueError(
          f'max_sequence_length must be >= 2 (one action and the final '
          f'observation), got {max_sequence_length}.')
    if padding_fn is not None and not callable(padding_fn):
      raise TypeError(f'padding_fn must be callable (shape, dtype) -> array or None, '
                      f'got {padding_fn!r}.')
    self._padding_fn = padding_fn
    super().__init__(client, table, max_sequence_length, environment_spec,
                     priority, max_in_flight_items, timeout_s)

  @staticmethod
  def signature(environment_spec: specs.EnvironmentSpec,
                extras_spec: types.NestedSpec = (),
                sequence_length: Optional[int] = None) -> base.Step:
    return signatures.sequence_signature(environment_spec, sequence_length, extras_spec)

  def _before_row(self, next_timestep: dm_env.TimeStep) -> None:
    num_actions = len(self._rows) + 1
    if num_actions + 1 > self._max_sequence_length:
      self.reset()
      raise ValueError(
          f'The episode is longer than max_sequence_length='
          f'{self._max_sequence_length}: after {num_actions} actions it needs '
          f'{num_actions + 1} rows (one per action plus the final '
          f'observation). The episode was dropped; raise max_sequence_length '
          f'or limit the episode length (e.g. with StepLimitWrapper).')

  def _on_last(self) -> None:
    if self._padding_fn is not None and len(self._rows) < self._max_sequence_length:
      padding = []
      for value in self._last_row:
        value = np.asarray(value)
        padded = np.asarray(self._padding_fn(value.shape, value.dtype), value.dtype)
        if padded.shape != value.shape:
          raise ValueError(
              f'padding_fn{(value.shape, value.dtype)} returned an array of shape '
              f'{padded.shape}; expected {value.shape}.')
        padding.append(padded)
      padding[self._start_column] = np.bool_(False)
      for _ in range(self._max_sequence_length - len(self._rows)):
        self._append(padding)
    self._create_item(0, len(self._rows))


class SequenceAdder(_RowAdder):
  """Writes overlapping fixed-length sequences of `Step` rows (Acme semantics).

  A sequence of the last `sequence_length` rows is written when the episode
  reaches `sequence_length` rows, then every `period` rows. What happens to
  the sequence in progress when an episode ends (after its final-observation
  row) is `end_of_episode_behavior`, an `EndBehavior` or its name:
    * ZERO_PAD (the default, as in Acme): completed with all-zero rows to
      `sequence_length` rows (table signature with a fixed length);
    * TRUNCATE: written with the rows it has (an episode shorter than
      `sequence_length` becomes one short item; needs a table accepting any
      length, `sequence_length=None`);
    * WRITE: the last `sequence_length` rows are written, off the period
      (an episode shorter than `sequence_length` writes nothing);
    * CONTINUE: sequences cross into the next episode, whose first row has
      `start_of_episode` True.

  Args:
    client: a `reverb.Client` of the server holding `table`.
    table: the table to write to.
    sequence_length: rows per sequence, >= 2.
    period: rows between the starts of consecutive sequences (< length:
      overlapping).
    environment_spec: when given, observations and actions are checked.
    end_of_episode_behavior: see above.
    priority: the priority of every item.
    max_in_flight_items: the adder waits once this many items are unconfirmed.
    timeout_s: how long a wait for the server may take before TimeoutError.
  """

  def __init__(self,
               client: reverb.Client,
               table: str,
               sequence_length: int,
               period: int,
               environment_spec: Optional[specs.EnvironmentSpec] = None,
               end_of_episode_behavior: Union[EndBehavior, str] = EndBehavior.ZERO_PAD,
               priority: float = 1.0,
               max_in_flight_items: int = 16,
               timeout_s: Optional[float] = None):
    self._length = base.check_positive_int('sequence_length', sequence_length)
    self._period = base.check_positive_int('period', period)
    self._behavior = _end_behavior(end_of_episode_behavior)
    super().__init__(client, table, self._length + 1, environment_spec,
                     priority, max_in_flight_items, timeout_s)

  @property
  def end_of_episode_behavior(self) -> EndBehavior:
    return self._behavior

  @staticmethod
  def signature(environment_spec: specs.EnvironmentSpec,
                sequence_length: Optional[int] = None,
                extras_spec: types.NestedSpec = ()) -> base.Step:
    return signatures.sequence_signature(environment_spec, sequence_length, extras_spec)

  def _is_write_step(self, num_rows: int) -> bool:
    return num_rows == self._length or (
        num_rows > self._length and (num_rows - self._length) % self._period == 0)

  def _on_row(self) -> None:
    num_rows = len(self._rows)
    if self._is_write_step(num_rows):
      self._create_item(num_rows - self._length, num_rows)
    if num_rows > self._length:
      # Only the last `sequence_length` rows can still be referenced.
      self._rows[num_rows - self._length - 1] = None

  def _on_last(self) -> None:
    num_rows = len(self._rows)
    behavior = self._behavior
    if behavior is EndBehavior.CONTINUE or self._is_write_step(num_rows):
      return
    if behavior is EndBehavior.WRITE:
      if num_rows >= self._length:
        self._create_item(num_rows - self._length, num_rows)
      return
    if num_rows < self._length:
      delta = self._length - num_rows
    else:
      delta = (self._period - (num_rows - self._length)) % self._period
    if behavior is EndBehavior.ZERO_PAD:
      zeros = base.zeros_like(self._last_row)
      for _ in range(delta):
        self._append(zeros)  # The last one reaches a write step.
    else:
      self._create_item(max(0, num_rows - self._length + delta), num_rows)

  def _end_episode(self) -> None:
    if self._behavior is EndBehavior.CONTINUE and not self._closed:
      self._episode_open = False
      self._observation = None
      return
    super()._end_episode()

  def reset(self) -> None:
    """Drops the episode in progress; with CONTINUE, also the rows kept for it."""
    self._episode_open = False
    self._observation = None
    _RowAdder._end_episode(self)
