"""Adders write an actor's experience to Reverb tables.

`from rlkit.adders import transition` (NStepTransitionAdder) and
`from rlkit.adders import episode` (EpisodeAdder, SequenceAdder); the classes
are also reachable as `rlkit.adders.NStepTransitionAdder` etc.
"""

import importlib

from rlkit.adders.base import Adder
from rlkit.adders.base import Step

_LAZY = {
    'NStepTransitionAdder': 'rlkit.adders.transition',
    'EpisodeAdder': 'rlkit.adders.episode',
    'SequenceAdder': 'rlkit.adders.episode',
}


def __getattr__(name):
  # Lazy, because rlkit.replay imports rlkit.adders.base.
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
