"""Which environment specs the continuous-control agents can act in."""

from typing import Optional

import numpy as np

from rlkit import specs

DISCRETE_AGENTS = 'dqn, nfq, qr_dqn, reinforce, actor_critic'


def unsupported_reason(environment_spec: specs.EnvironmentSpec, agent: str) -> Optional[str]:
  """None if `agent` can act in `environment_spec`, else one sentence saying why not.

  The agents need a bounded, finite, float, 1-D action spec (`BoundedArray`)
  and one flat (1-D) float observation array.
  """
  actions = environment_spec.actions
  if isinstance(actions, specs.DiscreteArray) or not isinstance(actions, specs.BoundedArray):
    return (f'{agent} needs bounded continuous actions (a float BoundedArray); got '
            f'{actions!r}. Agents for discrete actions: {DISCRETE_AGENTS}.')
  if not np.issubdtype(actions.dtype, np.floating) or len(actions.shape) != 1:
    return (f'{agent} needs a 1-D float BoundedArray of actions; got {actions!r}. '
            f'Agents for discrete actions: {DISCRETE_AGENTS}.')
  low = np.broadcast_to(actions.minimum, actions.shape)
  high = np.broadcast_to(actions.maximum, actions.shape)
  if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
    return (f'{agent} needs finite action bounds with minimum < maximum; got {actions!r}.')
  observations = environment_spec.observations
  if (not isinstance(observations, specs.Array) or len(observations.shape) != 1
      or not np.issubdtype(observations.dtype, np.floating)):
    return (f'{agent} needs one flat float observation array of shape (d,); got '
            f'{observations!r}.')
  return None


def check_supported(environment_spec: specs.EnvironmentSpec, agent: str) -> None:
  """Raises ValueError with `unsupported_reason` when there is one."""
  if not isinstance(environment_spec, specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
  reason = unsupported_reason(environment_spec, agent)
  if reason:
    raise ValueError(reason)
