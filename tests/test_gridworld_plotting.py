"""Tests of the GridWorld matplotlib helpers (Agg backend)."""

import matplotlib

matplotlib.use('Agg')

import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import pytest

from rlkit.environments import gridworld
from rlkit.environments import gridworld_plotting as plotting
from rlkit.environments.gridworld import ObservationType


@pytest.fixture(autouse=True)
def _close_figures():
  yield
  plt.close('all')


@pytest.fixture
def env():
  environment = gridworld.build_gridworld_task(
      'obstacle', observation_type=ObservationType.AGENT_GOAL_POS)
  environment.reset()
  return environment


def _q(seed=0):
  return np.random.default_rng(seed).normal(size=(9, 10, 4))


def _texts(fig):
  return [text.get_text() for ax in fig.axes for text in ax.texts]


def test_plot_grid(env):
  fig = plotting.plot_grid(env)
  assert isinstance(fig, matplotlib.figure.Figure)
  assert len(fig.axes) == 1
  assert sorted(_texts(fig)) == [r'$\mathbf{G}$', r'$\mathbf{S}$']
  fig = plotting.plot_grid(env, add_start=False)
  assert _texts(fig) == [r'$\mathbf{G}$']
  fig.canvas.draw()


def test_plot_state_marks_the_agent(env):
  env.set_state(x=6, y=5)
  fig = plotting.plot_state(env)
  assert len(fig.axes) == 1
  agent = [t for ax in fig.axes for t in ax.texts
           if t.get_text() == r'$\mathbf{A}$']
  assert len(agent) == 1 and agent[0].get_position() == (6, 5)


def test_plot_policy_draws_an_arrow_per_free_cell(env):
  policy = np.full((9, 10), 1, dtype=np.int32)
  fig = plotting.plot_policy(env, policy)
  assert len(fig.axes) == 1
  arrows = [t for t in _texts(fig) if 'arrow' in t]
  free_cells = int((env.layout != -1).sum())
  assert len(arrows) == free_cells - 1
  assert set(arrows) == {r'$\rightarrow$'}


def test_plot_greedy_policy_uses_argmax(env):
  q = np.zeros((9, 10, 4))
  q[..., 2] = 1.0
  fig = plotting.plot_greedy_policy(env, q)
  assert set(t for t in _texts(fig) if 'arrow' in t) == {r'$\downarrow$'}


@pytest.mark.parametrize('policy,match', [
    (np.zeros((9, 9), dtype=int), 'shape'),
    (np.full((9, 10), 4), r'\[0, 3\]'),
    (np.zeros((9, 10)), 'integer')])
def test_plot_policy_validates(env, policy, match):
  with pytest.raises(ValueError, match=match):
    plotting.plot_policy(env, policy)


def test_plot_values_with_axes():
  fig, ax = plt.subplots()
  returned = plotting.plot_values(np.arange(90).reshape(9, 10), ax=ax)
  assert returned is fig
  assert len(fig.axes) == 2
  with pytest.raises(ValueError, match='2-D'):
    plotting.plot_values(np.zeros(3))


def test_plot_state_value():
  fig = plotting.plot_state_value(_q(), epsilon=0.1)
  assert len(fig.axes) == 2
  assert fig.axes[0].get_title() == '$v(s)$'
  with pytest.raises(ValueError, match='epsilon'):
    plotting.plot_state_value(_q(), epsilon=1.5)


def test_plot_action_values_layout():
  fig = plotting.plot_action_values(_q())
  # Five images (four actions and v(s)), each with its colorbar.
  assert len(fig.axes) == 10
  centres = {}
  for ax in fig.axes:
    if ax.get_title():
      box = ax.get_position()
      centres[ax.get_title()] = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
  v_x, v_y = centres.pop('$v(s)$')
  up, right, down, left = (centres.pop(r'$q(s, \mathrm{%s})$' % name)
                           for name in ('up', 'right', 'down', 'left'))
  assert not centres
  assert up[1] > v_y > down[1] and abs(up[0] - v_x) < 0.05
  assert left[0] < v_x < right[0] and abs(left[1] - v_y) < 0.05
  fig.canvas.draw()
  with pytest.raises(ValueError, match='4 actions'):
    plotting.plot_action_values(np.zeros((9, 10, 3)))
  plotting.plot_action_values(np.zeros((9, 10, 4)))


def test_epsilon_greedy_values():
  q = np.array([[[1.0, 2.0, 3.0, 6.0]]])
  np.testing.assert_allclose(plotting.epsilon_greedy_values(q, 0.2),
                             [[0.8 * 6.0 + 0.2 * 3.0]])


def test_q_values_grid_probes_every_free_cell_and_restores_state(env):
  env.set_state(x=3, y=6)
  seen = []

  def q_fn(observation):
    seen.append(tuple(observation[:2]))
    agent_y, agent_x = observation[:2]
    return np.array([[agent_y, agent_x, 0.0, 1.0]])

  q = plotting.q_values_grid(env, q_fn)
  assert q.shape == (9, 10, 4)
  free = env.layout != -1
  assert len(seen) == free.sum()
  ys, xs = np.nonzero(free)
  np.testing.assert_array_equal(q[ys, xs, 0], ys)
  np.testing.assert_array_equal(q[ys, xs, 1], xs)
  assert (q[~free] == 0).all()
  assert env.state == (6, 3)
  fig = plotting.plot_action_values(q)
  assert len(fig.axes) == 10


def test_q_values_grid_restores_state_on_error(env):
  env.set_state(x=3, y=6)

  def failing(observation):
    raise KeyError('boom')

  with pytest.raises(KeyError):
    plotting.q_values_grid(env, failing)
  assert env.state == (6, 3)
  with pytest.raises(TypeError, match='callable'):
    plotting.q_values_grid(env, 3)


def test_gridworld_methods_delegate(env):
  assert len(env.plot_grid().axes) == 1
  assert len(env.plot_state().axes) == 1
  assert len(env.plot_policy(np.zeros((9, 10), dtype=int)).axes) == 1
  fig = env.plot_greedy_policy(_q())
  assert isinstance(fig, matplotlib.figure.Figure)
  fig, ax = plt.subplots()
  assert env.plot_grid(ax=ax) is fig


def test_figures_can_be_saved(env, tmp_path):
  path = tmp_path / 'grid.png'
  plotting.plot_state(env).savefig(path)
  assert path.stat().st_size > 1000
