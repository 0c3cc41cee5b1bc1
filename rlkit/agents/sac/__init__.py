"""SAC: tanh-Gaussian policy, twin critics, automatic entropy temperature.

Names are imported lazily, so `from rlkit.agents.sac import config` (e.g. to
define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'SACBuilder': 'rlkit.agents.sac.builder',
    'SACConfig': 'rlkit.agents.sac.config',
    'SACLearner': 'rlkit.agents.sac.learning',
    'SACNetworks': 'rlkit.agents.sac.networks',
    'make_networks': 'rlkit.agents.sac.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
