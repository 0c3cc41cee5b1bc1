"""QR-DQN's config: DQN's fields and the number of quantiles."""

import dataclasses

from rlkit.agents import config_fields
from rlkit.agents.dqn import config as dqn_config

field = config_fields.field


@dataclasses.dataclass
class QRDQNConfig(dqn_config.DQNConfig):
  """QR-DQN: DQN's fields (and defaults, which learn CartPole) plus the quantiles.

  The TD penalty is the quantile Huber loss with threshold kappa =
  `huber_delta` (the paper's QR-DQN-1: kappa 1), so `loss` is 'huber' only.
  """
  num_quantiles: int = field(
      50, 'Quantiles N of the return distribution per action (paper: 200 on '
      'Atari; 50 learns CartPole as well at a quarter of the head).', low=1)
  loss: str = field('huber', 'TD penalty: the quantile Huber loss (kappa = huber_delta).',
                    choices=('huber',))
  huber_delta: float = field(
      1.0, 'kappa of the quantile Huber loss (paper: 1).', low=0.0, low_inclusive=False)
  max_gradient_norm: float = field(
      0.0, 'Clip the global gradient norm to this; 0 (the paper, Dopamine) '
      'disables: the loss sums N quantile terms, so DQN\'s clip at 10 cuts '
      'most updates.', low=0.0)
  double_q: bool = field(
      False, "Select the next action with the online network's mean; False "
      "(paper) takes the target network's mean-greedy action.")
