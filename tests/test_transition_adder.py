"""NStepTransitionAdder against a real in-process Reverb server."""

import dm_env
import numpy as np
import pytest

from rlkit import specs
from rlkit import types
from rlkit.adders import transition
from rlkit.replay import priorities
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from tests import replay_helpers

SPEC = specs.EnvironmentSpec(
    observations=specs.Array((1,), np.float32, 'observation'),
    actions=specs.DiscreteArray(3, dtype=np.int64, name='action'),
    rewards=specs.Array((), np.float32, 'reward'),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0, 'discount'))
EXTRAS_SPEC = {'logits': specs.Array((3,), np.float32)}

QUEUE = 'queue'
EXTRAS_QUEUE = 'extras_queue'
PRIORITIZED = 'prioritized'


@pytest.fixture(scope='module')
def server():
  replay_tables = [
      tables.make_queue_table(QUEUE, SPEC, 1000, item_type='transition'),
      tables.make_queue_table(EXTRAS_QUEUE, SPEC, 1000, extras_spec=EXTRAS_SPEC,
                              item_type='transition'),
      tables.make_transition_table(PRIORITIZED, SPEC, max_size=1000,
                                   prioritized=True),
  ]
  with server_lib.ReplayServer(replay_tables) as replay_server:
    yield replay_server


def obs(k):
  return np.array([k], np.float32)


def run_episode(adder, rewards, discounts, truncate=False, first_obs=1,
                actions=None, extras=None):
  """Steps o_{first_obs}, o_{first_obs+1}, ...; the last step ends the episode.

  `discounts[t]` is the discount of the timestep after action t; the last
  timestep is LAST with its given discount (0 for a termination).
  """
  adder.add_first(dm_env.restart(obs(first_obs)))
  num_steps = len(rewards)
  for t, (reward, discount) in enumerate(zip(rewards, discounts)):
    step_type = dm_env.StepType.LAST if t == num_steps - 1 else dm_env.StepType.MID
    timestep = dm_env.TimeStep(step_type, np.float32(reward), np.float32(discount),
                               obs(first_obs + t + 1))
    action = t % 3 if actions is None else actions[t]
    if extras is None:
      adder.add(action, timestep)
    else:
      adder.add(action, timestep, extras=extras[t])


def summary(items):
  return [(float(item.observation[0]), float(item.next_observation[0]),
           float(item.reward), float(item.discount)) for item in items]


def assert_items(items, expected):
  """Items as (first obs, next obs, reward, discount) rows, in order."""
  actual = np.array(summary(items)).reshape(-1, 4)
  np.testing.assert_allclose(actual, np.array(expected, float).reshape(-1, 4),
                             rtol=1e-6, atol=1e-6)


def make_adder(replay_server, n_step, discount, table=QUEUE, **kwargs):
  return transition.NStepTransitionAdder(
      replay_server.client(), n_step=n_step, discount=discount,
      priority_fns={table: None}, environment_spec=SPEC, **kwargs)


@pytest.mark.timeout(60)
def test_two_step_with_environment_discounts(server):
  adder = make_adder(server, n_step=2, discount=1.0)
  run_episode(adder, rewards=[1, 1, 1], discounts=[0.5, 0.5, 0.0])
  assert_items(replay_helpers.read_all(server, QUEUE), [
      (1, 2, 1.0, 0.5),
      (1, 3, 1.5, 0.25),
      (2, 4, 1.5, 0.0),
      (3, 4, 1.0, 0.0),
  ])


@pytest.mark.timeout(60)
def test_three_step_with_agent_discount(server):
  adder = make_adder(server, n_step=3, discount=0.5)
  run_episode(adder, rewards=[2, 3, 5, 7], discounts=[1, 1, 1, 0],
              first_obs=0)
  items = replay_helpers.read_all(server, QUEUE)
  assert [(o, n) for o, n, _, _ in summary(items)] == [
      (0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4)]
  assert [r for _, _, r, _ in summary(items)] == pytest.approx(
      [2, 3.5, 4.75, 7.25, 8.5, 7])
  assert [d for _, _, _, d in summary(items)] == pytest.approx(
      [1, 0.5, 0.25, 0, 0, 0])
  # The action of each transition is the one taken from its first observation.
  assert [int(item.action) for item in items] == [0, 0, 0, 1, 2, 0]


@pytest.mark.timeout(60)
def test_episode_shorter_than_n(server):
  adder = make_adder(server, n_step=5, discount=0.9)
  run_episode(adder, rewards=[1, 2], discounts=[1, 0])
  assert_items(replay_helpers.read_all(server, QUEUE), [
      (1, 2, 1.0, 1.0),
      (1, 3, 1 + 0.9 * 2, 0.0),
      (2, 3, 2.0, 0.0),
  ])


@pytest.mark.timeout(60)
def test_truncated_episode_keeps_discount(server):
  adder = make_adder(server, n_step=2, discount=0.9)
  run_episode(adder, rewards=[1, 1, 1], discounts=[1, 1, 1], truncate=True)
  assert_items(replay_helpers.read_all(server, QUEUE), [
      (1, 2, 1.0, 1.0),
      (1, 3, 1.9, 0.9),
      (2, 4, 1.9, 0.9),
      (3, 4, 1.0, 1.0),
  ])


@pytest.mark.timeout(60)
def test_one_step_transitions_over_consecutive_episodes(server):
  adder = make_adder(server, n_step=1, discount=0.99)
  run_episode(adder, rewards=[1, 2, 3], discounts=[1, 1, 0])
  run_episode(adder, rewards=[4], discounts=[0], first_obs=10)
  assert_items(replay_helpers.read_all(server, QUEUE), [
      (1, 2, 1.0, 1.0), (2, 3, 2.0, 1.0), (3, 4, 3.0, 0.0),
      (10, 11, 4.0, 0.0)])


@pytest.mark.timeout(60)
def test_long_episode_writes_one_item_per_step_plus_tail(server):
  n_step, num_steps = 3, 150  # More than the adder's in-flight limit.
  adder = make_adder(server, n_step=n_step, discount=1.0, max_in_flight_items=8,
                     chunk_length=4)
  rewards = np.arange(num_steps, dtype=np.float32)
  run_episode(adder, rewards=rewards, discounts=[1] * (num_steps - 1) + [0],
              first_obs=0)
  items = summary(replay_helpers.read_all(server, QUEUE))
  assert len(items) == num_steps + n_step - 1
  for first, next_obs, reward, discount in items:
    first, next_obs = int(first), int(next_obs)
    assert 1 <= next_obs - first <= n_step
    assert reward == pytest.approx(rewards[first:next_obs].sum())
    assert discount == (0.0 if next_obs == num_steps else 1.0)


@pytest.mark.timeout(60)
def test_extras_come_from_the_first_step(server):
  adder = transition.NStepTransitionAdder(
      server.client(), n_step=2, discount=1.0, priority_fns={EXTRAS_QUEUE: None},
      environment_spec=SPEC)
  extras = [{'logits': np.full(3, t, np.float32)} for t in range(3)]
  run_episode(adder, rewards=[1, 1, 1], discounts=[1, 1, 0], extras=extras)
  items = replay_helpers.read_all(server, EXTRAS_QUEUE)
  firsts = [float(item.observation[0]) for item in items]
  assert firsts == [1, 1, 2, 3]
  for item, first in zip(items, firsts):
    np.testing.assert_array_equal(item.extras['logits'],
                                  np.full(3, first - 1, np.float32))


@pytest.mark.timeout(60)
def test_reset_drops_the_unfinished_tail(server):
  adder = make_adder(server, n_step=3, discount=1.0)
  adder.add_first(dm_env.restart(obs(0)))
  adder.add(0, dm_env.transition(1.0, obs(1), 1.0))
  adder.add(0, dm_env.transition(1.0, obs(2), 1.0))
  adder.reset()
  assert summary(replay_helpers.read_all(server, QUEUE)) == [(0, 1, 1.0, 1.0), (0, 2, 2.0, 1.0)]
  with pytest.raises(RuntimeError, match='add_first'):
    adder.add(0, dm_env.transition(1.0, obs(3), 1.0))


def _sampled_priorities(replay_server, table, num_samples=300):
  seen = {}
  for sample in replay_server.client().sample(table, num_samples,
                                              emit_timesteps=False):
    seen[sample.info.key] = sample.info.priority
  return seen


@pytest.mark.timeout(60)
def test_new_items_enter_at_the_maximum_priority(server):
  client = server.client()
  replay_server = server_lib.ReplayServer(
      [tables.make_transition_table(PRIORITIZED, SPEC, max_size=100,
                                    prioritized=True)])
  with replay_server:
    client = replay_server.client()
    tracker = priorities.MaxPriorityTracker()
    adder = transition.NStepTransitionAdder(
        client, n_step=1, discount=1.0, priority_fns={PRIORITIZED: None},
        environment_spec=SPEC, priority_trackers={PRIORITIZED: tracker})
    run_episode(adder, rewards=[1, 1], discounts=[1, 0])
    first = _sampled_priorities(replay_server, PRIORITIZED)
    assert sorted(first.values()) == [1.0, 1.0]

    # The learner raises one item's priority; the tracker it shares with the adder follows.
    key = sorted(first)[0]
    priorities.update_priorities(client, PRIORITIZED, [key], [5.0], tracker)
    assert tracker.value == 5.0
    run_episode(adder, rewards=[1, 1], discounts=[1, 0], first_obs=10)
    second = _sampled_priorities(replay_server, PRIORITIZED)
    assert len(second) == 4
    new_keys = set(second) - set(first)
    assert [second[k] for k in new_keys] == [5.0, 5.0]
    assert second[key] == 5.0


@pytest.mark.timeout(60)
def test_priority_functions_per_table(server):
  replay_server = server_lib.ReplayServer([
      tables.make_transition_table('by_reward', SPEC, max_size=100,
                                   prioritized=True),
      tables.make_queue_table('plain', SPEC, 100, item_type='transition'),
  ])
  with replay_server:
    seen = []

    def by_reward(item):
      assert isinstance(item, types.Transition)
      seen.append(item)
      return float(item.reward) + 1.0

    tracker = priorities.MaxPriorityTracker()
    adder = transition.NStepTransitionAdder(
        replay_server.client(), n_step=1, discount=1.0,
        priority_fns={'by_reward': by_reward, 'plain': None},
        environment_spec=SPEC, priority_trackers={'by_reward': tracker})
    run_episode(adder, rewards=[2, 4], discounts=[1, 0])
    assert replay_server.table_sizes() == {'by_reward': 2, 'plain': 2}
    assert sorted(_sampled_priorities(replay_server, 'by_reward').values()) == [3.0, 5.0]
    assert [float(item.next_observation[0]) for item in seen] == [2.0, 3.0]
    assert tracker.value == 5.0


@pytest.mark.timeout(60)
def test_bad_priority_function_value_raises(server):
  adder = transition.NStepTransitionAdder(
      server.client(), n_step=1, discount=1.0,
      priority_fns={QUEUE: lambda item: float('nan')}, environment_spec=SPEC)
  adder.add_first(dm_env.restart(obs(0)))
  with pytest.raises(ValueError, match='priorities must be finite'):
    adder.add(0, dm_env.transition(1.0, obs(1), 1.0))
  adder.reset()
  assert replay_helpers.read_all(server, QUEUE) == []


@pytest.mark.timeout(60)
def test_add_before_add_first_raises(server):
  adder = make_adder(server, n_step=1, discount=1.0)
  with pytest.raises(RuntimeError, match='before add_first'):
    adder.add(0, dm_env.transition(1.0, obs(1), 1.0))


@pytest.mark.timeout(60)
def test_add_first_with_a_mid_timestep_raises(server):
  adder = make_adder(server, n_step=1, discount=1.0)
  with pytest.raises(ValueError, match='FIRST.*got step_type MID'):
    adder.add_first(dm_env.transition(1.0, obs(1), 1.0))


@pytest.mark.timeout(60)
def test_observation_that_does_not_match_the_spec_raises(server):
  adder = make_adder(server, n_step=1, discount=1.0)
  with pytest.raises(ValueError, match=r'observation has shape \(2,\).*expects shape \(1,\)'):
    adder.add_first(dm_env.restart(np.zeros(2, np.float32)))
  adder.add_first(dm_env.restart(obs(0)))
  with pytest.raises(ValueError, match=r'observation has shape \(1,\) and dtype float64'):
    adder.add(0, dm_env.transition(1.0, np.zeros(1), 1.0))


@pytest.mark.timeout(60)
def test_action_that_does_not_match_the_spec_raises(server):
  adder = make_adder(server, n_step=1, discount=1.0)
  adder.add_first(dm_env.restart(obs(0)))
  with pytest.raises(ValueError, match=r'action has shape \(\) and dtype float32.*int64'):
    adder.add(np.float32(1.0), dm_env.transition(1.0, obs(1), 1.0))
  with pytest.raises(ValueError, match=r'action has shape \(2,\)'):
    adder.add(np.zeros(2, np.int64), dm_env.transition(1.0, obs(1), 1.0))
  # A Python int is cast to the spec's dtype.
  adder.add(2, dm_env.termination(1.0, obs(1)))
  items = replay_helpers.read_all(server, QUEUE)
  assert [int(item.action) for item in items] == [2]
  assert items[0].action.dtype == np.int64


@pytest.mark.timeout(60)
def test_item_that_does_not_match_the_table_signature_fails_at_insert(server):
  adder = transition.NStepTransitionAdder(
      server.client(), n_step=1, discount=1.0, priority_fns={QUEUE: None})
  adder.add_first(dm_env.restart(np.zeros(1, np.float64)))
  with pytest.raises(ValueError, match='signature'):
    adder.add(np.int64(0), dm_env.transition(np.float32(1.0), np.zeros(1, np.float64),
                                             np.float32(1.0)))
  adder.reset()
  assert replay_helpers.read_all(server, QUEUE) == []


def test_constructor_validates_arguments(server):
  client = server.client()
  with pytest.raises(ValueError, match='n_step must be >= 1'):
    transition.NStepTransitionAdder(client, n_step=0, discount=0.9)
  with pytest.raises(ValueError, match='discount must be a number in'):
    transition.NStepTransitionAdder(client, n_step=1, discount=1.5)
  with pytest.raises(TypeError, match='client must be a reverb.Client'):
    transition.NStepTransitionAdder('localhost:1', n_step=1, discount=0.9)
  with pytest.raises(ValueError, match='at least one table'):
    transition.NStepTransitionAdder(client, n_step=1, discount=0.9, priority_fns={})
  with pytest.raises(TypeError, match='must be callable or None'):
    transition.NStepTransitionAdder(client, n_step=1, discount=0.9,
                                    priority_fns={QUEUE: 3})


@pytest.mark.timeout(60)
def test_default_table_name_and_signature(server):
  assert tables.DEFAULT_PRIORITY_TABLE == 'priority_table'
  signature = transition.NStepTransitionAdder.signature(SPEC)
  assert isinstance(signature, types.Transition)
  assert signature.observation.shape == (1,)
  assert signature.reward.shape == ()


@pytest.mark.timeout(60)
def test_nested_observations():
  nested_spec = specs.EnvironmentSpec(
      observations={'pixels': specs.Array((2, 2), np.uint8),
                    'position': specs.Array((), np.int32)},
      actions=SPEC.actions, rewards=SPEC.rewards, discounts=SPEC.discounts)
  table = tables.make_queue_table('nested', nested_spec, 100,
                                  item_type='transition')
  with server_lib.ReplayServer([table]) as replay_server:
    adder = transition.NStepTransitionAdder(
        replay_server.client(), n_step=2, discount=1.0,
        priority_fns={'nested': None}, environment_spec=nested_spec)

    def observation(k):
      return {'pixels': np.full((2, 2), k, np.uint8), 'position': np.int32(10 * k)}

    adder.add_first(dm_env.restart(observation(0)))
    adder.add(1, dm_env.transition(np.float32(1), observation(1), np.float32(1)))
    adder.add(2, dm_env.termination(np.float32(1), observation(2)))
    with pytest.raises(ValueError, match=r"observation\['position'\] has shape"):
      adder.add_first(dm_env.restart({'pixels': np.zeros((2, 2), np.uint8),
                                      'position': np.zeros(3, np.int32)}))
    adder.close()
    items = replay_helpers.read_all(replay_server, 'nested')
    pairs = [(int(item.observation['position']), int(item.next_observation['position']))
             for item in items]
    assert pairs == [(0, 10), (0, 20), (10, 20)]
    for item in items:
      assert item.observation['pixels'][0, 0] * 10 == item.observation['position']
      assert item.next_observation['pixels'].dtype == np.uint8
