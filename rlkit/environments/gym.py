"""Runs a Gymnasium environment behind the dm_env interface (Acme's GymWrapper).

Semantics:
* `reset()` returns FIRST. The first `reset()` seeds the environment with
  `seed` (`env.reset(seed=seed)`) and the action space too; later resets pass
  no seed, so the random stream continues and episodes differ.
* `step()` returns MID with discount 1, LAST with discount 0 when gymnasium
  reports `terminated`, and LAST with discount 1 when it reports only
  `truncated` (a time limit: learners should bootstrap).
* The `step()` after a LAST timestep ignores its action and starts a new
  episode (returns FIRST), as dm_env environments do; so does `step()` on a
  fresh environment.
* Rewards are numpy float64 scalars and discounts float64 in [0, 1], the
  dm_env defaults; wrap in `SinglePrecisionWrapper` for 32-bit values.
* Observations are returned as gymnasium produced them (no copies), except
  `Discrete` ones, which become numpy scalars of the space's dtype.

Spaces map to specs as follows: Discrete -> DiscreteArray, Box -> BoundedArray
(the space's dtype, low and high), MultiBinary -> BoundedArray [0, 1],
MultiDiscrete -> BoundedArray [start, start + nvec - 1], Tuple -> tuple of
specs, Dict -> dict of specs. A `Discrete(n, start=s)` space with s != 0 is
shifted: the dm_env side sees 0..n-1 (action `a` is sent as `a + s` and an
observation `o` is returned as `o - s`). Other spaces raise
NotImplementedError.

Actions are checked before they reach gymnasium; an invalid one raises
ValueError naming the action and the allowed values.
"""

import operator
from typing import Any, Callable, Dict, Mapping, Optional

import dm_env
import gymnasium
from gymnasium import spaces
import numpy as np

from rlkit import specs

_Converter = Callable[[Any], Any]

_BOOL_TYPES = (bool, np.bool_)
_ZERO = np.float64(0.0)
_ONE = np.float64(1.0)
_FIRST = dm_env.StepType.FIRST
_MID = dm_env.StepType.MID
_LAST = dm_env.StepType.LAST


def space_to_spec(space: spaces.Space, name: Optional[str] = None) -> Any:
  """Returns the (possibly nested) dm_env spec of a gymnasium space.

  Raises:
    NotImplementedError: for spaces without a dm_env counterpart (Text,
      Graph, Sequence, ...).
  """
  if isinstance(space, spaces.Discrete):
    return specs.DiscreteArray(
        num_values=int(space.n), dtype=space.dtype, name=name)
  if isinstance(space, spaces.Box):
    return specs.BoundedArray(
        shape=space.shape, dtype=space.dtype, minimum=space.low,
        maximum=space.high, name=name)
  if isinstance(space, spaces.MultiBinary):
    return specs.BoundedArray(
        shape=space.shape, dtype=space.dtype, minimum=0, maximum=1, name=name)
  if isinstance(space, spaces.MultiDiscrete):
    start = np.asarray(getattr(space, 'start', 0), dtype=space.dtype)
    return specs.BoundedArray(
        shape=space.shape, dtype=space.dtype,
        minimum=np.broadcast_to(start, space.shape),
        maximum=start + space.nvec - 1, name=name)
  if isinstance(space, spaces.Tuple):
    return tuple(
        space_to_spec(sub_space, f'{name}_{i}' if name else str(i))
        for i, sub_space in enumerate(space.spaces))
  if isinstance(space, spaces.Dict):
    return {
        key: space_to_spec(sub_space, f'{name}_{key}' if name else str(key))
        for key, sub_space in space.spaces.items()}
  raise NotImplementedError(
      f'Cannot convert gymnasium space {space!r} ({type(space).__name__}) to '
      'a dm_env spec; supported: Discrete, Box, MultiBinary, MultiDiscrete, '
      'Tuple and Dict.')


def _invalid_action(action: Any, expected: str, env_name: str) -> ValueError:
  return ValueError(
      f'Invalid action {action!r} for {env_name}: expected {expected}.')


def _integer_array(action: Any, expected: str, env_name: str) -> np.ndarray:
  try:
    array = np.asarray(action)
  except (TypeError, ValueError) as error:
    raise _invalid_action(action, expected, env_name) from error
  if array.dtype.kind not in 'iu':
    raise _invalid_action(action, expected, env_name)
  return array


def _action_converter(space: spaces.Space, env_name: str) -> _Converter:
  """Builds a function that checks a dm_env action and returns gymnasium's."""
  if isinstance(space, spaces.Discrete):
    n = int(space.n)
    start = int(space.start)
    expected = f'an integer in [0, {n - 1}] ({space})'

    def convert_discrete(action: Any) -> int:
      if action.__class__ in _BOOL_TYPES:
        raise _invalid_action(action, expected, env_name)
      try:
        value = operator.index(action)
      except TypeError:
        raise _invalid_action(action, expected, env_name) from None
      if 0 <= value < n:
        return value + start
      raise _invalid_action(action, expected, env_name)

    return convert_discrete

  if isinstance(space, spaces.Box):
    dtype, shape = space.dtype, space.shape
    low, high = space.low, space.high
    integer = np.issubdtype(dtype, np.integer)
    expected = (f'an array of shape {shape} and dtype {dtype} within the '
                f'bounds of {space} (low={low.tolist()}, '
                f'high={high.tolist()})')

    def convert_box(action: Any) -> np.ndarray:
      if integer:
        array = _integer_array(action, expected, env_name).astype(
            dtype, copy=False)
      else:
        try:
          array = np.asarray(action, dtype=dtype)
        except (TypeError, ValueError) as error:
          raise _invalid_action(action, expected, env_name) from error
      if (array.shape != shape or not (array >= low).all() or
          not (array <= high).all()):
        raise _invalid_action(action, expected, env_name)
      return array

    return convert_box

  if isinstance(space, (spaces.MultiBinary, spaces.MultiDiscrete)):
    spec = space_to_spec(space)
    dtype, shape = space.dtype, space.shape
    minimum, maximum = spec.minimum, spec.maximum
    expected = (f'an integer array of shape {shape} with values in '
                f'[{np.asarray(minimum).tolist()}, '
                f'{np.asarray(maximum).tolist()}] ({space})')

    def convert_multi(action: Any) -> np.ndarray:
      array = _integer_array(action, expected, env_name)
      if (array.shape != shape or not (array >= minimum).all() or
          not (array <= maximum).all()):
        raise _invalid_action(action, expected, env_name)
      return array.astype(dtype, copy=False)

    return convert_multi

  if isinstance(space, spaces.Tuple):
    converters = tuple(_action_converter(s, env_name) for s in space.spaces)
    expected = f'a tuple of {len(converters)} actions ({space})'

    def convert_tuple(action: Any) -> tuple:
      if (not isinstance(action, (tuple, list)) or
          len(action) != len(converters)):
        raise _invalid_action(action, expected, env_name)
      return tuple(convert(a) for convert, a in zip(converters, action))

    return convert_tuple

  if isinstance(space, spaces.Dict):
    converters = {key: _action_converter(s, env_name)
                  for key, s in space.spaces.items()}
    expected = f'a mapping with keys {sorted(converters)} ({space})'

    def convert_dict(action: Any) -> Dict[str, Any]:
      if (not isinstance(action, Mapping) or
          set(action.keys()) != set(converters)):
        raise _invalid_action(action, expected, env_name)
      return {key: convert(action[key]) for key, convert in converters.items()}

    return convert_dict

  raise NotImplementedError(f'Unsupported gymnasium action space {space!r}.')


def _observation_converter(space: spaces.Space) -> Optional[_Converter]:
  """Builds a function that maps gymnasium observations to the spec, or None."""
  if isinstance(space, spaces.Discrete):
    scalar_type = space.dtype.type
    start = int(space.start)
    if start:
      return lambda observation: scalar_type(observation - start)
    return scalar_type
  if isinstance(space, spaces.Tuple):
    converters = tuple(_observation_converter(s) for s in space.spaces)
    if all(convert is None for convert in converters):
      return None
    return lambda observation: tuple(
        o if convert is None else convert(o)
        for convert, o in zip(converters, observation))
  if isinstance(space, spaces.Dict):
    converters = {key: _observation_converter(s)
                  for key, s in space.spaces.items()}
    if all(convert is None for convert in converters.values()):
      return None
    return lambda observation: {
        key: (observation[key] if convert is None
              else convert(observation[key]))
        for key, convert in converters.items()}
  return None


def _check_seed(seed: Any) -> Optional[int]:
  if seed is None:
    return None
  if (isinstance(seed, (int, np.integer)) and
      not isinstance(seed, _BOOL_TYPES) and seed >= 0):
    return int(seed)
  raise ValueError(f'seed must be None or a non-negative int, got {seed!r}.')


class GymnasiumEnvironment(dm_env.Environment):
  """A `gymnasium.Env` as a `dm_env.Environment`; see the module docstring.

  Args:
    env: the gymnasium environment (e.g. from `gymnasium.make`). The adapter
      owns it: `close()` closes it.
    seed: seeds the first `reset()` and the action space; None leaves them
      unseeded.

  Raises:
    TypeError: if `env` is not a `gymnasium.Env`.
    ValueError: if `seed` is not None or a non-negative int.
    NotImplementedError: if a space has no dm_env counterpart.
  """

  def __init__(self, env: gymnasium.Env, seed: Optional[int] = None):
    if not isinstance(env, gymnasium.Env):
      raise TypeError(
          'GymnasiumEnvironment expects a gymnasium.Env, got '
          f'{type(env).__name__}: {env!r}.')
    self._seed = _check_seed(seed)
    self._env = env
    self._name = env.spec.id if env.spec is not None else repr(env)
    self._observation_spec = space_to_spec(env.observation_space, 'observation')
    self._action_spec = space_to_spec(env.action_space, 'action')
    self._reward_spec = specs.Array(shape=(), dtype=np.float64, name='reward')
    self._discount_spec = specs.BoundedArray(
        shape=(), dtype=np.float64, minimum=0.0, maximum=1.0, name='discount')
    self._convert_action = _action_converter(env.action_space, self._name)
    self._convert_observation = _observation_converter(env.observation_space)
    self._started = False
    self._reset_next_step = True
    self._last_info: Dict[str, Any] = {}
    if self._seed is not None:
      env.action_space.seed(self._seed)

  def reset(self) -> dm_env.TimeStep:
    if not self._started and self._seed is not None:
      observation, info = self._env.reset(seed=self._seed)
    else:
      observation, info = self._env.reset()
    self._started = True
    self._reset_next_step = False
    self._last_info = info
    if self._convert_observation is not None:
      observation = self._convert_observation(observation)
    return dm_env.TimeStep(_FIRST, None, None, observation)

  def step(self, action: Any) -> dm_env.TimeStep:
    """Steps the environment with `action`.

    On a fresh environment or after a LAST timestep this starts a new episode
    and ignores `action` (dm_env's contract).

    Raises:
      ValueError: if `action` is not in the action space.
    """
    if self._reset_next_step:
      return self.reset()
    observation, reward, terminated, truncated, info = self._env.step(
        self._convert_action(action))
    self._last_info = info
    if self._convert_observation is not None:
      observation = self._convert_observation(observation)
    if terminated:
      self._reset_next_step = True
      return dm_env.TimeStep(_LAST, np.float64(reward), _ZERO, observation)
    if truncated:
      self._reset_next_step = True
      return dm_env.TimeStep(_LAST, np.float64(reward), _ONE, observation)
    return dm_env.TimeStep(_MID, np.float64(reward), _ONE, observation)

  def observation_spec(self) -> Any:
    return self._observation_spec

  def action_spec(self) -> Any:
    return self._action_spec

  def reward_spec(self) -> specs.Array:
    return self._reward_spec

  def discount_spec(self) -> specs.BoundedArray:
    return self._discount_spec

  def render(self) -> Any:
    """Returns gymnasium's `render()` (an RGB array for render_mode='rgb_array')."""
    return self._env.render()

  def close(self) -> None:
    self._env.close()

  def get_rng_state(self) -> Dict[str, Any]:
    """The random state of the environment and its action space, for checkpoints.

    An adapter given this state by `set_rng_state` continues the saved random
    stream: its next `reset()` does not seed again, so a resumed run sees the
    episodes an uninterrupted one would.
    """
    return {'started': self._started,
            'np_random': self._env.unwrapped.np_random.bit_generator.state,
            'action_space': self._env.action_space.np_random.bit_generator.state}

  def set_rng_state(self, state: Mapping[str, Any]) -> None:
    """Restores `get_rng_state()`; call it between episodes."""
    if not isinstance(state, Mapping) or not {'started', 'np_random'} <= set(state):
      raise ValueError(f"Expected a dict from get_rng_state() with 'started' and "
                       f"'np_random', got {state!r}.")
    self._env.unwrapped.np_random.bit_generator.state = state['np_random']
    if 'action_space' in state:
      self._env.action_space.np_random.bit_generator.state = state['action_space']
    self._started = bool(state['started'])

  @property
  def environment(self) -> gymnasium.Env:
    """The wrapped gymnasium environment."""
    return self._env

  @property
  def last_info(self) -> Dict[str, Any]:
    """The `info` dict of the latest gymnasium `reset()` or `step()`."""
    return self._last_info

  def __getattr__(self, name: str) -> Any:
    if name.startswith('__') or name == '_env':
      raise AttributeError(
          f'{type(self).__name__!r} object has no attribute {name!r}')
    return self._env.get_wrapper_attr(name)

  def __repr__(self) -> str:
    return f'GymnasiumEnvironment({self._name})'


GymWrapper = GymnasiumEnvironment


# Gymnasium's own environment families and the pip extra each needs.
_EXTRAS = {
    'gymnasium.envs.box2d': ('Box2D', 'pip install swig && pip install "gymnasium[box2d]"'),
    'gymnasium.envs.mujoco': ('MuJoCo', 'pip install "gymnasium[mujoco]"'),
    'gymnasium.envs.toy_text': ('pygame', 'pip install "gymnasium[toy-text]"'),
    'gymnasium.envs.classic_control': ('pygame', 'pip install "gymnasium[classic-control]"'),
    'gymnasium.envs.phys2d': ('JAX', 'pip install "gymnasium[jax]"'),
    'gymnasium.envs.tabular': ('JAX', 'pip install "gymnasium[jax]"'),
}
_NAMESPACE_PACKAGES = {
    'ALE': ('ale-py', 'pip install "gymnasium[atari]", then `import ale_py` and '
                      '`gymnasium.register_envs(ale_py)` before making the environment'),
}


def missing_dependency_message(env_id: str, error: BaseException) -> Optional[str]:
  """What to install for `env_id`, whose `gymnasium.make` raised `error`; None if unrelated.

  For an id that is registered but whose extra is missing (e.g. 'CarRacing-v3'
  without Box2D), or an unregistered namespace a known package provides
  (e.g. 'ALE/Pong-v5' without ale-py).
  """
  if isinstance(error, gymnasium.error.NamespaceNotFound):
    namespace = env_id.split('/', 1)[0] if '/' in env_id else None
    if namespace in _NAMESPACE_PACKAGES:
      package, how = _NAMESPACE_PACKAGES[namespace]
      return (f'gymnasium environment {env_id!r} needs the package {package}, which is not '
              f'installed or not registered: {how}.')
    return None
  if not isinstance(error, (gymnasium.error.DependencyNotInstalled, ImportError)):
    return None
  try:
    entry_point = gymnasium.spec(env_id).entry_point
  except gymnasium.error.Error:
    return None
  module = entry_point.split(':', 1)[0] if isinstance(entry_point, str) else ''
  missing = getattr(error, 'name', None)
  for prefix, (package, how) in _EXTRAS.items():
    if module == prefix or module.startswith(prefix + '.'):
      return (f'gymnasium environment {env_id!r} is registered but needs {package}, which '
              f'is not installed: {how}.')
  what = f'the module {missing!r}' if missing else 'a package'
  return (f'gymnasium environment {env_id!r} is registered (entry point {module or entry_point!r}) '
          f'but needs {what}, which is not installed: install the package that provides it '
          f'(gymnasium says: {error}).')
