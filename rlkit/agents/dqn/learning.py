"""The DQN learner: TD loss on replay batches, Adam, target network."""

import copy
import numbers
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from rlkit import core
from rlkit.agents import learner_base
from rlkit.agents import losses
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import schedules

# Called with the sampled keys and their new priorities (|TD error|).
PriorityUpdateFn = Callable[[np.ndarray, np.ndarray], None]


class DQNLearner(core.Learner):
  """Learns Q-values from replay batches (`ReplaySample(info, data=Transition)`).

  Per step: target `R + gamma * D * Q_target(s', argmax_a Q(s', a))` (double
  Q) or `... * max_a Q_target(s', a)`, where R and D are the (n-step) reward
  and environment discount written by the adder; Huber or squared TD loss,
  weighted by prioritized replay's importance weights when
  `importance_sampling_exponent` is set; Adam with global-norm gradient
  clipping; every `target_update_period` steps
  `target <- tau * online + (1 - tau) * target`; new priorities |TD error|
  sent through `priority_update_fn`.

  With `one_step_iterator` (seed 004), each step also draws a batch of 1-step
  transitions from a second table and adds their TD loss to the n-step one.

  Args:
    network: the online Q-network, [B, ...] -> [B, A]; it is trained in place
      (a single-process actor may share it).
    iterator: yields `ReplaySample`s of torch tensors.
    discount: gamma.
    learning_rate: Adam's step size.
    target_update_period: learner steps between target updates.
    tau: 1 for a hard copy, < 1 for Polyak averaging.
    loss: 'huber' or 'mse'.
    huber_delta: Huber threshold.
    max_gradient_norm: clip the global gradient norm; 0 or None disables.
    double_q: select the next action with the online network.
    importance_sampling_exponent: beta of prioritized replay; None for
      uniform replay (no weights).
    priority_update_fn: receives (keys, priorities) after each step.
    one_step_iterator: optional 1-step batches whose loss is added.
    learning_rate_decay_steps: steps over which the learning rate decays
      linearly to `learning_rate * learning_rate_final_fraction`; 0 keeps it
      constant.
    learning_rate_final_fraction: see `learning_rate_decay_steps`.
    counter: counts learner steps (as `steps`; prefix it with 'learner').
    logger: gets one row of metrics per step (wrap it in a TimeFilter).
  """

  def __init__(
      self,
      network: nn.Module,
      iterator: Iterator[Any],
      *,
      discount: float = 0.99,
      learning_rate: float = 1e-3,
      target_update_period: int = 100,
      tau: float = 1.0,
      loss: str = 'huber',
      huber_delta: float = 1.0,
      max_gradient_norm: Optional[float] = 10.0,
      double_q: bool = True,
      importance_sampling_exponent: Optional[float] = None,
      priority_update_fn: Optional[PriorityUpdateFn] = None,
      one_step_iterator: Optional[Iterator[Any]] = None,
      learning_rate_decay_steps: int = 0,
      learning_rate_final_fraction: float = 1.0,
      counter: Optional[counting.Counter] = None,
      logger: Optional[loggers.Logger] = None,
  ):
    if not isinstance(network, nn.Module):
      raise TypeError(f'network must be a torch.nn.Module, got {type(network).__name__}.')
    _check_range('discount', discount, 0.0, 1.0)
    _check_range('tau', tau, 0.0, 1.0, low_inclusive=False)
    if not isinstance(learning_rate, numbers.Real) or not learning_rate > 0:
      raise ValueError(f'learning_rate must be > 0, got {learning_rate!r}.')
    if not isinstance(target_update_period, numbers.Integral) or target_update_period < 1:
      raise ValueError(
          f'target_update_period must be a positive integer, got {target_update_period!r}.')
    if loss not in losses.LOSSES:
      raise ValueError(f'loss must be one of {losses.LOSSES}, got {loss!r}.')
    if max_gradient_norm is not None and max_gradient_norm < 0:
      raise ValueError(f'max_gradient_norm must be >= 0 or None, got {max_gradient_norm!r}.')
    if importance_sampling_exponent is not None:
      _check_range('importance_sampling_exponent', importance_sampling_exponent, 0.0, 1.0)

    self._network = network
    self._target_network = self._make_target_network(network)
    self._iterator = iterator
    self._one_step_iterator = one_step_iterator
    self._discount = float(discount)
    self._target_update_period = int(target_update_period)
    self._tau = float(tau)
    self._loss = loss
    self._huber_delta = float(huber_delta)
    self._max_gradient_norm = float(max_gradient_norm or 0.0)
    self._double_q = bool(double_q)
    self._is_exponent = importance_sampling_exponent
    self._priority_update_fn = priority_update_fn
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._params = [p for p in network.parameters() if p.requires_grad]
    self._optimizer = learner_base.make_adam(self._params, learning_rate)
    _check_range('learning_rate_final_fraction', learning_rate_final_fraction, 0.0, 1.0)
    # The rate is a function of the step count (not saved), so a resumed run
    # with a longer training follows the schedule of its new length.
    self._learning_rate = schedules.ConstantSchedule(float(learning_rate))
    if learning_rate_decay_steps and learning_rate_final_fraction != 1.0:
      self._learning_rate = schedules.LinearSchedule(
          float(learning_rate), float(learning_rate) * learning_rate_final_fraction,
          int(learning_rate_decay_steps))
    self._decays = isinstance(self._learning_rate, schedules.LinearSchedule)
    self._num_steps = 0

  def _make_target_network(self, network: nn.Module) -> Optional[nn.Module]:
    target = copy.deepcopy(network)
    for p in target.parameters():
      p.requires_grad_(False)
    return target

  @property
  def network(self) -> nn.Module:
    return self._network

  @property
  def target_network(self) -> Optional[nn.Module]:
    return self._target_network

  @property
  def num_steps(self) -> int:
    return self._num_steps

  def _next_values(self, next_observation: torch.Tensor
                   ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Returns (Q-values that evaluate s', Q-values that select the action or None)."""
    with torch.no_grad():
      q_next_target = self._target_network(next_observation)
      q_next_online = self._network(next_observation) if self._double_q else None
    return q_next_target, q_next_online

  def _td_errors(self, transition: Any) -> torch.Tensor:
    """Returns the TD errors [B] of a batch of transitions (differentiable)."""
    q_tm1 = self._network(transition.observation)
    q_next_eval, q_next_select = self._next_values(transition.next_observation)
    target = losses.td_target(transition.reward, transition.discount,
                              self._discount, q_next_eval, q_next_select)
    return target - losses.select_q(q_tm1, transition.action)

  def _batch_loss(self, sample: Any, weighted: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    td_error = self._td_errors(sample.data)
    elementwise = losses.elementwise_loss(td_error, self._loss, self._huber_delta)
    if weighted and self._is_exponent is not None:
      weights = losses.importance_weights(
          sample.info.probability, sample.info.table_size, self._is_exponent)
      elementwise = elementwise * weights
    return elementwise.mean(), td_error

  def step(self) -> None:
    sample = next(self._iterator)
    loss, td_error = self._batch_loss(sample, weighted=True)
    metrics: Dict[str, Any] = {}
    if self._one_step_iterator is not None:
      one_step_loss, _ = self._batch_loss(next(self._one_step_iterator), weighted=False)
      metrics['n_step_loss'] = loss.detach()
      metrics['one_step_loss'] = one_step_loss.detach()
      loss = loss + one_step_loss

    self._optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if self._max_gradient_norm > 0:
      metrics['gradient_norm'] = nn.utils.clip_grad_norm_(
          self._params, self._max_gradient_norm, foreach=True)
    self._optimizer.step()
    self._num_steps += 1
    if self._decays:
      self._set_learning_rate()

    if self._target_network is not None and (
        self._num_steps % self._target_update_period == 0):
      self._update_target()
    if self._priority_update_fn is not None:
      self._priority_update_fn(
          sample.info.key.numpy(), td_error.detach().abs().numpy().astype(np.float64))

    counts = self._counter.increment(steps=1)
    metrics['loss'] = loss.detach()
    metrics.update(counts)
    self._logger.write(metrics)

  def _set_learning_rate(self) -> None:
    rate = self._learning_rate.value_at(self._num_steps)
    for group in self._optimizer.param_groups:
      group['lr'] = rate

  @property
  def learning_rate(self) -> float:
    return self._optimizer.param_groups[0]['lr']

  def _update_target(self) -> None:
    with torch.no_grad():
      target = list(self._target_network.parameters())
      online = list(self._network.parameters())
      if self._tau == 1.0:
        torch._foreach_copy_(target, online)
      else:
        torch._foreach_lerp_(target, online, self._tau)
      for t, o in zip(self._target_network.buffers(), self._network.buffers()):
        t.copy_(o)

  def get_variables(self, names: Sequence[str]) -> List[Mapping[str, torch.Tensor]]:
    """'policy': a CPU copy of the online network's state dict."""
    variables = []
    for name in names:
      if name != 'policy':
        raise ValueError(f"Unknown variables {name!r}: DQNLearner provides ['policy'].")
      variables.append({k: v.detach().to('cpu', copy=True)
                        for k, v in self._network.state_dict().items()})
    return variables

  def save(self) -> Dict[str, Any]:
    """Online and target networks, optimizer state and step count (copies)."""
    state = {
        'network': copy.deepcopy(self._network.state_dict()),
        'optimizer': copy.deepcopy(self._optimizer.state_dict()),
        'num_steps': self._num_steps,
    }
    if self._target_network is not None:
      state['target_network'] = copy.deepcopy(self._target_network.state_dict())
    return state

  def restore(self, state: Mapping[str, Any]) -> None:
    missing = {'network', 'optimizer', 'num_steps'} - set(state)
    if self._target_network is not None and 'target_network' not in state:
      missing.add('target_network')
    if missing:
      raise ValueError(f'{type(self).__name__}.restore: state lacks {sorted(missing)}.')
    self._network.load_state_dict(state['network'])
    if self._target_network is not None:
      self._target_network.load_state_dict(state['target_network'])
    self._optimizer.load_state_dict(state['optimizer'])
    self._num_steps = int(state['num_steps'])
    if self._decays:
      self._set_learning_rate()


def _check_range(name, value, low, high, low_inclusive=True):
  ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and (
      (value >= low if low_inclusive else value > low) and value <= high)
  if not ok:
    left = '[' if low_inclusive else '('
    raise ValueError(f'{name} must be in {left}{low}, {high}], got {value!r}.')
