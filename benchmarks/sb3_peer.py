"""What every Stable-Baselines3 peer in the benchmarks shares."""

from typing import Any


def without_log_folder(model: Any) -> Any:
  """`model` with a logger that writes nothing.

  SB3's default logger makes a folder `SB3-<date>` in the temp directory at each
  `learn()`, even with verbose=0; the benchmarks print their own figures.
  """
  from stable_baselines3.common import logger  # pylint: disable=g-import-not-at-top
  model.set_logger(logger.Logger(folder=None, output_formats=[]))
  return model
