"""Running experiments: one builder, one process or distributed (Acme's `experiments`).

Names are imported lazily, so that `import rlkit.experiments` stays cheap.
"""

import importlib

_LAZY = {
    'make_local_agent': 'rlkit.experiments.local_layout',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
