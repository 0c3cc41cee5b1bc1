"""Small fakes that isolate one unit: a fixed-length environment and a recording actor."""

from typing import List, Tuple

import dm_env
import numpy as np

from rlkit import core
from rlkit import specs


class FixedLengthEnvironment(dm_env.Environment):
  """Episodes of exactly `episode_length` steps; the reward of step t is t.

  Observations are float32 vectors filled with the step index; the last step
  terminates (discount 0) unless `truncate` is set (discount 1).
  """

  def __init__(self, episode_length: int = 3, obs_shape=(2,), num_actions: int = 2,
               truncate: bool = False):
    self._length = episode_length
    self._obs_shape = obs_shape
    self._num_actions = num_actions
    self._truncate = truncate
    self._t = 0

  def _obs(self) -> np.ndarray:
    return np.full(self._obs_shape, self._t, np.float32)

  def reset(self) -> dm_env.TimeStep:
    self._t = 0
    return dm_env.restart(self._obs())

  def step(self, action) -> dm_env.TimeStep:
    self._t += 1
    reward = np.float32(self._t)
    if self._t >= self._length:
      if self._truncate:
        return dm_env.truncation(reward, self._obs())
      return dm_env.termination(reward, self._obs())
    return dm_env.transition(reward, self._obs())

  def observation_spec(self):
    return specs.Array(self._obs_shape, np.float32, 'observation')

  def action_spec(self):
    return specs.DiscreteArray(self._num_actions, dtype=np.int32, name='action')

  def reward_spec(self):
    return specs.Array((), np.float32, 'reward')


class RecordingActor(core.Actor):
  """Returns action 0 and records the calls it receives, in order."""

  def __init__(self):
    self.calls: List[Tuple] = []

  def select_action(self, observation):
    self.calls.append(('select_action', float(observation[0])))
    return np.int32(0)

  def observe_first(self, timestep):
    self.calls.append(('observe_first', timestep.step_type))

  def observe(self, action, next_timestep):
    self.calls.append(('observe', next_timestep.step_type))

  def update(self, wait=False):
    self.calls.append(('update',))


class ZeroBatchActor(core.Actor):
  """Acts 0 in each of `n` batched copies and counts its observe() calls."""

  def __init__(self, n):
    self.n = n
    self.observed = 0

  def select_action(self, observation):
    assert observation.shape[0] == self.n
    return np.zeros(self.n, np.int32)

  def observe_first(self, timestep):
    pass

  def observe(self, action, next_timestep):
    self.observed += 1

  def update(self, wait=False):
    pass
