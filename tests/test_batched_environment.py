"""BatchedEnvironment and BatchedEnvironmentLoop with copies ending at different times."""

import dm_env
import numpy as np
import pytest

from rlkit import batched_environment_loop
from rlkit.environments import batched
from rlkit.utils import loggers
from tests import fakes


def make_batch(lengths, truncate=False):
  return batched.BatchedEnvironment(
      [fakes.FixedLengthEnvironment(episode_length=n, truncate=truncate) for n in lengths])


def test_batched_specs_have_a_leading_dimension():
  env = make_batch([2, 3, 4])
  assert env.num_envs == 3
  assert env.observation_spec().shape == (3, 2)
  assert env.action_spec().shape == (3,)
  assert env.action_spec().maximum.max() == 1
  assert env.reward_spec().shape == (3,)
  assert env.single_environment_spec().observations.shape == (2,)


def test_copies_reset_themselves_one_step_after_last():
  env = make_batch([1, 2])
  ts = env.reset()
  assert list(ts.step_type) == [dm_env.StepType.FIRST] * 2
  ts = env.step(np.zeros(2, np.int32))
  assert list(ts.step_type) == [dm_env.StepType.LAST, dm_env.StepType.MID]
  assert list(ts.discount) == [0.0, 1.0]
  ts = env.step(np.zeros(2, np.int32))
  # Copy 0 was reset (reward 0, discount 1, first observation); copy 1 ended.
  assert list(ts.step_type) == [dm_env.StepType.FIRST, dm_env.StepType.LAST]
  assert ts.reward[0] == 0.0 and ts.discount[0] == 1.0
  assert ts.observation[0, 0] == 0.0 and ts.observation[1, 0] == 2.0
  ts = env.step(np.zeros(2, np.int32))
  assert list(ts.step_type) == [dm_env.StepType.LAST, dm_env.StepType.FIRST]


def test_step_checks_the_action_batch_and_reset():
  env = make_batch([2, 2])
  fresh = env.step(np.zeros(5))  # A fresh environment resets; actions ignored.
  assert list(fresh.step_type) == [dm_env.StepType.FIRST] * 2
  with pytest.raises(ValueError, match=r'\(2, \.\.\.\)'):
    env.step(np.zeros(3))


def test_copies_get_distinct_reproducible_seeds():
  from rlkit.environments import factory

  def make(seed):
    return factory.make_environment('gym:CartPole-v1', seed=seed)
  a = batched.BatchedEnvironment.from_factory(make, 4, seed=7).reset().observation
  b = batched.BatchedEnvironment.from_factory(make, 4, seed=7).reset().observation
  np.testing.assert_array_equal(a, b)
  assert len({tuple(row) for row in a}) == 4
  with pytest.raises(ValueError, match='num_envs'):
    batched.BatchedEnvironment.from_factory(make, 0)


def test_mismatched_copies_are_rejected():
  with pytest.raises(ValueError, match='Environment 1'):
    batched.BatchedEnvironment([fakes.FixedLengthEnvironment(obs_shape=(2,)),
                                fakes.FixedLengthEnvironment(obs_shape=(3,))])


class ListLogger(loggers.Logger):

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append(dict(data))


def test_loop_logs_every_copy_episode_with_its_return():
  logger = ListLogger()
  loop = batched_environment_loop.BatchedEnvironmentLoop(
      make_batch([2, 3]), fakes.ZeroBatchActor(2), logger=logger)
  steps = loop.run(num_episodes=4)
  finished = [(r['env_index'], r['episode_length'], r['episode_return']) for r in logger.rows]
  # Copy 0 ends at vector steps 2, 5 and 8 (a reset step follows each end),
  # copy 1 at steps 3 and 7.
  assert finished == [(0, 2, 3.0), (1, 3, 6.0), (0, 2, 3.0), (1, 3, 6.0)]
  assert logger.rows[-1]['episodes'] == 4
  assert steps == logger.rows[-1]['steps']


def test_loop_counts_transitions_not_resets():
  logger = ListLogger()
  loop = batched_environment_loop.BatchedEnvironmentLoop(
      make_batch([1, 1]), fakes.ZeroBatchActor(2), logger=logger)
  assert loop.run(num_steps=4) == 4
  # Vector steps alternate LAST (2 transitions) and FIRST (resets, 0 transitions).
  assert len(logger.rows) == 4


def test_loop_with_one_copy_matches_the_single_loop_rows():
  from rlkit import environment_loop
  single_logger, batch_logger = ListLogger(), ListLogger()
  environment_loop.EnvironmentLoop(
      fakes.FixedLengthEnvironment(episode_length=3), fakes.RecordingActor(),
      logger=single_logger).run(num_episodes=3)
  batched_environment_loop.BatchedEnvironmentLoop(
      make_batch([3]), fakes.ZeroBatchActor(1), logger=batch_logger).run(num_episodes=3)
  key = lambda rows: [(r['episode_length'], r['episode_return'], r['steps']) for r in rows]
  assert key(single_logger.rows) == key(batch_logger.rows)
