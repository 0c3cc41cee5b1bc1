"""PPO hyper-parameters, with where each default comes from.

References: Schulman et al. 2017 (the paper), CleanRL's `ppo.py` (discrete)
and `ppo_continuous_action.py` (continuous), and Stable-Baselines3's `PPO`
(SB3). Where they differ, the field says which one the default follows.
"""

import dataclasses
from typing import Tuple

from rlkit.agents import config_fields

field = config_fields.field


@dataclasses.dataclass
class PPOConfig:
  """Configuration of the PPO agent (rollouts, update, networks)."""
  # Collection.
  unroll_length: int = field(
      128, 'Transitions of one environment copy per rollout item (CleanRL ppo.py '
      'num_steps: 128; SB3 n_steps: 2048; CleanRL continuous: 2048). Rollouts '
      'cross episode boundaries.', low=1)
  rollouts_per_update: int = field(
      16, 'Rollout items per learner step; the batch is rollouts_per_update * '
      'unroll_length transitions (2048 by default, as SB3 and CleanRL '
      "continuous). Usually the runner's num_envs (or a multiple of it).", low=1)
  queue_size: int = field(
      0, 'Capacity of the Reverb queue in rollouts; 0 means 2 * '
      'rollouts_per_update. A single process needs at least num_envs + '
      'rollouts_per_update - 1 (make_actor checks).', low=0)
  variable_update_period: int = config_fields.variable_update_period_field(
      128, 'A distributed actor pulls about once per rollout at the default unroll_length.')

  # Returns and advantages.
  discount: float = field(
      0.99, 'Discount gamma (CleanRL, SB3: 0.99).', low=0.0, high=1.0)
  gae_lambda: float = field(
      0.95, 'GAE lambda (CleanRL, SB3: 0.95).', low=0.0, high=1.0)
  normalize_advantages: bool = field(
      True, 'Standardize advantages per minibatch (CleanRL norm_adv, SB3 '
      'normalize_advantage: True).')

  # Update.
  num_epochs: int = field(
      10, 'Passes over each batch (SB3 n_epochs and CleanRL continuous: 10; '
      'CleanRL discrete update_epochs: 4).', low=1)
  minibatch_size: int = field(
      64, 'Transitions per gradient step (SB3 batch_size: 64; CleanRL '
      'continuous: 2048 / 32 minibatches = 64). The last minibatch of an epoch '
      'is smaller when it does not divide the batch.', low=1)
  learning_rate: float = field(
      3e-4, 'Adam learning rate (CleanRL, SB3: 3e-4).', low=0.0, low_inclusive=False)
  learning_rate_final_fraction: float = field(
      0.01, 'With a known horizon the learning rate decays linearly over the '
      "run's learner steps to learning_rate * this (CleanRL anneals to 0, SB3 "
      'keeps it constant; the project rule keeps it > 0); 1 keeps it constant, '
      'and it is constant when the horizon is unknown.', low=0.0, high=1.0)
  adam_epsilon: float = field(
      1e-5, 'Adam epsilon (CleanRL and SB3: 1e-5).', low=0.0, low_inclusive=False)
  clip_epsilon: float = field(
      0.2, 'Clipping range of the probability ratio (paper, CleanRL, SB3: 0.2).',
      low=0.0, low_inclusive=False)
  value_clip_epsilon: float = field(
      0.2, 'Clip the value prediction to old value +- this in the value loss '
      '(CleanRL clip_vloss with clip_coef 0.2); 0 disables (SB3 clip_range_vf=None).',
      low=0.0)
  value_loss_coef: float = field(
      0.5, 'Weight of the value loss (CleanRL vf_coef, SB3: 0.5).', low=0.0)
  entropy_coef: float = field(
      0.0, 'Weight of the entropy bonus (SB3 and CleanRL continuous: 0.0; '
      'CleanRL discrete: 0.01).', low=0.0)
  max_gradient_norm: float = field(
      0.5, 'Clip the global gradient norm (CleanRL, SB3: 0.5); 0 disables.', low=0.0)
  target_kl: float = field(
      0.0, 'Stop the epochs of a batch early once the approximate KL exceeds '
      'this (CleanRL target_kl, SB3: None); 0 disables.', low=0.0)

  # Networks.
  hidden_sizes: Tuple[int, ...] = field(
      (64, 64), 'Hidden layers of the separate policy and value MLPs, tanh '
      '(CleanRL, SB3: (64, 64)).', low=1)
  initial_log_std: float = field(
      0.0, 'Initial state-independent log standard deviation of the Gaussian '
      'policy (CleanRL zeros, SB3 log_std_init: 0.0).')
  normalize_observations: bool = field(
      True, 'Normalize observations by their running mean and variance, updated '
      'from every collected batch (CleanRL continuous NormalizeObservation; '
      'SB3 VecNormalize(norm_reward=False)).')
  observation_clip: float = field(
      10.0, 'Clip normalized observations to +- this (CleanRL, SB3 VecNormalize: '
      '10); 0 disables.', low=0.0)
  device: str = config_fields.device_field()

  def __post_init__(self):
    self.hidden_sizes = tuple(self.hidden_sizes)
    config_fields.validate(self)
    if self.queue_size and self.queue_size < self.rollouts_per_update:
      raise ValueError(
          f'queue_size={self.queue_size} must be 0 or >= rollouts_per_update='
          f'{self.rollouts_per_update}: a batch must fit in the queue.')

  @property
  def batch_size(self) -> int:
    """Transitions per learner step."""
    return self.rollouts_per_update * self.unroll_length

  @property
  def table_size(self) -> int:
    """The queue's capacity in rollouts."""
    return self.queue_size or 2 * self.rollouts_per_update
