"""NFQ's config: a preset of DQN's fields (seed 001's GridWorld set-up)."""

import dataclasses
from typing import Tuple

from rlkit.agents import config_fields
from rlkit.agents.dqn import config as dqn_config

field = config_fields.field


@dataclasses.dataclass
class NFQConfig(dqn_config.DQNConfig):
  """Neural Fitted Q: DQN's fields with seed 001's defaults.

  MLP (50, 50), Adam 1e-3 (constant), batch 10, replay 100000, squared TD
  error, 1-step targets, a constant epsilon of 0.6, one learner step per
  environment step. NFQ has no target network (its loss bootstraps from the
  online network), so `target_update_period` and `tau` do not apply and
  `double_q` must stay False.
  """
  hidden_sizes: Tuple[int, ...] = field(
      (50, 50), 'Hidden layer sizes of the Q-network MLP (seed 001: (50, 50)).',
      low=1)
  learning_rate: float = field(
      1e-3, 'Adam learning rate (seed 001: 1e-3).', low=0.0, low_inclusive=False)
  learning_rate_final_fraction: float = field(
      1.0, 'With a horizon, the learning rate decays linearly to learning_rate '
      '* this over the learner steps; 1 (seed 001) keeps it constant.',
      low=0.0, high=1.0)
  batch_size: int = field(10, 'Transitions per learner step (seed 001: 10).', low=1)
  n_step: int = field(1, 'Steps of the n-step return (seed 001: 1).', low=1)
  loss: str = field('mse', "TD penalty: mse (seed 001's nn.MSELoss) or huber.",
                    choices=('huber', 'mse'))
  max_gradient_norm: float = field(
      0.0, 'Clip the global gradient norm to this; 0 (seed 001) disables.', low=0.0)
  double_q: bool = field(False, 'Not available: NFQ has no target network.')
  min_replay_size: int = field(
      10, 'Environment steps observed before learning starts (seed 001: one '
      'batch).', low=1)
  samples_per_insert: float = field(
      10.0, 'Sampled transitions per inserted one; learner steps per '
      'environment step = samples_per_insert / batch_size (seed 001: 1 step).',
      low=0.0, low_inclusive=False)
  epsilon: float = field(
      0.6, 'Constant epsilon of the behaviour policy (seed 001: 0.6), used when '
      'epsilon_decay_fraction is 0.', low=0.0, high=1.0)
  epsilon_decay_fraction: float = field(
      0.0, 'Fraction of the training steps over which epsilon decays from '
      'epsilon_init to epsilon_final; 0 (seed 001) keeps `epsilon` constant.',
      low=0.0, high=1.0)

  def __post_init__(self):
    if self.double_q:
      raise ValueError('NFQConfig: double_q=True is not available, NFQ has no target '
                       'network (its loss bootstraps from the online network).')
    super().__post_init__()
