"""The REINFORCE learner: Monte-Carlo policy gradient on whole episodes."""

from typing import Dict, Iterator, Optional

import numpy as np
import torch
from torch import nn

from rlkit.agents import learner_base
from rlkit.agents import losses
from rlkit.agents import pg_data
from rlkit.utils import counting
from rlkit.utils import loggers


class REINFORCELearner(learner_base.EpisodeLearner):
  """REINFORCE on batches of whole episodes (`pg_data.EpisodeBatch`).

  Per step, for B episodes: G_t = sum_{n >= t} gamma^(n-t) r_n; the
  advantage is G_t, or G_t - V(o_t) with a baseline; it is standardized
  (per episode, as seed 001, or over the batch) when asked; the loss is

    -mean_t[log pi(a_t | o_t) * A_t] - entropy_cost * mean_t[H(pi(. | o_t))]
    + baseline_cost * mean_t[0.5 * (G_t - V(o_t))^2]

  over all steps of the batch, minimised by one Adam step with global-norm
  gradient clipping.

  Args:
    policy_network: observations [N, ...] -> logits [N, A]; trained in place
      (the collect actor may share it).
    iterator: yields `pg_data.EpisodeBatch`es.
    baseline_network: optional observations [N, ...] -> values [N].
    discount: gamma.
    learning_rate: Adam's step size (one optimizer for both networks).
    standardize_returns: 'none', 'episode' or 'batch'.
    baseline_cost: weight of the baseline loss.
    entropy_cost: weight of the entropy bonus.
    max_gradient_norm: clip the global gradient norm; 0 or None disables.
    counter: counts learner steps (as `steps`; prefix it with 'learner').
    logger: gets one row of metrics per step.
    device: where the networks train.
  """

  def __init__(
      self,
      policy_network: nn.Module,
      iterator: Iterator[pg_data.EpisodeBatch],
      *,
      baseline_network: Optional[nn.Module] = None,
      discount: float = 0.99,
      learning_rate: float = 1e-2,
      standardize_returns: str = 'episode',
      baseline_cost: float = 0.5,
      entropy_cost: float = 0.0,
      max_gradient_norm: Optional[float] = None,
      counter: Optional[counting.Counter] = None,
      logger: Optional[loggers.Logger] = None,
      device: str = 'cpu',
  ):
    if not isinstance(policy_network, nn.Module):
      raise TypeError(
          f'policy_network must be a torch.nn.Module, got {type(policy_network).__name__}.')
    if baseline_network is not None and not isinstance(baseline_network, nn.Module):
      raise TypeError(
          f'baseline_network must be a torch.nn.Module or None, got '
          f'{type(baseline_network).__name__}.')
    if standardize_returns not in pg_data.STANDARDIZE_MODES:
      raise ValueError(f'standardize_returns must be one of {pg_data.STANDARDIZE_MODES}, '
                       f'got {standardize_returns!r}.')
    check_real = learner_base.check_real
    self._discount = check_real('discount', discount, 0.0, 1.0)
    check_real('learning_rate', learning_rate, 0.0, low_inclusive=False)
    self._baseline_cost = check_real('baseline_cost', baseline_cost, 0.0)
    self._entropy_cost = check_real('entropy_cost', entropy_cost, 0.0)
    max_gradient_norm = check_real('max_gradient_norm', max_gradient_norm or 0.0, 0.0)
    self._policy = policy_network
    self._baseline = baseline_network
    self._standardize = standardize_returns
    networks = {'policy_network': policy_network}
    if baseline_network is not None:
      networks['baseline_network'] = baseline_network
    super().__init__(networks, policy_network, iterator, learning_rate=learning_rate,
                     max_gradient_norm=max_gradient_norm, counter=counter, logger=logger,
                     device=device)

  @property
  def policy_network(self) -> nn.Module:
    return self._policy

  @property
  def baseline_network(self) -> Optional[nn.Module]:
    return self._baseline

  def loss(self, batch: pg_data.EpisodeBatch) -> Dict[str, torch.Tensor]:
    """The loss (key 'loss', differentiable) and metrics of one batch."""
    mask = batch.mask
    returns = pg_data.discounted_returns(
        batch.reward, batch.discount, batch.length, self._discount)[mask]
    observation = self.to_device(batch.observation[:, :-1][mask])
    action = self.to_device(batch.action[mask]).long()
    log_prob, entropy = losses.categorical_terms(self._policy(observation), action)
    metrics = {}
    advantage = returns
    baseline_loss = None
    if self._baseline is not None:
      values = self._baseline(observation)
      returns_t = self.to_device(returns, values.dtype)
      baseline_loss = 0.5 * (returns_t - values).square().mean()
      advantage = returns - values.detach().cpu().numpy()
      metrics['value_loss'] = baseline_loss.detach()
      metrics['value_error'] = float(np.abs(advantage).mean())
    advantage = pg_data.standardize(
        pg_data.scatter(advantage, mask), mask, self._standardize)[mask]
    advantage_t = self.to_device(advantage, log_prob.dtype)
    policy_loss = -(log_prob * advantage_t).mean()
    entropy_mean = entropy.mean()
    loss = policy_loss
    if self._entropy_cost:
      loss = loss - self._entropy_cost * entropy_mean
    if baseline_loss is not None:
      loss = loss + self._baseline_cost * baseline_loss
    metrics.update(loss=loss, policy_loss=policy_loss.detach(),
                   entropy=entropy_mean.detach())
    return metrics
