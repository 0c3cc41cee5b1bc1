"""The n-step transition adder (Acme's `NStepTransitionAdder` semantics).

For a window of k <= n steps starting at step f it writes

    Transition(o_f, a_f, R, D, o_{f+k}, e_f),
    R = r_f + g d_f r_{f+1} + ... + g^(k-1) d_f ... d_{f+k-2} r_{f+k-1},
    D = g^(k-1) d_f ... d_{f+k-1},

with g the agent's discount and d the environment's discounts; the learner
applies g once more when it bootstraps from o_{f+k}. Item by item:

  * early in an episode the windows start at o_0 and grow: (o_0 -> o_1),
    (o_0 -> o_2), ..., (o_0 -> o_n); then each step adds (o_{t-n} -> o_t);
  * at the end the windows shrink to the final observation:
    (o_{T-n+1} -> o_T), ..., (o_{T-1} -> o_T);
  * a truncated episode (LAST with discount > 0) keeps its discount, so the
    learner bootstraps from the final observation.

Rewards and discounts may be nests or arrays (Acme's semantics): the discount
is broadcast to the reward's structure, and each reward leaf's return to the
broadcast shape of that leaf and its discount (reward () with discount (2,)
gives a (2,) return). Plain scalar rewards and discounts take a faster path.

Writing is done in Python with numpy and Reverb's C++ `TrajectoryWriter`
directly: each step appends one row (the new observation, the action, and the
window's R and D), and each item references the stored cells, so every
observation is stored once. Items are confirmed asynchronously; the adder only
waits (flushes) when `max_in_flight_items` are pending, and at episode end.
Items are handed to the writer a chunk's worth at a time (and at every flush
and episode end): until its chunk is complete an item cannot be sent anyway,
and a writer given items one step at a time costs the caller about 15 us more
CPU per step while its sending thread runs beside it (BUILD_NOTES).

With `layout='packed'` each item is instead one flat vector appended on its
own (`rlkit.replay.packing`): observations are stored once per item that
holds them rather than once per step, and Reverb samples the item about
twice as fast. The step's leaves are copied into the vector's dtype when
they arrive, so environments may reuse their observation arrays.
"""

import collections
from typing import List, Mapping, Optional

import dm_env
import numpy as np
import reverb
from reverb import pybind
import tensorflow as tf
import tree

from rlkit import specs
from rlkit import types
from rlkit.adders import base
from rlkit.replay import packing
from rlkit.replay import priorities as priorities_lib
from rlkit.replay import signatures
from rlkit.replay import tables
from rlkit.utils import tree_utils

# Entry fields of the per-episode buffer (one entry per step in the window).
# The *_REFS fields hold Reverb cell references (columns layout) or the
# leaves as flat arrays of the packed dtype (packed layout).
_OBS_REFS, _ACT_REFS, _EXT_REFS, _REWARD, _DISCOUNT, _OBS, _ACT, _EXT = range(8)


class NStepTransitionAdder(base.WriterAdder):
  """Writes n-step `Transition`s to one or more tables.

  Args:
    client: a `reverb.Client` of the server holding the tables.
    n_step: the n of n-step returns, >= 1.
    discount: the agent's discount g, in [0, 1].
    priority_fns: table name -> function(Transition) -> priority, or None
      for "the table's maximum priority" (see `rlkit.replay.priorities`).
      Default: `{DEFAULT_PRIORITY_TABLE: None}`.
    priority_trackers: table name -> the `MaxPriorityTracker` its new items
      enter with, shared with the learner that updates the table's
      priorities; tables not named get a tracker of their own.
    environment_spec: when given, observations and actions are checked
      against it (shape and dtype) and rewards/discounts cast to its dtypes;
      otherwise values are written with their own dtypes.
    max_in_flight_items: before handing more items to the writer, the adder
      waits until these and the unconfirmed ones are at most this many. Keep
      it below 50, where Reverb starts logging warnings.
    chunk_length: rows per compressed Reverb chunk.
    timeout_s: how long a wait for the server may take before TimeoutError
      (e.g. a rate limiter that blocks inserts); None waits indefinitely.
    layout: 'columns' (the Acme-shaped `Transition` items) or 'packed' (one
      flat vector per item; needs `environment_spec`, and the tables must be
      made with the same layout).
    extras_spec: spec of the extras passed to `add`, for the packed layout.
  """

  def __init__(self,
               client: reverb.Client,
               n_step: int,
               discount: float,
               priority_fns: Optional[Mapping[str, Optional[base.PriorityFn]]] = None,
               environment_spec: Optional[specs.EnvironmentSpec] = None,
               max_in_flight_items: int = 32,
               priority_trackers: Optional[
                   Mapping[str, priorities_lib.MaxPriorityTracker]] = None,
               chunk_length: int = 32,
               timeout_s: Optional[float] = None,
               layout: str = 'columns',
               extras_spec: types.NestedSpec = ()):
    if not isinstance(client, reverb.Client):
      raise TypeError(f'client must be a reverb.Client, got {type(client).__name__}.')
    self._n_step = base.check_positive_int('n_step', n_step)
    if not isinstance(discount, (int, float)) or not 0.0 <= discount <= 1.0:
      raise ValueError(f'discount must be a number in [0, 1], got {discount!r}.')
    super().__init__(environment_spec, max_in_flight_items, timeout_s)
    self._discount = float(discount)
    self._priority_fns = base.check_priority_fns(priority_fns,
                                                 tables.DEFAULT_PRIORITY_TABLE)
    priority_trackers = dict(priority_trackers or {})
    unknown = set(priority_trackers) - set(self._priority_fns)
    if unknown:
      raise ValueError(f'priority_trackers names tables {sorted(unknown)} that the adder '
                       f'does not write; it writes {sorted(self._priority_fns)}.')
    self._trackers = {
        table: priority_trackers.get(table) or priorities_lib.MaxPriorityTracker()
        for table in self._priority_fns
    }
    self._any_priority_fn = any(fn is not None for fn in self._priority_fns.values())
    self._packer = None
    if packing.check_layout(layout) == 'packed':
      if environment_spec is None:
        raise ValueError("layout='packed' needs the environment_spec of the items.")
      self._packer = packing.PackedLayout(
          self.signature(environment_spec, extras_spec),
          packing.value_specs(environment_spec, extras_spec))
    chunk_length = base.check_positive_int('chunk_length', chunk_length)
    self._client = client
    self._writer = client._client.NewTrajectoryWriter(  # pylint: disable=protected-access
        pybind.ConstantChunkerOptions(
            max_chunk_length=chunk_length,
            # Unsent items hold references up to a chunk and a window old.
            num_keep_alive_refs=2 * chunk_length + 2 * self._n_step + 2),
        True)
    self._append = self._writer.Append if self._packer is None else self._as_packed
    self._layout = None  # (num obs, action, extras, reward leaves), set on first add.
    self._nested = None  # Whether rewards/discounts take the general path.
    spec = environment_spec
    if spec is not None:
      reward_specs, discount_specs = tree_utils.broadcast_structures(
          spec.rewards, spec.discounts)
      self._reward_dtypes = [np.dtype(x.dtype) for x in tree.flatten(reward_specs)]
      self._discount_dtypes = [np.dtype(x.dtype) for x in tree.flatten(discount_specs)]
    else:
      self._reward_dtypes = self._discount_dtypes = None
    self._reward_structure = None
    self._buffer = collections.deque()
    # CreateItem arguments not yet handed to the writer, sent chunk_length at a
    # time; the first at once, so that the table checks the items' signature.
    self._unsent_items: List[tuple] = []
    self._chunk_length = chunk_length
    self._send_every = 1
    self._episode_open = False
    self._first_observation = None
    self._next_obs_refs = None
    self._current_observation = None

  @property
  def n_step(self) -> int:
    return self._n_step

  @property
  def discount(self) -> float:
    return self._discount

  @staticmethod
  def signature(environment_spec: specs.EnvironmentSpec,
                extras_spec: types.NestedSpec = (),
                layout: str = 'columns') -> types.NestedSpec:
    """The table signature of the items this adder writes with `layout`."""
    rewards, discounts = environment_spec.rewards, environment_spec.discounts
    if not (tree.is_nested(rewards) or tree.is_nested(discounts)
            or tuple(rewards.shape) != tuple(discounts.shape)):
      return signatures.transition_signature(environment_spec, extras_spec, layout)
    if packing.check_layout(layout) == 'packed':
      return packing.PackedLayout(
          NStepTransitionAdder.signature(environment_spec, extras_spec),
          packing.value_specs(environment_spec, extras_spec)).table_signature()
    rewards, discounts = tree_utils.broadcast_structures(rewards, discounts)
    reward_signature = tree.map_structure(
        lambda r, d: tf.TensorSpec(np.broadcast_shapes(tuple(r.shape), tuple(d.shape)),
                                   tf.as_dtype(np.dtype(r.dtype))), rewards, discounts)
    scalar_spec = environment_spec._replace(
        rewards=specs.Array((), np.float32), discounts=specs.Array((), np.float32))
    return signatures.transition_signature(scalar_spec, extras_spec)._replace(
        reward=reward_signature,
        discount=tree.map_structure(signatures.tensor_spec, discounts))

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    base.check_first(timestep)
    self._check_open()
    if self._episode_open:
      self.reset()
    # A copy: the observation is written only with the first add().
    self._first_observation = (timestep.observation, [
        np.array(x) for x in self._observations.flatten(timestep.observation)])
    self._buffer.clear()
    self._next_obs_refs = None
    self._episode_open = True

  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = ()) -> None:
    base.check_next(next_timestep, self._episode_open)
    flat_action = self._actions.flatten(action)
    flat_extras = (self._extras.flatten(extras)
                   if not (isinstance(extras, tuple) and not extras) else [])
    next_observation = next_timestep.observation
    flat_next = self._observations.flatten(next_observation)
    reward, discount = next_timestep.reward, next_timestep.discount
    if self._nested is None:
      self._nested = (tree.is_nested(reward) or tree.is_nested(discount) or
                      np.shape(reward) != np.shape(discount))
    if self._nested:
      reward, discount = self._flatten_nested(reward, discount)
      num_rewards = len(reward)
      window = self._window_nested
      cast = self._cast_nested
    else:
      reward = self._rewards.value(reward)
      discount = self._discounts.value(discount)
      num_rewards = 1
      window = self._window
      cast = self._cast
    layout = (len(flat_next), len(flat_action), len(flat_extras), num_rewards)
    if layout != self._layout:
      self._set_layout(layout)

    append = self._append
    if self._next_obs_refs is None:
      self._current_observation, flat_observation = self._first_observation
      self._next_obs_refs = append(flat_observation + self._no_step)[:layout[0]]
    buffer = self._buffer
    buffer.append([self._next_obs_refs, None, None, reward, discount,
                   self._current_observation, action, extras])
    if len(buffer) > self._n_step:
      buffer.popleft()

    two_k = 2 * num_rewards
    n_return, n_discount = cast(*window(0))
    refs = append(flat_next + flat_action + flat_extras + n_return + n_discount)
    num_obs, num_act = layout[0], layout[1]
    entry = buffer[-1]
    entry[_ACT_REFS] = refs[num_obs:num_obs + num_act]
    entry[_EXT_REFS] = refs[num_obs + num_act:-two_k]
    self._next_obs_refs = refs[:num_obs]
    self._current_observation = next_observation
    self._create_items(0, refs[-two_k:], n_return, n_discount, next_observation)

    if next_timestep.last():
      for first in range(1, len(buffer)):
        n_return, n_discount = cast(*window(first))
        refs = append(self._no_step_obs + n_return + n_discount)
        self._create_items(first, refs[-two_k:], n_return, n_discount,
                           next_observation)
      self._end_episode()
    elif len(self._unsent_items) >= self._send_every:
      unsent = len(self._unsent_items)
      if self._pending + unsent > self._max_in_flight:
        # Waits for items sent a chunk ago: normally confirmed by now.
        super()._flush(max(0, self._max_in_flight - unsent))
      self._send_items()

  def _send_items(self) -> None:
    items, self._unsent_items = self._unsent_items, []
    create_item = self._writer.CreateItem
    for args in items:  # An item the table refuses drops the rest: the step raises.
      create_item(*args)
      self._pending += 1
    self._send_every = self._chunk_length

  def _flush(self, keep_pending: int) -> None:
    self._send_items()
    super()._flush(keep_pending)

  def _set_layout(self, layout) -> None:
    if self._layout is not None:
      raise ValueError(
          f'The structure of the step changed: it now has (observation, '
          f'action, extras) leaf counts {layout}, but earlier steps had '
          f'{self._layout}. Extras must have the same structure on every step.')
    self._layout = layout
    num_obs, num_act, num_ext, num_rewards = layout
    self._no_step = [None] * (num_act + num_ext + 2 * num_rewards)
    self._no_step_obs = [None] * (num_obs + num_act + num_ext)
    self._squeeze = [True] * (2 * num_obs + num_act + num_ext + 2 * num_rewards)

  def _as_packed(self, values):
    """The packed layout's `_append`: copies of the leaves, flat, in the packed dtype."""
    dtype = self._packer.dtype
    return [None if v is None else np.array(v, dtype).reshape(-1) for v in values]

  def _window(self, first: int):
    """(R, D) of the window from buffer[first] to the newest step."""
    buffer = self._buffer
    g = self._discount
    entry = buffer[first]
    n_return, n_discount = entry[_REWARD], entry[_DISCOUNT]
    for i in range(first + 1, len(buffer)):
      n_discount = n_discount * g
      n_return = n_return + n_discount * buffer[i][_REWARD]
      n_discount = n_discount * buffer[i][_DISCOUNT]
    return n_return, n_discount

  def _cast(self, n_return, n_discount):
    return [self._rewards.cast(n_return)], [self._discounts.cast(n_discount)]

  def _flatten_nested(self, reward, discount):
    """Flat float64 leaves of the reward and the discount, in the reward's structure."""
    if reward is None or discount is None:
      raise ValueError(f'The timestep has no reward or discount ({reward!r}, {discount!r}).')
    rewards, discounts = tree_utils.broadcast_structures(reward, discount)
    if self._reward_structure is None:
      self._reward_structure = rewards
      if self._reward_dtypes is None:
        self._reward_dtypes = [np.asarray(x).dtype for x in tree.flatten(rewards)]
        self._discount_dtypes = [np.asarray(x).dtype for x in tree.flatten(discounts)]
    flat_rewards = [np.asarray(x, np.float64) for x in tree.flatten(rewards)]
    flat_discounts = [np.asarray(x, np.float64) for x in tree.flatten(discounts)]
    if len(flat_rewards) != len(self._reward_dtypes):
      raise ValueError(
          f'reward {reward!r} has {len(flat_rewards)} leaves (after broadcasting '
          f'against the discount); earlier steps or the spec had '
          f'{len(self._reward_dtypes)}.')
    return flat_rewards, flat_discounts

  def _window_nested(self, first: int):
    """`_window` leaf by leaf, each return broadcast against its discount."""
    buffer = self._buffer
    g = self._discount
    entry = buffer[first]
    n_return = [np.array(np.broadcast_to(r, np.broadcast_shapes(r.shape, d.shape)))
                for r, d in zip(entry[_REWARD], entry[_DISCOUNT])]
    n_discount = [d.copy() for d in entry[_DISCOUNT]]
    for i in range(first + 1, len(buffer)):
      for k, (r, d) in enumerate(zip(buffer[i][_REWARD], buffer[i][_DISCOUNT])):
        n_discount[k] = n_discount[k] * g
        n_return[k] = n_return[k] + n_discount[k] * r
        n_discount[k] = n_discount[k] * d
    return n_return, n_discount

  def _cast_nested(self, n_return, n_discount):
    return ([np.asarray(x, dtype) for x, dtype in zip(n_return, self._reward_dtypes)],
            [np.asarray(x, dtype) for x, dtype in zip(n_discount, self._discount_dtypes)])

  def _create_items(self, first: int, reward_and_discount_refs, n_return,
                    n_discount, next_observation) -> None:
    """Items of buffer[first] -> the newest observation; n_return/n_discount are flat."""
    entry = self._buffer[first]
    cells = (entry[_OBS_REFS] + entry[_ACT_REFS] + reward_and_discount_refs +
             self._next_obs_refs + entry[_EXT_REFS])
    squeeze = self._squeeze
    if self._packer is not None:
      vector = np.concatenate(cells)
      if vector.shape[0] != self._packer.size:
        raise ValueError(
            f'The step packs into {vector.shape[0]} numbers, the packed layout of '
            f'the environment spec and extras_spec into {self._packer.size}: do '
            f'the extras match extras_spec?')
      cells, squeeze = self._writer.Append([vector]), [True]
    trajectory = [[ref] for ref in cells]
    transition = None
    if self._any_priority_fn:
      if self._nested:
        reward = tree.unflatten_as(self._reward_structure, n_return)
        discount = tree.unflatten_as(self._reward_structure, n_discount)
      else:
        reward, discount = n_return[0], n_discount[0]
      transition = types.Transition(
          observation=entry[_OBS], action=entry[_ACT], reward=reward,
          discount=discount, next_observation=next_observation, extras=entry[_EXT])
    for table, priority_fn in self._priority_fns.items():
      tracker = self._trackers[table]
      if priority_fn is None:
        priority = tracker.value
      else:
        priority = base.check_priority(table, priority_fn(transition))
        tracker.update(priority)
      self._unsent_items.append((table, priority, trajectory, squeeze))

  def _end_episode(self) -> None:
    self._send_items()
    self._buffer.clear()
    self._episode_open = False
    self._first_observation = None
    self._next_obs_refs = None
    self._current_observation = None
    self._end_writer_episode()

  def _timeout_message(self) -> str:
    return (f'Reverb did not accept the items for tables {sorted(self._priority_fns)} '
            f'within timeout_s={self._timeout_s}: a rate limiter is blocking '
            f'inserts (SampleToInsertRatio with no sampler keeping up). In a '
            f'single process build the tables with block_inserts=False and '
            f'sample only when ReplayServer.can_sample(...) is True.')

  def flush(self) -> None:
    """Blocks until every item written so far is in its table."""
    self._check_open()
    self._flush(0)

  def reset(self) -> None:
    """Ends the episode in progress without writing its last windows."""
    self._check_open()
    self._end_episode()

  def __repr__(self) -> str:
    layout = 'columns' if self._packer is None else 'packed'
    return (f'NStepTransitionAdder(n_step={self._n_step}, '
            f'discount={self._discount}, tables={sorted(self._priority_fns)}, '
            f'layout={layout!r})')
