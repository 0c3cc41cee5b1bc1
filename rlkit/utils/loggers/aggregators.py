"""Sends each row to several loggers."""

from typing import Sequence

from rlkit.utils.loggers import base


class Dispatcher(base.Logger):
  """Writes every row to each of `to`."""

  def __init__(self, to: Sequence[base.Logger]):
    self._to = list(to)

  def write(self, data: base.LoggingData) -> None:
    for logger in self._to:
      logger.write(data)

  def close(self) -> None:
    for logger in self._to:
      logger.close()
