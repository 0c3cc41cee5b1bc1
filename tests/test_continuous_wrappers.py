"""CanonicalSpecWrapper, ConcatObservationWrapper and ActionRepeatWrapper."""

from absl.testing import absltest
import dm_env
from dm_env import test_utils
import numpy as np
import pytest

from rlkit import specs
from rlkit import wrappers
from rlkit.environments import factory


class ActionRecorder(wrappers.EnvironmentWrapper):
  """Records the actions that reach the wrapped environment."""

  def __init__(self, environment):
    super().__init__(environment)
    self.actions = []

  def step(self, action):
    self.actions.append(np.array(action, copy=True))
    return self._environment.step(action)


class CountingEnvironment(dm_env.Environment):
  """Step t of an episode has reward t and discount 0.5; episodes end after `length` steps.

  Follows dm_env: `step()` on a fresh environment or after LAST resets.
  """

  def __init__(self, length=5):
    self._length = length
    self._t = 0
    self._reset_next_step = True
    self.steps = 0

  def reset(self):
    self._t = 0
    self._reset_next_step = False
    return dm_env.restart(np.zeros((), np.float32))

  def step(self, action):
    if self._reset_next_step:
      return self.reset()
    self._t += 1
    self.steps += 1
    observation = np.float32(self._t)
    if self._t >= self._length:
      self._reset_next_step = True
      return dm_env.termination(np.float32(self._t), observation)
    return dm_env.transition(np.float32(self._t), observation, discount=np.float32(0.5))

  def observation_spec(self):
    return specs.Array((), np.float32, 'observation')

  def action_spec(self):
    return specs.DiscreteArray(2, dtype=np.int32, name='action')

  def reward_spec(self):
    return specs.Array((), np.float32, 'reward')

  def discount_spec(self):
    return specs.BoundedArray((), np.float32, 0.0, 1.0, 'discount')


# CanonicalSpecWrapper.

def test_canonical_spec_is_minus_one_to_one_with_shape_and_dtype_kept():
  env = wrappers.CanonicalSpecWrapper(factory.make_environment('gym:Pendulum-v1', seed=0))
  spec = env.action_spec()
  assert isinstance(spec, specs.BoundedArray)
  assert spec.shape == (1,) and spec.dtype == np.float32
  np.testing.assert_array_equal(spec.minimum, [-1.0])
  np.testing.assert_array_equal(spec.maximum, [1.0])
  assert env.environment.action_spec().maximum[0] == 2.0
  env.close()


@pytest.mark.parametrize('clip, canonical, expected', [
    (False, [-1.0], [-2.0]), (False, [0.0], [0.0]), (False, [0.5], [1.0]), (False, [1.0], [2.0]),
    (True, [1.5], [2.0]), (True, [-7.0], [-2.0]),
])
def test_canonical_actions_are_rescaled_to_the_original_bounds(clip, canonical, expected):
  recorder = ActionRecorder(factory.make_environment('gym:Pendulum-v1', seed=0))
  env = wrappers.CanonicalSpecWrapper(recorder, clip=clip)
  env.reset()
  env.step(np.array(canonical, np.float32))
  np.testing.assert_allclose(recorder.actions[-1], expected, rtol=1e-6)
  assert recorder.actions[-1].dtype == np.float32
  env.close()


def test_unclipped_actions_outside_the_box_map_outside_the_bounds():
  recorder = ActionRecorder(factory.make_environment('gym:Pendulum-v1', seed=0))
  env = wrappers.CanonicalSpecWrapper(recorder)
  env.reset()
  with pytest.raises(ValueError, match='Invalid action'):
    env.step(np.array([1.5], np.float32))
  np.testing.assert_allclose(recorder.actions[-1], [3.0])
  env.close()


def test_canonical_spec_rescales_asymmetric_bounds_and_keeps_discrete_specs():
  spec = {'move': specs.BoundedArray((2,), np.float64, minimum=[0.0, -3.0], maximum=[10.0, 1.0]),
          'pick': specs.DiscreteArray(3)}

  class NestedActions(CountingEnvironment):
    received = None

    def action_spec(self):
      return spec

    def step(self, action):
      NestedActions.received = action
      return super().step(action)

  env = wrappers.CanonicalSpecWrapper(NestedActions())
  assert env.action_spec()['pick'] is spec['pick']
  np.testing.assert_array_equal(env.action_spec()['move'].minimum, [-1.0, -1.0])
  env.step({'move': np.array([0.0, -1.0]), 'pick': 2})
  np.testing.assert_allclose(NestedActions.received['move'], [5.0, -3.0])
  assert NestedActions.received['pick'] == 2


def test_canonical_spec_rejects_infinite_bounds():
  class Unbounded(CountingEnvironment):
    def action_spec(self):
      return specs.BoundedArray((1,), np.float32, minimum=-np.inf, maximum=np.inf)

  with pytest.raises(ValueError, match='finite'):
    wrappers.CanonicalSpecWrapper(Unbounded())


# ConcatObservationWrapper.

def test_concatenation_follows_sorted_keys_and_matches_the_spec():
  raw = factory.make_environment('dm_control:walker-walk', seed=1,
                                 concatenate_observations=False, single_precision=False)
  assert set(raw.observation_spec()) == {'orientations', 'height', 'velocity'}
  env = wrappers.ConcatObservationWrapper(raw)
  spec = env.observation_spec()
  assert spec.shape == (14 + 1 + 9,) and spec.dtype == np.float64
  inner = raw.environment  # the unconcatenated Control Suite environment
  timestep = env.reset()
  spec.validate(timestep.observation)
  physics_height = inner.physics.torso_height()
  # Sorted keys: height, orientations, velocity.
  assert timestep.observation[0] == pytest.approx(physics_height)
  np.testing.assert_allclose(timestep.observation[1:15], inner.physics.orientations())
  np.testing.assert_allclose(timestep.observation[15:], inner.physics.velocity())
  env.close()


def test_name_filter_keeps_only_the_named_fields():
  raw = factory.make_environment('dm_control:cartpole-swingup', seed=0,
                                 concatenate_observations=False)
  env = wrappers.ConcatObservationWrapper(raw, name_filter=['velocity'])
  assert env.observation_spec().shape == (2,)
  timestep = env.step(env.action_spec().generate_value())
  assert timestep.first() and timestep.observation.shape == (2,)
  with pytest.raises(ValueError, match="'speed'"):
    wrappers.ConcatObservationWrapper(raw, name_filter=['speed'])
  with pytest.raises(TypeError, match='dict observation spec'):
    wrappers.ConcatObservationWrapper(factory.make_environment('gym:Pendulum-v1'))
  env.close()


# ActionRepeatWrapper.

def test_action_repeat_sums_discounted_rewards():
  inner = CountingEnvironment(length=5)
  env = wrappers.ActionRepeatWrapper(inner, num_repeats=2)
  env.reset()
  timestep = env.step(0)
  # Rewards 1 then 2, discounts 0.5 then 0.5: 1 + 0.5 * 2, discount 0.25.
  assert timestep.mid() and timestep.reward == pytest.approx(2.0)
  assert timestep.discount == pytest.approx(0.25)
  assert timestep.reward.dtype == np.float32 and timestep.discount.dtype == np.float32
  assert inner.steps == 2


def test_action_repeat_stops_at_last_and_then_restarts():
  inner = CountingEnvironment(length=5)
  env = wrappers.ActionRepeatWrapper(inner, num_repeats=3)
  env.reset()
  env.step(0)  # steps 1, 2, 3
  timestep = env.step(0)  # steps 4, 5 (LAST): 4 + 0.5 * 5, terminal discount 0.5 * 0
  assert timestep.last() and inner.steps == 5
  assert timestep.reward == pytest.approx(6.5) and timestep.discount == 0.0
  assert env.step(0).first() and inner.steps == 5
  with pytest.raises(ValueError, match='num_repeats'):
    wrappers.ActionRepeatWrapper(inner, num_repeats=0)


# Each wrapper under dm_env's conformance tests.

def _long_sequence(test):
  return (test.make_action() for _ in range(25))


def _gym_starts_episodes_on_step() -> bool:
  env = factory.make_environment('gym:Pendulum-v1', seed=0)
  try:
    return env.step(env.action_spec().generate_value()).first()
  except RuntimeError:
    return False
  finally:
    env.close()


# The wrappers pass dm_env's auto-reset through; the gym adapter follows it
# only once the dm_env-conformance change of the adapter is in.
_needs_conforming_gym = absltest.skipUnless(
    _gym_starts_episodes_on_step(),
    "the gym adapter does not start an episode on step() of a fresh environment yet")


@_needs_conforming_gym
class CanonicalPendulumTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return wrappers.CanonicalSpecWrapper(
        factory.make_environment('gym:Pendulum-v1', seed=0, max_episode_length=10), clip=True)

  make_action_sequence = _long_sequence


class CanonicalControlSuiteTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return wrappers.CanonicalSpecWrapper(
        factory.make_environment('dm_control:cheetah-run', seed=0, max_episode_length=10))

  make_action_sequence = _long_sequence


class ConcatControlSuiteTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return wrappers.SinglePrecisionWrapper(wrappers.ConcatObservationWrapper(
        factory.make_environment('dm_control:walker-walk', seed=0, max_episode_length=10,
                                 concatenate_observations=False, single_precision=False)))

  make_action_sequence = _long_sequence


@_needs_conforming_gym
class ActionRepeatPendulumTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return wrappers.ActionRepeatWrapper(
        factory.make_environment('gym:Pendulum-v1', seed=0, max_episode_length=10), 3)

  make_action_sequence = _long_sequence


class ActionRepeatControlSuiteTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

  def make_object_under_test(self):
    return wrappers.ActionRepeatWrapper(
        factory.make_environment('dm_control:cartpole-swingup', seed=0, max_episode_length=7), 2)

  make_action_sequence = _long_sequence
