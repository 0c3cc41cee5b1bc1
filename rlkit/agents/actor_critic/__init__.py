"""Advantage actor-critic (A2C): n-step or full-episode bootstrapped targets.

Names are imported lazily, so `from rlkit.agents.actor_critic import config`
(e.g. to define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'ActorCriticBuilder': 'rlkit.agents.actor_critic.builder',
    'ActorCriticConfig': 'rlkit.agents.actor_critic.config',
    'ActorCriticLearner': 'rlkit.agents.actor_critic.learning',
    'ActorCriticNetwork': 'rlkit.agents.actor_critic.networks',
    'make_actor_critic_network': 'rlkit.agents.actor_critic.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
