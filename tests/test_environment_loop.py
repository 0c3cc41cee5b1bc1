"""EnvironmentLoop: order of calls, counts, logged keys and budgets."""

import dm_env
import numpy as np
import pytest
import tree

from rlkit import environment_loop
from rlkit import specs
from rlkit.actors import RandomActor
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import observers
from tests import fakes


class ListLogger(loggers.Logger):

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append(dict(data))


class StepCountObserver(observers.EnvLoopObserver):

  def observe_first(self, env, timestep):
    self.count = 0

  def observe(self, env, timestep, action):
    self.count += 1

  def get_metrics(self):
    return {'observed_steps': self.count}


def test_order_of_calls_in_one_episode():
  actor = fakes.RecordingActor()
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(episode_length=2), actor, logger=ListLogger())
  loop.run_episode()
  assert actor.calls == [
      ('observe_first', dm_env.StepType.FIRST),
      ('select_action', 0.0), ('observe', dm_env.StepType.MID), ('update',),
      ('select_action', 1.0), ('observe', dm_env.StepType.LAST), ('update',),
  ]


def test_should_update_false_never_updates():
  actor = fakes.RecordingActor()
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(), actor, logger=ListLogger(), should_update=False)
  loop.run(num_episodes=2)
  assert ('update',) not in actor.calls


def test_result_keys_counts_and_observer_metrics():
  logger = ListLogger()
  counter = counting.Counter()
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(episode_length=3), fakes.RecordingActor(),
      counter=counter, logger=logger, observers=[StepCountObserver()])
  steps = loop.run(num_episodes=2)
  assert steps == 6
  assert len(logger.rows) == 2
  row = logger.rows[-1]
  assert {'episode_length', 'episode_return', 'steps_per_second',
          'episode_duration', 'episodes', 'steps', 'observed_steps'} <= set(row)
  assert row['episode_length'] == 3
  assert row['episode_return'] == pytest.approx(1 + 2 + 3)
  assert row['episodes'] == 2 and row['steps'] == 6
  assert row['observed_steps'] == 3
  assert counter.get_counts() == {'episodes': 2, 'steps': 6}


def test_prefixed_counter_reports_parent_keys():
  parent = counting.Counter()
  logger = ListLogger()
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(episode_length=4), fakes.RecordingActor(),
      counter=counting.Counter(parent, 'actor'), logger=logger)
  loop.run(num_episodes=1)
  assert logger.rows[0]['actor_steps'] == 4
  assert parent.get_counts() == {'actor_episodes': 1, 'actor_steps': 4}


@pytest.mark.parametrize('num_steps, expected_steps, expected_episodes', [
    (1, 3, 1), (3, 3, 1), (4, 6, 2), (7, 9, 3)])
def test_num_steps_finishes_the_last_episode(num_steps, expected_steps,
                                              expected_episodes):
  logger = ListLogger()
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(episode_length=3), fakes.RecordingActor(),
      logger=logger)
  assert loop.run(num_steps=num_steps) == expected_steps
  assert len(logger.rows) == expected_episodes


def test_truncated_episode_ends_the_episode():
  logger = ListLogger()
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(episode_length=5, truncate=True),
      fakes.RecordingActor(), logger=logger)
  loop.run(num_episodes=1)
  assert logger.rows[0]['episode_length'] == 5


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_episodes=1, num_steps=1), 'not both'),
    (dict(num_episodes=-1), 'num_episodes'),
    (dict(num_steps=2.5), 'num_steps'),
])
def test_run_rejects_bad_budgets(kwargs, message):
  loop = environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(), fakes.RecordingActor(), logger=ListLogger())
  with pytest.raises(ValueError, match=message):
    loop.run(**kwargs)


def test_rejects_non_environment_and_non_actor():
  with pytest.raises(TypeError, match='dm_env.Environment'):
    environment_loop.EnvironmentLoop(object(), fakes.RecordingActor())
  with pytest.raises(TypeError, match='Actor'):
    environment_loop.EnvironmentLoop(fakes.FixedLengthEnvironment(), object())


def test_random_actor_in_loop_stays_in_spec():
  env = fakes.FixedLengthEnvironment(episode_length=50, num_actions=3)
  actor = RandomActor(env.action_spec(), seed=0)
  actions = [actor.select_action(None) for _ in range(5000)]
  assert set(np.unique(actions)) == {0, 1, 2}
  loop = environment_loop.EnvironmentLoop(env, actor, logger=ListLogger())
  assert loop.run(num_episodes=2) == 100


class _RewardSpecEnvironment(fakes.FixedLengthEnvironment):
  """A FixedLengthEnvironment whose reward is a nest like `reward_spec` (all ones)."""

  def __init__(self, reward_spec):
    super().__init__(episode_length=4)
    self._reward_spec = reward_spec

  def step(self, action):
    timestep = super().step(action)
    reward = tree.map_structure(lambda s: np.ones(s.shape, s.dtype), self._reward_spec)
    return timestep._replace(reward=reward)

  def reward_spec(self):
    return self._reward_spec


_F32 = specs.Array((), np.float32)
_F32_1x3 = specs.Array((1, 3), np.float32)


@pytest.mark.parametrize('reward_spec', [
    _F32, specs.Array((2,), np.float32), _F32_1x3, {'a': _F32, 'b': _F32_1x3},
    specs.Array((), np.float64)], ids=['scalar', 'vector', 'matrix', 'tree', 'f64'])
def test_episode_return_accumulates_any_reward_nest_in_its_dtype(reward_spec):
  loop = environment_loop.EnvironmentLoop(
      _RewardSpecEnvironment(reward_spec), _DuckActor(),
      logger=ListLogger())
  row = loop.run_episode()
  def check(spec, value):
    assert np.shape(value) == spec.shape and np.asarray(value).dtype == spec.dtype
    np.testing.assert_array_equal(value, np.full(spec.shape, 4))
  tree.map_structure(check, reward_spec, row['episode_return'])
  for key in ('env_reset_duration_sec', 'select_action_duration_sec',
              'env_step_duration_sec'):
    assert row[key] >= 0


class _DuckActor:
  """Not an rlkit.core.Actor subclass; only has the four methods."""

  def __init__(self):
    self.updates = 0

  def select_action(self, observation):
    return np.int32(0)

  def observe_first(self, timestep):
    pass

  def observe(self, action, next_timestep):
    pass

  def update(self, wait=False):
    self.updates += 1


def test_duck_typed_actors_run_and_incomplete_ones_are_named():
  actor = _DuckActor()
  loop = environment_loop.EnvironmentLoop(fakes.FixedLengthEnvironment(episode_length=3),
                                          actor, logger=ListLogger())
  loop.run(num_episodes=2)
  assert actor.updates == 6
  class Partial:
    def select_action(self, observation):
      return 0
  with pytest.raises(TypeError, match=r"lacks \['observe_first', 'observe', 'update'\]"):
    environment_loop.EnvironmentLoop(fakes.FixedLengthEnvironment(), Partial())


def test_counter_steps_key_follows_the_prefixes():
  root = counting.Counter()
  actor = counting.Counter(root, 'actor')
  assert root.get_steps_key() == 'steps'
  assert actor.get_steps_key() == 'actor_steps'
  assert counting.Counter(actor, 'eval').get_steps_key() == 'actor_eval_steps'
  counting.Counter(actor, 'eval').increment(steps=3)
  assert root.get_counts()['actor_eval_steps'] == 3
