"""Advantage actor-critic hyper-parameters, with where each default comes from."""

import dataclasses
from typing import Optional, Tuple

from rlkit.agents import config_fields
from rlkit.agents import pg_data

field = config_fields.field


@dataclasses.dataclass
class ActorCriticConfig(config_fields.EpisodeQueueConfig):
  """Configuration of the advantage actor-critic (A2C) agent.

  The defaults are tuned for wall time to solve CartPole
  (benchmarks/pg_cartpole.py); seed 001's settings are noted per field.

  Schedules: none. The learning rate is constant (as seed 001's) and nothing
  else decays, so the agent needs no horizon: the one a runner hands over
  (the run's step budget, or None) is ignored.
  """
  # Network.
  hidden_sizes: Tuple[int, ...] = field(
      (128,), 'Hidden layer sizes of the policy and critic MLPs (seed 001: one '
      'layer of 256 each).', low=1)
  shared_torso: bool = field(
      False, 'One MLP body for both heads; otherwise separate policy and '
      'critic MLPs (seed 001).')

  # Learner.
  learning_rate: float = field(
      3e-3, 'Adam learning rate (seed 001: Adam default 1e-3).', low=0.0,
      low_inclusive=False)
  discount: float = field(0.99, 'Discount gamma (seed 001: 0.99).', low=0.0, high=1.0)
  n_step: int = field(
      0, 'Bootstrap the targets after n steps from V(o_{t+n}); 0 uses full-'
      'episode returns (seed 001), which bootstrap from V(o_L) only when the '
      'episode was truncated.', low=0)
  value_cost: float = field(
      0.5, 'Weight of the critic loss 0.5 * (G - V)^2 (seed 001: 1).', low=0.0)
  entropy_cost: float = field(
      0.01, 'Weight of the entropy bonus (seed 001 adds 0.001 * entropy to the '
      'loss, a penalty; here it is a bonus).', low=0.0)
  standardize_advantages: str = field(
      'none', 'Standardize the advantages per episode, over the batch, or not.',
      choices=pg_data.STANDARDIZE_MODES)
  max_gradient_norm: float = field(
      0.0, 'Clip the global gradient norm to this; 0 disables (seed 001: none).',
      low=0.0)
  episodes_per_update: int = field(
      1, 'Episodes per learner step (seed 001: 1); more gives the batched A2C '
      'update.', low=1)

  # Replay.
  max_episode_length: int = config_fields.max_episode_length_field()
  queue_size: int = config_fields.queue_size_field()

  # Actors and device.
  variable_update_period: int = config_fields.episodic_variable_update_period_field()
  device: str = config_fields.episodic_device_field()

  def __post_init__(self):
    self.hidden_sizes = tuple(self.hidden_sizes)
    config_fields.validate(self)
    self.check_queue_size()

  @property
  def bootstrap_n_step(self) -> Optional[int]:
    """`n_step` for the learner: None for full-episode returns."""
    return self.n_step or None
