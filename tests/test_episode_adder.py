"""EpisodeAdder and SequenceAdder against a real in-process Reverb server."""

import dm_env
import numpy as np
import pytest

from rlkit import specs
from rlkit.adders import base
from rlkit.adders import episode
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from tests import replay_helpers

SPEC = specs.EnvironmentSpec(
    observations=specs.Array((2,), np.float32, 'observation'),
    actions=specs.DiscreteArray(4, dtype=np.int32, name='action'),
    rewards=specs.Array((), np.float32, 'reward'),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0, 'discount'))
EXTRAS_SPEC = {'log_prob': specs.Array((), np.float32)}

EPISODES = 'episodes'
EPISODES_EXTRAS = 'episodes_extras'
TRUNCATED = 'truncated_sequences'
PADDED = 'padded_sequences'
LENGTH = 3


@pytest.fixture(scope='module')
def server():
  replay_tables = [
      tables.make_queue_table(EPISODES, SPEC, 100),
      tables.make_queue_table(EPISODES_EXTRAS, SPEC, 100, extras_spec=EXTRAS_SPEC),
      tables.make_queue_table(TRUNCATED, SPEC, 100),
      tables.make_queue_table(PADDED, SPEC, 100, sequence_length=LENGTH),
  ]
  with server_lib.ReplayServer(replay_tables) as replay_server:
    yield replay_server


def obs(k):
  return np.full(2, k, np.float32)


def run_episode(adder, num_steps, first_obs=0, truncate=False, extras=False):
  """Observations first_obs, first_obs + 1, ...; action t is t % 4, reward t + 1."""
  adder.add_first(dm_env.restart(obs(first_obs)))
  for t in range(num_steps):
    next_obs = obs(first_obs + t + 1)
    reward = np.float32(t + 1)
    if t < num_steps - 1:
      timestep = dm_env.transition(reward, next_obs, np.float32(1.0))
    elif truncate:
      timestep = dm_env.truncation(reward, next_obs, np.float32(1.0))
    else:
      timestep = dm_env.termination(reward, next_obs)
    kwargs = {'extras': {'log_prob': np.float32(-t)}} if extras else {}
    adder.add(np.int32(t % 4), timestep, **kwargs)


def first_obs(item):
  return item.observation[:, 0].tolist()


@pytest.mark.timeout(60)
def test_episode_is_one_item_with_the_final_observation(server):
  adder = episode.EpisodeAdder(server.client(), EPISODES, max_sequence_length=10,
                               environment_spec=SPEC)
  run_episode(adder, 3)
  (item,) = replay_helpers.read_all(server, EPISODES)
  assert first_obs(item) == [0, 1, 2, 3]
  assert item.action.tolist() == [0, 1, 2, 0]
  assert item.reward.tolist() == [1, 2, 3, 0]
  assert item.discount.tolist() == [1, 1, 0, 0]
  assert item.action.dtype == np.int32 and item.reward.dtype == np.float32


@pytest.mark.timeout(60)
def test_episodes_of_different_lengths_and_truncation(server):
  adder = episode.EpisodeAdder(server.client(), EPISODES, max_sequence_length=10,
                               environment_spec=SPEC)
  run_episode(adder, 1)
  run_episode(adder, 4, first_obs=20, truncate=True)
  short, long = replay_helpers.read_all(server, EPISODES)
  assert first_obs(short) == [0, 1]
  assert short.discount.tolist() == [0, 0]
  assert first_obs(long) == [20, 21, 22, 23, 24]
  # Truncated: the last action's discount stays 1, so the learner bootstraps.
  assert long.discount.tolist() == [1, 1, 1, 1, 0]


@pytest.mark.timeout(60)
def test_episode_extras(server):
  adder = episode.EpisodeAdder(server.client(), EPISODES_EXTRAS,
                               max_sequence_length=10, environment_spec=SPEC)
  run_episode(adder, 2, extras=True)
  (item,) = replay_helpers.read_all(server, EPISODES_EXTRAS)
  assert item.extras['log_prob'].tolist() == [0, -1, 0]


@pytest.mark.timeout(60)
def test_episode_longer_than_max_sequence_length_raises(server):
  adder = episode.EpisodeAdder(server.client(), EPISODES, max_sequence_length=4,
                               environment_spec=SPEC)
  run_episode(adder, 3)  # 4 rows: fits exactly.
  with pytest.raises(ValueError, match='longer than max_sequence_length=4.*4 actions'):
    run_episode(adder, 5, first_obs=10)
  # The long episode was dropped; the adder keeps working.
  run_episode(adder, 2, first_obs=30)
  assert [first_obs(item) for item in replay_helpers.read_all(server, EPISODES)] == [
      [0, 1, 2, 3], [30, 31, 32]]


@pytest.mark.timeout(60)
def test_episode_adder_checks_calls_and_specs(server):
  adder = episode.EpisodeAdder(server.client(), EPISODES, max_sequence_length=10,
                               environment_spec=SPEC)
  with pytest.raises(RuntimeError, match='before add_first'):
    adder.add(np.int32(0), dm_env.transition(1.0, obs(1)))
  with pytest.raises(ValueError, match='FIRST'):
    adder.add_first(dm_env.termination(1.0, obs(1)))
  with pytest.raises(ValueError, match=r'observation has shape \(3,\)'):
    adder.add_first(dm_env.restart(np.zeros(3, np.float32)))
  adder.add_first(dm_env.restart(obs(0)))
  with pytest.raises(ValueError, match=r'action has shape \(\) and dtype int64.*int32'):
    adder.add(np.int64(1), dm_env.transition(1.0, obs(1)))
  with pytest.raises(ValueError, match='max_sequence_length must be >= 2'):
    episode.EpisodeAdder(server.client(), EPISODES, max_sequence_length=1)
  adder.reset()
  assert replay_helpers.read_all(server, EPISODES) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize('behavior, table', [('truncate', TRUNCATED),
                                             ('zero_pad', PADDED)])
def test_overlapping_sequences(server, behavior, table):
  adder = episode.SequenceAdder(server.client(), table, sequence_length=LENGTH,
                                period=2, environment_spec=SPEC,
                                end_of_episode_behavior=behavior)
  run_episode(adder, 5)  # Rows: observations 0..5 (5 is the final one).
  items = replay_helpers.read_all(server, table)
  assert [first_obs(item) for item in items][:2] == [[0, 1, 2], [2, 3, 4]]
  last = items[2]
  if behavior == 'truncate':
    assert first_obs(last) == [4, 5]
    assert last.discount.tolist() == [0, 0]
  else:
    assert first_obs(last) == [4, 5, 0]
    assert last.reward.tolist() == [5, 0, 0]
    assert last.discount.tolist() == [0, 0, 0]
  assert len(items) == 3


@pytest.mark.timeout(60)
@pytest.mark.parametrize('behavior, table, expected', [
    ('truncate', TRUNCATED, [[10, 11]]),
    ('zero_pad', PADDED, [[10, 11, 0]]),
])
def test_episode_shorter_than_a_sequence(server, behavior, table, expected):
  adder = episode.SequenceAdder(server.client(), table, sequence_length=LENGTH,
                                period=1, environment_spec=SPEC,
                                end_of_episode_behavior=behavior)
  run_episode(adder, 1, first_obs=10)
  assert [first_obs(item) for item in replay_helpers.read_all(server, table)] == expected


@pytest.mark.timeout(60)
def test_sequences_do_not_cross_episodes(server):
  adder = episode.SequenceAdder(server.client(), PADDED, sequence_length=LENGTH,
                                period=LENGTH, environment_spec=SPEC,
                                end_of_episode_behavior='zero_pad')
  run_episode(adder, 2)  # 3 rows: exactly one sequence.
  run_episode(adder, 3, first_obs=10)  # 4 rows: one full, one padded.
  assert [first_obs(item) for item in replay_helpers.read_all(server, PADDED)] == [
      [0, 1, 2], [10, 11, 12], [13, 0, 0]]


@pytest.mark.timeout(60)
def test_long_episode_sequences(server):
  adder = episode.SequenceAdder(server.client(), PADDED, sequence_length=LENGTH,
                                period=1, environment_spec=SPEC,
                                end_of_episode_behavior='zero_pad',
                                max_in_flight_items=4)
  run_episode(adder, 60)
  items = replay_helpers.read_all(server, PADDED)
  assert len(items) == 61 - LENGTH + 1
  for start, item in enumerate(items):
    assert first_obs(item) == [start, start + 1, start + 2]


def test_sequence_adder_validates_arguments(server):
  client = server.client()
  with pytest.raises(ValueError, match='Unknown end_of_episode_behavior'):
    episode.SequenceAdder(client, PADDED, 3, 1, end_of_episode_behavior='wrap')
  with pytest.raises(ValueError, match='period must be >= 1'):
    episode.SequenceAdder(client, PADDED, 3, 0)
  with pytest.raises(TypeError, match='sequence_length must be an int'):
    episode.SequenceAdder(client, PADDED, 2.5, 1)


def test_signatures_have_a_time_dimension():
  signature = episode.SequenceAdder.signature(SPEC, 5)
  assert isinstance(signature, base.Step)
  assert signature.observation.shape == (5, 2)
  assert signature.reward.shape == (5,)
  assert episode.EpisodeAdder.signature(SPEC).action.shape.as_list() == [None]
