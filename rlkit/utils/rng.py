"""Capture and restore the random number generators a run depends on.

Checkpoints store these so a resumed run draws the same random numbers it
would have drawn without the interruption (single thread, fixed seeds).
"""

import random
from typing import Any, Dict, Optional

import numpy as np


def seed_everything(seed: int) -> None:
  """Seeds Python's, numpy's global and (when imported) torch's generators."""
  if not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f'seed must be a non-negative integer, got {seed!r}.')
  random.seed(seed)
  np.random.seed(seed % 2**32)
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  torch.manual_seed(seed)


def get_rng_states() -> Dict[str, Any]:
  """Returns the states of Python's, numpy's global and torch's CPU generators."""
  states = {'python': random.getstate(), 'numpy': np.random.get_state()}
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    return states
  states['torch'] = torch.get_rng_state()
  return states


def set_rng_states(states: Optional[Dict[str, Any]]) -> None:
  """Restores states returned by `get_rng_states` (missing entries are skipped)."""
  if not states:
    return
  if 'python' in states:
    python_state = states['python']
    # A JSON or pickle round trip may turn the inner tuple into a list.
    random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))
  if 'numpy' in states:
    np.random.set_state(tuple(states['numpy']))
  if 'torch' in states:
    import torch  # pylint: disable=g-import-not-at-top
    torch.set_rng_state(torch.as_tensor(states['torch'], dtype=torch.uint8))
