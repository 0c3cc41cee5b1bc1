"""Neural Fitted Q (seed 001): a preset of DQN's config and a loss with an online-network target.

Names are imported lazily (see `rlkit.agents.dqn`).
"""

import importlib

_LAZY = {
    'NFQBuilder': 'rlkit.agents.nfq.builder',
    'NFQConfig': 'rlkit.agents.nfq.config',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
