"""Replay tables: samplers, removers, rate limiters, signatures, no deadlock."""

import sys

import dm_env
import numpy as np
import pytest
import reverb
import tensorflow as tf

from rlkit import specs
from rlkit import types
from rlkit.adders import base
from rlkit.adders import transition
from rlkit.replay import server as server_lib
from rlkit.replay import signatures
from rlkit.replay import tables

SPEC = specs.EnvironmentSpec(
    observations={'position': specs.Array((3,), np.float32),
                  'image': specs.Array((4, 4, 1), np.uint8)},
    actions=specs.DiscreteArray(3, dtype=np.int64),
    rewards=specs.Array((), np.float32),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))
SIMPLE_SPEC = specs.EnvironmentSpec(
    observations=specs.Array((2,), np.float32),
    actions=specs.DiscreteArray(2, dtype=np.int64),
    rewards=specs.Array((), np.float32),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))


def test_transition_signature_follows_the_environment_spec():
  signature = signatures.transition_signature(
      SPEC, extras_spec={'q': specs.Array((3,), np.float32)})
  assert isinstance(signature, types.Transition)
  assert signature.observation['image'] == tf.TensorSpec((4, 4, 1), tf.uint8)
  assert signature.next_observation['position'] == tf.TensorSpec((3,), tf.float32)
  assert signature.action == tf.TensorSpec((), tf.int64)
  assert signature.reward == tf.TensorSpec((), tf.float32)
  assert signature.discount == tf.TensorSpec((), tf.float32)
  assert signature.extras['q'] == tf.TensorSpec((3,), tf.float32)


def test_sequence_signature_has_a_leading_time_dimension():
  fixed = signatures.sequence_signature(SPEC, sequence_length=7)
  assert isinstance(fixed, base.Step)
  assert fixed.observation['image'].shape == (7, 4, 4, 1)
  assert fixed.action.shape == (7,)
  assert fixed.extras == ()
  free = signatures.sequence_signature(SPEC)
  assert free.reward.shape.as_list() == [None]
  with pytest.raises(TypeError, match='EnvironmentSpec'):
    signatures.sequence_signature({'observations': None})


def test_uniform_fifo_table_with_min_size():
  table = tables.make_transition_table(environment_spec=SPEC, max_size=50,
                                       min_size_to_sample=5)
  info = table.info
  assert table.name == tables.DEFAULT_PRIORITY_TABLE
  assert info.max_size == 50
  assert info.sampler_options.uniform
  assert info.remover_options.fifo
  assert info.rate_limiter_info.min_size_to_sample == 5
  assert info.rate_limiter_info.max_diff == sys.float_info.max
  assert info.signature == signatures.transition_signature(SPEC)


@pytest.mark.parametrize('remover, field', [('fifo', 'fifo'), ('lifo', 'lifo'),
                                            ('uniform', 'uniform'),
                                            ('min_heap', 'heap')])
def test_prioritized_table_and_removers(remover, field):
  table = tables.make_transition_table(
      'prio', SPEC, prioritized=True, priority_exponent=0.8, remover=remover)
  info = table.info
  assert info.sampler_options.prioritized.priority_exponent == pytest.approx(0.8)
  assert info.remover_options.HasField(field)


def test_sample_to_insert_ratio_error_buffer():
  table = tables.make_transition_table(
      environment_spec=SPEC, min_size_to_sample=100, samples_per_insert=8.0,
      samples_per_insert_tolerance_rate=0.1)
  limiter = table.info.rate_limiter_info
  assert limiter.samples_per_insert == 8.0
  # offset 100 * 8 = 800, buffer 100 * 8 * 0.1 = 80.
  assert (limiter.min_diff, limiter.max_diff) == (720.0, 880.0)
  # Small tables get the smallest buffer Reverb accepts, max(1, spi).
  small = tables.make_transition_table(environment_spec=SPEC,
                                       min_size_to_sample=1, samples_per_insert=4)
  limiter = small.info.rate_limiter_info
  assert (limiter.min_diff, limiter.max_diff) == (0.0, 8.0)


def test_non_blocking_inserts_keep_the_sampling_side():
  table = tables.make_transition_table(
      environment_spec=SPEC, min_size_to_sample=100, samples_per_insert=8.0,
      block_inserts=False)
  limiter = table.info.rate_limiter_info
  assert (limiter.min_diff, limiter.max_diff) == (720.0, sys.float_info.max)
  blocking = tables.make_transition_table(
      environment_spec=SPEC, min_size_to_sample=100, samples_per_insert=8.0)
  copy = tables.disable_insert_blocking(blocking)
  assert copy.info.rate_limiter_info.max_diff == sys.float_info.max
  assert copy.info.rate_limiter_info.min_diff == 720.0
  assert copy.info.signature == blocking.info.signature


def test_queue_and_sequence_tables():
  queue = tables.make_queue_table('queue', SPEC, max_size=10, sequence_length=5)
  info = queue.info
  assert info.max_times_sampled == 1
  assert info.sampler_options.fifo
  assert info.signature.observation['position'].shape == (5, 3)
  transitions = tables.make_queue_table('tq', SPEC, 10, item_type='transition')
  assert isinstance(transitions.info.signature, tuple)
  assert transitions.info.signature.next_observation['image'].shape == (4, 4, 1)
  sequences = tables.make_sequence_table('seq', SPEC, max_size=20,
                                         sequence_length=None)
  assert sequences.info.sampler_options.uniform
  assert sequences.info.signature.action.shape.as_list() == [None]


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(max_size=0), ValueError, 'max_size must be >= 1, got 0'),
    (dict(priority_exponent=-0.1), ValueError, 'priority_exponent must be >= 0'),
    (dict(samples_per_insert=0.0), ValueError, 'samples_per_insert must be > 0'),
    (dict(samples_per_insert=-2), ValueError, 'samples_per_insert must be > 0'),
    (dict(min_size_to_sample=11, max_size=10), ValueError,
     r'min_size_to_sample \(11\) must be <= max_size \(10\)'),
    (dict(min_size_to_sample=0), ValueError, 'min_size_to_sample must be >= 1'),
    (dict(remover='oldest'), ValueError, "Unknown remover 'oldest'"),
    (dict(name=''), ValueError, 'non-empty'),
    (dict(samples_per_insert_tolerance_rate=-1, samples_per_insert=1.0),
     ValueError, 'tolerance_rate must be >= 0'),
    (dict(max_size=10.5), TypeError, 'max_size must be an int'),
])
def test_transition_table_validates_arguments(kwargs, error, message):
  kwargs.setdefault('environment_spec', SPEC)
  with pytest.raises(error, match=message):
    tables.make_transition_table(**kwargs)


def test_tables_need_an_environment_spec():
  with pytest.raises(TypeError, match='needs an environment_spec'):
    tables.make_transition_table()
  with pytest.raises(TypeError, match='EnvironmentSpec'):
    tables.make_queue_table('q', 'spec', 10)
  with pytest.raises(ValueError, match="Unknown item_type 'episode'"):
    tables.make_queue_table('q', SPEC, 10, item_type='episode')


@pytest.mark.timeout(60)
def test_wrong_item_fails_at_insert_time():
  with server_lib.ReplayServer([tables.make_transition_table('t', SIMPLE_SPEC)]) as server:
    writer = server.client().trajectory_writer(num_keep_alive_refs=1)
    writer.append(types.Transition(
        observation=np.zeros(3, np.float32), action=np.int64(0),
        reward=np.float32(0), discount=np.float32(1),
        next_observation=np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match='inconsistent with the table signature'):
      writer.create_item('t', 1.0, types.Transition(
          *[column[-1] for column in writer.history[:5]]))
    assert server.table_sizes() == {'t': 0}


def _write_transitions(adder, num_steps, episode_length=10):
  for t in range(num_steps):
    if t % episode_length == 0:
      adder.add_first(dm_env.restart(np.zeros(2, np.float32)))
    observation = np.full(2, t, np.float32)
    if t % episode_length == episode_length - 1:
      adder.add(0, dm_env.termination(np.float32(1), observation))
    else:
      adder.add(0, dm_env.transition(np.float32(1), observation, np.float32(1)))


@pytest.mark.timeout(60)
def test_single_process_inserts_never_block_without_a_sampler():
  table = tables.make_transition_table(
      environment_spec=SIMPLE_SPEC, max_size=1000, min_size_to_sample=10,
      samples_per_insert=1.0, block_inserts=False)
  with server_lib.ReplayServer([table]) as server:
    adder = transition.NStepTransitionAdder(
        server.client(), n_step=1, discount=0.99, environment_spec=SIMPLE_SPEC,
        timeout_s=10)
    _write_transitions(adder, 500)
    adder.flush()
    assert server.table_sizes() == {tables.DEFAULT_PRIORITY_TABLE: 500}


@pytest.mark.timeout(60)
def test_single_process_loop_samples_only_when_ready():
  """Insert, then sample while the rate limiter allows it, in one thread."""
  name = tables.DEFAULT_PRIORITY_TABLE
  table = tables.make_transition_table(
      environment_spec=SIMPLE_SPEC, max_size=1000, min_size_to_sample=20,
      samples_per_insert=2.0, block_inserts=False)
  with server_lib.ReplayServer([table]) as server:
    client = server.client()
    adder = transition.NStepTransitionAdder(
        client, n_step=1, discount=0.99, environment_spec=SIMPLE_SPEC,
        max_in_flight_items=2, timeout_s=10)
    num_samples = 0
    for step in range(150):
      _write_transitions(adder, 1, episode_length=1)
      while server.can_sample(name, 1):
        num_samples += len(list(client.sample(name, 1, emit_timesteps=False)))
      if step < 19:
        assert num_samples == 0
    assert server.table_sizes() == {name: 150}
    # About two samples per insert after the first 20 items.
    assert abs(num_samples - 2 * 150) <= 2 * 20 + 4


@pytest.mark.timeout(60)
def test_blocking_table_with_no_sampler_times_out_with_a_clear_error():
  table = tables.make_transition_table(
      environment_spec=SIMPLE_SPEC, max_size=1000, min_size_to_sample=5,
      samples_per_insert=1.0)
  with server_lib.ReplayServer([table]) as server:
    adder = transition.NStepTransitionAdder(
        server.client(), n_step=1, discount=0.99, environment_spec=SIMPLE_SPEC,
        timeout_s=1.0)
    with pytest.raises(TimeoutError, match='block_inserts=False'):
      _write_transitions(adder, 200)
    assert server.table_sizes()[tables.DEFAULT_PRIORITY_TABLE] < 200
    with pytest.raises(TimeoutError):
      adder.close()  # Gives up on the held-back items and releases the writer.
