"""Tests of the native GridWorld environment."""

import os
import subprocess
import sys

import dm_env
import numpy as np
import pytest

from rlkit import specs
from rlkit.environments import gridworld
from rlkit.environments.gridworld import GridWorld, ObservationType

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _simple(**kwargs) -> GridWorld:
  return gridworld.build_gridworld_task('simple', **kwargs)


def _expected_obs_spec(obs_type, shape=(9, 10)):
  if obs_type is ObservationType.STATE_INDEX:
    return (), np.int32
  if obs_type is ObservationType.AGENT_ONEHOT:
    return shape, np.float32
  if obs_type is ObservationType.GRID:
    return shape + (3,), np.float32
  return (4,), np.float32


@pytest.mark.parametrize('task', gridworld.TASKS)
@pytest.mark.parametrize('obs_type', list(ObservationType))
def test_specs_and_observations_conform(task, obs_type):
  env = gridworld.build_gridworld_task(task, observation_type=obs_type, seed=0)
  obs_spec = env.observation_spec()
  shape, dtype = _expected_obs_spec(obs_type)
  assert obs_spec.shape == shape
  assert obs_spec.dtype == dtype
  if obs_type is ObservationType.STATE_INDEX:
    assert isinstance(obs_spec, specs.DiscreteArray)
    assert obs_spec.num_values == 90 == env.number_of_states
  action_spec = env.action_spec()
  assert isinstance(action_spec, specs.DiscreteArray)
  assert action_spec.num_values == 4 and action_spec.name == 'action'
  assert env.reward_spec() == specs.Array((), np.float32, 'reward')
  discount_spec = env.discount_spec()
  assert discount_spec.dtype == np.float32 and discount_spec.shape == ()
  assert discount_spec.minimum == 0 and discount_spec.maximum == 1

  timestep = env.reset()
  assert timestep.first()
  obs_spec.validate(timestep.observation)
  for action in (RIGHT, UP, UP, LEFT, DOWN, DOWN):
    timestep = env.step(np.int32(action))
    obs_spec.validate(timestep.observation)
    env.reward_spec().validate(timestep.reward)
    discount_spec.validate(timestep.discount)
    assert isinstance(timestep.reward, np.float32)
    assert isinstance(timestep.discount, np.float32)


def test_observation_contents():
  env = _simple(observation_type=ObservationType.GRID)
  env.reset()
  env.set_state(x=3, y=5)
  grid = env.get_obs()
  np.testing.assert_array_equal(grid[..., 0], env.layout == -1)
  assert grid[..., 1].sum() == 1 and grid[5, 3, 1] == 1
  assert grid[..., 2].sum() == 1 and grid[7, 2, 2] == 1

  env = _simple(observation_type=ObservationType.AGENT_ONEHOT)
  env.set_state(3, 5)
  onehot = env.get_obs()
  assert onehot.sum() == 1 and onehot[5, 3] == 1

  env = _simple(observation_type=ObservationType.AGENT_GOAL_POS)
  env.set_state(3, 5)
  np.testing.assert_array_equal(env.get_obs(), [5, 3, 7, 2])

  env = _simple(observation_type=ObservationType.STATE_INDEX)
  env.set_state(3, 5)
  assert env.get_obs() == 5 * 10 + 3


@pytest.mark.parametrize(
    'name', ['grid', 'GRID', 'Grid', 'ObservationType.GRID'])
def test_observation_type_by_name(name):
  env = _simple(observation_type=name)
  assert env.observation_type is ObservationType.GRID


@pytest.mark.parametrize('bad', ['pixels', 0, 7, 2.0, None, True])
def test_unknown_observation_type(bad):
  with pytest.raises(ValueError, match='observation_type') as info:
    _simple(observation_type=bad)
  assert 'STATE_INDEX' in str(info.value) and 'GRID' in str(info.value)


@pytest.mark.parametrize('action,expected', [
    (UP, (4, 6)), (RIGHT, (5, 7)), (DOWN, (6, 6)), (LEFT, (5, 5))])
def test_each_action_moves_one_cell(action, expected):
  env = _simple(observation_type=ObservationType.AGENT_GOAL_POS)
  env.reset()
  env.set_state(x=6, y=5)
  timestep = env.step(action)
  assert env.state == expected
  assert timestep.mid()
  assert timestep.reward == 0.0
  assert timestep.discount == np.float32(0.9)
  np.testing.assert_array_equal(timestep.observation[:2], expected)


@pytest.mark.parametrize('position,action', [
    ((1, 1), UP), ((1, 1), LEFT), ((7, 8), DOWN), ((7, 8), RIGHT),
    ((3, 3), RIGHT), ((5, 4), UP)])
def test_wall_bump_penalizes_and_stays(position, action):
  env = _simple(penalty_for_walls=-3)
  env.reset()
  env.set_state(x=position[1], y=position[0])
  timestep = env.step(action)
  assert env.state == position
  assert timestep.reward == np.float32(-3.0)
  assert timestep.discount == np.float32(0.9)
  assert timestep.mid()


def test_moving_off_an_open_layout_is_a_wall_bump():
  env = GridWorld(np.zeros((2, 3)), start_state=(0, 0), goal_state=(1, 2))
  env.reset()
  timestep = env.step(UP)
  assert env.state == (0, 0) and timestep.reward == -5


def test_optimal_path_on_simple_reaches_goal():
  env = _simple()
  timestep = env.reset()
  assert env.state == (2, 2)
  rewards = []
  for step in range(5):
    timestep = env.step(DOWN)
    rewards.append(float(timestep.reward))
    if step < 4:
      assert timestep.mid() and env.state == (3 + step, 2)
  assert rewards == [0, 0, 0, 0, 10]
  assert timestep.last()
  assert timestep.discount == 0.0
  assert env.state == env.start_state == (2, 2)
  assert timestep.observation == 2 * 10 + 2


def test_custom_reward_goal_and_discount():
  env = GridWorld(np.zeros((3, 3)), start_state=(0, 0), goal_state=(0, 1),
                  reward_goal=2.5, discount=0.5)
  env.reset()
  timestep = env.step(DOWN)
  assert timestep.discount == np.float32(0.5)
  env.set_state(x=0, y=0)
  timestep = env.step(RIGHT)
  assert timestep.reward == np.float32(2.5) and timestep.last()


def test_step_after_last_starts_a_new_episode():
  env = _simple()
  env.reset()
  for _ in range(5):
    timestep = env.step(DOWN)
  assert timestep.last()
  timestep = env.step(RIGHT)
  assert timestep.first()
  assert timestep.reward is None and timestep.discount is None
  assert env.state == (2, 2) and env.num_episode_steps == 0
  assert env.step(RIGHT).mid()
  assert env.state == (2, 3)


def test_truncation_keeps_discount():
  env = _simple(max_episode_length=3)
  env.reset()
  step_types = [env.step(RIGHT) for _ in range(3)]
  assert [t.step_type for t in step_types] == [
      dm_env.StepType.MID, dm_env.StepType.MID, dm_env.StepType.LAST]
  assert step_types[-1].discount == np.float32(0.9)
  assert env.step(RIGHT).first()


def test_default_task_truncates_at_200_steps():
  env = _simple()
  env.reset()
  count = 0
  timestep = None
  while timestep is None or not timestep.last():
    timestep = env.step(UP)
    count += 1
  assert count == 200
  assert timestep.discount == np.float32(0.9)
  assert timestep.reward == -5


def test_no_truncation_when_max_episode_length_is_none():
  env = _simple(max_episode_length=None)
  env.reset()
  assert not any(env.step(UP).last() for _ in range(500))


def test_task_layouts():
  simple = gridworld.build_gridworld_task('simple')
  obstacle = gridworld.build_gridworld_task('obstacle')
  assert simple.layout.shape == obstacle.layout.shape == (9, 10)
  assert simple.start_state == obstacle.start_state == (2, 2)
  assert simple.goal_state == (7, 2) and obstacle.goal_state == (2, 8)
  assert simple.layout[7, 2] == 10 and obstacle.layout[2, 8] == 10
  assert (simple.layout > 0).sum() == 1
  # The border is walls; the obstacle moves the wall at (2, 5) to (1, 6).
  for layout in (simple.layout, obstacle.layout):
    assert (layout[0] == -1).all() and (layout[-1] == -1).all()
    assert (layout[:, 0] == -1).all() and (layout[:, -1] == -1).all()
  assert obstacle.layout[1, 6] == -1 and obstacle.layout[2, 4] == -1
  assert obstacle.layout[2, 5] == 0
  assert simple.layout[1, 6] == 0 and simple.layout[2, 5] == -1
  assert (simple.layout == -1).sum() == (obstacle.layout == -1).sum() == 40


def test_layout_is_read_only():
  env = _simple()
  with pytest.raises(ValueError):
    env.layout[1, 1] = -1
  assert env.layout[1, 1] == 0


def test_unknown_task():
  with pytest.raises(ValueError, match='maze') as info:
    gridworld.build_gridworld_task('maze')
  for task in gridworld.TASKS:
    assert task in str(info.value)
  assert gridworld.TASKS == ('simple', 'obstacle', 'random_goal')


def test_random_goal_is_reproducible_and_valid():
  goals = {gridworld.build_gridworld_task('random_goal', seed=s).goal_state
           for s in range(20)}
  assert len(goals) > 5
  for seed in (0, 1, 2):
    first = gridworld.build_gridworld_task('random_goal', seed=seed)
    second = gridworld.build_gridworld_task('random_goal', seed=seed)
    assert first.goal_state == second.goal_state
    assert first.layout[first.goal_state] == 10
    assert first.goal_state != first.start_state


def test_randomize_goals_resamples_each_reset_reproducibly():
  def goal_sequence(seed):
    env = gridworld.build_gridworld_task(
        'random_goal', randomize_goals=True, seed=seed,
        observation_type=ObservationType.AGENT_GOAL_POS)
    goals = []
    for _ in range(10):
      timestep = env.reset()
      goals.append(env.goal_state)
      np.testing.assert_array_equal(timestep.observation[2:], env.goal_state)
      assert (env.layout > 0).sum() == 1
      assert env.layout[env.goal_state] == 10
      assert env.goal_state != env.start_state
    return goals

  goals = goal_sequence(3)
  assert goals == goal_sequence(3)
  assert goals != goal_sequence(4)
  assert all(a != b for a, b in zip(goals, goals[1:]))


def test_fixed_goal_without_randomize_stays():
  env = gridworld.build_gridworld_task('random_goal', seed=0)
  goal = env.goal_state
  for _ in range(5):
    env.reset()
    assert env.goal_state == goal


def test_goal_sampling_does_not_use_global_numpy_rng():
  np.random.seed(0)
  a = gridworld.build_gridworld_task('random_goal', seed=11).goal_state
  np.random.seed(1)
  b = gridworld.build_gridworld_task('random_goal', seed=11).goal_state
  assert a == b


def test_set_state_accepts_a_wall_cell():
  env = _simple()
  env.set_state(0, 0)  # A wall cell, as the Acme tutorial's Q-value plots probe.
  assert env.state == (0, 0)
  assert env.get_obs().shape == env.observation_spec().shape


def test_set_state_uses_x_y_order_and_validates():
  env = _simple()
  env.set_state(4, 1)
  assert env.state == (1, 4)
  with pytest.raises(ValueError, match='outside'):
    env.set_state(10, 1)
  with pytest.raises(ValueError, match='outside'):
    env.set_state(1, -1)
  with pytest.raises(ValueError, match='integer'):
    env.set_state(1.5, 1)
  assert env.state == (1, 4)


def test_goal_setter():
  env = _simple()
  env.goal_state = (5, 8)
  assert env.goal_state == (5, 8)
  assert env.layout[5, 8] == 10 and env.layout[7, 2] == 0
  assert (env.layout > 0).sum() == 1


@pytest.mark.parametrize('goal,match', [
    ((2, 2), 'start state'), ((0, 0), 'wall'), ((2, 4), 'wall'),
    ((9, 1), 'outside'), ((1, -1), 'outside'), ((1,), 'pair'),
    ((1.0, 2), 'integer')])
def test_goal_setter_rejects_invalid_goals(goal, match):
  env = _simple()
  with pytest.raises(ValueError, match=match):
    env.goal_state = goal
  assert env.goal_state == (7, 2)


def test_goal_cannot_be_the_agents_cell():
  env = _simple()
  env.set_state(x=6, y=6)
  with pytest.raises(ValueError, match='current state'):
    env.goal_state = (6, 6)


@pytest.mark.parametrize('kwargs,match', [
    (dict(start_state=(2, 2)), 'wall'),
    (dict(start_state=(3, 0)), 'outside'),
    (dict(start_state=(5, 5, 5)), 'pair'),
    (dict(goal_state=(1, 1)), 'start state'),
    (dict(layout=np.zeros(4)), '2-D'),
    (dict(layout=[[0, -2], [0, 0]]), r'\(0, 1\)'),
    (dict(discount=1.5), 'discount'),
    (dict(reward_goal=0), 'reward_goal'),
    (dict(max_episode_length=0), 'max_episode_length'),
    (dict(max_episode_length=2.5), 'max_episode_length'),
    (dict(seed=-1), 'seed'),
])
def test_constructor_validation(kwargs, match):
  arguments = dict(layout=[[0, 0, 0], [0, 0, 0], [0, 0, -1]],
                   start_state=(1, 1), goal_state=(0, 0))
  arguments.update(kwargs)
  with pytest.raises(ValueError, match=match):
    GridWorld(**arguments)


def test_step_on_a_fresh_environment_starts_an_episode():
  env = _simple()
  timestep = env.step(DOWN)
  assert timestep.first() and timestep.reward is None
  assert env.state == env.start_state


@pytest.mark.parametrize('action', [
    -1, 4, 1.5, 1.0, np.float32(2), True, np.bool_(False), 'up', None,
    np.array([1]), np.array([[0]]), np.array(1.0), [1]])
def test_bad_actions_raise(action):
  env = _simple()
  env.reset()
  with pytest.raises(ValueError, match=r'\[0, 3\]'):
    env.step(action)
  assert env.state == (2, 2)


@pytest.mark.parametrize('action', [
    2, np.int64(2), np.int32(2), np.uint8(2), np.array(2),
    np.array(2, np.int32)])
def test_integer_like_actions_accepted(action):
  env = _simple()
  env.reset()
  env.step(action)
  assert env.state == (3, 2)


def test_render_shape_and_agent_moves():
  env = _simple()
  env.reset()
  frame = env.render()
  assert frame.shape == (288, 320, 3) and frame.dtype == np.uint8
  assert frame.shape[0] % 16 == 0 and frame.shape[1] % 16 == 0
  agent_color = frame[2 * 32 + 16, 2 * 32 + 16].copy()
  floor_color = frame[3 * 32 + 16, 2 * 32 + 16].copy()
  wall_color = frame[16, 16]
  goal_color = frame[7 * 32 + 16, 2 * 32 + 16]
  assert len({tuple(agent_color), tuple(floor_color), tuple(wall_color),
              tuple(goal_color)}) == 4
  assert goal_color[1] > goal_color[0] and goal_color[1] > goal_color[2]
  env.step(DOWN)
  moved = env.render()
  np.testing.assert_array_equal(moved[2 * 32 + 16, 2 * 32 + 16], floor_color)
  np.testing.assert_array_equal(moved[3 * 32 + 16, 2 * 32 + 16], agent_color)
  changed = np.argwhere((moved != frame).any(axis=-1))
  assert changed[:, 0].min() >= 2 * 32 and changed[:, 0].max() < 4 * 32
  assert changed[:, 1].min() >= 2 * 32 and changed[:, 1].max() < 3 * 32
  # Frames are independent copies.
  moved[:] = 0
  assert env.render().any()


def test_render_scale_and_goal_change():
  env = _simple()
  env.reset()
  small = env.render(scale=4)
  assert small.shape == (36, 40, 3)
  before = env.render(scale=8)
  env.goal_state = (1, 8)
  after = env.render(scale=8)
  assert not np.array_equal(before, after)
  np.testing.assert_array_equal(after[1 * 8 + 4, 8 * 8 + 4],
                                before[7 * 8 + 4, 2 * 8 + 4])
  for bad in (0, -2, 2.5):
    with pytest.raises(ValueError, match='scale'):
      env.render(scale=bad)


def test_plot_state_return_rgb_is_render():
  env = _simple()
  env.reset()
  np.testing.assert_array_equal(env.plot_state(return_rgb=True), env.render())


def test_runs_with_a_random_policy():
  env = gridworld.build_gridworld_task(
      'obstacle', observation_type='grid', max_episode_length=50, seed=0)
  rng = np.random.default_rng(0)
  timestep = env.reset()
  episodes = 0
  for _ in range(600):
    timestep = env.step(rng.integers(4))
    assert env.layout[env.state] != -1
    assert env.num_episode_steps <= 50
    episodes += timestep.last()
  # Each episode takes at most 50 steps plus the step that restarts it.
  assert episodes >= 11


def test_import_does_not_pull_matplotlib():
  code = ('import sys, rlkit.environments.gridworld; '
          "assert 'matplotlib' not in sys.modules, 'matplotlib imported'; "
          "assert 'torch' not in sys.modules, 'torch imported'")
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  result = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
  assert result.returncode == 0, result.stderr
