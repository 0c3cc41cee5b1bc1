"""The environments of an experiment: training (one or batched copies), evaluation, video."""

from typing import Any, Optional

from rlkit import specs
from rlkit.environments import batched
from rlkit.environments import subprocess_batched
from rlkit.experiments import config as config_lib


def make_training_environment(config: config_lib.ExperimentConfig) -> Any:
  """One environment, or `num_envs` copies (in worker processes with `env_processes`)."""
  factory = config.environment_factory
  if config.num_envs == 1:
    return factory(config.seed)
  if config.env_processes:
    return subprocess_batched.SubprocessBatchedEnvironment(
        factory, config.num_envs, config.seed, num_processes=config.env_processes)
  return batched.BatchedEnvironment.from_factory(factory, config.num_envs, config.seed)


def single_spec(environment: Any) -> specs.EnvironmentSpec:
  """One copy's spec of a (possibly batched) environment."""
  if isinstance(environment, batched.BatchedEnvironmentBase):
    return environment.single_environment_spec()
  return specs.make_environment_spec(environment)


def rendering_factory(factory: config_lib.EnvironmentFactory) -> config_lib.EnvironmentFactory:
  """The factory making rendering environments (`render_mode='rgb_array'`), when it can."""
  name = getattr(factory, 'name', None)
  if isinstance(name, str) and hasattr(factory, 'kwargs'):
    kwargs = dict(factory.kwargs)
    kwargs['render_mode'] = 'rgb_array'
    return type(factory)(name, **kwargs)
  return factory


def make_environment(factory: Any, seed: int, render: bool = False) -> Any:
  return (rendering_factory(factory) if render else factory)(seed)


def rng_state(environment: Any) -> Optional[Any]:
  """The environment's `get_rng_state()`, or None if it has none."""
  get_state = getattr(environment, 'get_rng_state', None)
  return get_state() if callable(get_state) else None


def set_rng_state(environment: Any, state: Optional[Any]) -> None:
  if state is not None and callable(getattr(environment, 'set_rng_state', None)):
    environment.set_rng_state(state)
