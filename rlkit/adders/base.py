"""The adder interface, the `Step` rows, checks, and `WriterAdder`.

An adder sits between an actor and a replay table: the actor calls
`add_first(timestep)` at the start of an episode and then
`add(action, next_timestep, extras)` after each environment step.

The checks here run on every step, so they compare shapes and dtypes only.
"""

import abc
from typing import Any, Callable, List, NamedTuple, NoReturn, Optional, Sequence

import dm_env
import numpy as np
import tree

from rlkit import specs
from rlkit import types


class Step(NamedTuple):
  """One row of an episode or sequence item.

  Row t holds `observation` o_t, the `action` a_t taken from it, the
  `reward` r_t and `discount` d_t of the timestep a_t led to, and
  `start_of_episode` (True on an episode's first row). The last row of an
  episode holds the final observation, with zeros (False) for everything else.
  `start_of_episode` defaults to () (no column) only so that code building
  Steps by keyword without it keeps working; the adders always write it.
  """
  observation: types.NestedArray
  action: types.NestedArray
  reward: types.NestedArray
  discount: types.NestedArray
  start_of_episode: types.NestedArray = ()
  extras: types.NestedArray = ()


class Adder(abc.ABC):
  """Writes an actor's experience to replay."""

  @abc.abstractmethod
  def add_first(self, timestep: dm_env.TimeStep) -> None:
    """Starts an episode with its FIRST timestep."""

  @abc.abstractmethod
  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = ()) -> None:
    """Records `action` and the timestep it led to (and optional extras)."""

  @abc.abstractmethod
  def reset(self) -> None:
    """Drops the episode in progress; what was already written stays."""


def check_first(timestep: dm_env.TimeStep) -> None:
  """Raises ValueError unless `timestep` is a FIRST timestep."""
  if not isinstance(timestep, dm_env.TimeStep):
    raise TypeError(
        f'add_first expects a dm_env.TimeStep, got {type(timestep).__name__}.')
  if not timestep.first():
    raise ValueError(
        f'add_first needs the FIRST timestep of an episode, got step_type '
        f'{dm_env.StepType(timestep.step_type).name}.')


def check_next(timestep: dm_env.TimeStep, episode_open: bool) -> None:
  """Raises unless `timestep` may follow the current episode's last one."""
  if not episode_open:
    raise RuntimeError(
        'add() was called before add_first() (or after the episode ended): '
        'start each episode with add_first(timestep).')
  if not isinstance(timestep, dm_env.TimeStep):
    raise TypeError(
        f'add expects a dm_env.TimeStep, got {type(timestep).__name__}.')
  if timestep.first():
    raise ValueError(
        'add() received a FIRST timestep; start a new episode with add_first().')


def _describe(value: Any) -> str:
  return (f'shape {tuple(np.shape(value))} and dtype '
          f'{getattr(value, "dtype", type(value).__name__)}')


def _compatible_scalar(value: Any, dtype: np.dtype) -> bool:
  """Whether a Python scalar may be cast to `dtype` without changing kind."""
  if isinstance(value, (bool, np.bool_)):
    return dtype.kind == 'b'
  if isinstance(value, int):
    return dtype.kind in 'iu' or dtype.kind == 'f'
  if isinstance(value, float):
    return dtype.kind == 'f'
  return False


class ArrayChecker:
  """Flattens a nest to numpy leaves, checking each against a spec.

  Numpy values must match the spec's shape and dtype exactly; Python scalars
  are cast when the spec is a scalar of the same kind. Without a spec, leaves
  are only converted with `np.asarray`.

  Args:
    field: name used in error messages ('observation', 'action', ...).
    spec: a (nest of) dm_env specs, or None to skip checks.
  """

  def __init__(self, field: str, spec: Optional[types.NestedSpec] = None):
    self._field = field
    self._spec = spec
    if spec is None:
      self._paths = None
      self._flat_specs = None
      self._single = False
      return
    paths_and_specs = tree.flatten_with_path(spec)
    for path, leaf in paths_and_specs:
      if not isinstance(leaf, specs.Array):
        raise TypeError(
            f'{field} spec leaf at {path or "(root)"} must be a dm_env Array '
            f'spec, got {leaf!r}.')
    self._paths = [path for path, _ in paths_and_specs]
    self._flat_specs = [leaf for _, leaf in paths_and_specs]
    self._single = not tree.is_nested(spec)
    self._shapes = [tuple(s.shape) for s in self._flat_specs]
    self._dtypes = [np.dtype(s.dtype) for s in self._flat_specs]

  @property
  def num_leaves(self) -> Optional[int]:
    return None if self._flat_specs is None else len(self._flat_specs)

  def flatten(self, value: Any) -> List[np.ndarray]:
    """Returns the checked numpy leaves of `value`, in `tree.flatten` order."""
    if self._flat_specs is None:
      return [v if isinstance(v, np.ndarray) else np.asarray(v)
              for v in tree.flatten(value)]
    if self._single:
      if (isinstance(value, np.ndarray) and value.dtype == self._dtypes[0]
          and value.shape == self._shapes[0]):
        return [value]
      return [self._convert(0, value)]
    try:
      leaves = tree.flatten_up_to(self._spec, value)
    except (TypeError, ValueError) as e:
      raise ValueError(
          f'{self._field} does not have the structure of its spec '
          f'{self._spec!r}: {e}') from None
    return [
        leaf if (isinstance(leaf, np.ndarray) and leaf.dtype == self._dtypes[i]
                 and leaf.shape == self._shapes[i]) else self._convert(i, leaf)
        for i, leaf in enumerate(leaves)
    ]

  def _convert(self, index: int, value: Any) -> np.ndarray:
    shape, dtype = self._shapes[index], self._dtypes[index]
    if (not isinstance(value, (np.ndarray, np.generic)) and shape == ()
        and _compatible_scalar(value, dtype)):
      return np.asarray(value, dtype=dtype)
    if isinstance(value, np.generic) and shape == () and value.dtype == dtype:
      return np.asarray(value)
    path = self._paths[index]
    where = self._field + ''.join(f'[{p!r}]' for p in path)
    raise ValueError(
        f'{where} has {_describe(value)}, but the environment spec expects '
        f'shape {shape} and dtype {dtype} ({self._flat_specs[index]!r}).')


class NestCaster:
  """Flattens (nests of) rewards or discounts to arrays of fixed dtypes.

  The dtypes come from the spec's leaves or, without a spec, from the first
  value's leaves; later values must have as many leaves.
  """

  def __init__(self, field: str, spec: Optional[types.NestedSpec] = None):
    self._field = field
    self.dtypes = (None if spec is None else
                   [np.dtype(leaf.dtype) for leaf in tree.flatten(spec)])

  def flatten(self, x: Any) -> List[np.ndarray]:
    if x is None:
      raise ValueError(f'The timestep has no {self._field} (None).')
    leaves = tree.flatten(x)
    if self.dtypes is None:
      self.dtypes = [np.asarray(leaf).dtype for leaf in leaves]
    elif len(leaves) != len(self.dtypes):
      raise ValueError(
          f'{self._field} {x!r} has {len(leaves)} leaves; earlier values (or the '
          f'spec) had {len(self.dtypes)}.')
    return [np.asarray(leaf, dtype) for leaf, dtype in zip(leaves, self.dtypes)]


class ScalarCaster:
  """Casts rewards or discounts to one dtype (from a spec or the first value).

  Only for single arrays (usually scalars); see `NestCaster` for nests. With
  a nested spec, the dtype comes from the first value.
  """

  def __init__(self, field: str, spec: Optional[specs.Array] = None):
    self._field = field
    if spec is not None and tree.is_nested(spec):
      spec = None
    if spec is not None and not isinstance(spec, specs.Array):
      raise TypeError(f'{field} spec must be a dm_env Array spec, got {spec!r}.')
    self.dtype = None if spec is None else np.dtype(spec.dtype)
    self.shape = None if spec is None else tuple(spec.shape)

  def value(self, x: Any) -> Any:
    """Returns `x` as a Python float (scalars) or a float64 array."""
    if x is None:
      raise ValueError(f'The timestep has no {self._field} (None).')
    if isinstance(x, (float, int, np.floating, np.integer)):
      if self.dtype is None:
        self.dtype = np.asarray(x).dtype
        self.shape = ()
      return float(x)
    if tree.is_nested(x):
      raise TypeError(f'Nested {self._field}s are not supported, got {x!r}.')
    array = np.asarray(x)
    if self.dtype is None:
      self.dtype, self.shape = array.dtype, array.shape
    elif self.shape is not None and array.shape != self.shape:
      raise ValueError(
          f'{self._field} has {_describe(array)}, but the environment spec '
          f'expects shape {self.shape}.')
    if array.shape == ():
      return float(array)
    return array.astype(np.float64)

  def cast(self, x: Any) -> np.ndarray:
    return np.asarray(x, dtype=self.dtype)


PriorityFn = Callable[[Any], float]


def check_priority_fns(priority_fns: Any, default_table: str) -> dict:
  """Validates a mapping table name -> priority function (or None)."""
  if priority_fns is None:
    return {default_table: None}
  if not hasattr(priority_fns, 'items'):
    raise TypeError(
        f'priority_fns must map table names to functions or None, got '
        f'{type(priority_fns).__name__}.')
  if not priority_fns:
    raise ValueError('priority_fns must name at least one table.')
  for table, fn in priority_fns.items():
    if not isinstance(table, str) or not table:
      raise TypeError(f'priority_fns keys must be table names, got {table!r}.')
    if fn is not None and not callable(fn):
      raise TypeError(
          f'priority_fns[{table!r}] must be callable or None, got {fn!r}.')
  return dict(priority_fns)


def check_priority(table: str, priority: Any) -> float:
  value = float(priority)
  if not np.isfinite(value) or value < 0:
    raise ValueError(
        f'The priority function of table {table!r} returned {priority!r}; '
        f'priorities must be finite and >= 0.')
  return value


def check_positive_int(name: str, value: Any) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise TypeError(f'{name} must be an int, got {value!r}.')
  if value < 1:
    raise ValueError(f'{name} must be >= 1, got {value}.')
  return int(value)


def check_timeout(timeout_s: Optional[float]) -> int:
  """Returns the timeout in ms for Reverb's writers (-1 means no timeout)."""
  if timeout_s is None:
    return -1
  if not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
    raise ValueError(f'timeout_s must be a positive number or None, got {timeout_s!r}.')
  return max(1, int(round(timeout_s * 1000)))


def zeros_like(values: Sequence[np.ndarray]) -> List[np.ndarray]:
  return [np.zeros_like(v) for v in values]


class WriterAdder(Adder):
  """An adder writing through one Reverb `TrajectoryWriter`, `self._writer`.

  Holds the checks of what it writes (`_observations`, `_actions`,
  `_extras`, `_rewards`, `_discounts`) and the waits for the server, each
  limited by `timeout_s`: `_flush` (the adder keeps at most
  `max_in_flight_items` items unconfirmed) and `_end_writer_episode`.
  Subclasses create the writer and define `_end_episode` (their own state,
  then `_end_writer_episode()`) and `_timeout_message`.

  Args:
    environment_spec: when given, observations and actions are checked
      against it and rewards/discounts cast to its dtypes.
    max_in_flight_items: the adder waits once this many items are unconfirmed.
    timeout_s: how long a wait for the server may take before TimeoutError;
      None waits indefinitely.
  """

  def __init__(self, environment_spec: Optional[specs.EnvironmentSpec],
               max_in_flight_items: int, timeout_s: Optional[float]):
    if environment_spec is not None and not isinstance(
        environment_spec, specs.EnvironmentSpec):
      raise TypeError(
          f'environment_spec must be an rlkit.specs.EnvironmentSpec or None, '
          f'got {type(environment_spec).__name__}.')
    self._max_in_flight = check_positive_int('max_in_flight_items', max_in_flight_items)
    self._timeout_s = timeout_s
    self._timeout_ms = check_timeout(timeout_s)
    spec = environment_spec
    self._observations = ArrayChecker('observation', spec.observations if spec else None)
    self._actions = ArrayChecker('action', spec.actions if spec else None)
    self._extras = ArrayChecker('extras')
    self._rewards = ScalarCaster('reward', spec.rewards if spec else None)
    self._discounts = ScalarCaster('discount', spec.discounts if spec else None)
    self._writer = None
    self._pending = 0
    self._closed = False

  @abc.abstractmethod
  def _end_episode(self) -> None:
    """Forgets the episode in progress and calls `_end_writer_episode`."""

  @abc.abstractmethod
  def _timeout_message(self) -> str:
    """What TimeoutError says: which tables, and why the server may block."""

  def _check_open(self) -> None:
    if self._closed:
      raise RuntimeError('This adder was closed.')

  def _flush(self, keep_pending: int) -> None:
    """Waits until at most `keep_pending` items are unconfirmed."""
    try:
      self._writer.Flush(keep_pending, self._timeout_ms)
    except RuntimeError as e:
      self._raise_timeout(e)
    self._pending = min(self._pending, keep_pending)

  def _end_writer_episode(self) -> None:
    """Ends the writer's episode, waiting until every item is confirmed."""
    try:
      self._writer.EndEpisode(True, None if self._timeout_ms < 0 else self._timeout_ms)
    except RuntimeError as e:
      self._raise_timeout(e)
    self._pending = 0

  def _raise_timeout(self, error: RuntimeError) -> NoReturn:
    if 'Timeout' not in str(error):
      raise error
    raise TimeoutError(f'{self._timeout_message()} ({error})') from error

  def close(self) -> None:
    """Flushes (up to `timeout_s`) and releases the writer.

    Close adders before stopping their server: a writer whose items the
    server is still holding back cannot shut down once the server is gone.
    """
    if self._closed:
      return
    self._closed = True
    try:
      self._end_episode()
    finally:
      self._writer.Close()
