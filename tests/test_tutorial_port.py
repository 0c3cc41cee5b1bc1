"""The seed-001 (Acme tutorial) code, ported by changing its imports to rlkit.

The actor, replay buffer, run loop, evaluation loop and Q-value plots below
follow the tutorial's code paths (written here, not copied): an epsilon-greedy
torch Q-network actor subclassing `acme.Actor` that returns torch actions, a
list replay buffer stacked with `tree_utils.stack_sequence_fields`, a run loop
logging with `loggers.TerminalLogger(label=..., time_delta=...)`, an evaluation
loop collecting `plot_state(return_rgb=True)` frames, and a Q-value sweep that
calls `set_state(x, y)` on every cell (walls included) of the wrapped grid.
"""

import collections
import itertools
import random

import dm_env
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import pytest
import torch
from torch import nn

# The tutorial's imports, with `acme` replaced by `rlkit`.
import rlkit as acme
from rlkit import specs
from rlkit import wrappers
from rlkit.environments.gridworld import build_gridworld_task
from rlkit.utils import loggers
from rlkit.utils import tree_utils

Transitions = collections.namedtuple(
    'Transitions', ['state', 'action', 'reward', 'discount', 'next_state'])


class ReplayBuffer:

  def __init__(self, capacity=None):
    self.buffer = collections.deque(maxlen=capacity)
    self._prev_state = None

  def add_first(self, initial_timestep):
    self._prev_state = initial_timestep.observation

  def add(self, action, timestep):
    self.buffer.append(Transitions(self._prev_state, action, timestep.reward,
                                   timestep.discount, timestep.observation))
    self._prev_state = timestep.observation

  def sample(self, batch_size):
    return tree_utils.stack_sequence_fields(random.sample(self.buffer, batch_size))

  def is_ready(self, batch_size):
    return batch_size <= len(self.buffer)


class QAgent(acme.Actor):
  """A small NFQ-style agent: epsilon-greedy torch Q-network, list replay."""

  def __init__(self, environment_spec, epsilon=0.3, batch_size=8):
    self._num_actions = environment_spec.actions.num_values
    num_inputs = int(np.prod(environment_spec.observations.shape))
    self._q_network = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, 16), nn.ReLU(),
                                    nn.Linear(16, self._num_actions))
    self._optimizer = torch.optim.Adam(self._q_network.parameters(), lr=1e-3)
    self._epsilon = epsilon
    self._batch_size = batch_size
    self._replay_buffer = ReplayBuffer(100)
    self.last_loss = 0.0

  def select_action(self, observation):
    q_values = self._q_network(torch.tensor(observation).unsqueeze(0)).squeeze(0)
    if self._epsilon < torch.rand(1):
      return q_values.argmax(axis=-1)
    return torch.randint(low=0, high=self._num_actions, size=(1,)).squeeze()

  def q_values(self, observation):
    return self._q_network(torch.tensor(observation).unsqueeze(0)).squeeze(0).detach()

  def update(self):
    if not self._replay_buffer.is_ready(self._batch_size):
      return
    batch = self._replay_buffer.sample(self._batch_size)
    q = self._q_network(torch.tensor(batch.state))
    action = torch.tensor(np.asarray([int(a) for a in batch.action]))
    target = torch.tensor(batch.reward) + torch.tensor(batch.discount) * (
        self._q_network(torch.tensor(batch.next_state)).max(-1).values.detach())
    loss = ((q.gather(1, action[:, None]).squeeze(1) - target) ** 2).mean()
    self._optimizer.zero_grad()
    loss.backward()
    self._optimizer.step()
    self.last_loss = float(loss.detach())

  def observe_first(self, timestep):
    self._replay_buffer.add_first(timestep)

  def observe(self, action, next_timestep):
    self._replay_buffer.add(action, next_timestep)


def run_loop(environment, agent, num_episodes=None, num_steps=None,
             logger_time_delta=1., label='training_loop', log_loss=False):
  logger = loggers.TerminalLogger(label=label, time_delta=logger_time_delta)
  iterator = range(num_episodes) if num_episodes else itertools.count()
  all_returns = []
  num_total_steps = 0
  for episode in iterator:
    episode_steps, episode_return, episode_loss = 0, 0, 0
    timestep = environment.reset()
    agent.observe_first(timestep)
    while not timestep.last():
      action = agent.select_action(timestep.observation)
      timestep = environment.step(action)
      agent.observe(action, next_timestep=timestep)
      agent.update()
      episode_steps += 1
      num_total_steps += 1
      episode_return += timestep.reward
      if log_loss:
        episode_loss += agent.last_loss
      if num_steps is not None and num_total_steps >= num_steps:
        break
    result = {'episode': episode, 'episode_length': episode_steps,
              'episode_return': episode_return}
    if log_loss:
      result['loss_avg'] = episode_loss / episode_steps
    all_returns.append(episode_return)
    logger.write(result)
    if num_steps is not None and num_total_steps >= num_steps:
      break
  return all_returns


def evaluate(environment, agent, evaluation_episodes):
  frames = []
  for episode in range(evaluation_episodes):
    timestep = environment.reset()
    episode_return, steps = 0, 0
    while not timestep.last():
      frames.append(environment.plot_state(return_rgb=True))
      timestep = environment.step(agent.select_action(timestep.observation))
      steps += 1
      episode_return += timestep.reward
    print(f'Episode {episode} ended with reward {episode_return} in {steps} steps')
  return frames


def plot_action_values(action_values, epsilon=0.1):
  q = action_values
  fig = plt.figure(figsize=(8, 8))
  vmin, vmax = np.min(q), np.max(q)
  for a in range(4):
    plt.subplot(3, 3, (2, 6, 8, 4)[a])
    plt.imshow(q[..., a], interpolation='nearest', cmap='pink', vmin=vmin, vmax=vmax)
  plt.subplot(3, 3, 5)
  plt.imshow((1 - epsilon) * np.max(q, axis=-1) + epsilon * np.mean(q, axis=-1),
             cmap='summer', vmin=vmin, vmax=vmax)
  return fig


@pytest.fixture(name='tutorial')
def _tutorial():
  torch.manual_seed(0)
  random.seed(0)
  grid = build_gridworld_task(task='simple', observation_type='AGENT_GOAL_POS',
                              max_episode_length=12)
  environment = wrappers.SinglePrecisionWrapper(grid)
  environment_spec = specs.make_environment_spec(environment)
  return grid, environment, QAgent(environment_spec)


def test_run_loop_and_evaluation(tutorial, capsys):
  _, environment, agent = tutorial
  returns = run_loop(environment, agent, num_episodes=3, logger_time_delta=0.,
                     log_loss=True)
  assert len(returns) == 3
  assert all(np.isfinite(r) for r in returns)
  printed = capsys.readouterr().out
  assert printed.count('[Training Loop]') == 3 and 'Loss Avg' in printed
  frames = evaluate(environment, agent, evaluation_episodes=1)
  assert 1 <= len(frames) <= 12 and frames[0].ndim == 3 and frames[0].shape[-1] == 3
  assert 'Episode 0 ended with reward' in capsys.readouterr().out


def test_time_delta_drops_rows_written_sooner(tutorial, capsys):
  _, environment, agent = tutorial
  run_loop(environment, agent, num_episodes=3, logger_time_delta=3600.)
  assert capsys.readouterr().out.count('[Training Loop]') == 1


def test_num_steps_budget(tutorial):
  _, environment, agent = tutorial
  returns = run_loop(environment, agent, num_steps=5)
  assert len(returns) == 1


def test_q_value_sweep_over_every_cell_and_plots(tutorial):
  grid, environment, agent = tutorial
  environment.reset()
  pi = np.zeros(grid._layout_dims, dtype=np.int32)  # pylint: disable=protected-access
  q = np.zeros(grid._layout_dims + (4,))  # pylint: disable=protected-access
  for y in range(grid._layout_dims[0]):  # pylint: disable=protected-access
    for x in range(grid._layout_dims[1]):  # pylint: disable=protected-access
      environment.set_state(x, y)
      obs = environment.get_obs()
      np.testing.assert_array_equal(obs[:2], [y, x])
      q[y, x] = np.asarray(agent.q_values(obs))
      pi[y, x] = np.asarray(agent.select_action(obs))
  assert np.isfinite(q).all() and ((0 <= pi) & (pi < 4)).all()
  fig = plot_action_values(q)
  assert len(fig.axes) == 5
  plt.close(fig)
  environment.plot_greedy_policy(q)
  plt.close('all')
  with pytest.raises(ValueError, match='outside'):
    environment.set_state(grid._layout_dims[1], 0)  # pylint: disable=protected-access


def test_stack_sequence_fields_stacks_each_field():
  stacked = tree_utils.stack_sequence_fields(
      [Transitions(np.zeros(2), 1, 0.5, 1.0, np.ones(2)),
       Transitions(np.ones(2), 2, 1.5, 0.0, np.zeros(2))])
  np.testing.assert_array_equal(stacked.state, [[0, 0], [1, 1]])
  np.testing.assert_array_equal(stacked.action, [1, 2])
  assert stacked.reward.shape == (2,)
  assert tree_utils.unstack_sequence_fields(stacked, 2)[1].action == 2
  with pytest.raises(ValueError, match='structure'):
    tree_utils.stack_sequence_fields([(1, 2), (1,)])
  with pytest.raises(ValueError, match='at least one'):
    tree_utils.stack_sequence_fields([])


def test_broadcast_structures():
  a, b, c = tree_utils.broadcast_structures({'x': 1, 'y': 2}, 0.5, np.ones(2))
  assert a == {'x': 1, 'y': 2} and b == {'x': 0.5, 'y': 0.5}
  np.testing.assert_array_equal(c['y'], np.ones(2))
  with pytest.raises(ValueError, match='broadcast'):
    tree_utils.broadcast_structures({'x': 1}, (1, 2))


def test_terminal_logger_rejects_a_negative_time_delta():
  with pytest.raises(ValueError, match='time_delta'):
    loggers.TerminalLogger(time_delta=-1)


def test_first_timestep_of_the_port_has_no_reward(tutorial):
  _, environment, _ = tutorial
  timestep = environment.reset()
  assert timestep.step_type is dm_env.StepType.FIRST and timestep.reward is None
