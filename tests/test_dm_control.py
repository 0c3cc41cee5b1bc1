"""Control Suite ('dm_control:<domain>-<task>') and Gymnasium MuJoCo environments, rendering,
and random actions on bounded continuous action specs."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

from absl.testing import absltest
from dm_env import test_utils
import numpy as np
import pytest

from rlkit import evaluation
from rlkit import specs
from rlkit.actors import RandomActor
from rlkit.environments import control_suite
from rlkit.environments import factory
from rlkit.environments import rendering

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make(name, **kwargs):
  return factory.make_environment(name, **kwargs)


@pytest.mark.parametrize('name, observation_size, action_size', [
    ('dm_control:cartpole-swingup', 5, 1),
    ('dm_control:walker-walk', 24, 6),
    ('dm_control:cheetah-run', 17, 6),
])
def test_control_suite_specs_are_one_float32_vector_and_bounded_actions(
    name, observation_size, action_size):
  env = _make(name, seed=0)
  observation_spec, action_spec = env.observation_spec(), env.action_spec()
  assert observation_spec.shape == (observation_size,)
  assert observation_spec.dtype == np.float32
  assert isinstance(action_spec, specs.BoundedArray)
  assert action_spec.shape == (action_size,) and action_spec.dtype == np.float32
  np.testing.assert_array_equal(action_spec.minimum, -np.ones(action_size))
  np.testing.assert_array_equal(action_spec.maximum, np.ones(action_size))
  timestep = env.reset()
  assert timestep.first() and timestep.observation.dtype == np.float32
  timestep = env.step(np.zeros(action_size, np.float32))
  assert timestep.mid() and timestep.reward.dtype == np.float32
  assert timestep.discount == 1.0
  env.close()


def test_dict_observations_stay_when_concatenation_is_off():
  env = _make('dm_control:cartpole-swingup', seed=0, concatenate_observations=False)
  assert set(env.observation_spec()) == {'position', 'velocity'}
  assert env.reset().observation['position'].dtype == np.float32
  env.close()


def test_observation_names_select_the_concatenated_fields():
  env = _make('dm_control:walker-walk', seed=0, observation_names=['height', 'velocity'])
  assert env.observation_spec().shape == (10,)
  env.close()


def test_the_seed_fixes_the_initial_states():
  first = [_make('dm_control:cartpole-swingup', seed=3).reset().observation for _ in range(2)]
  other = _make('dm_control:cartpole-swingup', seed=4).reset().observation
  np.testing.assert_array_equal(first[0], first[1])
  assert not np.array_equal(first[0], other)


def test_rng_state_round_trip_repeats_the_next_episode():
  env = _make('dm_control:cartpole-swingup', seed=5)
  env.reset()
  state = env.get_rng_state()
  expected = env.reset().observation
  env.set_rng_state(state)
  np.testing.assert_array_equal(env.reset().observation, expected)
  with pytest.raises(ValueError, match='task_random'):
    env.set_rng_state({})
  env.close()


def test_max_episode_length_truncates_and_the_task_limit_holds_otherwise():
  env = _make('dm_control:cartpole-swingup', seed=0, max_episode_length=4)
  env.reset()
  steps = [env.step(np.zeros(1, np.float32)) for _ in range(4)]
  assert [t.last() for t in steps] == [False, False, False, True]
  assert steps[-1].discount == 1.0
  env.close()


@pytest.mark.parametrize('name, pattern', [
    ('dm_control:cartpol-swingup', 'dm_control:cartpole-swingup'),
    ('dm_control:cartpole-swing', 'swingup_sparse'),
    ('dm_control:walker', 'dm_control:walker-walk'),
    ('dm_control:xyzzy-walk', 'Domains: acrobot'),
])
def test_unknown_tasks_name_the_value_and_the_alternatives(name, pattern):
  with pytest.raises(ValueError) as info:
    _make(name)
  assert repr(name) in str(info.value)
  assert pattern in str(info.value)


def test_unknown_options_are_rejected():
  with pytest.raises(TypeError, match='argument frame_skip for'):
    _make('dm_control:cartpole-swingup', frame_skip=2)
  with pytest.raises(ValueError, match='observation_type'):
    _make('dm_control:cartpole-swingup', observation_type='GRID')
  with pytest.raises(ValueError, match='render_mode'):
    _make('dm_control:cartpole-swingup', render_mode='human')
  with pytest.raises(ValueError, match="task_kwargs\\['random'\\]"):
    _make('dm_control:cartpole-swingup', task_kwargs={'random': 1})


def test_unknown_prefixes_list_the_new_forms():
  with pytest.raises(ValueError) as info:
    _make('dmc:walker-walk')
  message = str(info.value)
  for text in ("'dm_control:<domain>-<task>'", "'bsuite:<id>'", 'dm_control:walker-walk'):
    assert text in message


def test_known_environments_lists_the_control_suite_on_request():
  names = factory.known_environments(include_gym=False, include_dm_control=True)
  assert 'dm_control:cheetah-run' in names and 'gridworld:simple' in names
  assert 'dm_control:cheetah-run' not in factory.known_environments(include_gym=False)


def test_environment_factory_pickles_and_builds_seeded_copies():
  make = pickle.loads(pickle.dumps(factory.EnvironmentFactory('dm_control:cartpole-swingup')))
  first, again = make(7), make(7)
  np.testing.assert_array_equal(first.reset().observation, again.reset().observation)
  assert first.observation_spec().shape == (5,)
  first.close()
  again.close()


def test_worker_processes_build_control_suite_copies():
  from rlkit.environments import subprocess_batched  # pylint: disable=g-import-not-at-top
  make = factory.EnvironmentFactory('dm_control:cheetah-run', max_episode_length=3)
  env = subprocess_batched.SubprocessBatchedEnvironment(make, num_envs=2, seed=0,
                                                        num_processes=1)
  try:
    assert env.observation_spec().shape == (2, 17)
    assert env.reset().observation.shape == (2, 17)
    steps = [env.step(np.zeros((2, 6), np.float32)) for _ in range(3)]
    assert [int(t.step_type[0]) for t in steps] == [1, 1, 2]
  finally:
    env.close()


@pytest.mark.parametrize('name, low, high, size', [
    ('gym:Pendulum-v1', -2.0, 2.0, 1),
    ('gym:HalfCheetah-v5', -1.0, 1.0, 6),
    ('gym:Hopper-v5', -1.0, 1.0, 3),
])
def test_gym_continuous_action_specs_are_float32_bounded_arrays(name, low, high, size):
  env = _make(name, seed=0)
  spec = env.action_spec()
  assert isinstance(spec, specs.BoundedArray) and spec.dtype == np.float32
  assert spec.shape == (size,)
  np.testing.assert_array_equal(spec.minimum, np.full(size, low, np.float32))
  np.testing.assert_array_equal(spec.maximum, np.full(size, high, np.float32))
  assert env.observation_spec().dtype == np.float32
  env.close()


@pytest.mark.parametrize('name', ['gym:Pendulum-v1', 'dm_control:cartpole-swingup'])
def test_random_actions_cover_bounded_continuous_specs(name):
  env = _make(name, seed=0)
  spec = env.action_spec()
  actor = RandomActor(spec, seed=1)
  actions = np.stack([actor.select_action(None) for _ in range(200)])
  assert actions.dtype == np.float32 and actions.shape == (200,) + spec.shape
  assert (actions >= spec.minimum).all() and (actions <= spec.maximum).all()
  assert actions.min() < spec.minimum[0] / 2 and actions.max() > spec.maximum[0] / 2
  env.close()


@pytest.mark.parametrize('name, steps', [('gym:Pendulum-v1', 200),
                                         ('dm_control:cartpole-swingup', 50)])
def test_random_baseline_runs_on_continuous_tasks(name, steps):
  env = _make(name, seed=0, max_episode_length=steps)
  stats = evaluation.random_baseline(env, num_episodes=2, seed=0)
  assert stats['episodes'] == 2 and stats['episode_length_mean'] == steps
  assert np.isfinite(stats['return_mean'])
  env.close()


def test_random_actor_rejects_infinite_bounds():
  with pytest.raises(ValueError, match='finite'):
    RandomActor(specs.BoundedArray((1,), np.float32, -np.inf, np.inf))


class CartpoleSwingupTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return _make('dm_control:cartpole-swingup', seed=0, max_episode_length=8)

  def make_action_sequence(self):
    for _ in range(20):
      yield self.make_action()


class WalkerWalkTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return _make('dm_control:walker-walk', seed=0, max_episode_length=8)

  def make_action_sequence(self):
    for _ in range(20):
      yield self.make_action()


class CheetahRunFullEpisodeTest(test_utils.EnvironmentTestMixin, absltest.TestCase):
  """The suite's own time limit (1000 steps) ends the episode and the next step restarts."""

  def make_object_under_test(self):
    return _make('dm_control:cheetah-run', seed=0, task_kwargs={'time_limit': 0.1})

  def make_action_sequence(self):
    for _ in range(25):
      yield self.make_action()


# Rendering.

def _frame_or_skip(env, **kwargs):
  try:
    return env.render(**kwargs)
  except rendering.RenderingUnavailableError as error:
    env.close()
    pytest.skip(f'offscreen rendering is unavailable here: {error}')


def test_control_suite_frame():
  env = _make('dm_control:cartpole-swingup', seed=0, render_mode='rgb_array')
  env.reset()
  frame = _frame_or_skip(env)
  assert frame.shape == (control_suite.DEFAULT_HEIGHT, control_suite.DEFAULT_WIDTH, 3)
  assert frame.dtype == np.uint8
  assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10
  small = env.render(height=48, width=64)
  assert small.shape == (48, 64, 3)
  env.close()


def test_gym_mujoco_frame():
  env = _make('gym:HalfCheetah-v5', seed=0, render_mode='rgb_array', width=96, height=64)
  env.reset()
  frame = _frame_or_skip(env)
  assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8
  assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10
  env.close()


def test_mujoco_gl_defaults_to_egl_when_libegl_is_present():
  script = textwrap.dedent('''
      import os
      os.environ.pop('MUJOCO_GL', None)
      import ctypes.util
      from rlkit.environments import factory
      print(repr(os.environ.get('MUJOCO_GL')), bool(ctypes.util.find_library('EGL')))
  ''')
  output = subprocess.run([sys.executable, '-c', script], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=True).stdout.split()
  assert output == (["'egl'", 'True'] if output[-1] == 'True' else ['None', 'False'])


def test_unavailable_rendering_is_one_clear_error_and_does_not_stop_a_loop():
  # glfw without a display cannot make a context: the same failure as a
  # machine without EGL.
  script = textwrap.dedent('''
      import json, os, sys, tempfile
      os.environ['MUJOCO_GL'] = 'glfw'
      os.environ.pop('DISPLAY', None)
      from rlkit import environment_loop
      from rlkit.utils import counting
      from rlkit.actors import RandomActor
      from rlkit.environments import factory, rendering
      from rlkit.utils import loggers, video
      env = factory.make_environment('dm_control:cartpole-swingup', seed=0,
                                     max_episode_length=3)
      result = {}
      try:
        env.render()
      except rendering.RenderingUnavailableError as error:
        result['render'] = str(error)
      directory = tempfile.mkdtemp()
      try:
        video.record_episode(env, RandomActor(env.action_spec(), seed=0),
                             os.path.join(directory, 'a.mp4'))
      except rendering.RenderingUnavailableError as error:
        result['record'] = type(error).__name__
      recorder = video.VideoRecorder(directory)
      loop = environment_loop.EnvironmentLoop(
          env, RandomActor(env.action_spec(), seed=0), counter=counting.Counter(),
          logger=loggers.NoOpLogger(), should_update=False, observers=[recorder])
      loop.run(num_episodes=2)
      result['unavailable'] = recorder.unavailable
      result['files'] = os.listdir(directory)
      print(json.dumps(result))
  ''')
  process = subprocess.run([sys.executable, '-c', script], cwd=REPO, capture_output=True,
                           text=True, timeout=120)
  assert process.returncode == 0, process.stderr[-3000:]
  result = json.loads(process.stdout.strip().splitlines()[-1])
  message = result['render']
  assert '\n' not in message
  assert "MUJOCO_GL='glfw'" in message and 'dm_control:cartpole-swingup' in message
  assert 'libegl1' in message and 'libosmesa6' in message
  assert result['record'] == 'RenderingUnavailableError'
  assert result['unavailable'] and result['files'] == []
  assert process.stderr.count('No more videos are recorded') == 1
