"""bsuite (the Behaviour Suite for RL) experiments ('bsuite:<id>') as rlkit environments.

    env = load('catch/0', seed=0)
    env = load('deep_sea/3', results_dir='/tmp/bsuite')  # with bsuite's CSV logging
    subset_ids('basic')     # ('bandit/0', ..., 'mountain_car/19')
    num_episodes('catch/0')  # 10000, the episodes bsuite prescribes

bsuite environments are dm_env-native and reset themselves on a `step()`
after LAST (or on a fresh environment); the wrapper passes that through.
"""

import difflib
import inspect
import numbers
import os
from typing import Any, Optional, Tuple

from absl import logging
import dm_env

from rlkit.wrappers import base

# Experiments that download MNIST when loaded (this fails without network).
NEEDS_DOWNLOAD = ('mnist', 'mnist_noise', 'mnist_scale')


def _bsuite():
  """bsuite's loading module (`bsuite.bsuite`) and its sweep."""
  from bsuite import bsuite  # pylint: disable=g-import-not-at-top
  from bsuite import sweep  # pylint: disable=g-import-not-at-top
  return bsuite, sweep


def all_ids() -> Tuple[str, ...]:
  """Every bsuite id ('<experiment>/<index>'), in `bsuite.sweep.SWEEP` order."""
  return tuple(_bsuite()[1].SWEEP)


def check_id(bsuite_id: str) -> str:
  """Returns `bsuite_id` if bsuite has it; raises ValueError with close matches."""
  if not isinstance(bsuite_id, str):
    raise TypeError(f"A bsuite id must be a string such as 'catch/0', got {bsuite_id!r}.")
  sweep = _bsuite()[1]
  if bsuite_id in sweep.SETTINGS:
    return bsuite_id
  experiment = bsuite_id.partition('/')[0]
  experiments = sorted({i.partition('/')[0] for i in sweep.SWEEP})
  if experiment in experiments:
    count = sum(i.startswith(experiment + '/') for i in sweep.SWEEP)
    raise ValueError(f"Unknown bsuite id {bsuite_id!r} ('bsuite:{bsuite_id}'): experiment "
                     f'{experiment!r} has ids {experiment}/0 to {experiment}/{count - 1}.')
  close = [f'{c}/0' for c in difflib.get_close_matches(experiment, experiments, n=3)]
  if not close:
    close = difflib.get_close_matches(bsuite_id, list(sweep.SWEEP), n=3, cutoff=0.6)
  hint = f' Close matches: {", ".join("bsuite:" + c for c in close)}.' if close else ''
  raise ValueError(
      f"Unknown bsuite id {bsuite_id!r} ('bsuite:{bsuite_id}'): expected '<experiment>/<index>' "
      f"such as 'catch/0' with "
      f"<experiment> one of {', '.join(experiments)}.{hint}")


def subset_ids(subset: str = 'all', include_downloads: bool = True) -> Tuple[str, ...]:
  """The ids of a subset of bsuite.

  Args:
    subset: 'all'; a bsuite tag of `bsuite.sweep.TAGS` ('basic', 'noise',
      'scale', 'exploration', 'credit_assignment', 'memory', 'generalization');
      or an experiment name ('catch' -> catch/0, catch/1, ...).
    include_downloads: keep the MNIST experiments, which download their data.

  Raises:
    ValueError: if `subset` is none of these (the message lists them).
  """
  sweep = _bsuite()[1]
  experiments = sorted({i.partition('/')[0] for i in sweep.SWEEP})
  if subset == 'all':
    ids = tuple(sweep.SWEEP)
  elif subset in sweep.TAGS:
    ids = tuple(sweep.TAGS[subset])
  elif subset in experiments:
    ids = tuple(i for i in sweep.SWEEP if i.partition('/')[0] == subset)
  else:
    raise ValueError(
        f"Unknown bsuite subset {subset!r}: expected 'all', a tag ({', '.join(sorted(sweep.TAGS))}) "
        f"or an experiment ({', '.join(experiments)}).")
  if not include_downloads:
    ids = tuple(i for i in ids if i.partition('/')[0] not in NEEDS_DOWNLOAD)
  return ids


def num_episodes(bsuite_id: str) -> int:
  """The number of episodes bsuite prescribes for `bsuite_id` (`sweep.EPISODES`)."""
  return int(_bsuite()[1].EPISODES[check_id(bsuite_id)])


class BsuiteEnvironment(base.EnvironmentWrapper):
  """A bsuite environment (possibly inside bsuite's CSV `Logging` wrapper).

  Args:
    environment: what `bsuite.load` (or `csv_logging.wrap_environment`) made.
    bsuite_id: its id, e.g. 'catch/0'.
    results_dir: where bsuite's CSV logger writes, or None.
  """

  def __init__(self, environment: dm_env.Environment, bsuite_id: str,
               results_dir: Optional[str] = None):
    super().__init__(environment)
    self._bsuite_id = bsuite_id
    self._results_dir = results_dir

  @property
  def bsuite_id(self) -> str:
    return self._bsuite_id

  @property
  def bsuite_num_episodes(self) -> int:
    """The number of episodes bsuite prescribes for this id."""
    return num_episodes(self._bsuite_id)

  @property
  def results_dir(self) -> Optional[str]:
    return self._results_dir

  def render(self, *args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(f'bsuite:{self._bsuite_id} cannot render: bsuite environments '
                              f'have no render().')

  def __repr__(self) -> str:
    logging_to = f', results_dir={self._results_dir!r}' if self._results_dir else ''
    return f'BsuiteEnvironment({self._bsuite_id!r}{logging_to})'


def load(bsuite_id: str,
         seed: Optional[int] = None,
         results_dir: Optional[str] = None,
         overwrite: bool = False,
         log_by_step: bool = False) -> BsuiteEnvironment:
  """Loads a bsuite experiment by id, with its prescribed settings.

  Args:
    bsuite_id: e.g. 'catch/0', 'cartpole/0', 'deep_sea/0' (see `all_ids()`).
    seed: the environment's seed, for experiments that take one (bsuite's ids
      leave it unset: None keeps bsuite's behaviour); ignored by those that
      take none (bandit, deep_sea_stochastic, discounting_chain).
    results_dir: if given, wrap in bsuite's CSV logging
      (as `bsuite.load_and_record_to_csv`), one file per id in this directory.
    overwrite: let the CSV logger replace an existing file of this id.
    log_by_step: log by steps rather than episodes (bsuite's option).
  """
  bsuite_id = check_id(bsuite_id)
  if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
    raise TypeError(f'seed must be an int or None, got {seed!r}.')
  if results_dir is not None and (not isinstance(results_dir, (str, os.PathLike)) or
                                  not os.fspath(results_dir)):
    raise TypeError(f'results_dir must be a directory path or None, got {results_dir!r}.')
  bsuite, sweep = _bsuite()
  experiment = bsuite_id.partition('/')[0]
  settings = dict(sweep.SETTINGS[bsuite_id])
  constructor = bsuite.EXPERIMENT_NAME_TO_ENVIRONMENT[experiment]
  if seed is not None and 'seed' in inspect.signature(constructor).parameters:
    settings['seed'] = int(seed)
  try:
    environment = bsuite.load(experiment, settings)
  except OSError as error:
    if experiment in NEEDS_DOWNLOAD:
      raise RuntimeError(f'bsuite:{bsuite_id} downloads MNIST when it is loaded, which failed '
                         f'({error}); use an experiment without downloads.') from error
    raise
  logging.info('Loaded bsuite:%s with settings %s.', bsuite_id, settings)
  if results_dir is not None:
    from bsuite.logging import csv_logging  # pylint: disable=g-import-not-at-top
    results_dir = os.fspath(results_dir)
    environment = csv_logging.wrap_environment(environment, bsuite_id, results_dir,
                                               overwrite=overwrite, log_by_step=log_by_step)
  return BsuiteEnvironment(environment, bsuite_id, results_dir)
