"""SubprocessBatchedEnvironment: the in-process semantics, in worker processes."""

import os
import signal

import dm_env
import numpy as np
import pytest

from rlkit import batched_environment_loop
from rlkit.environments import batched
from rlkit.environments import factory
from rlkit.environments import subprocess_batched
from rlkit.utils import loggers
from tests import fakes

CARTPOLE = factory.EnvironmentFactory('gym:CartPole-v1')


def fixed_length_copy(seed):
  """Copies of different episode lengths (2, 3 or 4 steps, from the seed)."""
  return fakes.FixedLengthEnvironment(episode_length=2 + seed % 3)


def failing_copy(seed):
  raise ValueError(f'cannot build copy {seed}')


@pytest.fixture(name='cartpoles', scope='module')
def cartpoles_fixture():
  env = subprocess_batched.SubprocessBatchedEnvironment(
      CARTPOLE, num_envs=3, seed=11, num_processes=2)
  yield env
  env.close()


def run_random(env, num_steps, seed=0):
  rng = np.random.default_rng(seed)
  timesteps = [env.reset()]
  for _ in range(num_steps):
    timesteps.append(env.step(rng.integers(0, 2, size=env.num_envs)))
  return timesteps


def assert_same_timesteps(a, b):
  assert len(a) == len(b)
  for x, y in zip(a, b):
    for field_x, field_y in zip(x, y):
      np.testing.assert_array_equal(field_x, field_y)


def test_steps_exactly_as_the_in_process_version(cartpoles):
  in_process = batched.BatchedEnvironment.from_factory(CARTPOLE, 3, seed=11)
  expected = run_random(in_process, 150)
  got = run_random(cartpoles, 150)
  assert_same_timesteps(got, expected)
  step_types = np.stack([ts.step_type for ts in got])
  assert (step_types == batched.LAST).sum() >= 3  # Copies ended and were reset.
  assert got[1].observation.dtype == np.float32


def test_specs_are_batched_and_copies_split_among_workers(cartpoles):
  assert cartpoles.num_envs == 3 and cartpoles.num_processes == 2
  assert isinstance(cartpoles, batched.BatchedEnvironmentBase)
  single = cartpoles.single_environment_spec()
  assert single.observations.shape == (4,)
  assert cartpoles.observation_spec().shape == (3, 4)
  assert cartpoles.action_spec().shape == (3,)
  assert cartpoles.action_spec().maximum.max() == 1
  assert cartpoles.reward_spec().shape == (3,)
  assert cartpoles.discount_spec().shape == (3,)


def test_rng_state_round_trip_replays_the_same_episodes(cartpoles):
  run_random(cartpoles, 40)
  state = cartpoles.get_rng_state()
  assert len(state) == 3
  first = run_random(cartpoles, 60, seed=1)
  cartpoles.set_rng_state(state)
  second = run_random(cartpoles, 60, seed=1)
  assert_same_timesteps(first, second)
  with pytest.raises(ValueError, match='Expected 3 copy states, got 2'):
    cartpoles.set_rng_state(state[:2])


def test_errors_in_a_worker_keep_their_type_and_the_others_in_step(cartpoles):
  cartpoles.reset()
  with pytest.raises(ValueError) as info:
    cartpoles.step(np.array([0, 7, 0]))
  assert any('environment worker 0' in note for note in info.value.__notes__)
  ts = cartpoles.step(np.zeros(3, np.int64))
  assert ts.observation.shape == (3, 4)
  with pytest.raises(ValueError, match=r'one action per copy, shape \(3, \.\.\.\)'):
    cartpoles.step(np.zeros(2, np.int64))
  with pytest.raises(ValueError, match=r'index must be in \[0, 3\), got 3'):
    cartpoles.render(3)


def test_runs_in_the_batched_loop_with_copies_ending_at_different_times():
  env = subprocess_batched.SubprocessBatchedEnvironment(
      fixed_length_copy, num_envs=4, seed=3, num_processes=2)
  lengths = [2 + s % 3 for s in batched.copy_seeds(3, 4)]
  try:
    fresh = env.step(np.zeros(4, np.int64))  # A fresh environment resets.
    assert list(fresh.step_type) == [dm_env.StepType.FIRST] * 4
    loop = batched_environment_loop.BatchedEnvironmentLoop(
        env, fakes.ZeroBatchActor(4), logger=loggers.NoOpLogger())
    rows = []
    while len(rows) < 12:
      rows += loop.step()
    for row in rows:
      assert row['episode_length'] in lengths
      length = row['episode_length']
      assert row['episode_return'] == pytest.approx(length * (length + 1) / 2)
  finally:
    env.close()
  with pytest.raises(RuntimeError, match='closed'):
    env.reset()
  env.close()


def test_bad_arguments_fail_before_any_worker_starts():
  with pytest.raises(TypeError, match='picklable'):
    subprocess_batched.SubprocessBatchedEnvironment(lambda s: None, num_envs=2)
  with pytest.raises(ValueError, match=r'num_processes must be an integer in \[1, num_envs=2\], got 3'):
    subprocess_batched.SubprocessBatchedEnvironment(CARTPOLE, 2, num_processes=3)
  with pytest.raises(ValueError, match='num_envs must be a positive integer, got 0'):
    subprocess_batched.SubprocessBatchedEnvironment(CARTPOLE, 0)
  with pytest.raises(ValueError, match="start_method must be one of .*got 'thread'"):
    subprocess_batched.SubprocessBatchedEnvironment(CARTPOLE, 2, start_method='thread')


def test_a_copy_that_cannot_be_built_fails_the_constructor():
  with pytest.raises(ValueError, match='cannot build copy') as info:
    subprocess_batched.SubprocessBatchedEnvironment(
        failing_copy, num_envs=2, seed=0, num_processes=1)
  assert any("during 'start'" in note for note in info.value.__notes__)


def test_workers_ignore_ctrl_c_so_the_parent_can_still_checkpoint(cartpoles):
  cartpoles.reset()
  for process in cartpoles._processes:  # pylint: disable=protected-access
    os.kill(process.pid, signal.SIGINT)
  assert len(cartpoles.get_rng_state()) == 3
  assert cartpoles.step(np.zeros(3, np.int64)).observation.shape == (3, 4)


def test_a_dead_worker_is_reported_not_waited_for():
  env = subprocess_batched.SubprocessBatchedEnvironment(
      fixed_length_copy, num_envs=2, seed=0, num_processes=2, timeout_s=30)
  env.reset()
  victim = env._processes[1]  # pylint: disable=protected-access
  os.kill(victim.pid, signal.SIGKILL)
  victim.join(timeout=10)
  with pytest.raises(RuntimeError, match=r'worker 1 .* died (during|before) .step.'):
    env.step(np.zeros(2, np.int64))
  with pytest.raises(RuntimeError, match='closed'):
    env.step(np.zeros(2, np.int64))
  assert not any(p.is_alive() for p in env._processes)  # pylint: disable=protected-access


def test_environment_factory_builds_seeded_copies():
  make = factory.EnvironmentFactory('gym:CartPole-v1', max_episode_length=50)
  assert 'max_episode_length=50' in repr(make)
  a, b = make(5).reset(), make(5).reset()
  np.testing.assert_array_equal(a.observation, b.observation)
  assert a.step_type == dm_env.StepType.FIRST
  with pytest.raises(TypeError, match='name must be a non-empty string .* got 3'):
    factory.EnvironmentFactory(3)
