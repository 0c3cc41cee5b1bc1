"""Videos: decode the written mp4 and check frame count, size and content."""

import collections
import logging
import os
import warnings

import dm_env
import imageio
import numpy as np
import pytest

from rlkit import core
from rlkit import environment_loop
from rlkit import specs
from rlkit.actors import RandomActor
from rlkit.environments import factory
from rlkit.environments import gridworld
from rlkit.utils import loggers
from rlkit.utils import video


class ShortestPathActor(core.Actor):
  """Walks a shortest path to the goal of `environment` (reads its state)."""

  def __init__(self, environment):
    self._env = environment

  def select_action(self, observation):
    del observation
    layout = np.asarray(self._env.layout)
    start, goal = tuple(self._env.state), tuple(self._env.goal_state)
    previous = {goal: None}
    queue = collections.deque([goal])
    while queue:  # Breadth-first from the goal: follow decreasing distance.
      y, x = queue.popleft()
      for dy, dx in gridworld.ACTION_MOVES:
        cell = (y + dy, x + dx)
        if (0 <= cell[0] < layout.shape[0] and 0 <= cell[1] < layout.shape[1]
            and layout[cell] != gridworld.WALL and cell not in previous):
          previous[cell] = (y, x)
          queue.append(cell)
    step = previous[start]
    move = (step[0] - start[0], step[1] - start[1])
    return np.int32(gridworld.ACTION_MOVES.index(move))

  def observe_first(self, timestep):
    pass

  def observe(self, action, next_timestep):
    pass

  def update(self, wait=False):
    pass


class ListLogger(loggers.Logger):

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append(dict(data))


class TinyRenderEnvironment(dm_env.Environment):
  """Episodes of `length` steps whose frames are odd-sized and show the step index."""

  def __init__(self, length=3, height=37, width=51):
    self._length, self._shape, self._t = length, (height, width, 3), 0

  def reset(self):
    self._t = 0
    return dm_env.restart(np.zeros(1, np.float32))

  def step(self, action):
    self._t += 1
    if self._t >= self._length:
      return dm_env.termination(1.0, np.zeros(1, np.float32))
    return dm_env.transition(1.0, np.zeros(1, np.float32))

  def render(self):
    return np.full(self._shape, 40 * self._t, np.uint8)

  def observation_spec(self):
    return specs.Array((1,), np.float32)

  def action_spec(self):
    return specs.DiscreteArray(2)


def decode(path):
  with imageio.v2.get_reader(path, format='FFMPEG') as reader:
    return [np.asarray(frame) for frame in reader]


def test_pad_frame_rounds_up_to_16():
  frame = np.arange(37 * 51 * 3).reshape(37, 51, 3).astype(np.uint8)
  padded = video.pad_frame(frame)
  assert padded.shape == (48, 64, 3)
  assert np.array_equal(padded[:37, :51], frame)
  assert np.all(padded[37:, :51] == frame[-1:]) and np.all(padded[:37, 51:] == frame[:, -1:])
  assert video.pad_frame(np.zeros((32, 48, 3), np.uint8)).shape == (32, 48, 3)


def test_odd_frames_are_padded_without_warnings(tmp_path, caplog):
  path = str(tmp_path / 'odd.mp4')
  with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
    warnings.simplefilter('always')
    result = video.record_episode(TinyRenderEnvironment(length=3), lambda obs: 0, path, fps=5)
  assert [str(w.message) for w in caught] == []
  assert [r.getMessage() for r in caplog.records] == []
  assert result['frames'] == 4 and result['length'] == 3 and result['size'] == (48, 64)
  frames = decode(path)
  assert len(frames) == 4
  assert frames[0].shape == (48, 64, 3)
  # Frame t shows grey level 40 t in the 37x51 area (lossy codec: near, not equal).
  for t, frame in enumerate(frames):
    assert abs(float(frame[5:30, 5:45].mean()) - 40 * t) < 6
  with imageio.v2.get_reader(path, format='FFMPEG') as reader:
    assert reader.get_meta_data()['fps'] == 5


def test_gridworld_episode_video(tmp_path):
  environment = factory.make_environment('gridworld:simple', observation_type='GRID')
  actor = ShortestPathActor(environment)
  path = str(tmp_path / 'gridworld.mp4')
  result = video.record_episode(environment, actor, path, fps=6)
  assert result['return'] == 10.0  # Straight to the goal: no wall bumps.
  frames = decode(path)
  assert len(frames) == result['length'] + 1 == result['frames']
  environment.reset()
  first = video.render(environment)
  assert frames[0].shape == video.pad_frame(first).shape == (288, 320, 3)
  assert np.abs(frames[0].astype(int) - first.astype(int)).mean() < 4


def test_cartpole_episode_video(tmp_path):
  environment = factory.make_environment('gym:CartPole-v1', seed=0, render_mode='rgb_array')
  actor = RandomActor(environment.action_spec(), seed=0)
  path = str(tmp_path / 'cartpole.mp4')
  result = video.record_episode(environment, actor, path)
  frames = decode(path)
  assert len(frames) == result['length'] + 1
  assert 8 <= result['length'] < 500 and result['return'] == result['length']
  assert frames[0].shape == (400, 608, 3)  # 400 x 600 padded to a multiple of 16.
  last = video.render(environment)
  assert np.abs(frames[-1][:, :600].astype(int) - last.astype(int)).mean() < 4
  assert frames[-1][:, 600:].mean() > 240  # The padding repeats the (white) edge.
  environment.close()


def test_max_steps_cuts_the_episode(tmp_path):
  environment = factory.make_environment('gym:CartPole-v1', seed=1, render_mode='rgb_array')
  result = video.record_episode(environment, lambda obs: np.int32(0),
                                str(tmp_path / 'cut.mp4'), max_steps=4)
  assert result['length'] == 4 and len(decode(str(tmp_path / 'cut.mp4'))) == 5
  environment.close()


def test_video_recorder_records_every_nth_episode(tmp_path):
  environment = factory.make_environment('gridworld:obstacle', max_episode_length=12)
  recorder = video.VideoRecorder(str(tmp_path / 'videos'), record_every=2, prefix='train')
  logger = ListLogger()
  loop = environment_loop.EnvironmentLoop(
      environment, RandomActor(environment.action_spec(), seed=3), logger=logger,
      observers=[recorder])
  loop.run(num_episodes=5)
  names = sorted(os.listdir(tmp_path / 'videos'))
  assert names == ['train-0.mp4', 'train-2.mp4', 'train-4.mp4']
  assert recorder.paths == [str(tmp_path / 'videos' / n) for n in names]
  for episode in (0, 2, 4):
    frames = decode(str(tmp_path / 'videos' / f'train-{episode}.mp4'))
    assert len(frames) == logger.rows[episode]['episode_length'] + 1
    assert frames[0].shape == (288, 320, 3)
  assert 'video' not in ''.join(logger.rows[0])  # No metrics added to the rows.


def test_a_failing_episode_leaves_the_previous_video(tmp_path):
  path = str(tmp_path / 'episode.mp4')
  video.record_episode(TinyRenderEnvironment(length=2), lambda obs: 0, path)
  before = open(path, 'rb').read()

  def broken_policy(observation):
    raise RuntimeError('policy crashed')

  with pytest.raises(RuntimeError, match='policy crashed'):
    video.record_episode(TinyRenderEnvironment(length=5), broken_policy, path)
  assert open(path, 'rb').read() == before
  assert os.listdir(tmp_path) == ['episode.mp4']


def test_render_errors_are_clear(tmp_path):
  environment = factory.make_environment('gym:CartPole-v1', seed=0)  # No render_mode.
  with pytest.raises(ValueError, match="render_mode='rgb_array'"), \
      pytest.warns(UserWarning, match='render mode'):  # gymnasium's own warning.
    video.record_episode(environment, lambda obs: 0, str(tmp_path / 'x.mp4'))
  assert os.listdir(tmp_path) == []
  environment.close()
  with pytest.raises(TypeError, match='cannot render'):
    video.render(object())
  with pytest.raises(ValueError, match='fps'):
    video.VideoRecorder(str(tmp_path), fps=0)
  with pytest.raises(ValueError, match='record_every'):
    video.VideoRecorder(str(tmp_path), record_every=0)
  with pytest.raises(ValueError, match='.mp4'):
    video.VideoWriter(str(tmp_path / 'x.avi'))
