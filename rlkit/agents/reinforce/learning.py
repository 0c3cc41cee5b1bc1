"""The REINFORCE learner: Monte-Carlo policy gradient on whole episodes."""

import copy
import numbers
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from rlkit import core
from rlkit.agents import pg_data
from rlkit.utils import counting
from rlkit.utils import loggers


def make_adam(params, learning_rate: float) -> torch.optim.Optimizer:
  """Adam, fused on CPU when this torch supports it."""
  try:
    return torch.optim.Adam(params, lr=learning_rate, fused=True)
  except (RuntimeError, TypeError, ValueError):
    return torch.optim.Adam(params, lr=learning_rate, foreach=True)


def check_real(name: str, value: Any, low: float, high: float = float('inf'),
               low_inclusive: bool = True) -> float:
  ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and
        (value >= low if low_inclusive else value > low) and value <= high)
  if not ok:
    left = '[' if low_inclusive else '('
    raise ValueError(f'{name} must be a number in {left}{low}, {high}], got {value!r}.')
  return float(value)


def categorical_terms(logits: torch.Tensor, actions: torch.Tensor):
  """Returns (log pi(a | o) [N], entropy [N]) of categorical logits [N, A]."""
  log_probs = F.log_softmax(logits, dim=-1)
  log_prob = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
  entropy = -(log_probs.exp() * log_probs).sum(-1)
  return log_prob, entropy


def scatter(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Puts `values` [N] at the True entries of `mask` [B, T] (0 elsewhere)."""
  padded = np.zeros(mask.shape, np.float64)
  padded[mask] = values
  return padded


class REINFORCELearner(core.Learner):
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
    self._discount = check_real('discount', discount, 0.0, 1.0)
    check_real('learning_rate', learning_rate, 0.0, low_inclusive=False)
    self._baseline_cost = check_real('baseline_cost', baseline_cost, 0.0)
    self._entropy_cost = check_real('entropy_cost', entropy_cost, 0.0)
    self._max_gradient_norm = check_real('max_gradient_norm', max_gradient_norm or 0.0, 0.0)
    self._policy = policy_network
    self._baseline = baseline_network
    self._iterator = iterator
    self._standardize = standardize_returns
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._policy.train()
    modules = [self._policy] + ([self._baseline] if self._baseline is not None else [])
    self._params = [p for m in modules for p in m.parameters() if p.requires_grad]
    self._optimizer = make_adam(self._params, learning_rate)
    self._num_steps = 0

  @property
  def policy_network(self) -> nn.Module:
    return self._policy

  @property
  def baseline_network(self) -> Optional[nn.Module]:
    return self._baseline

  @property
  def num_steps(self) -> int:
    return self._num_steps

  def loss(self, batch: pg_data.EpisodeBatch) -> Dict[str, torch.Tensor]:
    """The loss (key 'loss', differentiable) and metrics of one batch."""
    mask = batch.mask
    returns = pg_data.discounted_returns(
        batch.reward, batch.discount, batch.length, self._discount)[mask]
    observation = torch.as_tensor(batch.observation[:, :-1][mask])
    action = torch.as_tensor(batch.action[mask]).long()
    log_prob, entropy = categorical_terms(self._policy(observation), action)
    metrics = {}
    advantage = returns
    baseline_loss = None
    if self._baseline is not None:
      values = self._baseline(observation)
      returns_t = torch.as_tensor(returns, dtype=values.dtype)
      baseline_loss = 0.5 * (returns_t - values).square().mean()
      advantage = returns - values.detach().numpy()
      metrics['value_loss'] = baseline_loss.detach()
      metrics['value_error'] = float(np.abs(advantage).mean())
    advantage = pg_data.standardize(scatter(advantage, mask), mask, self._standardize)[mask]
    advantage_t = torch.as_tensor(advantage, dtype=log_prob.dtype)
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

  def step(self) -> None:
    batch = next(self._iterator)
    metrics = self.loss(batch)
    self._optimizer.zero_grad(set_to_none=True)
    metrics['loss'].backward()
    if self._max_gradient_norm:
      metrics['gradient_norm'] = nn.utils.clip_grad_norm_(
          self._params, self._max_gradient_norm, foreach=True)
    self._optimizer.step()
    self._num_steps += 1
    counts = self._counter.increment(steps=1)
    metrics['loss'] = metrics['loss'].detach()
    metrics['batch_episodes'] = batch.num_episodes
    metrics['batch_steps'] = batch.num_steps
    metrics['batch_return_mean'] = float(batch.reward.sum(axis=1).mean())
    metrics.update(counts)
    self._logger.write(metrics)

  def get_variables(self, names: Sequence[str]) -> List[Mapping[str, torch.Tensor]]:
    """'policy': a copy of the policy network's state dict."""
    variables = []
    for name in names:
      if name != 'policy':
        raise ValueError(f"Unknown variables {name!r}: {type(self).__name__} provides ['policy'].")
      variables.append({k: v.detach().clone() for k, v in self._policy.state_dict().items()})
    return variables

  def save(self) -> Dict[str, Any]:
    """Networks, optimizer state and step count (copies)."""
    state = {
        'policy_network': copy.deepcopy(self._policy.state_dict()),
        'optimizer': copy.deepcopy(self._optimizer.state_dict()),
        'num_steps': self._num_steps,
    }
    if self._baseline is not None:
      state['baseline_network'] = copy.deepcopy(self._baseline.state_dict())
    return state

  def restore(self, state: Mapping[str, Any]) -> None:
    required = {'policy_network', 'optimizer', 'num_steps'}
    if self._baseline is not None:
      required.add('baseline_network')
    missing = required - set(state)
    if missing:
      raise ValueError(f'{type(self).__name__}.restore: state lacks {sorted(missing)}.')
    self._policy.load_state_dict(state['policy_network'])
    if self._baseline is not None:
      self._baseline.load_state_dict(state['baseline_network'])
    self._optimizer.load_state_dict(state['optimizer'])
    self._num_steps = int(state['num_steps'])
