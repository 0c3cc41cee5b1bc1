"""What the learners share: Adam, argument checks and `EpisodeLearner`.

`EpisodeLearner` is the step, variables and save/restore of the
policy-gradient learners (REINFORCE, actor-critic); each subclass adds its
networks, its checks and its `loss`.
"""

import abc
import copy
import numbers
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import torch
from torch import nn

from rlkit import core
from rlkit.agents import pg_data
from rlkit.utils import counting
from rlkit.utils import loggers


def make_adam(params, learning_rate: float) -> torch.optim.Optimizer:
  """Adam, fused when this torch supports it on the parameters' device (about 20% faster steps)."""
  try:
    return torch.optim.Adam(params, lr=learning_rate, fused=True)
  except (RuntimeError, TypeError, ValueError):
    return torch.optim.Adam(params, lr=learning_rate, foreach=True)


def check_real(name: str, value: Any, low: float, high: float = float('inf'),
               low_inclusive: bool = True) -> float:
  """Returns `value` as a float; raises ValueError unless it is a number in range."""
  ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and
        (value >= low if low_inclusive else value > low) and value <= high)
  if not ok:
    left = '[' if low_inclusive else '('
    raise ValueError(f'{name} must be a number in {left}{low}, {high}], got {value!r}.')
  return float(value)


class EpisodeLearner(core.Learner):
  """One Adam step per `pg_data.EpisodeBatch` on the subclass's `loss`.

  Per step: `loss(batch)` gives the differentiable 'loss' and metrics; one
  Adam step follows, with global-norm gradient clipping when
  `max_gradient_norm` is set; the logger gets the metrics, the learning rate
  (constant), the batch's size and mean return, and the counts.

  The networks move to `device` (in place: a collect actor sharing them
  follows); batches are numpy and go there with `to_device`.

  Args:
    networks: the trained modules by their key in the saved state, in the
      order of the optimizer's parameters.
    policy: the module (one of `networks`) served as the 'policy' variables;
      set to training mode.
    iterator: yields `pg_data.EpisodeBatch`es.
    learning_rate: Adam's step size (checked by the subclass).
    max_gradient_norm: clip the global gradient norm; 0 disables.
    counter: counts learner steps (as `steps`; prefix it with 'learner').
    logger: gets one row of metrics per step.
    device: where the networks train ('cpu', 'cuda', ...).
  """

  def __init__(self, networks: Mapping[str, nn.Module], policy: nn.Module,
               iterator: Iterator[pg_data.EpisodeBatch], *, learning_rate: float,
               max_gradient_norm: float, counter: Optional[counting.Counter],
               logger: Optional[loggers.Logger], device: Union[str, torch.device] = 'cpu'):
    try:
      self._device = torch.device(device)
    except (RuntimeError, TypeError) as e:
      raise ValueError(
          f"device must name a torch device (e.g. 'cpu', 'cuda'), got {device!r}.") from e
    if self._device.type == 'cuda' and not torch.cuda.is_available():
      raise ValueError(f"device={device!r} but CUDA is not available; use device='cpu'.")
    self._networks = dict(networks)
    for module in self._networks.values():
      module.to(self._device)
    self._policy_module = policy
    self._iterator = iterator
    self._max_gradient_norm = max_gradient_norm
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    policy.train()
    self._params = [p for module in self._networks.values()
                    for p in module.parameters() if p.requires_grad]
    self._optimizer = make_adam(self._params, learning_rate)
    self._num_steps = 0

  @property
  def num_steps(self) -> int:
    return self._num_steps

  @property
  def device(self) -> torch.device:
    return self._device

  def to_device(self, array: Any, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """A numpy array (or CPU tensor) as a tensor on the learner's device."""
    return torch.as_tensor(array, dtype=dtype).to(self._device, non_blocking=True)

  @abc.abstractmethod
  def loss(self, batch: pg_data.EpisodeBatch) -> Dict[str, torch.Tensor]:
    """The loss (key 'loss', differentiable) and metrics of one batch."""

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
    metrics['learning_rate'] = self._optimizer.param_groups[0]['lr']
    metrics['batch_episodes'] = batch.num_episodes
    metrics['batch_steps'] = batch.num_steps
    metrics['batch_return_mean'] = float(batch.reward.sum(axis=1).mean())
    metrics.update(counts)
    self._logger.write(metrics)

  def get_variables(self, names: Sequence[str]) -> List[Mapping[str, torch.Tensor]]:
    """'policy': a CPU copy of the policy module's state dict."""
    variables = []
    for name in names:
      if name != 'policy':
        raise ValueError(f"Unknown variables {name!r}: {type(self).__name__} provides ['policy'].")
      variables.append(
          {k: v.detach().to('cpu', copy=True)
           for k, v in self._policy_module.state_dict().items()})
    return variables

  def save(self) -> Dict[str, Any]:
    """Networks, optimizer state and step count (copies)."""
    state = {key: copy.deepcopy(module.state_dict())
             for key, module in self._networks.items()}
    state['optimizer'] = copy.deepcopy(self._optimizer.state_dict())
    state['num_steps'] = self._num_steps
    return state

  def restore(self, state: Mapping[str, Any]) -> None:
    missing = {*self._networks, 'optimizer', 'num_steps'} - set(state)
    if missing:
      raise ValueError(f'{type(self).__name__}.restore: state lacks {sorted(missing)}.')
    for key, module in self._networks.items():
      module.load_state_dict(state[key])
    self._optimizer.load_state_dict(state['optimizer'])
    self._num_steps = int(state['num_steps'])
