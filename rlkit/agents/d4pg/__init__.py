"""D4PG: distributional critic, n-step returns, deterministic policy with Gaussian noise.

Names are imported lazily, so `from rlkit.agents.d4pg import config` (e.g. to
define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'D4PGBuilder': 'rlkit.agents.d4pg.builder',
    'D4PGConfig': 'rlkit.agents.d4pg.config',
    'D4PGLearner': 'rlkit.agents.d4pg.learning',
    'D4PGNetworks': 'rlkit.agents.d4pg.networks',
    'categorical_projection': 'rlkit.agents.d4pg.learning',
    'make_networks': 'rlkit.agents.d4pg.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
