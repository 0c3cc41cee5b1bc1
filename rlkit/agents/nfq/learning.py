"""The NFQ learner: squared TD error against the online network's own max."""

from typing import Any, Iterator, Optional

import torch
from torch import nn

from rlkit.agents.dqn import learning as dqn_learning
from rlkit.utils import counting
from rlkit.utils import loggers


class NFQLearner(dqn_learning.DQNLearner):
  """Neural Fitted Q: loss mean((r + gamma * d * max_a Q(s', a) - Q(s, a))^2).

  The bootstrap uses the online network itself (no target network, no double
  Q, no importance weights); everything else (Adam, optional gradient
  clipping, save/restore, get_variables) is DQN's.

  Args:
    network: the Q-network, trained in place.
    iterator: yields `ReplaySample`s of torch tensors.
    discount: gamma, applied on top of the environment discount d.
    learning_rate: Adam's step size.
    max_gradient_norm: clip the global gradient norm; 0 or None disables.
    counter: counts learner steps.
    logger: gets one row of metrics per step.
  """

  def __init__(self, network: nn.Module, iterator: Iterator[Any], *,
               discount: float = 0.99, learning_rate: float = 1e-3,
               max_gradient_norm: Optional[float] = None,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None):
    super().__init__(
        network, iterator, discount=discount, learning_rate=learning_rate,
        loss='mse', max_gradient_norm=max_gradient_norm, double_q=False,
        counter=counter, logger=logger)

  def _make_target_network(self, network: nn.Module) -> None:
    return None

  def _next_values(self, next_observation: torch.Tensor):
    with torch.no_grad():
      return self._network(next_observation), None
