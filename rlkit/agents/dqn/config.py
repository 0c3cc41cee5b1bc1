"""DQN hyper-parameters, with where each default comes from."""

import dataclasses
import re
from typing import Tuple

from rlkit.agents import config_fields

field = config_fields.field


@dataclasses.dataclass
class DQNConfig:
  """Configuration of the DQN agent (learner, replay, exploration).

  The defaults solve CartPole-v1 quickly (benchmarks/dqn_cartpole.py) and
  GridWorld; the seeds' own settings are noted per field.
  """
  # Network.
  hidden_sizes: Tuple[int, ...] = field(
      (128, 128), 'Hidden layer sizes of the Q-network MLP (after the conv torso '
      'for image observations). Seeds: 001 GridWorld (50, 50), 003 (24, 24), '
      'rl-zoo CartPole (256, 256).', low=1)
  conv_channels: Tuple[int, ...] = field(
      (16, 32), 'Channels of the two conv layers for image (H x W x C) '
      'observations such as GridWorld GRID (seed 001: (32, 64); half of it is '
      'as good on 9 x 10 grids and twice as fast on CPU).', low=1)

  # Learner.
  learning_rate: float = field(
      3e-3, 'Adam learning rate (seeds 002/003: 1e-3; seed 001 DQN: 5e-4; rl-zoo '
      'CartPole: 2.3e-3).',
      low=0.0, low_inclusive=False)
  learning_rate_final_fraction: float = field(
      0.1, 'With a horizon (the run\'s step budget), the learning rate decays '
      'linearly to learning_rate * this over the run\'s learner steps and then '
      "holds (a small final rate keeps CartPole's greedy policy from collapsing "
      'late; 0.1 reached a greedy 400 on CartPole within 12500 steps for seeds '
      '0-2, 0.01 and 0.03 later or not at all for seed 0); 0 ends at 0; 1, or '
      'no horizon, keeps it constant.',
      low=0.0, high=1.0)
  batch_size: int = field(
      64, 'Transitions per learner step (seed 002: 64; seed 004: 32).', low=1)
  discount: float = field(
      0.99, 'Agent discount gamma; the target is R + gamma * D * V(next) with D '
      'the environment discounts the adder accumulated.', low=0.0, high=1.0)
  n_step: int = field(
      3, 'Steps of the n-step return written by the adder (seed 004: 3).', low=1)
  add_one_step_loss: bool = field(
      False, 'With n_step > 1, also add the 1-step TD loss from a second '
      '(1-step) table to the n-step loss (seed 004).')
  loss: str = field('huber', 'TD loss: huber (seed 004 smooth L1) or mse '
                    '(seeds 001-003).', choices=('huber', 'mse'))
  huber_delta: float = field(1.0, 'Huber loss threshold.', low=0.0,
                             low_inclusive=False)
  max_gradient_norm: float = field(
      10.0, 'Clip the global gradient norm to this; 0 disables clipping.',
      low=0.0)
  double_q: bool = field(
      True, 'Double Q-learning: online net selects, target net evaluates.')
  target_update_period: int = field(
      100, 'Learner steps between target network updates (seeds 003/004: '
      '100; seed 001: 25).', low=1)
  tau: float = field(
      1.0, 'Target update: target <- tau * online + (1 - tau) * target every '
      'target_update_period steps; 1 is a hard copy, e.g. tau=0.005 with '
      'target_update_period=1 is Polyak averaging.', low=0.0, high=1.0,
      low_inclusive=False)

  # Replay.
  min_replay_size: int = field(
      1000, 'Environment steps observed before learning starts (seed 002 '
      'initial collection: 1000).', low=1)
  max_replay_size: int = field(
      100_000, 'Replay capacity, FIFO (seed 002: 100000; seed 004: 2000).',
      low=1)
  samples_per_insert: float = field(
      32.0, 'Sampled transitions per inserted one: the agent runs '
      'samples_per_insert / batch_size learner steps per environment step '
      '(seeds 001-004 train every step: samples_per_insert = batch_size).',
      low=0.0, low_inclusive=False)
  samples_per_insert_tolerance_rate: float = config_fields.tolerance_rate_field()
  prioritized: bool = field(
      False, 'Prioritized replay with importance weights and priority updates '
      '(|TD error|).')
  priority_exponent: float = field(
      0.6, 'Prioritized replay alpha.', low=0.0, high=1.0)
  importance_sampling_exponent: float = field(
      0.2, 'Prioritized replay beta (importance weights (N P(i))^-beta).',
      low=0.0, high=1.0)
  replay_layout: str = config_fields.replay_layout_field()
  prefetch_size: int = config_fields.prefetch_size_field()
  batches_per_fetch: int = field(
      4, 'Batches the replay iterator draws from Reverb in one request and cuts '
      'into views: one TensorFlow call per 4 learner steps (benchmarks/overhead.py: '
      '1.2x the steps/s of 1 at batch 64 on 2 cores). Used only where the rate '
      'limiter lets the sampler run that far ahead (else 1).', low=1)
  device: str = config_fields.device_field(
      'actors sharing the networks act on it too.')
  variable_update_period: int = config_fields.variable_update_period_field(
      1000, "Acme's distributed agents pull every 1000 actor steps.")

  # Exploration.
  epsilon: float = field(
      0.05, 'Constant epsilon of the epsilon-greedy collect policy, used when '
      'epsilon_decay_fraction is 0 (seed 001: NFQ 0.6, DQN 0.25).',
      low=0.0, high=1.0)
  epsilon_init: float = field(
      1.0, 'Initial epsilon of the linear decay (seeds 000/003/004: 1.0).',
      low=0.0, high=1.0)
  epsilon_final: float = field(
      0.05, 'Final epsilon of the linear decay (seed 000: 0.01; seed 004: 0.1).',
      low=0.0, high=1.0)
  epsilon_decay_fraction: float = field(
      0.1, 'Fraction of the training steps over which epsilon decays linearly '
      'from epsilon_init to epsilon_final; 0 keeps `epsilon` constant '
      '(seeds 000/003: 0.1).', low=0.0, high=1.0)
  epsilon_decay_steps: int = field(
      10_000, 'Steps of the epsilon decay when the run has no horizon (the '
      'library API without a step budget, or an episode budget): epsilon then '
      'decays over this fixed warm-up and holds epsilon_final (10000: a tenth '
      'of a 100k-step run, like epsilon_decay_fraction=0.1).', low=0)

  def __post_init__(self):
    self.hidden_sizes = tuple(self.hidden_sizes)
    self.conv_channels = tuple(self.conv_channels)
    if len(self.conv_channels) != 2:
      raise ValueError(
          f'conv_channels must have 2 entries (one per conv layer), got {self.conv_channels}.')
    if not isinstance(self.device, str) or not re.fullmatch(r'cpu|cuda(:\d+)?', self.device):
      raise ValueError(f'device must be cpu, cuda or cuda:N, got {self.device!r}.')
    config_fields.validate(self)
