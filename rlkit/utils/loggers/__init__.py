"""Loggers composed from small pieces, as in `acme.utils.loggers`."""

from rlkit.utils.loggers.aggregators import Dispatcher
from rlkit.utils.loggers.base import Logger, LoggingData, NoOpLogger, to_numpy
from rlkit.utils.loggers.csv import CSVLogger
from rlkit.utils.loggers.default import make_default_logger
from rlkit.utils.loggers.filters import NoneFilter, TimeFilter
from rlkit.utils.loggers.terminal import TerminalLogger
