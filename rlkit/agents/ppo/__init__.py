"""PPO: clipped surrogate, GAE, value loss, entropy bonus, observation normalization.

Names are imported lazily, so `from rlkit.agents.ppo import config` (e.g. to
define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'PPOActor': 'rlkit.agents.ppo.actor',
    'PPOBuilder': 'rlkit.agents.ppo.builder',
    'PPOConfig': 'rlkit.agents.ppo.config',
    'PPOLearner': 'rlkit.agents.ppo.learning',
    'PPONetworks': 'rlkit.agents.ppo.networks',
    'PPOPolicy': 'rlkit.agents.ppo.actor',
    'RolloutAdder': 'rlkit.agents.ppo.rollout',
    'RolloutReader': 'rlkit.agents.ppo.rollout',
    'generalized_advantage_estimation': 'rlkit.agents.ppo.learning',
    'make_networks': 'rlkit.agents.ppo.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
