"""What the continuous-control agents (SAC, TD3, D4PG) share.

Action convention: policies and critics work in the unit box [-1, 1]^d (a
tanh output); `ActionScaler` maps to and from the action spec's
[minimum, maximum]. Actors return actions in the spec's bounds and dtype
(what the replay stores); learners map replayed actions back to [-1, 1].
Exploration noise (TD3's and D4PG's sigma) is therefore relative to half
the action range, as in Stable-Baselines3.

Names are imported lazily, so importing a config loads neither torch nor Reverb.
"""

import importlib

_LAZY = {
    'ActionScaler': 'rlkit.agents.continuous.networks',
    'ContinuousActor': 'rlkit.agents.continuous.actor',
    'ContinuousBuilder': 'rlkit.agents.continuous.builder_base',
    'DeterministicPolicy': 'rlkit.agents.continuous.policies',
    'TanhGaussianPolicy': 'rlkit.agents.continuous.policies',
    'unsupported_reason': 'rlkit.agents.continuous.spec_checks',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
