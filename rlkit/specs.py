"""Environment specs, as in `acme.specs`."""

from typing import NamedTuple

import dm_env
from dm_env import specs as dm_specs

from rlkit.types import NestedSpec

Array = dm_specs.Array
BoundedArray = dm_specs.BoundedArray
DiscreteArray = dm_specs.DiscreteArray


class EnvironmentSpec(NamedTuple):
  """The specs of everything an environment emits or accepts."""
  observations: NestedSpec
  actions: NestedSpec
  rewards: NestedSpec
  discounts: NestedSpec


def make_environment_spec(environment: dm_env.Environment) -> EnvironmentSpec:
  """Returns the `EnvironmentSpec` of a dm_env environment."""
  if not isinstance(environment, dm_env.Environment):
    raise TypeError(
        f'make_environment_spec expects a dm_env.Environment, got '
        f'{type(environment).__name__}.')
  return EnvironmentSpec(
      observations=environment.observation_spec(),
      actions=environment.action_spec(),
      rewards=environment.reward_spec(),
      discounts=environment.discount_spec())
