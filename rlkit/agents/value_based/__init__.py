"""What the value-based agents share: the learner, the loss objects, the builder base.

Names are imported lazily (see `rlkit.agents.dqn`).
"""

import importlib

_LAZY = {
    'DoubleQLearning': 'rlkit.agents.value_based.losses',
    'LossExtra': 'rlkit.agents.value_based.losses',
    'NFQLoss': 'rlkit.agents.value_based.losses',
    'NStepAndOneStep': 'rlkit.agents.value_based.losses',
    'QLearning': 'rlkit.agents.value_based.losses',
    'ValueBasedBuilder': 'rlkit.agents.value_based.builder',
    'ValueLearner': 'rlkit.agents.value_based.learning',
    'WithOneStepLoss': 'rlkit.agents.value_based.losses',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
