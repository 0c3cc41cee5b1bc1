"""Pulls parameters from a VariableSource into a local torch module."""

import numbers

from torch import nn

from rlkit import core


class VariableClient:
  """Copies `source.get_variables([key])` into `module` every `update_period` calls.

  Actors in other threads or processes use it to follow the learner. A
  single-process agent can instead share the learner's module itself (then no
  client is needed and every learner step is seen at once).

  Args:
    source: the learner (or any VariableSource).
    module: the local module to load the state dict into.
    key: the name of the variables to pull.
    update_period: pull on every `update_period`-th call of `update()`.
  """

  def __init__(self, source: core.VariableSource, module: nn.Module,
               key: str = 'policy', update_period: int = 1):
    if not isinstance(source, core.VariableSource):
      raise TypeError(f'source must be a VariableSource, got {type(source).__name__}.')
    if not isinstance(update_period, numbers.Integral) or update_period < 1:
      raise ValueError(f'update_period must be a positive integer, got {update_period!r}.')
    self._source = source
    self._module = module
    self._key = key
    self._period = int(update_period)
    self._calls = 0

  def update(self, wait: bool = False) -> None:
    """Counts a call; pulls when the period is reached, or at once when `wait`."""
    self._calls += 1
    if wait or self._calls >= self._period:
      self.update_and_wait()

  def update_and_wait(self) -> None:
    """Pulls the current variables now."""
    self._calls = 0
    (state_dict,) = self._source.get_variables([self._key])
    self._module.load_state_dict(state_dict)
