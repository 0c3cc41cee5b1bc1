"""The base class of environment wrappers (Acme's `wrappers.EnvironmentWrapper`)."""

from typing import Any, Callable, Sequence

import dm_env


class EnvironmentWrapper(dm_env.Environment):
  """Wraps a dm_env environment and forwards every call to it.

  Subclasses override only what they change. Attributes the wrapper does not
  define (e.g. `GridWorld.render` or a gymnasium adapter's `environment`) are
  looked up on the wrapped environment.

  Args:
    environment: the dm_env environment to wrap.

  Raises:
    TypeError: if `environment` is not a `dm_env.Environment`.
  """

  def __init__(self, environment: dm_env.Environment):
    if not isinstance(environment, dm_env.Environment):
      raise TypeError(
          f'{type(self).__name__} wraps a dm_env.Environment, got '
          f'{type(environment).__name__}: {environment!r}.')
    self._environment = environment

  def __getattr__(self, name: str) -> Any:
    if name.startswith('__') or name == '_environment':
      raise AttributeError(
          f'{type(self).__name__!r} object has no attribute {name!r}')
    return getattr(self._environment, name)

  @property
  def environment(self) -> dm_env.Environment:
    """The wrapped environment."""
    return self._environment

  def reset(self) -> dm_env.TimeStep:
    return self._environment.reset()

  def step(self, action: Any) -> dm_env.TimeStep:
    return self._environment.step(action)

  def observation_spec(self) -> Any:
    return self._environment.observation_spec()

  def action_spec(self) -> Any:
    return self._environment.action_spec()

  def reward_spec(self) -> Any:
    return self._environment.reward_spec()

  def discount_spec(self) -> Any:
    return self._environment.discount_spec()

  def render(self, *args: Any, **kwargs: Any) -> Any:
    """Forwards to the wrapped environment's `render()`."""
    return self._environment.render(*args, **kwargs)

  def close(self) -> None:
    return self._environment.close()

  def __repr__(self) -> str:
    return f'{type(self).__name__}({self._environment!r})'


def wrap_all(
    environment: dm_env.Environment,
    wrappers: Sequence[Callable[[dm_env.Environment], dm_env.Environment]],
) -> dm_env.Environment:
  """Applies `wrappers` in order: the first one is the innermost."""
  for wrapper in wrappers:
    environment = wrapper(environment)
  return environment
