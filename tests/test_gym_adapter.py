"""GymnasiumEnvironment: specs, step types, seeding and action checks on real gymnasium envs."""

import dm_env
import gymnasium
from gymnasium import spaces
import numpy as np
import pytest

from rlkit import specs
from rlkit import wrappers
from rlkit.environments import gym as gym_adapter


def make_cartpole(seed=None, **kwargs):
  return gym_adapter.GymnasiumEnvironment(
      gymnasium.make('CartPole-v1', **kwargs), seed=seed)


def run_actions(env, actions):
  timesteps = [env.reset()]
  for action in actions:
    timesteps.append(env.step(action))
  return timesteps


class ShiftedDiscreteEnv(gymnasium.Env):
  """Discrete(3, start=-1) actions and observations; the observation is the last action."""

  def __init__(self):
    self.action_space = spaces.Discrete(3, start=-1)
    self.observation_space = spaces.Discrete(3, start=-1)
    self.received = []

  def reset(self, *, seed=None, options=None):
    super().reset(seed=seed)
    return -1, {}

  def step(self, action):
    self.received.append(action)
    return action, 0.5, False, False, {'action': action}


def test_gym_wrapper_is_an_alias():
  assert gym_adapter.GymWrapper is gym_adapter.GymnasiumEnvironment


def test_cartpole_specs():
  env = make_cartpole()
  obs_spec = env.observation_spec()
  assert isinstance(obs_spec, specs.BoundedArray)
  assert obs_spec.shape == (4,) and obs_spec.dtype == np.float32
  np.testing.assert_array_equal(obs_spec.maximum,
                                env.environment.observation_space.high)
  action_spec = env.action_spec()
  assert isinstance(action_spec, specs.DiscreteArray)
  assert action_spec.num_values == 2
  assert env.reward_spec().dtype == np.float64
  assert env.discount_spec().dtype == np.float64
  assert (env.discount_spec().minimum, env.discount_spec().maximum) == (0, 1)
  assert isinstance(env, dm_env.Environment)
  assert isinstance(env.environment, gymnasium.Env)


def test_cartpole_timesteps_conform_to_specs():
  env = make_cartpole(seed=0)
  first = env.reset()
  assert first.first() and first.reward is None and first.discount is None
  env.observation_spec().validate(first.observation)
  timestep = env.step(0)
  assert timestep.mid()
  env.observation_spec().validate(timestep.observation)
  env.reward_spec().validate(timestep.reward)
  env.discount_spec().validate(timestep.discount)
  assert timestep.reward == 1.0 and timestep.discount == 1.0


def test_termination_is_last_with_discount_zero():
  env = make_cartpole(seed=0)
  env.reset()
  for num_steps in range(1, 500):
    timestep = env.step(1)
    if timestep.last():
      break
  assert timestep.last() and num_steps < 50
  assert timestep.discount == 0.0 and timestep.reward == 1.0


def test_truncation_is_last_with_discount_one():
  env = make_cartpole(seed=0, max_episode_steps=5)
  timesteps = run_actions(env, [0, 1, 0, 1, 0])
  assert [t.step_type for t in timesteps] == (
      [dm_env.StepType.FIRST] + [dm_env.StepType.MID] * 4 +
      [dm_env.StepType.LAST])
  assert timesteps[-1].discount == 1.0


def test_step_after_last_starts_a_new_episode():
  env = make_cartpole(seed=0, max_episode_steps=2)
  timesteps = run_actions(env, [0, 1, 1, 0])
  assert [t.step_type for t in timesteps] == [
      dm_env.StepType.FIRST, dm_env.StepType.MID, dm_env.StepType.LAST,
      dm_env.StepType.FIRST, dm_env.StepType.MID]
  assert timesteps[3].reward is None
  assert not np.array_equal(timesteps[3].observation, timesteps[0].observation)


def test_step_on_a_fresh_environment_resets_with_the_seed():
  first = make_cartpole(seed=5).step(0)
  assert first.first() and first.reward is None
  np.testing.assert_array_equal(first.observation,
                                make_cartpole(seed=5).reset().observation)


def test_same_seed_same_trajectory_different_seed_differs():
  actions = [0, 1, 1, 0, 1, 0, 0, 1] * 5
  a = run_actions(make_cartpole(seed=3), actions)
  b = run_actions(make_cartpole(seed=3), actions)
  c = run_actions(make_cartpole(seed=4), actions)
  for x, y in zip(a, b):
    assert x.step_type == y.step_type
    np.testing.assert_array_equal(x.observation, y.observation)
  assert not np.array_equal(a[0].observation, c[0].observation)


def test_later_resets_continue_the_random_stream():
  env = make_cartpole(seed=3)
  first = env.reset().observation
  second = env.reset().observation
  assert not np.array_equal(first, second)
  other = make_cartpole(seed=3)
  np.testing.assert_array_equal(other.reset().observation, first)
  np.testing.assert_array_equal(other.reset().observation, second)


def test_seed_also_seeds_the_action_space():
  a, b, c = (make_cartpole(seed=seed).environment.action_space
             for seed in (7, 7, 8))
  samples_a, samples_b, samples_c = (
      [space.sample() for _ in range(20)] for space in (a, b, c))
  assert samples_a == samples_b
  assert samples_a != samples_c


@pytest.mark.parametrize('action', [2, -1, 0.5, 'a', True, np.float32(1.0),
                                    np.array([1]), None])
def test_invalid_discrete_actions_raise(action):
  env = make_cartpole(seed=0)
  env.reset()
  with pytest.raises(ValueError) as info:
    env.step(action)
  message = str(info.value)
  assert repr(action) in message and '[0, 1]' in message


@pytest.mark.parametrize('action', [1, np.int32(1), np.int64(0), np.uint8(1),
                                    np.array(1)])
def test_integer_actions_of_any_type_are_accepted(action):
  env = make_cartpole(seed=0)
  env.reset()
  assert env.step(action).mid()


def test_render_returns_an_rgb_frame():
  env = make_cartpole(seed=0, render_mode='rgb_array')
  env.reset()
  frame = env.render()
  assert frame.dtype == np.uint8 and frame.shape == (400, 600, 3)
  env.close()


def test_pendulum_box_actions():
  env = gym_adapter.GymnasiumEnvironment(gymnasium.make('Pendulum-v1'), seed=0)
  spec = env.action_spec()
  assert isinstance(spec, specs.BoundedArray)
  assert spec.shape == (1,) and spec.dtype == np.float32
  np.testing.assert_array_equal(spec.minimum, [-2.0])
  np.testing.assert_array_equal(spec.maximum, [2.0])
  env.reset()
  assert env.step(np.array([1.5], np.float32)).mid()
  assert env.step(np.array([-2.0])).mid()
  assert env.step([0.0]).mid()


@pytest.mark.parametrize('action', [np.array([2.5]), np.array([-3.0]),
                                    np.array([np.nan]), np.array([[0.1]]),
                                    0.5, 'a'])
def test_pendulum_invalid_actions_raise(action):
  env = gym_adapter.GymnasiumEnvironment(gymnasium.make('Pendulum-v1'), seed=0)
  env.reset()
  with pytest.raises(ValueError, match='Pendulum-v1') as info:
    env.step(action)
  assert 'high=[2.0]' in str(info.value)


def test_frozen_lake_with_one_hot_observations():
  env = wrappers.OneHotObservationWrapper(gym_adapter.GymnasiumEnvironment(
      gymnasium.make('FrozenLake-v1', is_slippery=False), seed=0))
  spec = env.observation_spec()
  assert isinstance(spec, specs.BoundedArray)
  assert spec.shape == (16,) and spec.dtype == np.float32
  first = env.reset()
  spec.validate(first.observation)
  np.testing.assert_array_equal(first.observation, np.eye(16)[0])
  timestep = env.step(2)  # Right.
  np.testing.assert_array_equal(timestep.observation, np.eye(16)[1])


def test_frozen_lake_observations_are_numpy_scalars_of_the_spec_dtype():
  env = gym_adapter.GymnasiumEnvironment(gymnasium.make('FrozenLake-v1'))
  observation = env.reset().observation
  assert isinstance(observation, np.int64) and observation == 0
  env.observation_spec().validate(observation)


def test_discrete_spaces_with_a_start_are_shifted():
  raw = ShiftedDiscreteEnv()
  env = gym_adapter.GymnasiumEnvironment(raw)
  assert env.action_spec().num_values == 3
  assert env.observation_spec().num_values == 3
  assert env.reset().observation == 0
  timestep = env.step(2)
  assert raw.received == [1] and timestep.observation == 2
  assert env.last_info == {'action': 1}
  env.step(0)
  assert raw.received == [1, -1]
  with pytest.raises(ValueError, match=r'\[0, 2\]'):
    env.step(3)


@pytest.mark.parametrize('space, expected', [
    (spaces.MultiBinary(3),
     specs.BoundedArray((3,), np.int8, 0, 1, 'observation')),
    (spaces.MultiDiscrete([2, 5]),
     specs.BoundedArray((2,), np.int64, [0, 0], [1, 4], 'observation')),
    (spaces.Box(-1.0, 1.0, (2, 3), np.float64),
     specs.BoundedArray((2, 3), np.float64, -1.0, 1.0, 'observation')),
])
def test_array_space_to_spec(space, expected):
  spec = gym_adapter.space_to_spec(space, 'observation')
  assert type(spec) is type(expected)
  assert spec == expected and spec.name == expected.name
  np.testing.assert_array_equal(spec.minimum, np.broadcast_to(
      expected.minimum, expected.shape))
  np.testing.assert_array_equal(spec.maximum, np.broadcast_to(
      expected.maximum, expected.shape))
  spec.validate(space.sample())


def test_nested_spaces_to_nested_specs():
  space = spaces.Dict({
      'position': spaces.Box(0.0, 1.0, (2,), np.float32),
      'flags': spaces.Tuple((spaces.Discrete(4), spaces.MultiBinary(2))),
  })
  spec = gym_adapter.space_to_spec(space, 'observation')
  assert set(spec) == {'position', 'flags'}
  assert isinstance(spec['flags'], tuple) and len(spec['flags']) == 2
  assert isinstance(spec['flags'][0], specs.DiscreteArray)
  assert spec['flags'][0].num_values == 4
  assert spec['position'].name == 'observation_position'


def test_unsupported_space_raises():
  with pytest.raises(NotImplementedError, match='Text'):
    gym_adapter.space_to_spec(spaces.Text(5))


def test_constructor_validates_its_arguments():
  with pytest.raises(TypeError, match='gymnasium.Env'):
    gym_adapter.GymnasiumEnvironment('CartPole-v1')
  for seed in (-1, 1.5, True, 'x'):
    with pytest.raises(ValueError, match='seed'):
      gym_adapter.GymnasiumEnvironment(gymnasium.make('CartPole-v1'), seed=seed)


def test_single_precision_adapter_accepts_its_own_action_spec():
  env = wrappers.SinglePrecisionWrapper(make_cartpole(seed=0))
  assert env.action_spec().dtype == np.int32
  assert env.reward_spec().dtype == np.float32
  env.reset()
  timestep = env.step(env.action_spec().generate_value())
  assert timestep.reward.dtype == np.float32
  assert timestep.discount.dtype == np.float32
  assert timestep.observation.dtype == np.float32
