"""DeepMind Control Suite tasks ('dm_control:<domain>-<task>') as rlkit environments.

    env = load('cartpole-swingup', seed=0)
    env.render()  # (240, 320, 3) uint8, offscreen through MUJOCO_GL (egl by default)

The suite's environments already follow dm_env (a `step()` on a fresh
environment or after LAST starts a new episode); `ControlSuiteEnvironment`
adds `render()`, `close()` that frees the OpenGL context, and the task's
random state for checkpoints. Observations stay the suite's dict of arrays:
`make_environment` concatenates them with `ConcatObservationWrapper`.
"""

import difflib
import numbers
from typing import Any, Dict, List, Mapping, Optional, Tuple

import dm_env
import numpy as np

from rlkit.environments import rendering
from rlkit.wrappers import base

DEFAULT_HEIGHT = 240
DEFAULT_WIDTH = 320


def _suite():
  rendering.set_default_gl_backend()
  try:
    from dm_control import suite  # pylint: disable=g-import-not-at-top
  except Exception as error:  # pylint: disable=broad-except
    if rendering.is_rendering_error(error):
      raise ImportError(
          f'{rendering.unavailable("dm_control", error)} To run without rendering, set '
          f'{rendering.MUJOCO_GL}=disable.') from error
    raise
  return suite


def all_tasks() -> List[Tuple[str, str]]:
  """(domain, task) pairs of every Control Suite task, sorted."""
  return sorted(_suite().ALL_TASKS)


def parse_name(name: str) -> Tuple[str, str]:
  """Splits '<domain>-<task>' (e.g. 'walker-walk') and checks that the suite has it.

  Raises:
    ValueError: naming `name`, with close matches or the domain's tasks.
  """
  tasks = all_tasks()
  names = [f'{domain}-{task}' for domain, task in tasks]
  domain, separator, task = name.partition('-')
  if separator and (domain, task) in tasks:
    return domain, task
  domains = sorted({d for d, _ in tasks})
  if domain in domains:
    domain_tasks = [t for d, t in tasks if d == domain]
    examples = ', '.join(f'dm_control:{domain}-{t}' for t in domain_tasks)
    raise ValueError(
        f"Unknown Control Suite task 'dm_control:{name}': expected '<domain>-<task>'; domain "
        f'{domain!r} has tasks {", ".join(domain_tasks)} ({examples}).')
  close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
  hint = (f' Close matches: {", ".join("dm_control:" + c for c in close)}.' if close else
          f' Domains: {", ".join(domains)}.')
  raise ValueError(
      f"Unknown Control Suite task 'dm_control:{name}': expected '<domain>-<task>' such as "
      f"'cartpole-swingup' or 'walker-walk'.{hint}")


def _check_positive(value: Any, what: str) -> int:
  if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
    raise ValueError(f'{what} must be a positive int, got {value!r}.')
  return int(value)


class ControlSuiteEnvironment(base.EnvironmentWrapper):
  """A Control Suite environment with `render()` and rlkit's extras.

  Args:
    environment: a `dm_control.rl.control.Environment` (from `suite.load`).
    name: how to call it in messages, e.g. 'dm_control:cartpole-swingup'.
    height, width: default frame size of `render()`.
    camera_id: default camera of `render()`.
  """

  def __init__(self, environment: dm_env.Environment, name: str,
               height: int = DEFAULT_HEIGHT, width: int = DEFAULT_WIDTH,
               camera_id: int = 0):
    super().__init__(environment)
    if not hasattr(environment, 'physics'):
      raise TypeError(f'Expected a Control Suite environment (with .physics), got '
                      f'{type(environment).__name__}.')
    self._name = name
    self._height = _check_positive(height, 'height')
    self._width = _check_positive(width, 'width')
    if not isinstance(camera_id, (numbers.Integral, str)) or isinstance(camera_id, bool):
      raise ValueError(f'camera_id must be an int or a camera name, got {camera_id!r}.')
    self._camera_id = camera_id

  @property
  def name(self) -> str:
    return self._name

  @property
  def physics(self) -> Any:
    return self._environment.physics

  def render(self, height: Optional[int] = None, width: Optional[int] = None,
             camera_id: Optional[int] = None) -> np.ndarray:
    """An (height, width, 3) uint8 frame from `physics.render`.

    Raises:
      RenderingUnavailableError: when no OpenGL context can be made (the
        message names MUJOCO_GL and the system packages needed).
    """
    height = self._height if height is None else _check_positive(height, 'height')
    width = self._width if width is None else _check_positive(width, 'width')
    camera_id = self._camera_id if camera_id is None else camera_id
    if rendering.previous_failure() is not None:
      raise rendering.unavailable(self._name)
    try:
      return self.physics.render(height, width, camera_id=camera_id)
    except ValueError:
      raise
    except Exception as error:  # pylint: disable=broad-except
      raise rendering.unavailable(self._name, error) from error

  def close(self) -> None:
    self.physics.free()
    self._environment.close()

  def get_rng_state(self) -> Dict[str, Any]:
    """The task's random state (initial states, noise), for checkpoints."""
    return {'task_random': self._environment.task.random.get_state()}

  def set_rng_state(self, state: Mapping[str, Any]) -> None:
    """Restores `get_rng_state()`; call it between episodes."""
    if not isinstance(state, Mapping) or 'task_random' not in state:
      raise ValueError(f"Expected a dict from get_rng_state() with 'task_random', got {state!r}.")
    self._environment.task.random.set_state(state['task_random'])

  def __repr__(self) -> str:
    return f'ControlSuiteEnvironment({self._name!r})'


def load(name: str,
         seed: Optional[int] = None,
         task_kwargs: Optional[Mapping[str, Any]] = None,
         environment_kwargs: Optional[Mapping[str, Any]] = None,
         visualize_reward: bool = False,
         render_height: int = DEFAULT_HEIGHT,
         render_width: int = DEFAULT_WIDTH,
         camera_id: int = 0) -> ControlSuiteEnvironment:
  """Loads '<domain>-<task>' with `suite.load(domain, task, task_kwargs={'random': seed})`.

  Args:
    name: '<domain>-<task>', e.g. 'cartpole-swingup', 'walker-walk', 'cheetah-run'.
    seed: seed of the task's random state; None draws one.
    task_kwargs: more task arguments (e.g. {'time_limit': 5.0} in seconds).
    environment_kwargs: arguments of the `control.Environment` (e.g.
      {'flat_observation': True}).
    visualize_reward: colour bodies by reward in rendered frames.
    render_height, render_width, camera_id: defaults of `render()`.
  """
  if not isinstance(name, str):
    raise TypeError(f"name must be a string '<domain>-<task>', got {name!r}.")
  if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
    raise TypeError(f'seed must be an int or None, got {seed!r}.')
  for value, what in ((task_kwargs, 'task_kwargs'), (environment_kwargs, 'environment_kwargs')):
    if value is not None and not isinstance(value, Mapping):
      raise TypeError(f'{what} must be a dict or None, got {value!r}.')
  task_kwargs = dict(task_kwargs or {})
  if 'random' in task_kwargs:
    raise ValueError("Pass the task's seed as seed=..., not as task_kwargs['random'].")
  domain, task = parse_name(name)
  task_kwargs['random'] = None if seed is None else int(seed)
  environment = _suite().load(domain, task, task_kwargs=task_kwargs,
                              environment_kwargs=dict(environment_kwargs or {}),
                              visualize_reward=visualize_reward)
  return ControlSuiteEnvironment(environment, f'dm_control:{name}', height=render_height,
                                 width=render_width, camera_id=camera_id)
