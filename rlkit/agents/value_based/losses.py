"""The losses of the value-based learner (Acme's `LossFn`, in torch).

A loss is a callable object

    loss, extra = loss_fn(network, target_network, sample)

from the online network (trained; gradients flow through it), the target
network (None when the loss has `uses_target_network = False`) and a
`ReplaySample(info, data=Transition)` batch, to a scalar loss and a
`LossExtra`: metrics to log and, for prioritized replay, the new priority of
every sampled item. Its whole maths is in its `__call__`; the learner does
the optimization, the target updates and the priority updates around it.

Transitions come from `NStepTransitionAdder`: `reward` is the n-step return R
and `discount` the accumulated environment discount D (0 at a terminal step,
with the agent's gamma^(n-1) folded in), so every target is
R + gamma * D * V(s').
"""

import dataclasses
from typing import Any, Dict, NamedTuple, Optional, Tuple

import torch
from torch import nn

from rlkit.agents import losses

# A `rlkit.replay.ReplaySample` of Transitions (not imported: it loads TensorFlow).
ReplaySample = Any


class LossExtra(NamedTuple):
  """What a loss returns beside the loss (Acme's `LossExtra`).

  metrics: name -> scalar (tensor or float), added to the learner's row.
  priorities: [B] new priorities of the sampled items, or None.
  """
  metrics: Dict[str, Any]
  priorities: Optional[torch.Tensor] = None


class NStepAndOneStep(NamedTuple):
  """A batch from each table when the 1-step loss is added (seed 004).

  `info` is the n-step batch's: its keys are the ones whose priorities the
  learner updates.
  """
  n_step: ReplaySample
  one_step: ReplaySample

  @property
  def info(self) -> Any:
    return self.n_step.info


def _check_common(loss: Any) -> None:
  discount = loss.discount
  if not isinstance(discount, (int, float)) or isinstance(discount, bool) or not 0 <= discount <= 1:
    raise ValueError(f'{type(loss).__name__}: discount must be in [0, 1], got {discount!r}.')
  if loss.penalty not in losses.LOSSES:
    raise ValueError(
        f'{type(loss).__name__}: penalty must be one of {losses.LOSSES}, got {loss.penalty!r}.')
  if not isinstance(loss.huber_delta, (int, float)) or not loss.huber_delta > 0:
    raise ValueError(f'{type(loss).__name__}: huber_delta must be > 0, got {loss.huber_delta!r}.')
  beta = loss.importance_sampling_exponent
  if beta is not None and (not isinstance(beta, (int, float)) or not 0 <= beta <= 1):
    raise ValueError(f'{type(loss).__name__}: importance_sampling_exponent must be None or '
                     f'in [0, 1], got {beta!r}.')


@dataclasses.dataclass(frozen=True)
class QLearning:
  """Q-learning with a target network (Mnih et al., 2015).

      y_i = R_i + gamma * D_i * max_a Q_target(s'_i, a)
      L = mean_i w_i * rho(y_i - Q(s_i, a_i))

  rho is the Huber (threshold `huber_delta`) or squared penalty; w_i are
  prioritized replay's importance weights (N P(i))^-beta / max_j, or 1 when
  `importance_sampling_exponent` is None. New priorities: |y_i - Q(s_i, a_i)|.
  """
  discount: float = 0.99
  penalty: str = 'huber'
  huber_delta: float = 1.0
  importance_sampling_exponent: Optional[float] = None

  uses_target_network = True

  def __post_init__(self):
    _check_common(self)

  def __call__(self, network: nn.Module, target_network: nn.Module,
               sample: ReplaySample) -> Tuple[torch.Tensor, LossExtra]:
    data = sample.data
    q_taken = losses.select_q(network(data.observation), data.action)
    with torch.no_grad():
      next_value = target_network(data.next_observation).max(dim=-1).values
      target = data.reward + (self.discount * data.discount) * next_value
    td_error = target - q_taken
    elementwise = losses.elementwise_loss(td_error, self.penalty, self.huber_delta)
    if self.importance_sampling_exponent is not None:
      elementwise = elementwise * losses.importance_weights(
          sample.info.probability, sample.info.table_size, self.importance_sampling_exponent)
    return elementwise.mean(), LossExtra({}, td_error.detach().abs())


@dataclasses.dataclass(frozen=True)
class DoubleQLearning:
  """Double Q-learning (van Hasselt et al., 2016): the online network selects.

      a*_i = argmax_a Q(s'_i, a)
      y_i = R_i + gamma * D_i * Q_target(s'_i, a*_i)
      L = mean_i w_i * rho(y_i - Q(s_i, a_i))

  rho, w_i and the priorities as in `QLearning`.
  """
  discount: float = 0.99
  penalty: str = 'huber'
  huber_delta: float = 1.0
  importance_sampling_exponent: Optional[float] = None

  uses_target_network = True

  def __post_init__(self):
    _check_common(self)

  def __call__(self, network: nn.Module, target_network: nn.Module,
               sample: ReplaySample) -> Tuple[torch.Tensor, LossExtra]:
    data = sample.data
    q_taken = losses.select_q(network(data.observation), data.action)
    with torch.no_grad():
      next_action = network(data.next_observation).argmax(dim=-1)
      next_value = losses.select_q(target_network(data.next_observation), next_action)
      target = data.reward + (self.discount * data.discount) * next_value
    td_error = target - q_taken
    elementwise = losses.elementwise_loss(td_error, self.penalty, self.huber_delta)
    if self.importance_sampling_exponent is not None:
      elementwise = elementwise * losses.importance_weights(
          sample.info.probability, sample.info.table_size, self.importance_sampling_exponent)
    return elementwise.mean(), LossExtra({}, td_error.detach().abs())


@dataclasses.dataclass(frozen=True)
class NFQLoss:
  """Neural Fitted Q (Riedmiller, 2005; seed 001): the online network bootstraps.

      y_i = R_i + gamma * D_i * max_a Q(s'_i, a)     (no gradient through y)
      L = mean_i w_i * rho(y_i - Q(s_i, a_i))

  There is no target network. rho is squared by default (seed 001's
  `nn.MSELoss`); w_i and the priorities as in `QLearning`.
  """
  discount: float = 0.99
  penalty: str = 'mse'
  huber_delta: float = 1.0
  importance_sampling_exponent: Optional[float] = None

  uses_target_network = False

  def __post_init__(self):
    _check_common(self)

  def __call__(self, network: nn.Module, target_network: Optional[nn.Module],
               sample: ReplaySample) -> Tuple[torch.Tensor, LossExtra]:
    del target_network
    data = sample.data
    q_taken = losses.select_q(network(data.observation), data.action)
    with torch.no_grad():
      next_value = network(data.next_observation).max(dim=-1).values
      target = data.reward + (self.discount * data.discount) * next_value
    td_error = target - q_taken
    elementwise = losses.elementwise_loss(td_error, self.penalty, self.huber_delta)
    if self.importance_sampling_exponent is not None:
      elementwise = elementwise * losses.importance_weights(
          sample.info.probability, sample.info.table_size, self.importance_sampling_exponent)
    return elementwise.mean(), LossExtra({}, td_error.detach().abs())


@dataclasses.dataclass(frozen=True)
class WithOneStepLoss:
  """Adds `loss` on a 1-step batch to `loss` on an n-step batch (seed 004).

      L = loss(n-step batch) + loss(1-step batch)

  The sample is an `NStepAndOneStep`; the priorities are the n-step batch's.
  Logs both terms as 'n_step_loss' and 'one_step_loss'.
  """
  loss: Any

  def __post_init__(self):
    if not callable(self.loss) or not hasattr(self.loss, 'uses_target_network'):
      raise TypeError(f'loss must be a value-based loss object, got {self.loss!r}.')

  @property
  def uses_target_network(self) -> bool:
    return self.loss.uses_target_network

  def __call__(self, network: nn.Module, target_network: Optional[nn.Module],
               sample: NStepAndOneStep) -> Tuple[torch.Tensor, LossExtra]:
    n_step_loss, extra = self.loss(network, target_network, sample.n_step)
    one_step_loss, _ = self.loss(network, target_network, sample.one_step)
    metrics = dict(extra.metrics, n_step_loss=n_step_loss.detach(),
                   one_step_loss=one_step_loss.detach())
    return n_step_loss + one_step_loss, LossExtra(metrics, extra.priorities)
