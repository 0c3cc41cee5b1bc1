"""QR-DQN (Dabney et al., 2018): DQN's learner, actor and replay with a quantile head and loss.

Names are imported lazily (see `rlkit.agents.dqn`).
"""

import importlib

_LAZY = {
    'QRDQNBuilder': 'rlkit.agents.qr_dqn.builder',
    'QRDQNConfig': 'rlkit.agents.qr_dqn.config',
    'QuantileNetwork': 'rlkit.agents.qr_dqn.networks',
    'QuantileRegressionLoss': 'rlkit.agents.qr_dqn.losses',
    'make_quantile_network': 'rlkit.agents.qr_dqn.networks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
