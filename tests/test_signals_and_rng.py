"""Terminator turns signals into a flag; RNG states round-trip."""

import os
import random
import signal

import numpy as np
import pytest
import torch

from rlkit.utils import rng
from rlkit.utils import signals


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_signal_sets_the_flag_instead_of_killing(signum):
  previous = signal.getsignal(signum)
  with signals.Terminator() as terminator:
    assert not terminator.requested
    os.kill(os.getpid(), signum)
    assert terminator.requested
    assert terminator.signal_name == signal.Signals(signum).name
  assert signal.getsignal(signum) == previous


def test_rng_states_round_trip():
  rng.seed_everything(3)
  states = rng.get_rng_states()
  first = (random.random(), np.random.rand(), torch.rand(1).item())
  random.random(), np.random.rand(), torch.rand(1)
  rng.set_rng_states(states)
  assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_seed_everything_rejects_bad_seeds():
  with pytest.raises(ValueError, match='-1'):
    rng.seed_everything(-1)
