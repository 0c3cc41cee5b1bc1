"""dm_env's own `EnvironmentTestMixin` on every rlkit environment and wrapper.

One TestCase class per environment is generated from `ENVIRONMENTS`; each runs
the mixin's tests (reset, step on a fresh environment, step after reset, and a
longer action sequence that crosses episode ends). Batched environments return
arrays of step types, so their copies are checked one by one (see
`BatchedConformance`).
"""

from typing import Callable, Dict

from absl.testing import absltest
import dm_env
from dm_env import test_utils
import gymnasium
import numpy as np

from rlkit import wrappers
from rlkit.adders import batched as batched_adders
from rlkit.environments import batched
from rlkit.environments import factory
from rlkit.environments import gridworld
from rlkit.environments import gym as gym_adapter
from rlkit.environments import subprocess_batched

_EPISODE_LIMIT = 8
_NUM_ACTIONS = 30


def _gridworld(task: str, observation_type: str) -> dm_env.Environment:
  return gridworld.build_gridworld_task(
      task, observation_type=observation_type,
      max_episode_length=_EPISODE_LIMIT, seed=1)


def _gym(env_id: str, **kwargs) -> dm_env.Environment:
  return gym_adapter.GymnasiumEnvironment(
      gymnasium.make(env_id, max_episode_steps=_EPISODE_LIMIT, **kwargs), seed=0)


def _gym_one_hot(env_id: str) -> dm_env.Environment:
  return wrappers.OneHotObservationWrapper(_gym(env_id))


_GYM_IDS = ('CartPole-v1', 'Acrobot-v1', 'MountainCarContinuous-v0',
            'Pendulum-v1', 'FrozenLake-v1')

ENVIRONMENTS: Dict[str, Callable[[], dm_env.Environment]] = {}
for _task in gridworld.TASKS:
  for _obs in gridworld.ObservationType:
    ENVIRONMENTS[f'GridWorld_{_task}_{_obs.name}'] = (
        lambda t=_task, o=_obs.name: _gridworld(t, o))
for _id in _GYM_IDS:
  ENVIRONMENTS[f'Gym_{_id}'] = lambda i=_id: _gym(i)
  ENVIRONMENTS[f'Gym_{_id}_SinglePrecision'] = (
      lambda i=_id: wrappers.SinglePrecisionWrapper(_gym(i)))
ENVIRONMENTS.update({
    'Gym_FrozenLake-v1_OneHot': lambda: _gym_one_hot('FrozenLake-v1'),
    'GridWorld_OneHot': lambda: wrappers.OneHotObservationWrapper(
        _gridworld('simple', 'STATE_INDEX')),
    'EnvironmentWrapper': lambda: wrappers.EnvironmentWrapper(
        _gridworld('obstacle', 'GRID')),
    'StepLimitWrapper_5': lambda: wrappers.StepLimitWrapper(_gym('CartPole-v1'), 5),
    'StepLimitWrapper_None': lambda: wrappers.StepLimitWrapper(
        _gridworld('simple', 'AGENT_GOAL_POS')),
    'StepLimitWrapper_over_GridWorld': lambda: wrappers.StepLimitWrapper(
        _gridworld('simple', 'AGENT_ONEHOT'), 3),
    'SinglePrecisionWrapper_GridWorld': lambda: wrappers.SinglePrecisionWrapper(
        _gridworld('random_goal', 'GRID')),
    'Factory_gridworld': lambda: factory.make_environment(
        'gridworld:obstacle', max_episode_length=_EPISODE_LIMIT),
    'Factory_gym_one_hot': lambda: factory.make_environment(
        'gym:FrozenLake-v1', one_hot_observations=True,
        max_episode_length=_EPISODE_LIMIT),
})


class _Conformance(test_utils.EnvironmentTestMixin):
  """The mixin, with random actions long enough to end several episodes."""

  def make_action_sequence(self):
    spec = self.environment.action_spec()
    rng = np.random.default_rng(0)
    for _ in range(_NUM_ACTIONS):
      yield _random_action(spec, rng)


def _random_action(spec, rng):
  if hasattr(spec, 'num_values'):
    return spec.dtype.type(rng.integers(spec.num_values))
  if hasattr(spec, 'minimum'):
    low = np.broadcast_to(spec.minimum, spec.shape)
    high = np.broadcast_to(spec.maximum, spec.shape)
    if np.issubdtype(spec.dtype, np.integer):
      return rng.integers(low, high + 1).astype(spec.dtype)
    return rng.uniform(low, high).astype(spec.dtype)
  return spec.generate_value()


for _name, _make in ENVIRONMENTS.items():
  _class_name = 'Test_' + ''.join(c if c.isalnum() else '_' for c in _name)
  globals()[_class_name] = type(
      _class_name, (_Conformance, absltest.TestCase),
      {'make_object_under_test': staticmethod(_make)})


class BatchedConformance(_Conformance):
  """The mixin per copy: each copy's slice must be a valid dm_env TimeStep.

  A batched FIRST slice carries reward 0 and discount 1 (so the arrays stay
  dense); `unbatch_timestep` turns them into None, as for one environment.
  Returned is copy 0's slice, which the mixin's step-type checks then see.
  """

  def _copies(self, timestep):
    spec = self.environment.single_environment_spec()
    copies = [batched_adders.unbatch_timestep(timestep, i)
              for i in range(self.environment.num_envs)]
    for copy in copies:
      self.assertIsInstance(copy.step_type, dm_env.StepType)
      if not copy.first():
        self.assertConformsToSpec(copy.reward, spec.rewards)
        self.assertConformsToSpec(copy.discount, spec.discounts)
      self.assertConformsToSpec(copy.observation, spec.observations)
    return copies

  def assertValidStep(self, step):
    self.assertIsInstance(step, dm_env.TimeStep)
    self.assertConformsToSpec(step.observation, self.environment.observation_spec())
    self.assertConformsToSpec(step.reward, self.environment.reward_spec())
    self.assertConformsToSpec(step.discount, self.environment.discount_spec())
    self._copies(step)

  def reset_environment(self):
    step = self.environment.reset()
    self.assertValidStep(step)
    copies = self._copies(step)
    self.assertTrue(all(copy.first() for copy in copies))
    return copies[0]

  def step_environment(self, action=None):
    if action is None:
      action = self.make_action()
    step = self.environment.step(action)
    self.assertValidStep(step)
    return self._copies(step)[0]

  def make_action_sequence(self):
    # The same action in every copy, so the copies stay in step.
    single = self.environment.single_environment_spec().actions
    rng = np.random.default_rng(0)
    for _ in range(_NUM_ACTIONS):
      action = _random_action(single, rng)
      yield np.stack([action] * self.environment.num_envs)


class TestBatchedEnvironment(BatchedConformance, absltest.TestCase):

  def make_object_under_test(self):
    return batched.BatchedEnvironment.from_factory(
        lambda seed: _gridworld('simple', 'GRID'), num_envs=3, seed=0)


class TestBatchedGymEnvironment(BatchedConformance, absltest.TestCase):

  def make_object_under_test(self):
    return batched.BatchedEnvironment(
        [wrappers.StepLimitWrapper(_gym('CartPole-v1'), 4) for _ in range(2)])


class TestSubprocessBatchedEnvironment(BatchedConformance, absltest.TestCase):

  def make_object_under_test(self):
    return subprocess_batched.SubprocessBatchedEnvironment(
        factory.EnvironmentFactory('gridworld:simple', max_episode_length=_EPISODE_LIMIT),
        num_envs=2, seed=0, num_processes=1)


def test_every_environment_has_a_conformance_class():
  names = [n for n in globals() if n.startswith('Test_')]
  assert len(names) == len(ENVIRONMENTS) >= 30


if __name__ == '__main__':
  absltest.main()
