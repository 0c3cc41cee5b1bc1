"""TD3: twin critics, delayed policy updates, target-policy smoothing.

Names are imported lazily, so `from rlkit.agents.td3 import config` (e.g. to
define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'TD3Builder': 'rlkit.agents.td3.builder',
    'TD3Config': 'rlkit.agents.td3.config',
    'TD3Learner': 'rlkit.agents.td3.learning',
    'TD3Networks': 'rlkit.agents.td3.networks',
    'make_networks': 'rlkit.agents.td3.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
