"""QR-DQN's loss: quantile regression with the quantile Huber loss (Dabney et al., 2018)."""

import dataclasses
from typing import Any, Optional, Tuple

import torch

from rlkit.agents import losses
from rlkit.agents.value_based import losses as value_losses


@dataclasses.dataclass(frozen=True)
class QuantileRegressionLoss:
  """The QR-DQN loss of a batch, for networks with `quantiles(s) -> [B, A, N]`.

      tau_i = (2i + 1) / 2N                             quantile midpoints, i < N
      a*    = argmax_a mean_j theta_target_j(s', a)     (online mean with double_q)
      T_j   = R + gamma * D * theta_target_j(s', a*)    target samples, no gradient
      u_ij  = T_j - theta_i(s, a)
      rho_ij = |tau_i - 1{u_ij < 0}| * L_kappa(u_ij) / kappa
      L     = mean_b w_b * sum_i mean_j rho_ij

  L_kappa is the Huber loss with threshold kappa = `huber_delta`; w_b are
  prioritized replay's importance weights (1 when
  `importance_sampling_exponent` is None). New priorities: the TD error of
  the means, |mean_j T_j - mean_i theta_i(s, a)|.
  """
  discount: float = 0.99
  huber_delta: float = 1.0
  double_q: bool = False
  importance_sampling_exponent: Optional[float] = None
  penalty: str = 'huber'

  uses_target_network = True

  def __post_init__(self):
    if self.penalty != 'huber':
      raise ValueError(f'QuantileRegressionLoss: penalty must be huber, got {self.penalty!r}.')
    value_losses._check_common(self)  # pylint: disable=protected-access

  def __call__(self, network: Any, target_network: Any,
               sample: Any) -> Tuple[torch.Tensor, value_losses.LossExtra]:
    data = sample.data
    theta_all = network.quantiles(data.observation)
    num_quantiles = theta_all.shape[-1]
    action = data.action.long().view(-1, 1, 1).expand(-1, 1, num_quantiles)
    theta = theta_all.gather(1, action).squeeze(1)                            # [B, N]
    with torch.no_grad():
      next_target = target_network.quantiles(data.next_observation)          # [B, A, N]
      selector = network(data.next_observation) if self.double_q else next_target.mean(-1)
      next_action = selector.argmax(dim=-1).view(-1, 1, 1).expand(-1, 1, num_quantiles)
      next_theta = next_target.gather(1, next_action).squeeze(1)             # [B, N]
      target = data.reward[:, None] + (self.discount * data.discount)[:, None] * next_theta
    tau = (torch.arange(num_quantiles, device=theta.device, dtype=theta.dtype) + 0.5
           ) / num_quantiles
    u = target[:, None, :] - theta[:, :, None]                               # [B, i, j]
    kappa = self.huber_delta
    huber = torch.where(u.abs() <= kappa, 0.5 * u.square(), kappa * (u.abs() - 0.5 * kappa))
    rho = (tau[None, :, None] - (u.detach() < 0).to(u.dtype)).abs() * huber / kappa
    per_item = rho.mean(dim=2).sum(dim=1)                                    # [B]
    if self.importance_sampling_exponent is not None:
      per_item = per_item * losses.importance_weights(
          sample.info.probability, sample.info.table_size, self.importance_sampling_exponent)
    priorities = (target.mean(-1) - theta.detach().mean(-1)).abs()
    return per_item.mean(), value_losses.LossExtra({}, priorities)
