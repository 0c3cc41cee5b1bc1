"""EnvironmentLoop: order of calls, counts, logged keys and budgets."""

import dm_env
import numpy as np
import pytest

from rlkit import environment_loop
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
