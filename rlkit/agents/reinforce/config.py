"""REINFORCE hyper-parameters, with where each default comes from."""

import dataclasses
from typing import Tuple

from rlkit.agents import config_fields
from rlkit.agents import pg_data

field = config_fields.field


@dataclasses.dataclass
class REINFORCEConfig(config_fields.EpisodeQueueConfig):
  """Configuration of the REINFORCE agent (Monte-Carlo policy gradient).

  The defaults are tuned for wall time to solve CartPole
  (benchmarks/pg_cartpole.py); seed 001's own settings are noted per field.

  Schedules: none. The learning rate is constant (as seed 001's) and nothing
  else decays, so the agent needs no horizon: the one a runner hands over
  (the run's step budget, or None) is ignored.
  """
  # Networks.
  hidden_sizes: Tuple[int, ...] = field(
      (128,), 'Hidden layer sizes of the policy MLP (seed 001: one layer of 128).',
      low=1)
  dropout: float = field(
      0.6, 'Dropout after each hidden layer of the policy, also while '
      'collecting (seed 001: 0.6); the greedy evaluation policy has none.',
      low=0.0, high=1.0, high_inclusive=False)
  use_baseline: bool = field(
      False, 'Subtract a learned state-value baseline V(o_t) from the returns '
      '(seed 001 has none).')
  baseline_hidden_sizes: Tuple[int, ...] = field(
      (128,), 'Hidden layer sizes of the baseline MLP.', low=1)
  baseline_cost: float = field(
      0.5, 'Weight of the baseline loss 0.5 * (G - V)^2 in the total loss.',
      low=0.0)

  # Learner.
  learning_rate: float = field(
      1e-2, 'Adam learning rate (seed 001: 0.01).', low=0.0, low_inclusive=False)
  discount: float = field(
      0.99, 'Discount gamma of the returns G_t = sum_n gamma^(n-t) r_n '
      '(seed 001: 0.99).', low=0.0, high=1.0)
  standardize_returns: str = field(
      'episode', 'Standardize the returns (advantages with a baseline) to mean '
      '0 and std 1: per episode (seed 001), over the batch, or none.',
      choices=pg_data.STANDARDIZE_MODES)
  entropy_cost: float = field(
      0.0, 'Weight of the entropy bonus (subtracted from the loss).', low=0.0)
  max_gradient_norm: float = field(
      1.0, 'Clip the global gradient norm to this; 0 disables (seed 001 '
      'clamps each gradient element to [-1, 1] instead). 1.0 avoids the '
      'occasional collapse to a deterministic bad policy at lr 0.01.', low=0.0)
  episodes_per_update: int = field(
      1, 'Episodes per learner step: one update per episode (seed 001) or '
      'per batch of episodes.', low=1)

  # Replay.
  max_episode_length: int = config_fields.max_episode_length_field()
  queue_size: int = config_fields.queue_size_field()

  # Actors and device.
  variable_update_period: int = config_fields.episodic_variable_update_period_field()
  device: str = config_fields.episodic_device_field()

  def __post_init__(self):
    self.hidden_sizes = tuple(self.hidden_sizes)
    self.baseline_hidden_sizes = tuple(self.baseline_hidden_sizes)
    config_fields.validate(self)
    self.check_queue_size()
