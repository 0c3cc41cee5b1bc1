"""Observers add per-episode metrics to the EnvironmentLoop's rows."""

import abc
from typing import Dict

import dm_env

from rlkit import types


class EnvLoopObserver(abc.ABC):
  """Sees every timestep of the loop and reports metrics at episode end."""

  @abc.abstractmethod
  def observe_first(self, env: dm_env.Environment, timestep: dm_env.TimeStep) -> None:
    """Called after `reset()`."""

  @abc.abstractmethod
  def observe(self, env: dm_env.Environment, timestep: dm_env.TimeStep,
              action: types.NestedArray) -> None:
    """Called after every `step()`."""

  @abc.abstractmethod
  def get_metrics(self) -> Dict[str, types.Number]:
    """Returns the metrics of the episode just finished."""
