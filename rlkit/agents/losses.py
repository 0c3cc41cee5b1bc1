"""Loss pieces shared by the learners (torch).

All functions take batched tensors with the batch on axis 0. The value-based
loss objects built from them are in `rlkit.agents.value_based.losses`.
"""

from typing import Tuple

import torch
import torch.nn.functional as F

LOSSES = ('huber', 'mse')


def select_q(q_values: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
  """Returns q_values[b, actions[b]] for every b: [B, A], [B] -> [B]."""
  return q_values.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def elementwise_loss(td_error: torch.Tensor, loss: str = 'huber',
                     huber_delta: float = 1.0) -> torch.Tensor:
  """Per-element loss of TD errors.

  'mse' is td_error ** 2 (the seeds' `nn.MSELoss`); 'huber' is
  0.5 * td_error ** 2 inside [-delta, delta] and linear outside (with delta 1,
  `smooth_l1_loss` of seed 004).
  """
  if loss == 'mse':
    return td_error.square()
  if loss == 'huber':
    return F.huber_loss(td_error, torch.zeros_like(td_error), reduction='none',
                        delta=huber_delta)
  raise ValueError(f'loss must be one of {LOSSES}, got {loss!r}.')


def importance_weights(probabilities: torch.Tensor, table_size: torch.Tensor,
                       exponent: float) -> torch.Tensor:
  """Prioritized replay's importance weights (N * P(i)) ** -exponent / max.

  Args:
    probabilities: [B] sampling probabilities of the items.
    table_size: [B] or scalar number of items in the table when sampled.
    exponent: beta; 0 gives weights of 1.
  """
  weights = (table_size.to(torch.float32) * probabilities.to(torch.float32)).clamp_min(
      1e-12).pow(-exponent)
  return weights / weights.max()


def categorical_terms(logits: torch.Tensor,
                      actions: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
  """Returns (log pi(a | o) [N], entropy [N]) of categorical logits [N, A]."""
  log_probs = F.log_softmax(logits, dim=-1)
  log_prob = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
  entropy = -(log_probs.exp() * log_probs).sum(-1)
  return log_prob, entropy
