"""The loggers of a run directory, by label (Acme's logger factory).

    logger_fn = RunLoggers(run, log_every_seconds=10.0)
    train_logger = logger_fn('train')

Every row goes to logs/<label>.csv (learner rows at most once a second);
the terminal gets a throttled line per label.
"""

from typing import Any, List, Mapping, Optional

from rlkit.utils import loggers
from rlkit.utils import run_dir as run_dir_lib

LEARNER_CSV_SECONDS = 1.0


class RunLoggers:
  """label -> Logger writing the run directory's logs; `close()` closes them all.

  Args:
    run: the run directory.
    log_every_seconds: seconds between terminal lines of the train logger
      (the learner's: twice that, at least 5 s; evaluations: every row).
    resume_state: the checkpoint being resumed, if any.
  """

  def __init__(self, run: run_dir_lib.RunDirectory, log_every_seconds: float,
               resume_state: Optional[Mapping[str, Any]] = None):
    self._run = run
    self._every = float(log_every_seconds)
    self._resume_state = resume_state
    self._created: List[loggers.Logger] = []

  def __call__(self, label: str, steps_key: Optional[str] = None,
               instance: Optional[int] = None) -> loggers.Logger:
    del steps_key
    if instance is not None:
      label = f'{label}_{instance}'
    if label == 'learner':
      terminal = loggers.TimeFilter(loggers.TerminalLogger(label), max(5.0, 2 * self._every))
      csv_logger = loggers.CSVLogger(self._run.logs_dir, label)
      logger = loggers.TimeFilter(
          loggers.NoneFilter(loggers.Dispatcher([terminal, csv_logger])), LEARNER_CSV_SECONDS)
    else:
      logger = self._run.make_logger(label, time_delta=0.0 if label == 'evaluator'
                                     else self._every)
    self._created.append(logger)
    return logger

  def close(self) -> None:
    while self._created:
      self._created.pop().close()
