"""BatchedAdder: one trajectory per copy, on a real Reverb server."""

import numpy as np
import pytest

from rlkit.adders import batched as batched_adder
from rlkit.adders import transition
from rlkit.environments import batched
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from tests import fakes

QUEUE = 'queue'


def run(lengths, n_step, vector_steps):
  """Steps copies with the given episode lengths; returns all written items."""
  env = batched.BatchedEnvironment(
      [fakes.FixedLengthEnvironment(episode_length=n, obs_shape=(1,)) for n in lengths])
  spec = env.single_environment_spec()
  with server_lib.ReplayServer(
      [tables.make_queue_table(QUEUE, spec, 10_000, item_type='transition')]) as server:
    client = server.client()
    adder = batched_adder.BatchedAdder.from_factory(
        lambda: transition.NStepTransitionAdder(
            client, n_step, 1.0, priority_fns={QUEUE: None}, environment_spec=spec),
        env.num_envs)
    timestep = env.reset()
    adder.add_first(timestep)
    for _ in range(vector_steps):
      actions = np.zeros(env.num_envs, np.int32)
      timestep = env.step(actions)
      adder.add(actions, timestep)
    del adder  # Flushes pending items.
    size = server.table_sizes()[QUEUE]
    samples = client.sample(QUEUE, size, emit_timesteps=False,
                            unpack_as_table_signature=True)
    return [s.data for s in samples]


def test_one_step_items_per_copy_never_cross_episodes():
  # Copy 0 has 2-step episodes, copy 1 3-step ones; 8 vector steps.
  items = run([2, 3], n_step=1, vector_steps=8)
  rows = sorted((float(i.observation[0]), float(i.next_observation[0]),
                 float(i.reward), float(i.discount)) for i in items)
  # Copy 0 finishes 3 episodes (steps 1-2, 4-5, 7-8): 6 items; copy 1 finishes
  # 2 (steps 1-3, 5-7): 6 items.
  assert len(items) == 12
  for obs, next_obs, reward, discount in rows:
    assert next_obs == obs + 1  # Never from one episode's end into the next.
    assert reward == next_obs
  assert rows.count((1.0, 2.0, 2.0, 0.0)) == 3  # Copy 0's terminal items.
  assert rows.count((2.0, 3.0, 3.0, 0.0)) == 2  # Copy 1's terminal items.


def test_n_step_items_with_copies_ending_at_different_times():
  items = run([2, 4], n_step=3, vector_steps=5)
  rows = sorted((float(i.observation[0]), float(i.next_observation[0]),
                 float(i.reward), float(i.discount)) for i in items)
  copy0 = [(0.0, 1.0, 1.0, 1.0), (0.0, 2.0, 3.0, 0.0), (1.0, 2.0, 2.0, 0.0)]
  copy1 = [(0.0, 1.0, 1.0, 1.0), (0.0, 2.0, 3.0, 1.0), (0.0, 3.0, 6.0, 1.0),
           (1.0, 4.0, 9.0, 0.0), (2.0, 4.0, 7.0, 0.0), (3.0, 4.0, 4.0, 0.0)]
  # Copy 0 completes one episode (steps 1-2), then runs steps 4-5: a second
  # episode whose items are written too (3 more); copy 1 ends at step 4.
  assert rows == sorted(copy0 * 2 + copy1)


def test_single_copy_matches_the_plain_adder():
  items_batched = run([3], n_step=2, vector_steps=4)
  rows = [(float(i.observation[0]), float(i.next_observation[0]), float(i.reward),
           float(i.discount)) for i in items_batched]
  assert rows == [(0.0, 1.0, 1.0, 1.0), (0.0, 2.0, 3.0, 1.0), (1.0, 3.0, 5.0, 0.0),
                  (2.0, 3.0, 3.0, 0.0)]


def test_wrong_batch_size_is_rejected():
  env = batched.BatchedEnvironment([fakes.FixedLengthEnvironment()] * 1)
  adder = batched_adder.BatchedAdder([object(), object()])
  with pytest.raises(ValueError, match=r'\(2,\)'):
    adder.add_first(env.reset())
