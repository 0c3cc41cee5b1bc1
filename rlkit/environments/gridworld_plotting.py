"""Matplotlib views of a GridWorld, its policies and its value functions.

matplotlib is imported inside the functions, so importing this module (or
`gridworld`) stays cheap. Every plotting function returns its Figure so
callers can `savefig` it; close it with `matplotlib.pyplot.close(fig)`.
"""

from typing import Any, Callable, Optional

import numpy as np

from rlkit.environments import gridworld

# 3x3-grid subplot index of each action's q-values: up, right, down, left.
ACTION_SUBPLOTS = (2, 6, 8, 4)
_ARROWS = (r'$\uparrow$', r'$\rightarrow$', r'$\downarrow$', r'$\leftarrow$')


def _pyplot():
  import matplotlib.pyplot as plt
  return plt


def _layout(env: Any) -> np.ndarray:
  layout = getattr(env, 'layout', None)
  if layout is None:
    raise TypeError(
        f'Expected a GridWorld (an object with a `layout`), got '
        f'{type(env).__name__}.')
  layout = np.asarray(layout)
  if layout.ndim != 2:
    raise ValueError(
        f'env.layout must be 2-D, got shape {layout.shape}.')
  return layout


def _axes(ax: Any, figsize=(4, 4)) -> Any:
  if ax is None:
    ax = _pyplot().figure(figsize=figsize).add_subplot(1, 1, 1)
  return ax


def _check_q(q: Any, name: str = 'q') -> np.ndarray:
  q = np.asarray(q)
  if q.ndim != 3 or q.shape[-1] < 1 or not np.issubdtype(q.dtype, np.number):
    raise ValueError(
        f'{name} must be a numeric (H, W, num_actions) array, got shape '
        f'{q.shape} and dtype {q.dtype}.')
  return q


def _check_epsilon(epsilon: float) -> float:
  if not isinstance(epsilon, (int, float, np.number)) or not (
      0.0 <= epsilon <= 1.0):
    raise ValueError(f'epsilon must be in [0, 1], got {epsilon!r}.')
  return float(epsilon)


def epsilon_greedy_values(q: np.ndarray, epsilon: float = 0.1) -> np.ndarray:
  """v(s) of the epsilon-greedy policy: (1 - eps) max_a q + eps mean_a q."""
  q = _check_q(q)
  epsilon = _check_epsilon(epsilon)
  return (1 - epsilon) * np.max(q, axis=-1) + epsilon * np.mean(q, axis=-1)


def plot_values(values: Any,
                colormap: str = 'pink',
                vmin: float = -1,
                vmax: float = 10,
                ax: Any = None) -> Any:
  """Draws a 2-D array of values as an image with a colorbar.

  Args:
    values: (H, W) array.
    colormap: matplotlib colormap name.
    vmin: value mapped to the bottom of the colormap.
    vmax: value mapped to the top of the colormap.
    ax: axes to draw on; a new (4, 4) figure when None.

  Returns:
    The matplotlib Figure.
  """
  values = np.asarray(values)
  if values.ndim != 2:
    raise ValueError(f'values must be a 2-D array, got shape {values.shape}.')
  if not vmin <= vmax:
    raise ValueError(f'vmin must be <= vmax, got vmin={vmin}, vmax={vmax}.')
  if vmin == vmax:
    vmin, vmax = vmin - 0.5, vmax + 0.5
  ax = _axes(ax)
  image = ax.imshow(values, interpolation='nearest', cmap=colormap, vmin=vmin,
                    vmax=vmax)
  ax.set_xticks([])
  ax.set_yticks([])
  ax.figure.colorbar(image, ax=ax, ticks=[vmin, vmax])
  return ax.figure


def plot_state_value(q: Any, epsilon: float = 0.1) -> Any:
  """Plots v(s) of the epsilon-greedy policy for an (H, W, A) q array."""
  q = _check_q(q)
  values = epsilon_greedy_values(q, epsilon)
  ax = _axes(None)
  plot_values(values, colormap='summer', vmin=float(np.min(q)),
              vmax=float(np.max(q)), ax=ax)
  ax.set_title('$v(s)$')
  return ax.figure


def plot_action_values(q: Any, epsilon: float = 0.1) -> Any:
  """Plots q(s, a) per action around v(s), in a 3x3 grid of subplots.

  Up, right, down and left sit at subplots 2, 6, 8 and 4; v(s) of the
  epsilon-greedy policy is in the middle (subplot 5).

  Args:
    q: (H, W, 4) array of action values.
    epsilon: exploration rate used for v(s).

  Returns:
    The matplotlib Figure.
  """
  q = _check_q(q)
  if q.shape[-1] != gridworld.NUM_ACTIONS:
    raise ValueError(
        f'q must have {gridworld.NUM_ACTIONS} actions on its last axis, got '
        f'shape {q.shape}.')
  values = epsilon_greedy_values(q, epsilon)
  fig = _pyplot().figure(figsize=(8, 8))
  fig.subplots_adjust(wspace=0.3, hspace=0.3)
  vmin, vmax = float(np.min(q)), float(np.max(q))
  margin = 0.05 * (vmax - vmin)
  for action, name in enumerate(gridworld.ACTION_NAMES):
    ax = fig.add_subplot(3, 3, ACTION_SUBPLOTS[action])
    plot_values(q[..., action], vmin=vmin - margin, vmax=vmax + margin, ax=ax)
    ax.set_title(r'$q(s, \mathrm{' + name + r'})$')
  ax = fig.add_subplot(3, 3, 5)
  plot_values(values, colormap='summer', vmin=vmin, vmax=vmax, ax=ax)
  ax.set_title('$v(s)$')
  return fig


def plot_grid(env: Any, add_start: bool = True, ax: Any = None) -> Any:
  """Draws the walls, the goal (G) and, if `add_start`, the start (S).

  Args:
    env: a GridWorld (anything with `layout`, `start_state`, `goal_state`).
    add_start: whether to mark the start state.
    ax: axes to draw on; a new (4, 4) figure when None.

  Returns:
    The matplotlib Figure.
  """
  layout = _layout(env)
  ax = _axes(ax)
  ax.imshow(layout <= gridworld.WALL, interpolation='nearest', cmap='Blues',
            vmin=0, vmax=1)
  ax.grid(False)
  ax.set_xticks([])
  ax.set_yticks([])
  if add_start:
    start_y, start_x = env.start_state
    ax.text(start_x, start_y, r'$\mathbf{S}$', fontsize=16, ha='center',
            va='center')
  goal_y, goal_x = env.goal_state
  ax.text(goal_x, goal_y, r'$\mathbf{G}$', fontsize=16, ha='center',
          va='center')
  height, width = layout.shape
  for y in range(height - 1):
    ax.plot([-0.5, width - 0.5], [y + 0.5, y + 0.5], '-w', lw=2)
  for x in range(width - 1):
    ax.plot([x + 0.5, x + 0.5], [-0.5, height - 0.5], '-w', lw=2)
  return ax.figure


def plot_state(env: Any, ax: Any = None) -> Any:
  """Draws the grid (without the start marker) and the agent (A)."""
  fig = plot_grid(env, add_start=False, ax=ax)
  ax = fig.axes[0] if ax is None else ax
  y, x = env.state
  ax.text(x, y, r'$\mathbf{A}$', fontsize=18, ha='center', va='center')
  return fig


def plot_policy(env: Any, policy: Any, ax: Any = None) -> Any:
  """Draws an arrow for the action of every non-wall, non-goal cell.

  Args:
    env: a GridWorld.
    policy: (H, W) integer array of actions (0 up, 1 right, 2 down, 3 left).
    ax: axes to draw on; a new (4, 4) figure when None.

  Returns:
    The matplotlib Figure.
  """
  layout = _layout(env)
  policy = np.asarray(policy)
  if policy.shape != layout.shape:
    raise ValueError(
        f'policy must have the layout shape {layout.shape}, got '
        f'{policy.shape}.')
  if not np.issubdtype(policy.dtype, np.integer) or policy.dtype == bool:
    raise ValueError(
        f'policy must hold integer actions, got dtype {policy.dtype}.')
  if policy.size and (policy.min() < 0 or
                      policy.max() >= gridworld.NUM_ACTIONS):
    raise ValueError(
        f'policy actions must be in [0, {gridworld.NUM_ACTIONS - 1}], got '
        f'values in [{policy.min()}, {policy.max()}].')
  fig = plot_grid(env, ax=ax)
  ax = fig.axes[0] if ax is None else ax
  ax.set_title('Policy Visualization')
  goal = tuple(env.goal_state)
  for y, x in np.argwhere(layout > gridworld.WALL):
    if (y, x) != goal:
      ax.text(x, y, _ARROWS[policy[y, x]], ha='center', va='center')
  return fig


def plot_greedy_policy(env: Any, q: Any, ax: Any = None) -> Any:
  """Plots the greedy policy argmax_a q[y, x, a] of an (H, W, A) q array."""
  q = _check_q(q)
  return plot_policy(env, np.argmax(q, axis=2), ax=ax)


def q_values_grid(env: Any,
                  q_fn: Callable[[Any], Any],
                  fill_value: float = 0.0) -> np.ndarray:
  """Evaluates `q_fn` at every non-wall cell of a GridWorld.

  The agent is moved to each cell with `env.set_state(x, y)`, `q_fn` receives
  `env.get_obs()`, and the agent's state is restored afterwards.

  Args:
    env: a GridWorld (or a wrapper forwarding `layout`, `state`, `set_state`
      and `get_obs`).
    q_fn: maps one observation to the action values (any shape with
      num_actions elements, e.g. (num_actions,) or (1, num_actions)).
    fill_value: value stored for wall cells.

  Returns:
    A float (H, W, num_actions) array.
  """
  if not callable(q_fn):
    raise TypeError(f'q_fn must be callable, got {type(q_fn).__name__}.')
  layout = _layout(env)
  for name in ('state', 'set_state', 'get_obs'):
    if not hasattr(env, name):
      raise TypeError(
          f'env must provide `{name}` (a GridWorld), got '
          f'{type(env).__name__}.')
  saved_y, saved_x = env.state
  q = None
  try:
    for y, x in np.argwhere(layout > gridworld.WALL):
      env.set_state(int(x), int(y))
      values = np.asarray(q_fn(env.get_obs()), dtype=np.float64).reshape(-1)
      if q is None:
        if values.size == 0:
          raise ValueError('q_fn returned no action values.')
        q = np.full(layout.shape + (values.size,), fill_value,
                    dtype=np.float64)
      elif values.size != q.shape[-1]:
        raise ValueError(
            f'q_fn returned {values.size} values at cell ({y}, {x}) but '
            f'{q.shape[-1]} elsewhere.')
      q[y, x] = values
  finally:
    env.set_state(saved_x, saved_y)
  if q is None:
    raise ValueError('The layout has no non-wall cell to evaluate.')
  return q
