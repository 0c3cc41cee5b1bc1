"""The advantage actor-critic (A2C) learner on batches of whole episodes."""

import numbers
from typing import Dict, Iterator, Optional

import numpy as np
import torch
from torch import nn

from rlkit.agents import learner_base
from rlkit.agents import losses
from rlkit.agents import pg_data
from rlkit.agents.actor_critic import networks as ac_networks
from rlkit.utils import counting
from rlkit.utils import loggers


class ActorCriticLearner(learner_base.EpisodeLearner):
  """Synchronous advantage actor-critic on `pg_data.EpisodeBatch`es.

  Per step, for B episodes: one forward pass gives logits and V(o_t) for every
  observation, the final one included. The targets are n-step returns
  (`pg_data.n_step_returns`; n = None: the whole episode) that bootstrap from
  V(o_{t+n}), or from V(o_L) at the end of a truncated episode (never after a
  termination). With A_t = G_t - V(o_t) (standardized when asked), the loss is

    -mean_t[log pi(a_t | o_t) * A_t] + value_cost * mean_t[0.5 * (G_t - V(o_t))^2]
    - entropy_cost * mean_t[H(pi(. | o_t))]

  minimised by one Adam step with global-norm gradient clipping.

  Args:
    network: an `ActorCriticNetwork` (observations -> logits, values),
      trained in place.
    iterator: yields `pg_data.EpisodeBatch`es.
    discount: gamma.
    n_step: bootstrap after n steps; None for full-episode returns.
    learning_rate: Adam's step size.
    value_cost: weight of the critic loss.
    entropy_cost: weight of the entropy bonus.
    standardize_advantages: 'none', 'episode' or 'batch'.
    max_gradient_norm: clip the global gradient norm; 0 or None disables.
    counter: counts learner steps (as `steps`; prefix it with 'learner').
    logger: gets one row of metrics per step.
    device: where the network trains.
  """

  def __init__(
      self,
      network: ac_networks.ActorCriticNetwork,
      iterator: Iterator[pg_data.EpisodeBatch],
      *,
      discount: float = 0.99,
      n_step: Optional[int] = None,
      learning_rate: float = 1e-3,
      value_cost: float = 0.5,
      entropy_cost: float = 0.01,
      standardize_advantages: str = 'none',
      max_gradient_norm: Optional[float] = None,
      counter: Optional[counting.Counter] = None,
      logger: Optional[loggers.Logger] = None,
      device: str = 'cpu',
  ):
    if not isinstance(network, nn.Module):
      raise TypeError(f'network must be a torch.nn.Module, got {type(network).__name__}.')
    if n_step is not None and (not isinstance(n_step, numbers.Integral) or
                               isinstance(n_step, bool) or n_step < 1):
      raise ValueError(f'n_step must be a positive integer or None, got {n_step!r}.')
    if standardize_advantages not in pg_data.STANDARDIZE_MODES:
      raise ValueError(f'standardize_advantages must be one of {pg_data.STANDARDIZE_MODES}, '
                       f'got {standardize_advantages!r}.')
    check_real = learner_base.check_real
    self._discount = check_real('discount', discount, 0.0, 1.0)
    check_real('learning_rate', learning_rate, 0.0, low_inclusive=False)
    self._value_cost = check_real('value_cost', value_cost, 0.0)
    self._entropy_cost = check_real('entropy_cost', entropy_cost, 0.0)
    max_gradient_norm = check_real('max_gradient_norm', max_gradient_norm or 0.0, 0.0)
    self._network = network
    self._n_step = None if n_step is None else int(n_step)
    self._standardize = standardize_advantages
    super().__init__({'network': network}, network, iterator, learning_rate=learning_rate,
                     max_gradient_norm=max_gradient_norm, counter=counter, logger=logger,
                     device=device)

  @property
  def network(self) -> nn.Module:
    return self._network

  def loss(self, batch: pg_data.EpisodeBatch) -> Dict[str, torch.Tensor]:
    """The loss (key 'loss', differentiable) and metrics of one batch."""
    mask = batch.mask
    observation_mask = batch.observation_mask
    logits, values = self._network(self.to_device(batch.observation[observation_mask]))
    # Rows of the transitions (t < L) among the flattened observations (t <= L).
    is_transition = np.zeros(observation_mask.shape, bool)
    is_transition[:, :-1] = mask
    row_index = np.flatnonzero(is_transition[observation_mask])
    rows = self.to_device(row_index)
    values_np = values.detach().cpu().numpy()
    padded_values = pg_data.scatter(values_np, observation_mask)
    returns = pg_data.n_step_returns(batch.reward, batch.discount, batch.length,
                                     padded_values, self._discount, self._n_step)[mask]
    values_t = values[rows]
    action = self.to_device(batch.action[mask]).long()
    log_prob, entropy = losses.categorical_terms(logits[rows], action)
    advantage = returns - values_np[row_index]
    value_error = float(np.abs(advantage).mean())
    advantage = pg_data.standardize(
        pg_data.scatter(advantage, mask), mask, self._standardize)[mask]
    policy_loss = -(log_prob * self.to_device(advantage, log_prob.dtype)).mean()
    value_loss = 0.5 * (self.to_device(returns, values_t.dtype) - values_t).square().mean()
    entropy_mean = entropy.mean()
    loss = policy_loss + self._value_cost * value_loss - self._entropy_cost * entropy_mean
    return {'loss': loss, 'policy_loss': policy_loss.detach(),
            'value_loss': value_loss.detach(), 'value_error': value_error,
            'entropy': entropy_mean.detach()}
