"""Loggers composed from small pieces, as in `acme.utils.loggers`."""

from rlkit.utils.loggers.aggregators import Dispatcher
from rlkit.utils.loggers.base import Logger, LoggingData, NoOpLogger, to_numpy
from rlkit.utils.loggers.csv import CSVLogger
from rlkit.utils.loggers.default import make_default_logger
from rlkit.utils.loggers.filters import NoneFilter, TimeFilter
from rlkit.utils.loggers.terminal import TerminalLogger


def __getattr__(name: str):
  # TensorBoardLogger imports tensorboard's protos (0.2 s): only when asked for.
  if name == 'TensorBoardLogger':
    from rlkit.utils.loggers.tensorboard import TensorBoardLogger  # pylint: disable=g-import-not-at-top
    return TensorBoardLogger
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
