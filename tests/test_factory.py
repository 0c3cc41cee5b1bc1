"""make_environment: gridworld tasks, gymnasium ids, options and error messages."""

import dm_env
import numpy as np
import pytest
import tree

from rlkit import specs
from rlkit import wrappers
from rlkit.environments import factory
from rlkit.environments import gridworld


def check_conforms(env, timestep):
  tree.map_structure(lambda s, v: s.validate(v), env.observation_spec(),
                     timestep.observation)
  if not timestep.first():
    env.reward_spec().validate(timestep.reward)
    env.discount_spec().validate(timestep.discount)


@pytest.mark.parametrize('task', gridworld.TASKS)
@pytest.mark.parametrize('observation_type', [t.name for t in gridworld.ObservationType])
def test_gridworld_tasks_and_observation_types(task, observation_type):
  env = factory.make_environment(f'gridworld:{task}', seed=0,
                                 observation_type=observation_type)
  assert isinstance(env, wrappers.SinglePrecisionWrapper)
  inner = env.environment
  assert isinstance(inner, gridworld.GridWorld)
  assert inner.observation_type == gridworld.ObservationType[observation_type]
  timestep = env.reset()
  check_conforms(env, timestep)
  for action in range(4):
    timestep = env.step(action)
    check_conforms(env, timestep)
  assert env.reward_spec().dtype == np.float32


def test_gridworld_defaults_and_options():
  env = factory.make_environment('gridworld:simple')
  assert env.environment.observation_type == gridworld.ObservationType.STATE_INDEX
  assert env.environment.max_episode_length == 200
  env = factory.make_environment(
      'gridworld:obstacle', max_episode_length=3, discount=0.5,
      observation_type=gridworld.ObservationType.GRID)
  env.reset()
  timesteps = [env.step(0) for _ in range(3)]
  assert [t.step_type for t in timesteps] == [
      dm_env.StepType.MID, dm_env.StepType.MID, dm_env.StepType.LAST]
  assert timesteps[0].discount == 0.5
  assert env.render().dtype == np.uint8


def test_gridworld_one_hot_state_index():
  env = factory.make_environment('gridworld:simple', one_hot_observations=True)
  spec = env.observation_spec()
  assert spec.shape == (90,) and spec.dtype == np.float32
  observation = env.reset().observation
  assert observation.sum() == 1.0 and observation[2 * 10 + 2] == 1.0


def test_gridworld_option_errors():
  with pytest.raises(TypeError, match='penalty_for_walls'):
    factory.make_environment('gridworld:simple', penality=1)
  with pytest.raises(ValueError, match='render_mode'):
    factory.make_environment('gridworld:simple', render_mode='human')
  with pytest.raises(ValueError, match='NOPE'):
    factory.make_environment('gridworld:simple', observation_type='NOPE')


def test_gym_cartpole():
  env = factory.make_environment('gym:CartPole-v1', seed=0)
  obs_spec = env.observation_spec()
  assert obs_spec.shape == (4,) and obs_spec.dtype == np.float32
  assert isinstance(env.action_spec(), specs.DiscreteArray)
  assert env.action_spec().num_values == 2
  assert env.action_spec().dtype == np.int32
  assert env.reward_spec().dtype == np.float32
  first = env.reset()
  check_conforms(env, first)
  timestep = env.step(np.int32(1))
  check_conforms(env, timestep)
  other = factory.make_environment('gym:CartPole-v1', seed=0)
  np.testing.assert_array_equal(other.reset().observation, first.observation)


def test_gym_without_single_precision():
  env = factory.make_environment('gym:CartPole-v1', single_precision=False)
  assert not isinstance(env, wrappers.SinglePrecisionWrapper)
  assert env.reward_spec().dtype == np.float64


def test_gym_max_episode_length_truncates():
  env = factory.make_environment('gym:CartPole-v1', seed=0,
                                 max_episode_length=4)
  env.reset()
  timesteps = [env.step(i % 2) for i in range(4)]
  assert timesteps[-1].last() and timesteps[-1].discount == 1.0
  assert not any(t.last() for t in timesteps[:-1])
  with pytest.raises(ValueError, match='max_episode_steps'):
    factory.make_environment('gym:CartPole-v1', max_episode_length=4,
                             max_episode_steps=4)


def test_gym_kwargs_and_render_mode_reach_gymnasium():
  env = factory.make_environment('gym:FrozenLake-v1', is_slippery=False,
                                 render_mode='rgb_array', seed=0,
                                 one_hot_observations=True)
  assert env.observation_spec().shape == (16,)
  env.reset()
  assert env.step(2).observation[1] == 1.0
  frame = env.render()
  assert frame.ndim == 3 and frame.dtype == np.uint8


def test_observation_type_is_rejected_for_gym():
  with pytest.raises(ValueError, match='observation_type'):
    factory.make_environment('gym:CartPole-v1', observation_type='GRID')


@pytest.mark.parametrize('name, expected', [
    ('foo', ['gridworld:simple', 'gridworld:random_goal', "gym:<gymnasium id>"]),
    ('bar:CartPole-v1', ['gridworld:<task>', 'gym:CartPole-v1']),
    ('CartPole-v1', ['gym:CartPole-v1']),
    ('gym:', ['gym:<gymnasium id>']),
    ('gym:CartPol-v1', ['gym:CartPole-v1']),
    ('gym:Pendulm-v1', ['gym:Pendulum-v1']),
    ('gridworld:simpl', ['gridworld:simple', 'gridworld:obstacle']),
])
def test_unknown_names_list_known_forms_and_close_matches(name, expected):
  with pytest.raises(ValueError) as info:
    factory.make_environment(name)
  message = str(info.value)
  assert repr(name) in message
  for text in expected:
    assert text in message


@pytest.mark.parametrize('name', [None, 3, ('gym', 'CartPole-v1')])
def test_name_must_be_a_string(name):
  with pytest.raises(TypeError, match='name'):
    factory.make_environment(name)


@pytest.mark.parametrize('max_episode_length', [0, -3, 2.5, True])
def test_max_episode_length_is_validated(max_episode_length):
  with pytest.raises(ValueError, match='max_episode_length'):
    factory.make_environment('gym:CartPole-v1',
                             max_episode_length=max_episode_length)


def test_known_environments():
  names = factory.known_environments()
  assert names[:3] == ['gridworld:simple', 'gridworld:obstacle',
                       'gridworld:random_goal']
  assert 'gym:CartPole-v1' in names
  assert factory.known_environments(include_gym=False) == names[:3]


def test_unknown_gridworld_keyword_lists_every_accepted_one():
  with pytest.raises(TypeError) as info:
    factory.make_environment('gridworld:simple', foo=1)
  message = str(info.value)
  assert 'foo' in message and "'gridworld:simple'" in message
  for accepted in ('seed', 'observation_type', 'render_mode', 'max_episode_length',
                   'single_precision', 'one_hot_observations', 'discount',
                   'penalty_for_walls', 'randomize_goals'):
    assert accepted in message, accepted
  with pytest.raises(TypeError, match='Did you mean discount?'):
    factory.make_environment('gridworld:simple', discont=0.5)


def _importable(module):
  try:
    __import__(module)
    return True
  except ImportError:
    return False


@pytest.mark.skipif(_importable('Box2D'), reason='Box2D is installed here')
@pytest.mark.parametrize('env_id', ['CarRacing-v3', 'LunarLander-v3'])
def test_a_registered_id_without_its_extra_names_the_install_command(env_id):
  with pytest.raises(ValueError) as info:
    factory.make_environment(f'gym:{env_id}')
  message = str(info.value)
  assert f"'gym:{env_id}'" in message and 'Box2D' in message
  assert 'pip install "gymnasium[box2d]"' in message
  assert 'Unknown' not in message and 'Close matches' not in message


@pytest.mark.skipif(_importable('ale_py'), reason='ale-py is installed here')
def test_an_atari_id_without_ale_py_names_the_package():
  with pytest.raises(ValueError, match='ale-py.*gymnasium\\[atari\\]'):
    factory.make_environment('gym:ALE/Pong-v5')


def test_a_registered_id_missing_an_unknown_module_names_it():
  import gymnasium  # pylint: disable=g-import-not-at-top
  gymnasium.register('RlkitTestMissingModule-v0',
                     entry_point='rlkit_no_such_module.envs:Env')
  try:
    with pytest.raises(ValueError) as info:
      factory.make_environment('gym:RlkitTestMissingModule-v0')
  finally:
    del gymnasium.registry['RlkitTestMissingModule-v0']
  message = str(info.value)
  assert "the module 'rlkit_no_such_module'" in message and 'registered' in message
