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
    tensorboard_dir: Optional[str] = None,
    steps_key: Optional[str] = None,
    tensorboard_resume_step: Optional[int] = None,
) -> base.Logger:
  """Terminal output throttled to one row per `time_delta` s, plus every row to
  CSV and (when `tensorboard_dir` is given) to TensorBoard.

  Args:
    label: name of the stream, e.g. 'train', 'learner', 'evaluator'.
    time_delta: minimum seconds between two printed rows.
    directory: where `<label>.csv` goes; no CSV when None or not `save_data`.
    print_fn: where terminal rows go.
    save_data: whether to write the CSV and TensorBoard files.
    tensorboard_dir: the run's TensorBoard directory; rows go to
      `<tensorboard_dir>/<label>/`. None: no TensorBoard.
    steps_key: the row key giving the TensorBoard step (e.g. 'actor_steps');
      required with `tensorboard_dir`.
    tensorboard_resume_step: see `TensorBoardLogger(resume_step=...)`.
  """
  if tensorboard_dir is not None and not steps_key:
    raise ValueError(f'make_default_logger({label!r}): tensorboard_dir needs a steps_key '
                     f"(e.g. 'actor_steps'), got {steps_key!r}.")
  printed = filters.TimeFilter(terminal.TerminalLogger(label, print_fn), time_delta)
  loggers = [printed]
  if save_data and directory is not None:
    loggers.append(csv.CSVLogger(directory, label))
  if save_data and tensorboard_dir is not None:
    from rlkit.utils.loggers import tensorboard  # pylint: disable=g-import-not-at-top
    loggers.append(tensorboard.TensorBoardLogger(
        tensorboard_dir, label, steps_key, resume_step=tensorboard_resume_step))
  return filters.NoneFilter(aggregators.Dispatcher(loggers))
