"""The replay iterator (Reverb -> torch) against real Reverb servers."""

import gc
import sys
import threading
import time

import dm_env
import numpy as np
import pytest
import torch

from rlkit import specs
from rlkit import types
from rlkit.adders import transition
from rlkit.replay import dataset
from rlkit.replay import prefetch
from rlkit.replay import priorities as priorities_lib
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from tests import forkserver
from tests import waiting

torch.set_num_threads(1)

SPEC = specs.EnvironmentSpec(
    observations=specs.Array((4,), np.float32, 'observation'),
    actions=specs.DiscreteArray(2, dtype=np.int64, name='action'),
    rewards=specs.Array((), np.float32, 'reward'),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0, 'discount'))

UNIFORM = 'uniform'
PRIORITIZED = 'prioritized'
EMPTY = 'empty'
NUM_STEPS = 40
ALPHA = 0.7


def observation(t: int) -> np.ndarray:
  return np.array([t, 2 * t, -t, 0.5], np.float32)


def write_episode(client, table: str, num_steps: int = NUM_STEPS,
                  priority_fn=None) -> None:
  """Writes the 1-step transitions of one episode, t -> t + 1, t < num_steps.

  Step t has action t % 2, reward t, and discount 1 except 0 at the end.
  """
  adder = transition.NStepTransitionAdder(
      client, n_step=1, discount=0.99, priority_fns={table: priority_fn},
      environment_spec=SPEC)
  adder.add_first(dm_env.restart(observation(0)))
  for t in range(num_steps):
    if t == num_steps - 1:
      timestep = dm_env.termination(np.float32(t), observation(t + 1))
    else:
      timestep = dm_env.transition(np.float32(t), observation(t + 1),
                                   np.float32(1.0))
    adder.add(np.int64(t % 2), timestep)
  adder.close()


def priority_of(t: int) -> float:
  return 1.0 + t


@pytest.fixture(scope='module')
def server():
  replay_tables = [
      tables.make_transition_table(UNIFORM, SPEC, max_size=1000),
      tables.make_transition_table(PRIORITIZED, SPEC, max_size=1000,
                                   prioritized=True, priority_exponent=ALPHA),
      tables.make_transition_table(EMPTY, SPEC, max_size=1000),
  ]
  with server_lib.ReplayServer(replay_tables) as replay_server:
    write_episode(replay_server.client(), UNIFORM)
    write_episode(replay_server.client(), PRIORITIZED,
                  priority_fn=lambda tr: priority_of(int(tr.reward)))
    yield replay_server


def check_transitions(data: types.Transition, batch_size: int) -> np.ndarray:
  """Checks every row is one of the written transitions; returns their t."""
  assert isinstance(data, types.Transition)
  expected = {
      'observation': ((batch_size, 4), torch.float32),
      'action': ((batch_size,), torch.int64),
      'reward': ((batch_size,), torch.float32),
      'discount': ((batch_size,), torch.float32),
      'next_observation': ((batch_size, 4), torch.float32),
  }
  for field, (shape, dtype) in expected.items():
    value = getattr(data, field)
    assert isinstance(value, torch.Tensor), field
    assert tuple(value.shape) == shape, field
    assert value.dtype == dtype, field
  assert data.extras == ()
  t = data.observation[:, 0].numpy().astype(np.int64)
  assert np.all((t >= 0) & (t < NUM_STEPS))
  np.testing.assert_array_equal(data.observation.numpy(),
                                np.stack([observation(i) for i in t]))
  np.testing.assert_array_equal(data.next_observation.numpy(),
                                np.stack([observation(i + 1) for i in t]))
  np.testing.assert_array_equal(data.action.numpy(), t % 2)
  np.testing.assert_array_equal(data.reward.numpy(), t.astype(np.float32))
  np.testing.assert_array_equal(data.discount.numpy(),
                                (t < NUM_STEPS - 1).astype(np.float32))
  return t


@pytest.mark.timeout(60)
@pytest.mark.parametrize('batch_size,batches_per_fetch,conversion',
                         [(16, 1, 'dlpack'), (8, 4, 'dlpack'),
                          (16, 1, 'numpy')])
def test_uniform_batches_hold_the_written_transitions(
    server, batch_size, batches_per_fetch, conversion):
  key_to_t = {}
  seen = set()
  previous_keys = None
  with dataset.make_transition_iterator(
      server.address, UNIFORM, batch_size, environment_spec=SPEC,
      timeout_s=10, batches_per_fetch=batches_per_fetch,
      conversion=conversion) as iterator:
    for _ in range(30):
      sample = next(iterator)
      assert isinstance(sample, dataset.ReplaySample)
      t = check_transitions(sample.data, batch_size)
      info = sample.info
      assert info.key.dtype == torch.uint64
      assert info.probability.dtype == torch.float64
      assert info.table_size.dtype == torch.int64
      assert info.priority.dtype == torch.float64
      for field in info:
        assert tuple(field.shape) == (batch_size,)
      np.testing.assert_allclose(info.probability.numpy(), 1.0 / NUM_STEPS)
      np.testing.assert_array_equal(info.table_size.numpy(), NUM_STEPS)
      assert torch.all(info.priority > 0)
      for key, step in zip(info.key.tolist(), t.tolist()):
        assert key_to_t.setdefault(key, step) == step
      # Independent draws: consecutive batches (e.g. cut from one fetch)
      # are never the same items in the same order.
      assert info.key.tolist() != previous_keys
      previous_keys = info.key.tolist()
      seen.update(t.tolist())
  # 30 uniform batches cover most of the 40 items.
  assert len(key_to_t) == len(seen) >= NUM_STEPS // 2


@pytest.mark.timeout(60)
def test_prioritized_probabilities_and_priorities(server):
  priorities = np.array([priority_of(t) for t in range(NUM_STEPS)])
  expected = priorities**ALPHA / np.sum(priorities**ALPHA)
  counts = np.zeros(NUM_STEPS)
  with dataset.make_transition_iterator(server.address, PRIORITIZED, 64,
                                        timeout_s=10) as iterator:
    for _ in range(40):
      sample = next(iterator)
      t = check_transitions(sample.data, 64)
      np.testing.assert_allclose(sample.info.priority.numpy(), priorities[t])
      np.testing.assert_allclose(sample.info.probability.numpy(), expected[t],
                                 rtol=1e-6)
      counts += np.bincount(t, minlength=NUM_STEPS)
  # The last quarter (highest priority) is sampled more than the first.
  assert counts[-10:].sum() > 1.5 * counts[:10].sum()


def prefetch_threads():
  return [t for t in threading.enumerate()
          if t.name.startswith('replay-prefetch') and t.is_alive()]


@pytest.mark.timeout(60)
def test_prefetch_fills_in_background_and_close_joins(server):
  before = len(prefetch_threads())
  iterator = dataset.make_transition_iterator(server.address, UNIFORM, 8,
                                              prefetch=3, timeout_s=10)
  assert len(prefetch_threads()) == before + 1
  # Without any next() call the thread fills the buffer.
  assert waiting.wait_until(iterator.ready, 10)
  assert waiting.wait_until(lambda: iterator._prefetcher._queue.full(), 10)  # pylint: disable=protected-access
  start = time.perf_counter()
  for _ in range(3):
    next(iterator)
  assert time.perf_counter() - start < 0.5
  assert iterator.close() is True
  assert len(prefetch_threads()) == before
  assert not iterator.ready()
  with pytest.raises(RuntimeError, match='closed'):
    next(iterator)
  assert iterator.close() is True


@pytest.mark.timeout(30)
def test_prefetcher_delivers_items_then_the_producer_error():
  items = iter([1, None, 2, 3])

  def produce(unused_stop):
    try:
      return next(items)
    except StopIteration:
      raise KeyError('producer failed') from None

  prefetcher = prefetch.ThreadPrefetcher(produce, buffer_size=2)
  assert [prefetcher.get(timeout=5) for _ in range(3)] == [1, 2, 3]
  for _ in range(2):
    with pytest.raises(KeyError, match='producer failed'):
      prefetcher.get(timeout=5)
  assert prefetcher.ready()
  assert prefetcher.close(timeout=5)


@pytest.mark.timeout(60)
def test_background_errors_reach_next(server):
  calls = []

  def failing_as_data(data):
    calls.append(1)
    if len(calls) > 2:
      raise ArithmeticError('conversion failed in the background')
    return types.Transition(*data)

  iterator = dataset.ReplayIterator(server.address, UNIFORM, 4, timeout_s=10,
                                    as_data=failing_as_data)
  check_transitions(next(iterator).data, 4)
  check_transitions(next(iterator).data, 4)
  for _ in range(2):
    with pytest.raises(ArithmeticError, match='in the background'):
      next(iterator)
  assert iterator.close() is True


def samples_taken(srv, table: str) -> int:
  info = srv.client().server_info(5)[table]
  return info.rate_limiter_info.sample_stats.completed


@pytest.mark.timeout(60)
def test_close_stops_sampling_from_the_table():
  with server_lib.ReplayServer(
      [tables.make_transition_table(UNIFORM, SPEC, max_size=100)]) as srv:
    write_episode(srv.client(), UNIFORM)
    iterator = dataset.make_transition_iterator(srv.address, UNIFORM, 8,
                                                timeout_s=10)
    next(iterator)
    assert iterator.close() is True
    time.sleep(0.3)
    taken = samples_taken(srv, UNIFORM)
    time.sleep(0.5)
    assert samples_taken(srv, UNIFORM) == taken


@pytest.mark.timeout(60)
def test_dropped_iterator_stops_its_thread(server):
  before = len(prefetch_threads())
  iterator = dataset.make_transition_iterator(server.address, UNIFORM, 4,
                                              timeout_s=10)
  next(iterator)
  assert len(prefetch_threads()) == before + 1
  del iterator
  gc.collect()
  assert waiting.wait_until(lambda: len(prefetch_threads()) == before, 10)


@pytest.mark.timeout(60)
def test_keys_update_priorities():
  table = tables.make_transition_table(PRIORITIZED, SPEC, max_size=100,
                                       prioritized=True, priority_exponent=1.0)
  with server_lib.ReplayServer([table]) as srv:
    write_episode(srv.client(), PRIORITIZED, num_steps=4)
    with dataset.make_transition_iterator(srv.address, PRIORITIZED, 16,
                                          timeout_s=10) as iterator:
      sample = next(iterator)
      np.testing.assert_allclose(sample.info.priority.numpy(), 1.0)
      t = sample.data.observation[:, 0].numpy().astype(np.int64)
      step_to_key = dict(zip(t.tolist(), sample.info.key.tolist()))
      keys = torch.tensor(list(step_to_key.values()), dtype=torch.uint64)
      new = np.array([10.0 + step for step in step_to_key])
      priorities_lib.update_priorities(srv.client(), PRIORITIZED, keys, new)
    with dataset.make_transition_iterator(srv.address, PRIORITIZED, 64,
                                          timeout_s=10) as iterator:
      sample = next(iterator)
    t = sample.data.observation[:, 0].numpy().astype(np.int64)
    for step, key, priority in zip(t, sample.info.key.tolist(),
                                   sample.info.priority.numpy()):
      if step in step_to_key:
        assert key == step_to_key[step]
        assert priority == 10.0 + step


@pytest.mark.timeout(60)
def test_context_manager_closes(server):
  before = len(prefetch_threads())
  with dataset.make_transition_iterator(server.address, UNIFORM, 4,
                                        timeout_s=10) as iterator:
    check_transitions(next(iterator).data, 4)
  assert len(prefetch_threads()) == before
  with pytest.raises(RuntimeError):
    next(iterator)


@pytest.mark.timeout(60)
def test_empty_table_times_out_then_recovers():
  with server_lib.ReplayServer(
      [tables.make_transition_table(EMPTY, SPEC, max_size=100)]) as srv:
    with dataset.make_transition_iterator(srv.address, EMPTY, 4,
                                          timeout_s=1.0) as iterator:
      assert not iterator.ready()
      start = time.perf_counter()
      with pytest.raises(TimeoutError) as error:
        next(iterator)
      elapsed = time.perf_counter() - start
      assert 0.9 < elapsed < 3.0
      message = str(error.value)
      assert srv.address in message
      assert repr(EMPTY) in message
      assert 'timeout_s=1.0' in message
      assert 'holds 0 items' in message
      assert not iterator.ready()
      # The iterator keeps polling: data written later is delivered.
      write_episode(srv.client(), EMPTY)
      assert waiting.wait_until(iterator.ready, 10)
      check_transitions(next(iterator).data, 4)


@pytest.mark.timeout(60)
def test_ready_waits_for_min_size_to_sample():
  table = tables.make_transition_table(EMPTY, SPEC, max_size=100,
                                       min_size_to_sample=NUM_STEPS)
  with server_lib.ReplayServer([table]) as srv:
    with dataset.make_transition_iterator(srv.address, EMPTY, 4,
                                          timeout_s=5.0) as iterator:
      write_episode(srv.client(), EMPTY, num_steps=NUM_STEPS // 2)
      time.sleep(1.5)
      assert not iterator.ready()
      write_episode(srv.client(), EMPTY, num_steps=NUM_STEPS // 2)
      assert waiting.wait_until(iterator.ready, 10)
      sample = next(iterator)
      np.testing.assert_array_equal(sample.info.table_size.numpy(), NUM_STEPS)


def drain_until_error(iterator, max_batches: int):
  for _ in range(max_batches):
    next(iterator)
  raise AssertionError(f'no error after {max_batches} batches')


@pytest.mark.timeout(60)
def test_stopped_in_process_server_raises_connection_error():
  srv = server_lib.ReplayServer(
      [tables.make_transition_table(UNIFORM, SPEC, max_size=100)])
  address = srv.address
  write_episode(srv.client(), UNIFORM)
  iterator = dataset.make_transition_iterator(address, UNIFORM, 4, prefetch=2,
                                              timeout_s=1.0)
  check_transitions(next(iterator).data, 4)
  srv.stop()
  start = time.perf_counter()
  with pytest.raises(ConnectionError) as error:
    # Batches prefetched before the stop may still be delivered.
    drain_until_error(iterator, max_batches=1000)
  assert time.perf_counter() - start < 1.0 + 3.0
  assert address in str(error.value)
  assert repr(UNIFORM) in str(error.value)
  start = time.perf_counter()
  iterator.close()
  assert time.perf_counter() - start < 1.0


@pytest.mark.timeout(120)
def test_server_in_another_process_and_its_death():
  # The server: this module run as __main__ (the end of the file), forked warm.
  process = forkserver.start('tests.test_dataset', stdin=forkserver.PIPE,
                             stdout=forkserver.PIPE, stderr=forkserver.DEVNULL)
  try:
    address = process.stdout.readline().strip()
    assert address.startswith('localhost:'), address
    iterator = dataset.make_transition_iterator(address, UNIFORM, 8,
                                                environment_spec=SPEC,
                                                timeout_s=2.0)
    for _ in range(5):
      check_transitions(next(iterator).data, 8)
    process.kill()
    process.wait()
    start = time.perf_counter()
    with pytest.raises(ConnectionError, match=address):
      drain_until_error(iterator, max_batches=1000)
    assert time.perf_counter() - start < 2.0 + 3.0
    iterator.close()
  finally:
    process.kill()
    process.wait()


@pytest.mark.timeout(30)
def test_unreachable_server_raises_connection_error():
  with server_lib.ReplayServer(
      [tables.make_transition_table(UNIFORM, SPEC, max_size=10)]) as srv:
    address = srv.address
  start = time.perf_counter()
  with pytest.raises(ConnectionError, match=address):
    dataset.make_transition_iterator(address, UNIFORM, 4, timeout_s=1.0)
  assert time.perf_counter() - start < 5.0


@pytest.mark.timeout(30)
def test_invalid_arguments(server):
  address = server.address
  with pytest.raises(ValueError, match='batch_size'):
    dataset.make_transition_iterator(address, UNIFORM, 0)
  with pytest.raises(ValueError, match='prefetch'):
    dataset.make_transition_iterator(address, UNIFORM, 4, prefetch=0)
  with pytest.raises(ValueError, match='timeout_s'):
    dataset.make_transition_iterator(address, UNIFORM, 4, timeout_s=-1)
  with pytest.raises(TypeError, match='server_address'):
    dataset.make_transition_iterator(None, UNIFORM, 4)
  with pytest.raises(ValueError, match='missing_table'):
    dataset.make_transition_iterator(address, 'missing_table', 4, timeout_s=5)
  with pytest.raises(ValueError, match='device'):
    dataset.make_transition_iterator(address, UNIFORM, 4, device='nowhere')
  with pytest.raises(ValueError, match='num_workers_per_iterator'):
    dataset.make_transition_iterator(address, UNIFORM, 4,
                                     num_workers_per_iterator=0)
  with pytest.raises(ValueError, match='conversion'):
    dataset.make_transition_iterator(address, UNIFORM, 4, conversion='copy')
  with pytest.raises(TypeError, match='environment_spec'):
    dataset.make_transition_iterator(address, UNIFORM, 4, environment_spec={})
  wrong_spec = SPEC._replace(
      observations=specs.Array((3,), np.float32, 'observation'))
  with pytest.raises(ValueError, match='observation'):
    dataset.make_transition_iterator(address, UNIFORM, 4,
                                     environment_spec=wrong_spec)


def _serve() -> None:
  """A replay server holding one episode in UNIFORM; prints its address, serves until stdin closes."""
  replay_server = server_lib.ReplayServer(
      [tables.make_transition_table(UNIFORM, SPEC, max_size=100)])
  write_episode(replay_server.client(), UNIFORM)
  print(replay_server.address, flush=True)
  sys.stdin.read()


if __name__ == '__main__':
  _serve()
