"""EnvironmentWrapper, SinglePrecisionWrapper, StepLimitWrapper and OneHotObservationWrapper."""

import dm_env
import numpy as np
import pytest

from rlkit import specs
from rlkit import wrappers
from rlkit.wrappers import single_precision
from tests import fakes


class NestedEnvironment(dm_env.Environment):
  """64-bit nested observations, a python-float reward and a 0.5 discount.

  Episodes last `episode_length` steps and terminate; the observation's
  'count' is the step index.
  """

  def __init__(self, episode_length=10, discount=0.5):
    self._length = episode_length
    self._discount = discount
    self._t = 0
    self.rendered = False
    self.closed = False
    self.uint8_image = np.zeros((2, 2), np.uint8)

  def _obs(self):
    return {
        'position': np.full((3,), self._t, np.float64),
        'count': np.int64(self._t),
        'pair': (np.float32(self._t), self.uint8_image),
    }

  def reset(self):
    self._t = 0
    return dm_env.restart(self._obs())

  def step(self, action):
    self._t += 1
    if self._t >= self._length:
      return dm_env.termination(float(self._t), self._obs())
    return dm_env.transition(float(self._t), self._obs(),
                             discount=np.float64(self._discount))

  def observation_spec(self):
    return {
        'position': specs.BoundedArray((3,), np.float64, -1e300, 1e300,
                                       'position'),
        'count': specs.BoundedArray((), np.int64, 0, 2**40, 'count'),
        'pair': (specs.Array((), np.float32, 'scalar'),
                 specs.Array((2, 2), np.uint8, 'image')),
    }

  def action_spec(self):
    return specs.DiscreteArray(3, dtype=np.int64, name='action')

  def render(self, scale=1):
    self.rendered = scale
    return np.zeros((scale, scale, 3), np.uint8)

  def close(self):
    self.closed = True

  def custom_method(self):
    return 'inner'


def test_base_wrapper_delegates_everything():
  inner = NestedEnvironment()
  env = wrappers.EnvironmentWrapper(inner)
  assert env.environment is inner
  assert env.observation_spec() == inner.observation_spec()
  assert env.action_spec() == inner.action_spec()
  assert env.reward_spec() == inner.reward_spec()
  assert env.discount_spec() == inner.discount_spec()
  assert env.reset().first()
  assert env.step(0).reward == 1.0
  assert env.custom_method() == 'inner'
  assert env.render(scale=4).shape == (4, 4, 3)
  env.close()
  assert inner.closed
  with pytest.raises(AttributeError, match='no_such_attribute'):
    env.no_such_attribute  # pylint: disable=pointless-statement


def test_base_wrapper_rejects_non_environments():
  with pytest.raises(TypeError, match='dm_env.Environment'):
    wrappers.EnvironmentWrapper(object())


def test_wrap_all_applies_wrappers_innermost_first():
  inner = fakes.FixedLengthEnvironment()
  env = wrappers.wrap_all(inner, [
      wrappers.SinglePrecisionWrapper,
      lambda e: wrappers.StepLimitWrapper(e, 2)])
  assert isinstance(env, wrappers.StepLimitWrapper)
  assert isinstance(env.environment, wrappers.SinglePrecisionWrapper)
  assert env.environment.environment is inner


def test_single_precision_specs():
  env = wrappers.SinglePrecisionWrapper(NestedEnvironment())
  obs_spec = env.observation_spec()
  assert obs_spec['position'].dtype == np.float32
  assert isinstance(obs_spec['position'], specs.BoundedArray)
  assert obs_spec['position'].name == 'position'
  assert np.isinf(obs_spec['position'].maximum)  # 1e300 overflows float32.
  assert obs_spec['count'].dtype == np.int32
  assert obs_spec['count'].maximum == np.iinfo(np.int32).max
  assert obs_spec['pair'][0].dtype == np.float32
  assert obs_spec['pair'][1].dtype == np.uint8
  action_spec = env.action_spec()
  assert isinstance(action_spec, specs.DiscreteArray)
  assert action_spec.dtype == np.int32 and action_spec.num_values == 3
  assert env.reward_spec().dtype == np.float32
  assert env.discount_spec().dtype == np.float32
  assert isinstance(env.discount_spec(), specs.BoundedArray)
  assert env.discount_spec().maximum == 1.0


def test_single_precision_values():
  inner = NestedEnvironment()
  env = wrappers.SinglePrecisionWrapper(inner)
  first = env.reset()
  assert first.reward is None and first.discount is None
  for timestep in (first, env.step(0)):
    observation = timestep.observation
    assert observation['position'].dtype == np.float32
    assert observation['count'].dtype == np.int32
    assert observation['pair'][0].dtype == np.float32
    assert observation['pair'][1] is inner.uint8_image
  timestep = env.step(0)
  assert timestep.reward.dtype == np.float32 and timestep.reward == 2.0
  assert timestep.discount.dtype == np.float32 and timestep.discount == 0.5
  np.testing.assert_array_equal(timestep.observation['position'], [2, 2, 2])
  for spec, value in zip(
      (env.reward_spec(), env.discount_spec()),
      (timestep.reward, timestep.discount)):
    spec.validate(value)


def test_single_precision_leaves_32_bit_environments_untouched():
  inner = fakes.FixedLengthEnvironment(episode_length=3)
  env = wrappers.SinglePrecisionWrapper(inner)
  assert env.observation_spec() == inner.observation_spec()
  assert env.action_spec().dtype == np.int32
  env.reset()
  timestep = env.step(0)
  assert timestep.observation.dtype == np.float32
  assert timestep.reward.dtype == np.float32


@pytest.mark.parametrize('value, dtype', [
    (1.5, np.float32), (3, np.int32), (np.float64(2.0), np.float32),
    (np.int64(7), np.int32), (np.zeros(2, np.float64), np.float32),
    (np.zeros(2, np.int64), np.int32), (np.zeros(2, np.int16), np.int16),
    (np.float16(1.0), np.float16)])
def test_convert_value(value, dtype):
  converted = single_precision.convert_value(value)
  assert converted.dtype == dtype
  np.testing.assert_array_equal(converted, value)


@pytest.mark.parametrize('value', [None, True, 'text', np.zeros(2, np.float32)])
def test_convert_value_returns_other_values_unchanged(value):
  assert single_precision.convert_value(value) is value


def test_step_limit_truncates_and_keeps_the_discount():
  env = wrappers.StepLimitWrapper(NestedEnvironment(discount=0.5), step_limit=3)
  assert env.step_limit == 3
  timesteps = [env.reset()] + [env.step(0) for _ in range(5)]
  assert [t.step_type for t in timesteps] == [
      dm_env.StepType.FIRST, dm_env.StepType.MID, dm_env.StepType.MID,
      dm_env.StepType.LAST, dm_env.StepType.FIRST, dm_env.StepType.MID]
  assert timesteps[3].discount == 0.5 and timesteps[3].reward == 3.0
  assert timesteps[4].observation['count'] == 0
  assert env.elapsed_steps == 1


def test_step_limit_truncation_discount_of_one():
  env = wrappers.StepLimitWrapper(
      fakes.FixedLengthEnvironment(episode_length=10), step_limit=2)
  env.reset()
  env.step(0)
  timestep = env.step(0)
  assert timestep.last() and timestep.discount == 1.0


def test_step_limit_reset_restarts_the_count():
  env = wrappers.StepLimitWrapper(NestedEnvironment(), step_limit=3)
  env.reset()
  env.step(0)
  env.step(0)
  env.reset()
  assert env.elapsed_steps == 0
  assert env.step(0).mid() and env.step(0).mid() and env.step(0).last()


def test_step_limit_passes_earlier_terminations_through():
  env = wrappers.StepLimitWrapper(
      fakes.FixedLengthEnvironment(episode_length=2), step_limit=5)
  timesteps = [env.reset()] + [env.step(0) for _ in range(4)]
  assert [t.step_type for t in timesteps] == [
      dm_env.StepType.FIRST, dm_env.StepType.MID, dm_env.StepType.LAST,
      dm_env.StepType.FIRST, dm_env.StepType.MID]
  assert timesteps[2].discount == 0.0


def test_step_limit_none_means_no_limit():
  env = wrappers.StepLimitWrapper(fakes.FixedLengthEnvironment(episode_length=50))
  assert env.step_limit is None
  env.reset()
  step_types = [env.step(0).step_type for _ in range(50)]
  assert step_types == [dm_env.StepType.MID] * 49 + [dm_env.StepType.LAST]


@pytest.mark.parametrize('step_limit', [0, -1, 1.5, True, '3'])
def test_step_limit_must_be_a_positive_int(step_limit):
  with pytest.raises(ValueError, match='step_limit'):
    wrappers.StepLimitWrapper(fakes.FixedLengthEnvironment(), step_limit)


class StateIndexEnvironment(dm_env.Environment):
  """Observation = number of steps taken, modulo 5, as a DiscreteArray(5)."""

  def __init__(self):
    self._t = 0

  def reset(self):
    self._t = 0
    return dm_env.restart(np.int64(0))

  def step(self, action):
    self._t += 1
    return dm_env.transition(0.0, np.int64(self._t % 5))

  def observation_spec(self):
    return specs.DiscreteArray(5, dtype=np.int64, name='state')

  def action_spec(self):
    return specs.DiscreteArray(2)


def test_one_hot_observations():
  env = wrappers.OneHotObservationWrapper(StateIndexEnvironment())
  spec = env.observation_spec()
  assert isinstance(spec, specs.BoundedArray)
  assert spec.shape == (5,) and spec.dtype == np.float32 and spec.name == 'state'
  assert (spec.minimum, spec.maximum) == (0.0, 1.0)
  observations = [env.reset().observation] + [
      env.step(0).observation for _ in range(6)]
  for observation in observations:
    spec.validate(observation)
  np.testing.assert_array_equal(
      np.stack(observations), np.eye(5, dtype=np.float32)[[0, 1, 2, 3, 4, 0, 1]])


def test_one_hot_requires_a_discrete_observation_spec():
  with pytest.raises(TypeError, match=r'DiscreteArray.*Array\(shape=\(2,\)'):
    wrappers.OneHotObservationWrapper(fakes.FixedLengthEnvironment())
