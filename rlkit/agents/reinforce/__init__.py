"""REINFORCE: Monte-Carlo policy gradient on whole episodes from a Reverb queue.

Names are imported lazily, so `from rlkit.agents.reinforce import config` (e.g.
to define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'CategoricalActor': 'rlkit.agents.reinforce.actor',
    'CategoricalPolicy': 'rlkit.agents.reinforce.policy',
    'EpisodeQueueBuilder': 'rlkit.agents.reinforce.episode_builder',
    'REINFORCEBuilder': 'rlkit.agents.reinforce.builder',
    'REINFORCEConfig': 'rlkit.agents.reinforce.config',
    'REINFORCELearner': 'rlkit.agents.reinforce.learning',
    'REINFORCENetworks': 'rlkit.agents.reinforce.builder',
    'make_policy_network': 'rlkit.agents.reinforce.networks',
    'make_value_network': 'rlkit.agents.reinforce.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
