"""The logger interface."""

import abc
import numbers
from typing import Any, Mapping

import numpy as np

LoggingData = Mapping[str, Any]


class Logger(abc.ABC):
  """Writes a dictionary of values (one row) somewhere."""

  @abc.abstractmethod
  def write(self, data: LoggingData) -> None:
    """Writes one row of data."""

  def close(self) -> None:
    """Releases any resource (file handles); further writes are undefined."""


class NoOpLogger(Logger):
  """Discards everything it is given."""

  def write(self, data: LoggingData) -> None:
    del data


def to_numpy(value: Any) -> Any:
  """Converts tensors (torch, numpy scalars) to plain Python numbers or arrays."""
  if isinstance(value, (str, bool, numbers.Number)) and not isinstance(
      value, np.generic):
    return value
  if isinstance(value, np.generic):
    return value.item()
  if hasattr(value, 'detach'):  # A torch tensor, without importing torch.
    value = value.detach().cpu().numpy()
  if isinstance(value, np.ndarray) and value.ndim == 0:
    return value.item()
  return value
