"""TD3 hyper-parameters, with where each default comes from.

Defaults follow Fujimoto et al. 2018 ("Addressing Function Approximation
Error in Actor-Critic Methods") and Acme's / Stable-Baselines3's TD3: Adam
3e-4, batch 256, tau 0.005, policy delay 2, target smoothing noise 0.2
clipped at 0.5, exploration noise 0.1.
"""

import dataclasses
from typing import Tuple

from rlkit.agents import config_fields

field = config_fields.field


@dataclasses.dataclass
class TD3Config:
  """Configuration of the TD3 agent (networks, learner, replay, exploration)."""
  # Networks.
  policy_hidden_sizes: Tuple[int, ...] = field(
      (256, 256), 'Hidden layers of the deterministic policy MLP (Acme, SB3, CleanRL: '
      '256, 256; paper: 400, 300).', low=1)
  critic_hidden_sizes: Tuple[int, ...] = field(
      (256, 256), 'Hidden layers of each twin Q-network MLP (Acme, SB3, CleanRL: 256, 256; '
      'paper: 400, 300).', low=1)

  # Learner.
  policy_learning_rate: float = field(
      3e-4, 'Adam learning rate of the policy (Acme, SB3, CleanRL: 3e-4; paper: 1e-3).',
      low=0.0, low_inclusive=False)
  critic_learning_rate: float = field(
      3e-4, 'Adam learning rate of the twin critics (Acme, SB3, CleanRL: 3e-4; paper: 1e-3).',
      low=0.0, low_inclusive=False)
  discount: float = field(0.99, 'Discount gamma (paper, Acme: 0.99).', low=0.0, high=1.0)
  tau: float = field(
      0.005, 'Polyak rate of the target policy and critics, applied at each delayed '
      'policy update (paper, Acme: 0.005).', low=0.0, high=1.0, low_inclusive=False)
  policy_delay: int = field(
      2, 'Critic steps per policy and target update (paper, Acme "delay": 2).', low=1)
  target_sigma: float = field(
      0.2, 'Standard deviation of the target-policy smoothing noise, in units of half the '
      'action range (paper, Acme: 0.2).', low=0.0)
  noise_clip: float = field(
      0.5, 'The smoothing noise is clipped to +-noise_clip (paper, Acme: 0.5).', low=0.0)
  batch_size: int = field(256, 'Transitions per learner step (Acme, SB3: 256; paper: 100).',
                          low=1)
  n_step: int = field(1, 'Steps of the n-step return written by the adder (paper, Acme: 1).',
                      low=1)
  device: str = config_fields.device_field()

  # Replay.
  min_replay_size: int = field(
      1000, 'Environment steps observed before learning starts (Acme: 1000; paper: '
      '25000 random steps; SB3: 100).', low=1)
  random_start_steps: int = field(
      0, 'Environment steps each collecting actor acts uniformly at random in the '
      'action bounds before it uses the policy (Acme: none; paper: 10000 on HalfCheetah '
      'and Ant, 1000 elsewhere; SB3: learning_starts, 100); 0 for none.', low=0)
  max_replay_size: int = field(1_000_000, 'Replay capacity, FIFO (paper, Acme: 1e6).', low=1)
  samples_per_insert: float = field(
      256.0, 'Sampled transitions per inserted one; samples_per_insert / batch_size '
      'learner steps per environment step (Acme: 256, one step per environment step at '
      'batch 256).', low=0.0, low_inclusive=False)
  samples_per_insert_tolerance_rate: float = config_fields.tolerance_rate_field()
  replay_layout: str = config_fields.replay_layout_field()
  prefetch_size: int = config_fields.prefetch_size_field()

  # Acting.
  sigma: float = field(
      0.1, 'Standard deviation of the Gaussian exploration noise, in units of half the '
      'action range (paper, Acme: 0.1).', low=0.0)
  variable_update_period: int = config_fields.variable_update_period_field(
      1000, 'Acme: 1000.')

  def __post_init__(self):
    self.policy_hidden_sizes = tuple(self.policy_hidden_sizes)
    self.critic_hidden_sizes = tuple(self.critic_hidden_sizes)
    config_fields.validate(self)
