"""bsuite experiments ('bsuite:<id>') through the factory, with and without bsuite's CSV logging."""

import os
import pickle
import shutil
import tempfile

from absl.testing import absltest
from dm_env import test_utils
import numpy as np
import pytest

from rlkit import specs
from rlkit.actors import RandomActor
from rlkit.environments import behaviour_suite
from rlkit.environments import factory


@pytest.mark.parametrize('name, observation_shape, num_actions', [
    ('bsuite:catch/0', (10, 5), 3),
    ('bsuite:cartpole/0', (1, 6), 3),
    ('bsuite:deep_sea/0', (10, 10), 2),
])
def test_specs_are_single_precision(name, observation_shape, num_actions):
  env = factory.make_environment(name, seed=0)
  assert env.observation_spec().shape == observation_shape
  assert env.observation_spec().dtype == np.float32
  action_spec = env.action_spec()
  assert isinstance(action_spec, specs.DiscreteArray)
  assert action_spec.num_values == num_actions and action_spec.dtype == np.int32
  assert env.reward_spec().dtype == np.float32 and env.discount_spec().dtype == np.float32
  timestep = env.step(0)
  assert timestep.first()
  timestep = env.step(0)
  assert not timestep.first() and timestep.reward.dtype == np.float32
  env.close()


def test_the_seed_reaches_experiments_that_take_one():
  def ball_columns(seed):
    env = factory.make_environment('bsuite:catch/0', seed=seed)
    columns = []
    for _ in range(6):
      columns.append(int(np.argmax(env.reset().observation[0])))
    return columns

  assert ball_columns(1) == ball_columns(1)
  assert ball_columns(1) != ball_columns(2)
  # bandit takes no seed: its arms are fixed by the id's mapping_seed.
  assert factory.make_environment('bsuite:bandit/0', seed=5).bsuite_id == 'bandit/0'


def test_num_episodes_and_subsets():
  assert behaviour_suite.num_episodes('catch/0') == 10000
  assert behaviour_suite.num_episodes('cartpole/0') == 1000
  env = factory.make_environment('bsuite:cartpole/0')
  assert env.bsuite_num_episodes == 1000 and env.bsuite_id == 'cartpole/0'
  basic = behaviour_suite.subset_ids('basic')
  assert 'catch/0' in basic and 'mountain_car/19' in basic and 'deep_sea/0' not in basic
  assert 'mnist/0' in basic
  assert 'mnist/0' not in behaviour_suite.subset_ids('basic', include_downloads=False)
  assert behaviour_suite.subset_ids('deep_sea')[:2] == ('deep_sea/0', 'deep_sea/1')
  assert len(behaviour_suite.subset_ids('all')) == len(behaviour_suite.all_ids()) > 400
  with pytest.raises(ValueError, match="'bassic'.*basic"):
    behaviour_suite.subset_ids('bassic')


@pytest.mark.parametrize('bsuite_id, pattern', [
    ('catc/0', 'bsuite:catch/0'),
    ('catch/99', 'catch/0 to catch/19'),
    ('catch', 'catch/0 to catch/19'),
    ('zzz/1', 'deep_sea'),
])
def test_unknown_ids_name_the_value_and_close_matches(bsuite_id, pattern):
  with pytest.raises(ValueError) as info:
    factory.make_environment(f'bsuite:{bsuite_id}')
  assert repr(bsuite_id) in str(info.value) and pattern in str(info.value)


def test_options_are_checked():
  with pytest.raises(ValueError, match='render_mode'):
    factory.make_environment('bsuite:catch/0', render_mode='rgb_array')
  with pytest.raises(TypeError, match='argument results_dir for'):
    factory.make_environment('bsuite:catch/0', results_dir='/tmp')
  with pytest.raises(NotImplementedError, match='bsuite:catch/0 cannot render'):
    factory.make_environment('bsuite:catch/0').render()


def test_csv_logging_writes_bsuite_results_that_bsuite_can_score(tmp_path):
  from bsuite.logging import csv_load  # pylint: disable=g-import-not-at-top
  from bsuite.experiments import summary_analysis  # pylint: disable=g-import-not-at-top
  env = factory.make_environment('bsuite:catch/0', seed=0, bsuite_results_dir=str(tmp_path))
  assert env.results_dir == str(tmp_path)
  actor = RandomActor(env.action_spec(), seed=0)
  for _ in range(20):
    timestep = env.reset()
    while not timestep.last():
      timestep = env.step(actor.select_action(timestep.observation))
  files = os.listdir(tmp_path)
  assert files == ['bsuite_id_-_catch-0.csv']
  frame, sweep_vars = csv_load.load_bsuite(str(tmp_path))
  assert frame.episode.max() == 20
  scores = summary_analysis.bsuite_score(frame, sweep_vars)
  assert list(scores.bsuite_env) == ['catch'] and 0.0 <= float(scores.score.iloc[0]) <= 1.0
  with pytest.raises(ValueError, match='already exists'):
    factory.make_environment('bsuite:catch/0', bsuite_results_dir=str(tmp_path))
  factory.make_environment('bsuite:catch/0', bsuite_results_dir=str(tmp_path),
                           bsuite_overwrite=True).close()


def test_environment_factory_pickles():
  make = pickle.loads(pickle.dumps(factory.EnvironmentFactory('bsuite:deep_sea/0')))
  env = make(3)
  assert env.bsuite_id == 'deep_sea/0' and env.observation_spec().shape == (10, 10)


class CatchTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return factory.make_environment('bsuite:catch/0', seed=0)

  def make_action_sequence(self):
    for _ in range(25):  # catch episodes last 9 steps
      yield self.make_action()


class DeepSeaTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return factory.make_environment('bsuite:deep_sea/0')

  def make_action_sequence(self):
    for _ in range(25):  # episodes last 10 steps
      yield self.make_action()


class CartpoleTruncatedTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return factory.make_environment('bsuite:cartpole/0', seed=0, max_episode_length=6)

  def make_action_sequence(self):
    for _ in range(20):
      yield self.make_action()


class CsvLoggedCatchTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    directory = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, directory)
    return factory.make_environment('bsuite:catch/1', seed=0, bsuite_results_dir=directory)

  def make_action_sequence(self):
    for _ in range(25):
      yield self.make_action()
