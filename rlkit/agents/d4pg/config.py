"""D4PG hyper-parameters, with where each default comes from.

Defaults follow Acme's D4PG (`acme/agents/jax/d4pg`, the reference
implementation of Barth-Maron et al. 2018): Adam 1e-4, batch 256, 5-step
returns, exploration noise 0.3, 51 atoms on [-150, 150] (the control suite's
returns, rewards in [0, 1]), gradient clipping at global norm 40.
"""

import dataclasses
from typing import Tuple

from rlkit.agents import config_fields

field = config_fields.field


@dataclasses.dataclass
class D4PGConfig:
  """Configuration of the D4PG agent (networks, learner, replay, exploration)."""
  # Networks.
  policy_hidden_sizes: Tuple[int, ...] = field(
      (256, 256, 256), 'Hidden layers of the deterministic policy MLP (Acme examples: '
      '256, 256, 256).', low=1)
  critic_hidden_sizes: Tuple[int, ...] = field(
      (512, 512, 256), 'Hidden layers of the distributional critic MLP (Acme examples: '
      '512, 512, 256).', low=1)
  v_min: float = field(
      -150.0, 'Lowest atom of the value support (Acme: -150); choose it to cover the '
      "environment's discounted returns.")
  v_max: float = field(150.0, 'Highest atom of the value support (Acme: 150).')
  num_atoms: int = field(51, 'Atoms of the categorical value distribution (paper, Acme: 51).',
                         low=2)

  # Learner.
  policy_learning_rate: float = field(
      1e-4, 'Adam learning rate of the policy (paper, Acme: 1e-4).', low=0.0,
      low_inclusive=False)
  critic_learning_rate: float = field(
      1e-4, 'Adam learning rate of the critic (paper, Acme: 1e-4).', low=0.0,
      low_inclusive=False)
  max_gradient_norm: float = field(
      40.0, 'Clip each network\'s global gradient norm to this; 0 disables (Acme '
      '"clipping": 40).', low=0.0)
  discount: float = field(0.99, 'Discount gamma (paper, Acme: 0.99).', low=0.0, high=1.0)
  tau: float = field(
      0.005, 'Polyak rate of the target policy and critic, every learner step (Acme copies '
      'them every 100 steps instead; the paper uses Polyak averaging).', low=0.0, high=1.0,
      low_inclusive=False)
  batch_size: int = field(256, 'Transitions per learner step (paper, Acme: 256).', low=1)
  n_step: int = field(5, 'Steps of the n-step return written by the adder (Acme: 5).', low=1)
  device: str = config_fields.device_field()

  # Replay.
  min_replay_size: int = field(
      1000, 'Environment steps observed before learning starts (Acme: 1000).', low=1)
  random_start_steps: int = field(
      0, 'Environment steps each collecting actor acts uniformly at random in the '
      'action bounds before it uses the policy (Acme, paper: none); 0 for none.', low=0)
  max_replay_size: int = field(1_000_000, 'Replay capacity, FIFO (paper, Acme: 1e6).', low=1)
  samples_per_insert: float = field(
      32.0, 'Sampled transitions per inserted one; samples_per_insert / batch_size '
      'learner steps per environment step (Acme: 32).', low=0.0, low_inclusive=False)
  samples_per_insert_tolerance_rate: float = config_fields.tolerance_rate_field()
  replay_layout: str = config_fields.replay_layout_field()
  prefetch_size: int = config_fields.prefetch_size_field('Acme: 4')

  # Acting.
  sigma: float = field(
      0.3, 'Standard deviation of the Gaussian exploration noise, in units of half the '
      'action range (Acme: 0.3).', low=0.0)
  variable_update_period: int = config_fields.variable_update_period_field(
      1000, 'Acme: 1000.')

  def __post_init__(self):
    self.policy_hidden_sizes = tuple(self.policy_hidden_sizes)
    self.critic_hidden_sizes = tuple(self.critic_hidden_sizes)
    config_fields.validate(self)
    if not self.v_min < self.v_max:
      raise ValueError(f'D4PGConfig needs v_min < v_max, got v_min={self.v_min} and '
                       f'v_max={self.v_max}.')
