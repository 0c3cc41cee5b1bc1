"""NFQ hyper-parameters (seed 001's GridWorld set-up)."""

import dataclasses
from typing import Tuple

from rlkit.agents import config_fields

field = config_fields.field


@dataclasses.dataclass
class NFQConfig:
  """Configuration of Neural Fitted Q (no target network, MSE loss).

  Defaults follow seed 001: MLP (50, 50), Adam 1e-3, batch 10, replay 100000,
  epsilon 0.6 behaviour policy, one learner step per environment step.
  """
  hidden_sizes: Tuple[int, ...] = field(
      (50, 50), 'Hidden layer sizes of the Q-network MLP (seed 001: (50, 50)).',
      low=1)
  learning_rate: float = field(
      1e-3, 'Adam learning rate (seed 001: 1e-3).', low=0.0, low_inclusive=False)
  batch_size: int = field(10, 'Transitions per learner step (seed 001: 10).',
                          low=1)
  discount: float = field(
      0.99, 'Agent discount gamma; the target is r + gamma * d * max_a Q(s\', a) '
      'with d the environment discount (GridWorld: 0.9).', low=0.0, high=1.0)
  max_gradient_norm: float = field(
      0.0, 'Clip the global gradient norm to this; 0 (seed 001) disables.',
      low=0.0)
  min_replay_size: int = field(
      10, 'Environment steps observed before learning starts (seed 001: one '
      'batch).', low=1)
  max_replay_size: int = field(100_000, 'Replay capacity (seed 001: 100000).',
                               low=1)
  samples_per_insert: float = field(
      10.0, 'Sampled transitions per inserted one; learner steps per '
      'environment step = samples_per_insert / batch_size (seed 001: 1 step).',
      low=0.0, low_inclusive=False)
  samples_per_insert_tolerance_rate: float = field(
      0.1, "Slack of the replay table's samples-per-insert rate limiter, as a "
      'fraction of samples_per_insert.', low=0.0)
  prefetch_size: int = field(2, 'Batches the replay iterator samples ahead.',
                             low=1)
  epsilon: float = field(
      0.6, 'Constant epsilon of the behaviour policy (seed 001: 0.6).',
      low=0.0, high=1.0)

  def __post_init__(self):
    self.hidden_sizes = tuple(self.hidden_sizes)
    config_fields.validate(self)
