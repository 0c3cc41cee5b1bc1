"""The loggers of a run directory, by label (Acme's logger factory), and the terminal.

    logger_fn = RunLoggers(run, verbosity=1, budget=(20_000, 'steps'))
    train_logger = logger_fn('train')

Every row goes to logs/<label>.csv and to TensorBoard under
tensorboard/<label>/ (learner rows at most once a second). The terminal gets
one live progress line (steps, speed, ETA, last training and evaluation
returns; plain periodic lines when stdout is not a terminal), a short line
per evaluation from verbosity 1, and the full throttled rows of every label
from verbosity 2.
"""

import os
from typing import Any, List, Mapping, Optional, Tuple

from rlkit.utils import loggers
from rlkit.utils import progress
from rlkit.utils import run_dir as run_dir_lib

LEARNER_CSV_SECONDS = 1.0
TENSORBOARD_DIR = 'tensorboard'
STEPS_KEYS = {'learner': 'learner_steps'}  # Every other label counts actor steps.
QUIET, DEFAULT, DEBUG = 0, 1, 2


def tensorboard_dir(run: run_dir_lib.RunDirectory) -> str:
  return os.path.join(run.path, TENSORBOARD_DIR)


class _EvaluationLine(loggers.Logger):
  """One short terminal line per evaluation row."""

  def __init__(self, print_fn):
    self._print = print_fn

  def write(self, data: Mapping[str, Any]) -> None:
    if 'return_mean' not in data:
      return
    baseline = data.get('baseline_return_mean')
    random_part = f' (random {float(baseline):.1f})' if baseline is not None else ''
    self._print(f'[evaluator] {int(data.get("actor_steps", 0))} steps: greedy return '
                f'{float(data["return_mean"]):.2f} +- {float(data.get("return_std", 0)):.2f} '
                f'over {int(data.get("episodes", 0))} episodes{random_part}')

  def close(self) -> None:
    pass


class RunLoggers:
  """label -> Logger writing the run directory's logs; `close()` closes them all.

  Args:
    run: the run directory.
    log_every_seconds: seconds between printed rows (verbosity 2) and between
      plain progress lines without a terminal.
    resume_state: the checkpoint being resumed (TensorBoard drops what came after it).
    verbosity: 0 progress line and summary, 1 also evaluations, 2 also every label's rows.
    budget: (amount, 'steps' | 'episodes') for the progress line; None: unknown.
    tensorboard: also write TensorBoard event files.
  """

  def __init__(self, run: run_dir_lib.RunDirectory, log_every_seconds: float = 10.0,
               resume_state: Optional[Mapping[str, Any]] = None, verbosity: int = DEFAULT,
               budget: Optional[Tuple[Optional[int], str]] = None, tensorboard: bool = True):
    self._run = run
    self._every = float(log_every_seconds)
    self._counts = (resume_state or {}).get('counter') if resume_state else None
    self._verbosity = verbosity
    self._tensorboard = tensorboard
    amount, unit = budget or (None, 'steps')
    self.progress = progress.ProgressReporter(amount, unit, period_s=max(self._every, 1.0))
    self._created: List[loggers.Logger] = []

  def print(self, text: str) -> None:
    """Prints a line without breaking the live progress line."""
    self.progress.write(text)

  def _resume_step(self, key: str) -> Optional[int]:
    if self._counts is None:
      return None
    return int(self._counts.get(key, 0))

  def __call__(self, label: str, steps_key: Optional[str] = None,
               instance: Optional[int] = None) -> loggers.Logger:
    if instance is not None:
      label = f'{label}_{instance}'
    steps_key = steps_key or STEPS_KEYS.get(label.split('_')[0], 'actor_steps')
    stored: List[loggers.Logger] = [loggers.CSVLogger(self._run.logs_dir, label)]
    if self._tensorboard:
      stored.append(loggers.TensorBoardLogger(
          tensorboard_dir(self._run), label, steps_key,
          resume_step=self._resume_step(steps_key)))
    printed: List[loggers.Logger] = []
    if self._verbosity >= DEBUG:
      printed.append(loggers.TimeFilter(loggers.TerminalLogger(label, self.print),
                                        0.0 if label == 'evaluator' else self._every))
    if label == 'evaluator':
      printed.append(self.progress.logger('return_mean', evaluation=True))
      if self._verbosity == DEFAULT:
        printed.append(_EvaluationLine(self.print))
    elif label == 'train':
      printed.append(self.progress.logger())
    if label == 'learner':
      stored = [loggers.TimeFilter(loggers.Dispatcher(stored), LEARNER_CSV_SECONDS)]
    logger = loggers.NoneFilter(loggers.Dispatcher(stored + printed))
    self._created.append(logger)
    return logger

  def close(self) -> None:
    while self._created:
      self._created.pop().close()
    self.progress.close()
