"""A tabular GridWorld as a dm_env environment.

Semantics follow the Neuromatch Academy deep-RL tutorial (W3D4): a 2-D
layout of walls (-1), empty cells (0) and one goal (a positive reward); the
agent moves up, right, down or left. Bumping into a wall costs
`penalty_for_walls` and leaves the agent in place; entering the goal pays the
goal's reward, ends the episode with discount 0 and puts the agent back on the
start state.

This module imports neither matplotlib nor torch; `render()` draws RGB frames
with numpy and the `plot_*` methods import `gridworld_plotting` lazily.
"""

import enum
import operator
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import dm_env
import numpy as np

from rlkit import specs

Position = Tuple[int, int]

WALL = -1
EMPTY = 0
NUM_ACTIONS = 4
ACTION_NAMES = ('up', 'right', 'down', 'left')
# (dy, dx) of each action, indexed by action.
ACTION_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))

_WALL_COLOR = np.array([48, 48, 56], dtype=np.uint8)
_FLOOR_COLOR = np.array([236, 236, 232], dtype=np.uint8)
_GRID_LINE_COLOR = np.array([200, 200, 196], dtype=np.uint8)
_GOAL_COLOR = np.array([60, 170, 80], dtype=np.uint8)
_AGENT_COLOR = np.array([214, 48, 49], dtype=np.uint8)


class ObservationType(enum.IntEnum):
  """What `GridWorld.get_obs()` returns.

  * STATE_INDEX: int32 index `y * width + x` of the agent's cell.
  * AGENT_ONEHOT: (H, W) float32 grid with a 1 where the agent is.
  * GRID: (H, W, 3) float32 grid; channels are walls, agent and goal.
  * AGENT_GOAL_POS: (4,) float32 vector (agent_y, agent_x, goal_y, goal_x).
  """
  STATE_INDEX = enum.auto()
  AGENT_ONEHOT = enum.auto()
  GRID = enum.auto()
  AGENT_GOAL_POS = enum.auto()


def as_observation_type(
    observation_type: Union[ObservationType, str, int]) -> ObservationType:
  """Returns the `ObservationType` named by a member, a name or a value.

  Names are case-insensitive ('grid', 'GRID', 'ObservationType.GRID').

  Raises:
    ValueError: if `observation_type` names no observation type.
  """
  allowed = ', '.join(member.name for member in ObservationType)
  if isinstance(observation_type, ObservationType):
    return observation_type
  if isinstance(observation_type, str):
    name = observation_type.strip().upper()
    if name.startswith('OBSERVATIONTYPE.'):
      name = name[len('OBSERVATIONTYPE.'):]
    if name in ObservationType.__members__:
      return ObservationType[name]
  elif (isinstance(observation_type, (int, np.integer)) and
        not isinstance(observation_type, (bool, np.bool_))):
    try:
      return ObservationType(int(observation_type))
    except ValueError:
      pass
  raise ValueError(
      f'Unknown observation_type {observation_type!r}; expected an '
      f'ObservationType or one of the names {allowed}.')


def _as_action(action: Any) -> int:
  """Returns `action` as a Python int in [0, 3] or raises ValueError."""
  expected = (f'an integer in [0, {NUM_ACTIONS - 1}] '
              '(0 up, 1 right, 2 down, 3 left)')
  value = action
  if isinstance(value, np.ndarray):
    if value.shape != ():
      raise ValueError(
          f'action must be {expected}, got an array of shape {value.shape}: '
          f'{action!r}.')
    value = value[()]
  if isinstance(value, (bool, np.bool_)):
    raise ValueError(f'action must be {expected}, got the boolean {action!r}.')
  try:
    index = operator.index(value)
  except TypeError:
    raise ValueError(
        f'action must be {expected}, got {action!r} of type '
        f'{type(action).__name__}.') from None
  if not 0 <= index < NUM_ACTIONS:
    raise ValueError(f'action must be {expected}, got {action!r}.')
  return index


def _as_int(value: Any, name: str) -> int:
  if isinstance(value, (bool, np.bool_)):
    raise ValueError(f'{name} must be an integer, got {value!r}.')
  try:
    return operator.index(value)
  except TypeError:
    raise ValueError(
        f'{name} must be an integer, got {value!r} of type '
        f'{type(value).__name__}.') from None


def _as_position(value: Any, name: str) -> Position:
  """Returns `value` as a (y, x) tuple of ints or raises ValueError."""
  try:
    items = tuple(np.asarray(value).tolist()) if isinstance(
        value, np.ndarray) else tuple(value)
  except TypeError:
    raise ValueError(
        f'{name} must be a (y, x) pair of integers, got {value!r}.') from None
  if len(items) != 2:
    raise ValueError(
        f'{name} must be a (y, x) pair of integers, got {value!r}.')
  return (_as_int(items[0], f'{name}[0]'), _as_int(items[1], f'{name}[1]'))


def _check_real(value: Any, name: str) -> float:
  if isinstance(value, (bool, np.bool_)) or not isinstance(
      value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
    raise ValueError(f'{name} must be a finite number, got {value!r}.')
  return value


class GridWorld(dm_env.Environment):
  """A gridworld defined by a layout, a start state and a goal state.

  Positions are (y, x) = (row, column) tuples. The layout holds 0 for empty
  cells, -1 for walls and a positive value (the goal's reward) at the goal;
  moving off the layout counts as bumping into a wall.

  Episodes end (LAST) when the agent enters the goal (discount 0, agent back
  on the start state) or after `max_episode_length` steps (truncation: the
  discount is kept). As dm_env prescribes, calling `step()` after a LAST
  timestep ignores the action and starts a new episode (it returns `reset()`).

  Args:
    layout: (H, W) array-like of numbers: -1 wall, 0 empty, > 0 goal. Any goal
      already in the layout is replaced by `goal_state`.
    start_state: (y, x) start position; must be an in-bounds empty cell.
    goal_state: (y, x) goal position, or None to sample one (with `seed`)
      among the empty cells other than the start state.
    observation_type: an `ObservationType`, or its name (case-insensitive).
    discount: discount of every non-goal step, in [0, 1].
    penalty_for_walls: reward for bumping into a wall (normally negative).
    reward_goal: reward for entering the goal; must be positive.
    max_episode_length: if set, episodes are truncated after this many steps.
    randomize_goals: if True, every `reset()` samples a new goal.
    seed: seed of the generator that samples goals.
  """

  def __init__(self,
               layout: Any,
               start_state: Sequence[int],
               goal_state: Optional[Sequence[int]] = None,
               observation_type: Union[ObservationType, str] = (
                   ObservationType.STATE_INDEX),
               discount: float = 0.9,
               penalty_for_walls: float = -5,
               reward_goal: float = 10,
               max_episode_length: Optional[int] = None,
               randomize_goals: bool = False,
               seed: Optional[int] = None):
    self._observation_type = as_observation_type(observation_type)
    discount = _check_real(discount, 'discount')
    if not 0.0 <= discount <= 1.0:
      raise ValueError(f'discount must be in [0, 1], got {discount!r}.')
    self._penalty_for_walls = _check_real(penalty_for_walls,
                                          'penalty_for_walls')
    reward_goal = _check_real(reward_goal, 'reward_goal')
    if reward_goal <= 0:
      raise ValueError(
          f'reward_goal must be positive (positive layout cells mark the '
          f'goal), got {reward_goal!r}.')
    self._reward_goal = reward_goal
    if max_episode_length is not None:
      max_episode_length = _as_int(max_episode_length, 'max_episode_length')
      if max_episode_length < 1:
        raise ValueError(
            f'max_episode_length must be a positive integer or None, got '
            f'{max_episode_length!r}.')
    self._max_episode_length = max_episode_length
    self._discount = float(discount)
    self._randomize_goals = bool(randomize_goals)
    try:
      self._rng = np.random.default_rng(seed)
    except (TypeError, ValueError) as error:
      raise ValueError(
          f'seed must be None or a non-negative integer, got {seed!r}.'
      ) from error

    self._layout = self._make_layout(layout, reward_goal)
    self._layout_dims = self._layout.shape
    self._number_of_states = int(np.prod(self._layout_dims))
    self._walls = self._layout < 0
    self._background_cache: Dict[int, np.ndarray] = {}
    self._agent_mask_cache: Dict[int, np.ndarray] = {}

    start = _as_position(start_state, 'start_state')
    self._check_free_cell(start, 'start_state')
    self._start_state = start
    self._state = start
    self._num_episode_steps = 0
    self._started = False
    self._reset_next_step = False

    if goal_state is None:
      goal_state = self._sample_goal()
    self._goal_state = None
    self.goal_state = goal_state

  @staticmethod
  def _make_layout(layout: Any, reward_goal: float) -> np.ndarray:
    array = np.array(layout)
    if array.ndim != 2 or 0 in array.shape:
      raise ValueError(
          f'layout must be a non-empty 2-D grid, got shape {array.shape}.')
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
      raise ValueError(
          f'layout must hold numbers (-1 wall, 0 empty, > 0 goal), got dtype '
          f'{array.dtype}.')
    invalid = ~np.isfinite(array) | ((array < 0) & (array != WALL))
    if invalid.any():
      y, x = np.argwhere(invalid)[0]
      raise ValueError(
          f'layout cells must be -1 (wall), 0 (empty) or > 0 (goal); cell '
          f'({y}, {x}) is {array[y, x]!r}.')
    dtype = np.result_type(array.dtype, np.asarray(reward_goal).dtype)
    return array.astype(dtype, copy=True)

  def _in_bounds(self, position: Position) -> bool:
    y, x = position
    return 0 <= y < self._layout_dims[0] and 0 <= x < self._layout_dims[1]

  def _check_free_cell(self, position: Position, name: str) -> None:
    if not self._in_bounds(position):
      raise ValueError(
          f'{name} {position} is outside the {self._layout_dims[0]}x'
          f'{self._layout_dims[1]} layout (y in [0, {self._layout_dims[0]}), '
          f'x in [0, {self._layout_dims[1]})).')
    if self._walls[position]:
      raise ValueError(f'{name} {position} is a wall; choose an empty cell.')

  def _sample_goal(self) -> Position:
    """Samples an empty cell that is neither the start nor the agent's cell."""
    candidates = [
        (int(y), int(x)) for y, x in np.argwhere(self._layout == EMPTY)
        if (y, x) != self._start_state and (y, x) != self._state
    ]
    if not candidates:
      raise ValueError('Failed to sample a goal state: no free empty cell.')
    return candidates[self._rng.integers(len(candidates))]

  @property
  def layout(self) -> np.ndarray:
    """The layout (read-only view): -1 walls, 0 empty, reward at the goal."""
    view = self._layout.view()
    view.flags.writeable = False
    return view

  @property
  def number_of_states(self) -> int:
    return self._number_of_states

  @property
  def observation_type(self) -> ObservationType:
    return self._observation_type

  @property
  def discount(self) -> float:
    return self._discount

  @property
  def max_episode_length(self) -> Optional[int]:
    return self._max_episode_length

  @property
  def num_episode_steps(self) -> int:
    return self._num_episode_steps

  @property
  def goal_state(self) -> Position:
    return self._goal_state

  @goal_state.setter
  def goal_state(self, new_goal: Sequence[int]) -> None:
    goal = _as_position(new_goal, 'goal_state')
    self._check_free_cell(goal, 'goal_state')
    if goal == self._start_state:
      raise ValueError(
          f'goal_state {goal} is the start state; the goal must differ from '
          f'it.')
    if goal == self._state:
      raise ValueError(
          f'goal_state {goal} is the agent\'s current state; the goal must '
          f'differ from it.')
    self._layout[self._layout > 0] = EMPTY
    self._layout[goal] = self._reward_goal
    self._goal_state = goal
    self._background_cache.clear()

  @property
  def start_state(self) -> Position:
    return self._start_state

  @property
  def state(self) -> Position:
    """The agent's (y, x) position."""
    return self._state

  def set_state(self, x: int, y: int) -> None:
    """Moves the agent to column `x`, row `y` (note the (x, y) order).

    The state is stored as (y, x). Episode bookkeeping is unchanged, so this
    is meant for probing observations, e.g. with `get_obs()`.
    Any cell inside the grid is accepted, walls included (as in the Acme
    tutorial's GridWorld, whose Q-value plots probe every cell).
    """
    position = (_as_int(y, 'y'), _as_int(x, 'x'))
    if not self._in_bounds(position):
      raise ValueError(
          f'set_state position (y, x) {position} is outside the '
          f'{self._layout_dims[0]}x{self._layout_dims[1]} layout (y in '
          f'[0, {self._layout_dims[0]}), x in [0, {self._layout_dims[1]})).')
    self._state = position

  def get_rng_state(self) -> Dict[str, Any]:
    """The goal sampler's state, for checkpoints (see `set_rng_state`)."""
    return {'goal_rng': self._rng.bit_generator.state}

  def set_rng_state(self, state: Dict[str, Any]) -> None:
    """Restores `get_rng_state()`: later goals are those the saved one would draw."""
    if not isinstance(state, dict) or 'goal_rng' not in state:
      raise ValueError(f"Expected a dict from get_rng_state() with 'goal_rng', got {state!r}.")
    self._rng.bit_generator.state = state['goal_rng']

  def action_spec(self) -> specs.DiscreteArray:
    """Four actions: 0 up, 1 right, 2 down, 3 left."""
    return specs.DiscreteArray(NUM_ACTIONS, name='action')

  def observation_spec(self) -> specs.Array:
    obs_type = self._observation_type
    if obs_type is ObservationType.STATE_INDEX:
      return specs.DiscreteArray(
          self._number_of_states, name='observation_state_index')
    if obs_type is ObservationType.AGENT_ONEHOT:
      return specs.Array(
          shape=self._layout_dims, dtype=np.float32,
          name='observation_agent_onehot')
    if obs_type is ObservationType.GRID:
      return specs.Array(
          shape=self._layout_dims + (3,), dtype=np.float32,
          name='observation_grid')
    return specs.Array(
        shape=(4,), dtype=np.float32, name='observation_agent_goal_pos')

  def reward_spec(self) -> specs.Array:
    return specs.Array(shape=(), dtype=np.float32, name='reward')

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray(
        shape=(), dtype=np.float32, minimum=0.0, maximum=1.0, name='discount')

  def get_obs(self) -> Union[np.ndarray, np.int32]:
    """Returns the observation of the current state (see `ObservationType`)."""
    obs_type = self._observation_type
    y, x = self._state
    if obs_type is ObservationType.STATE_INDEX:
      return np.int32(y * self._layout_dims[1] + x)
    if obs_type is ObservationType.AGENT_ONEHOT:
      obs = np.zeros(self._layout_dims, dtype=np.float32)
      obs[y, x] = 1.0
      return obs
    if obs_type is ObservationType.GRID:
      obs = np.zeros(self._layout_dims + (3,), dtype=np.float32)
      obs[..., 0] = self._walls
      obs[y, x, 1] = 1.0
      obs[self._goal_state + (2,)] = 1.0
      return obs
    return np.array(self._state + self._goal_state, dtype=np.float32)

  def reset(self) -> dm_env.TimeStep:
    """Puts the agent on the start state (sampling a goal if randomized)."""
    self._state = self._start_state
    self._num_episode_steps = 0
    self._started = True
    self._reset_next_step = False
    if self._randomize_goals:
      self.goal_state = self._sample_goal()
    return dm_env.restart(self.get_obs())

  def step(self, action: Any) -> dm_env.TimeStep:
    """Moves the agent; on a fresh environment or after a LAST timestep,
    starts a new episode instead (dm_env's contract; the action is ignored).

    Args:
      action: an integer in [0, 3] (0 up, 1 right, 2 down, 3 left); Python or
        numpy integers and 0-d integer arrays are accepted.

    Raises:
      ValueError: if `action` is not an integer in [0, 3].
    """
    action = _as_action(action)
    if not self._started or self._reset_next_step:
      return self.reset()

    y, x = self._state
    dy, dx = ACTION_MOVES[action]
    new_state = (y + dy, x + dx)
    step_type = dm_env.StepType.MID
    discount = self._discount
    if not self._in_bounds(new_state) or self._walls[new_state]:
      reward = self._penalty_for_walls
      new_state = self._state
    elif self._layout[new_state] == EMPTY:
      reward = 0.0
    else:
      reward = self._layout[new_state]
      discount = 0.0
      new_state = self._start_state
      step_type = dm_env.StepType.LAST

    self._state = new_state
    self._num_episode_steps += 1
    if (self._max_episode_length is not None and
        self._num_episode_steps >= self._max_episode_length):
      step_type = dm_env.StepType.LAST
    self._reset_next_step = step_type is dm_env.StepType.LAST
    return dm_env.TimeStep(
        step_type=step_type,
        reward=np.float32(reward),
        discount=np.float32(discount),
        observation=self.get_obs())

  def render(self, scale: int = 32) -> np.ndarray:
    """Returns an RGB frame of shape (H * scale, W * scale, 3), dtype uint8.

    Walls are dark, floor light, the goal green and the agent a red disc. The
    static background is cached per scale, so a call costs one frame copy.

    Args:
      scale: pixels per cell, a positive integer.
    """
    scale = _as_int(scale, 'scale')
    if scale < 1:
      raise ValueError(f'scale must be a positive integer, got {scale}.')
    background = self._background_cache.get(scale)
    if background is None:
      background = self._draw_background(scale)
      self._background_cache[scale] = background
    mask = self._agent_mask_cache.get(scale)
    if mask is None:
      centre = (scale - 1) / 2.0
      rows, cols = np.mgrid[0:scale, 0:scale]
      radius = max(0.35 * scale, 0.5)
      mask = (rows - centre) ** 2 + (cols - centre) ** 2 <= radius ** 2
      self._agent_mask_cache[scale] = mask
    frame = background.copy()
    y, x = self._state
    frame[y * scale:(y + 1) * scale, x * scale:(x + 1) * scale][mask] = (
        _AGENT_COLOR)
    return frame

  def _draw_background(self, scale: int) -> np.ndarray:
    height, width = self._layout_dims
    cells = np.empty((height, width, 3), dtype=np.uint8)
    cells[:] = _FLOOR_COLOR
    cells[self._walls] = _WALL_COLOR
    frame = np.repeat(np.repeat(cells, scale, axis=0), scale, axis=1)
    if scale >= 4:
      floor = np.repeat(np.repeat(~self._walls, scale, axis=0), scale, axis=1)
      lines = np.zeros_like(floor)
      lines[::scale, :] = True
      lines[:, ::scale] = True
      frame[floor & lines] = _GRID_LINE_COLOR
    y, x = self._goal_state
    margin = scale // 8
    frame[y * scale + margin:(y + 1) * scale - margin,
          x * scale + margin:(x + 1) * scale - margin] = _GOAL_COLOR
    frame.flags.writeable = False
    return frame

  def plot_grid(self, add_start: bool = True, ax: Any = None) -> Any:
    """Plots the layout with S/G markers; returns the matplotlib Figure."""
    from rlkit.environments import gridworld_plotting
    return gridworld_plotting.plot_grid(self, add_start=add_start, ax=ax)

  def plot_state(self, return_rgb: bool = False, ax: Any = None) -> Any:
    """Plots the layout and the agent; returns the Figure.

    With `return_rgb=True` returns `render()` instead (an RGB uint8 frame),
    which is what the tutorial's evaluation loop records as video frames.
    """
    if return_rgb:
      return self.render()
    from rlkit.environments import gridworld_plotting
    return gridworld_plotting.plot_state(self, ax=ax)

  def plot_policy(self, policy: Any, ax: Any = None) -> Any:
    """Plots an (H, W) array of actions as arrows; returns the Figure."""
    from rlkit.environments import gridworld_plotting
    return gridworld_plotting.plot_policy(self, policy, ax=ax)

  def plot_greedy_policy(self, q: Any, ax: Any = None) -> Any:
    """Plots argmax_a q[y, x, a] for an (H, W, 4) array; returns the Figure."""
    from rlkit.environments import gridworld_plotting
    return gridworld_plotting.plot_greedy_policy(self, q, ax=ax)

  def __repr__(self) -> str:
    return (f'GridWorld(shape={self._layout_dims}, start={self._start_state}, '
            f'goal={self._goal_state}, '
            f'observation_type={self._observation_type.name})')


def _parse_ascii(rows: Sequence[str]) -> np.ndarray:
  """'#' is a wall, '.' an empty cell."""
  return np.array([[WALL if c == '#' else EMPTY for c in row] for row in rows],
                  dtype=np.int64)


_OPEN_ROOM = (
    '##########',
    '#........#',
    '#...##...#',
    '#...##...#',
    '#...##...#',
    '#........#',
    '#........#',
    '#........#',
    '##########',
)
_OBSTACLE_ROOM = (
    '##########',
    '#.....#..#',
    '#...#....#',
    '#...##...#',
    '#...##...#',
    '#........#',
    '#........#',
    '#........#',
    '##########',
)

_TASK_SPECS = {
    'simple': dict(rows=_OPEN_ROOM, start_state=(2, 2), goal_state=(7, 2)),
    'obstacle': dict(rows=_OBSTACLE_ROOM, start_state=(2, 2),
                     goal_state=(2, 8)),
    'random_goal': dict(rows=_OPEN_ROOM, start_state=(2, 2), goal_state=None),
}
TASKS = tuple(_TASK_SPECS)


def build_gridworld_task(
    task: str,
    discount: float = 0.9,
    penalty_for_walls: float = -5,
    observation_type: Union[ObservationType, str] = (
        ObservationType.STATE_INDEX),
    max_episode_length: Optional[int] = 200,
    randomize_goals: bool = False,
    seed: Optional[int] = None) -> GridWorld:
  """Builds one of the tutorial's 9x10 gridworlds.

  Args:
    task: one of `TASKS`: 'simple' (start (2, 2), goal (7, 2)), 'obstacle'
      (start (2, 2), goal (2, 8) behind a wall) or 'random_goal' (goal sampled
      with `seed`).
    discount: discount of every non-goal step.
    penalty_for_walls: reward for bumping into a wall.
    observation_type: an `ObservationType` or its name.
    max_episode_length: truncate episodes after this many steps (None: never).
    randomize_goals: if True, sample a new goal at every reset.
    seed: seed of the goal sampler.

  Returns:
    A `GridWorld`.

  Raises:
    ValueError: if `task` is not one of `TASKS`.
  """
  if not isinstance(task, str) or task not in _TASK_SPECS:
    raise ValueError(
        f'Unknown gridworld task {task!r}; known tasks: {", ".join(TASKS)}.')
  task_spec = _TASK_SPECS[task]
  return GridWorld(
      layout=_parse_ascii(task_spec['rows']),
      start_state=task_spec['start_state'],
      goal_state=task_spec['goal_state'],
      observation_type=observation_type,
      discount=discount,
      penalty_for_walls=penalty_for_walls,
      max_episode_length=max_episode_length,
      randomize_goals=randomize_goals,
      seed=seed)
