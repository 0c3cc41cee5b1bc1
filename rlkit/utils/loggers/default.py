"""The logger most components use unless told otherwise."""

from typing import Callable, Optional

from rlkit.utils.loggers import aggregators
from rlkit.utils.loggers import base
from rlkit.utils.loggers import csv
from rlkit.utils.loggers import filters
from rlkit.utils.loggers import terminal


def make_default_logger(
    label: str,
    time_delta: float = 1.0,
    directory: Optional[str] = None,
    print_fn: Callable[[str], None] = print,
    save_data: bool = True,
) -> base.Logger:
  """Terminal output throttled to one row per `time_delta` s, plus every row to CSV.

  Args:
    label: name of the stream, e.g. 'train', 'learner', 'evaluator'.
    time_delta: minimum seconds between two printed rows.
    directory: where `<label>.csv` goes; no CSV when None or not `save_data`.
    print_fn: where terminal rows go.
    save_data: whether to write the CSV.
  """
  printed = filters.TimeFilter(terminal.TerminalLogger(label, print_fn), time_delta)
  loggers = [printed]
  if save_data and directory is not None:
    loggers.append(csv.CSVLogger(directory, label))
  return filters.NoneFilter(aggregators.Dispatcher(loggers))
