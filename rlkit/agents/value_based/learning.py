"""The one learner of the value-based agents (DQN, NFQ, QR-DQN): a loss object, Adam, a target network."""

import copy
import numbers
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn
import torch.utils._pytree as pytree

from rlkit import core
from rlkit.agents import learner_base
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import schedules

# Called with the sampled keys and their new priorities.
PriorityUpdateFn = Callable[[np.ndarray, np.ndarray], None]


class ValueLearner(core.Learner):
  """Trains a value network on replay batches with a loss object.

  Per step: `loss, extra = loss_fn(network, target_network, next(iterator))`
  (see `rlkit.agents.value_based.losses`); one Adam step with global-norm
  gradient clipping; every `target_update_period` steps
  `target <- tau * online + (1 - tau) * target`; the sampled items' new
  priorities (`extra.priorities`) go to `priority_update_fn`. The logger gets
  one row per step: 'loss', 'learning_rate', the loss's metrics and the counts.

  Args:
    network: the online network; trained in place (a single-process actor
      may share it) and moved to `device`.
    iterator: yields batches the loss understands (CPU torch tensors).
    loss_fn: a loss object; with `loss_fn.uses_target_network` False there
      is no target network (the loss gets None).
    learning_rate: Adam's step size, or a `schedules.Schedule` of it over
      learner steps (read at the step count, so a restored learner follows it).
    target_update_period: learner steps between target updates.
    tau: 1 for a hard copy, < 1 for Polyak averaging.
    max_gradient_norm: clip the global gradient norm; 0 disables.
    priority_update_fn: receives (keys, priorities) after each step.
    device: where the networks live and the batches are moved to.
    counter: counts learner steps (as `steps`; prefix it with 'learner').
    logger: gets one row of metrics per step.
  """

  def __init__(self, network: nn.Module, iterator: Iterator[Any], loss_fn: Any, *,
               learning_rate: Union[float, schedules.Schedule] = 1e-3,
               target_update_period: int = 100, tau: float = 1.0,
               max_gradient_norm: float = 0.0,
               priority_update_fn: Optional[PriorityUpdateFn] = None,
               device: Union[str, torch.device] = 'cpu',
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None):
    if not isinstance(network, nn.Module):
      raise TypeError(f'network must be a torch.nn.Module, got {type(network).__name__}.')
    if not callable(loss_fn) or not hasattr(loss_fn, 'uses_target_network'):
      raise TypeError(
          f'loss_fn must be a loss object (a callable with `uses_target_network`), got {loss_fn!r}.')
    if isinstance(learning_rate, numbers.Real):
      learning_rate = schedules.ConstantSchedule(
          learner_base.check_real('learning_rate', learning_rate, 0.0, low_inclusive=False))
    if not isinstance(learning_rate, schedules.Schedule):
      raise TypeError(f'learning_rate must be a number or a Schedule, got {learning_rate!r}.')
    if not learning_rate.value_at(0) > 0 or not learning_rate.value_at(10**12) >= 0:
      raise ValueError(f'learning_rate schedule {learning_rate!r} must start > 0 and stay >= 0.')
    if (not isinstance(target_update_period, numbers.Integral)
        or isinstance(target_update_period, bool) or target_update_period < 1):
      raise ValueError(
          f'target_update_period must be a positive integer, got {target_update_period!r}.')
    learner_base.check_real('tau', tau, 0.0, 1.0, low_inclusive=False)
    learner_base.check_real('max_gradient_norm', max_gradient_norm, 0.0)
    if priority_update_fn is not None and not callable(priority_update_fn):
      raise TypeError(f'priority_update_fn must be callable or None, got {priority_update_fn!r}.')
    self._device = torch.device(device)

    self._network = network.to(self._device)
    self._target_network = None
    if loss_fn.uses_target_network:
      self._target_network = copy.deepcopy(network)
      for p in self._target_network.parameters():
        p.requires_grad_(False)
    self._iterator = iterator
    self._loss_fn = loss_fn
    self._target_update_period = int(target_update_period)
    self._tau = float(tau)
    self._max_gradient_norm = float(max_gradient_norm)
    self._priority_update_fn = priority_update_fn
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._params = [p for p in network.parameters() if p.requires_grad]
    self._learning_rate = learning_rate
    self._optimizer = learner_base.make_adam(self._params, learning_rate.value_at(0))
    self._decays = not isinstance(learning_rate, schedules.ConstantSchedule)
    self._num_steps = 0

  @property
  def network(self) -> nn.Module:
    return self._network

  @property
  def target_network(self) -> Optional[nn.Module]:
    return self._target_network

  @property
  def loss_fn(self) -> Any:
    return self._loss_fn

  @property
  def num_steps(self) -> int:
    return self._num_steps

  @property
  def learning_rate(self) -> float:
    return self._optimizer.param_groups[0]['lr']

  def step(self) -> None:
    sample = next(self._iterator)
    if self._device.type != 'cpu':
      sample = pytree.tree_map(
          lambda x: x.to(self._device, non_blocking=True) if isinstance(x, torch.Tensor) else x,
          sample)
    loss, extra = self._loss_fn(self._network, self._target_network, sample)
    metrics: Dict[str, Any] = dict(extra.metrics)

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
    if self._priority_update_fn is not None and extra.priorities is not None:
      self._priority_update_fn(
          sample.info.key.cpu().numpy(),
          extra.priorities.detach().cpu().numpy().astype(np.float64))

    counts = self._counter.increment(steps=1)
    metrics['loss'] = loss.detach()
    metrics['learning_rate'] = self._optimizer.param_groups[0]['lr']
    metrics.update(counts)
    self._logger.write(metrics)

  def _set_learning_rate(self) -> None:
    rate = self._learning_rate.value_at(self._num_steps)
    for group in self._optimizer.param_groups:
      group['lr'] = rate

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
        raise ValueError(f"Unknown variables {name!r}: {type(self).__name__} provides ['policy'].")
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
