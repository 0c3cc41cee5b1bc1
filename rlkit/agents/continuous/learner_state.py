"""What the SAC, TD3 and D4PG learners share: variables, learning rate, save and restore."""

import abc
import copy
from typing import Any, Dict, List, Mapping, Sequence

import torch

from rlkit import core
from rlkit.agents.continuous import learning_utils


class ContinuousLearner(core.Learner):
  """A learner with a `_policy` module, a `_policy_optimizer` and a `_num_steps` count.

  Its saved state is `_state_objects()` (modules and optimizers saved by their
  `state_dict`, torch Generators by `get_state`, tensors by value), keyed as
  the subclass names them, plus 'num_steps'; `restore` refuses a state that
  lacks any key.
  """

  _policy: torch.nn.Module
  _policy_optimizer: torch.optim.Optimizer
  _num_steps: int

  @abc.abstractmethod
  def _state_objects(self) -> Dict[str, Any]:
    """The learner's stateful objects by their key in the saved state."""

  @property
  def num_steps(self) -> int:
    return self._num_steps

  @property
  def learning_rate(self) -> float:
    """The policy's learning rate (constant)."""
    return self._policy_optimizer.param_groups[0]['lr']

  def get_variables(self, names: Sequence[str]) -> List[Mapping[str, torch.Tensor]]:
    """'policy': a CPU copy of the policy network's state dict."""
    for name in names:
      if name != 'policy':
        raise ValueError(f"Unknown variables {name!r}: {type(self).__name__} provides "
                         "['policy'].")
    return [learning_utils.cpu_state_dict(self._policy) for _ in names]

  def save(self) -> Dict[str, Any]:
    """Copies of every stateful object and the step count."""
    state = {key: _get_state(value) for key, value in self._state_objects().items()}
    state['num_steps'] = self._num_steps
    return copy.deepcopy(state)

  def restore(self, state: Mapping[str, Any]) -> None:
    objects = self._state_objects()
    missing = ({*objects, 'num_steps'}) - set(state)
    if missing:
      raise ValueError(f'{type(self).__name__}.restore: state lacks {sorted(missing)}.')
    for key, value in objects.items():
      _set_state(value, state[key])
    self._num_steps = int(state['num_steps'])


def _get_state(value: Any) -> Any:
  if isinstance(value, torch.Generator):
    return value.get_state()
  if isinstance(value, torch.Tensor):
    return value.detach()
  return value.state_dict()


def _set_state(value: Any, saved: Any) -> None:
  if isinstance(value, torch.Generator):
    value.set_state(saved)
  elif isinstance(value, torch.Tensor):
    with torch.no_grad():
      value.copy_(saved)
  else:
    value.load_state_dict(saved)
