"""DQN: target network, double Q, n-step returns, prioritized replay.

Names are imported lazily, so `from rlkit.agents.dqn import config` (e.g. to
define launcher flags) loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'BatchedDQNActor': 'rlkit.agents.dqn.batched_actor',
    'DQNActor': 'rlkit.agents.dqn.actor',
    'DQNBuilder': 'rlkit.agents.dqn.builder',
    'DQNConfig': 'rlkit.agents.dqn.config',
    'make_q_network': 'rlkit.agents.dqn.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
