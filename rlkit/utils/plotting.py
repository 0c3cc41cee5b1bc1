"""Learning curves from a run's CSV logs, and GridWorld value maps, as PNG files.

`plot_learning_curves` draws up to four panels, each only when its columns
exist: the training episode return against steps with a rolling mean
(logs/train.csv), the evaluation return mean with a +-std band and min/max
lines (logs/evaluator.csv; a random baseline as a dashed line when logged),
the learner's losses and epsilon (logs/learner.csv, or the training log).
Several runs (seeds, agents) share one figure, one colour each; to average
seeds into one mean ± std curve per configuration, see `plotting_aggregate`.
A run directory's resumes (logs/resumes.csv, written by the runner on each
resume) are dotted vertical lines at the counts it resumed at. A log-scale
loss axis has plain-number ticks; the title (by default the run directory,
whole) stays on one line, in smaller type or a wider figure when long.

matplotlib is imported inside the functions; figures are built without pyplot
(no display needed) and saved atomically.
"""

import csv
import math
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from rlkit.utils import atomic

# Preferred x-axis columns per kind of log, first present wins.
TRAIN_X = ('actor_steps', 'steps', 'environment_loop_steps')
EVAL_X = ('actor_steps', 'steps', 'learner_steps', 'evaluator_steps')
LEARNER_X = ('learner_steps', 'steps')
# logs/resumes.csv (written by the runner on every resume): the counts it resumed at.
RESUMES_LABEL = 'resumes'
# Loss axes spanning at most this many decades get ticks at 1, 2 and 5 of each decade.
FINE_LOG_TICK_DECADES = 3

Columns = Dict[str, np.ndarray]


def read_csv(path: str) -> Columns:
  """Reads a CSV log into {column: float array}; blanks and text become NaN.

  Columns with no number at all are dropped. A last row still being written
  (fewer fields than the header) is skipped.
  """
  with open(path, newline='') as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if not header:
      return {}
    rows = [row for row in reader if len(row) == len(header)]
  columns = {}
  for index, name in enumerate(header):
    values = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
      try:
        values[i] = float(row[index])
      except ValueError:
        pass
    if rows and not np.all(np.isnan(values)):
      columns[name] = values
  return columns


def rolling_mean(values: Sequence[float], window: int) -> np.ndarray:
  """Trailing mean over the last `window` values (fewer at the start); NaNs ignored."""
  if isinstance(window, bool) or not isinstance(window, int) or window < 1:
    raise ValueError(f'window must be a positive integer, got {window!r}.')
  values = np.asarray(values, dtype=np.float64)
  valid = ~np.isnan(values)
  sums = np.cumsum(np.where(valid, values, 0.0))
  counts = np.cumsum(valid)
  sums[window:] = sums[window:] - sums[:-window]
  counts[window:] = counts[window:] - counts[:-window]
  with np.errstate(invalid='ignore', divide='ignore'):
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def pick_x(columns: Columns, preferred: Sequence[str],
           x_key: Optional[str]) -> Tuple[np.ndarray, str]:
  """The x values and their column: `x_key`, else the first of `preferred`, else row numbers."""
  for key in ((x_key,) if x_key else ()) + tuple(preferred):
    if key in columns:
      return columns[key], key
  any_rows = next(iter(columns.values()))
  return np.arange(1, len(any_rows) + 1, dtype=np.float64), 'row'


class _Run:
  """The logs of one source: a run directory or a single CSV file."""

  def __init__(self, source: str, label: Optional[str], labels: Dict[str, str]):
    source = os.fspath(source)
    self.source = source
    self.train: Optional[Columns] = None
    self.evaluator: Optional[Columns] = None
    self.learner: Optional[Columns] = None
    self.resumes: Optional[Columns] = None
    self.is_directory = os.path.isdir(source)
    self.alone = False
    if os.path.isdir(source):
      logs = os.path.join(source, 'logs')
      if not os.path.isdir(logs):
        raise FileNotFoundError(f'{source!r} has no logs/ directory: is it a run directory?')
      for kind, name in labels.items():
        path = os.path.join(logs, f'{name}.csv')
        if os.path.exists(path):
          setattr(self, kind, read_csv(path))
      resumes = os.path.join(logs, f'{RESUMES_LABEL}.csv')
      if os.path.exists(resumes):
        self.resumes = read_csv(resumes) or None
      parts = os.path.normpath(os.path.abspath(source)).split(os.sep)
      self.label = label or '/'.join(parts[-2:])
    elif os.path.isfile(source):
      columns = read_csv(source)
      if 'return_mean' in columns:
        self.evaluator = columns
      elif 'episode_return' in columns:
        self.train = columns
      else:
        self.learner = columns
      self.label = label or os.path.splitext(os.path.basename(source))[0]
    else:
      raise FileNotFoundError(f'No run directory or CSV file at {source!r}.')
    for kind in ('train', 'evaluator', 'learner'):
      if not getattr(self, kind):
        setattr(self, kind, None)

  def scalar_logs(self) -> List[Columns]:
    return [c for c in (self.learner, self.train) if c]


def _loss_keys(run: _Run) -> List[Tuple[Columns, str]]:
  found, seen = [], set()
  for columns in run.scalar_logs():
    for key in columns:
      if 'loss' in key and key not in seen:
        found.append((columns, key))
        seen.add(key)
  return found


def _epsilon(run: _Run) -> Optional[Columns]:
  return next((c for c in run.scalar_logs() if 'epsilon' in c), None)


def _x_for(columns: Columns, run: _Run, x_key: Optional[str]) -> Tuple[np.ndarray, str]:
  preferred = LEARNER_X if columns is run.learner else TRAIN_X
  return pick_x(columns, preferred, x_key)


def _legend(run: _Run, alone: str, among_others: str) -> str:
  """A line's legend entry: without the run's name when it is the only run (the title has it)."""
  return alone if run.alone else among_others


def _mark_resumes(ax, runs, colors, x_names) -> None:
  """A dotted vertical line at every resume of each run, on axes whose x is a count."""
  labelled = False
  for run, color in zip(runs, colors):
    if run.resumes is None:
      continue
    for name in x_names:
      if name not in run.resumes:
        continue
      for x in run.resumes[name][~np.isnan(run.resumes[name])]:
        ax.axvline(x, color=color, linestyle=(0, (1, 2)), linewidth=1.3, alpha=0.9,
                   label=None if labelled else 'resumed')
        labelled = True
      break


def _readable_log_ticks(ax) -> None:
  """Plain-number ticks (0.2, 0.5, 1, 2, ...) on a log y axis, even within one decade."""
  from matplotlib import ticker  # pylint: disable=g-import-not-at-top
  low, high = ax.get_ylim()
  decades = math.log10(high / low) if low > 0 and high > low else 0.0
  subs = (1.0, 2.0, 5.0) if decades <= FINE_LOG_TICK_DECADES else (1.0,)
  ax.yaxis.set_major_locator(ticker.LogLocator(base=10.0, subs=subs))
  ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f'{value:g}'))
  ax.yaxis.set_minor_formatter(ticker.NullFormatter())
  ticks = [t for t in ax.get_yticks() if low <= t <= high]
  if len(ticks) < 2:  # less than a factor of 2 between the limits: ticks at the ends
    ax.yaxis.set_major_locator(ticker.FixedLocator(np.geomspace(low, high, 3)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f'{value:.3g}'))


def _plot_train(ax, runs, colors, window, x_key) -> None:
  names = set()
  for run, color in zip(runs, colors):
    if run.train is None or 'episode_return' not in run.train:
      continue
    x, name = pick_x(run.train, TRAIN_X, x_key)
    names.add(name)
    y = run.train['episode_return']
    ax.plot(x, y, color=color, alpha=0.2, linewidth=0.8)
    ax.plot(x, rolling_mean(y, window), color=color, linewidth=1.8,
            label=_legend(run, f'mean of {window}', f'{run.label} (mean of {window})'))
  _mark_resumes(ax, runs, colors, sorted(names))
  ax.set_title('Training episode return')
  ax.set_xlabel(' / '.join(sorted(names)))
  ax.set_ylabel('return')


def _plot_eval(ax, runs, colors, x_key) -> None:
  names = set()
  for run, color in zip(runs, colors):
    columns = run.evaluator
    if columns is None or 'return_mean' not in columns:
      continue
    x, name = pick_x(columns, EVAL_X, x_key)
    names.add(name)
    mean = columns['return_mean']
    ax.plot(x, mean, color=color, marker='o', markersize=3, linewidth=1.8,
            label=_legend(run, 'greedy policy', run.label))
    if 'return_std' in columns:
      std = columns['return_std']
      ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    for key in ('return_min', 'return_max'):
      if key in columns:
        ax.plot(x, columns[key], color=color, linestyle=':', linewidth=0.9)
    if 'baseline_return_mean' in columns:
      baseline = float(np.nanmean(columns['baseline_return_mean']))
      if math.isfinite(baseline):
        ax.axhline(baseline, color=color, linestyle='--', linewidth=1.0,
                   label=_legend(run, 'random policy', f'{run.label}: random policy'))
  _mark_resumes(ax, runs, colors, sorted(names))
  ax.set_title('Evaluation return (mean ± std, min/max)')
  ax.set_xlabel(' / '.join(sorted(names)))
  ax.set_ylabel('return')


def _plot_loss(ax, runs, colors, window, x_key) -> None:
  styles = ('-', '--', '-.', ':')
  names, positive = set(), True
  for run, color in zip(runs, colors):
    for index, (columns, key) in enumerate(_loss_keys(run)):
      x, name = _x_for(columns, run, x_key)
      names.add(name)
      y = columns[key]
      positive &= bool(np.all(y[~np.isnan(y)] > 0))
      ax.plot(x, rolling_mean(y, window), color=color, linestyle=styles[index % len(styles)],
              linewidth=1.4, label=_legend(run, key, f'{run.label}: {key}'))
  _mark_resumes(ax, runs, colors, sorted(names))
  if positive:
    ax.set_yscale('log')
    _readable_log_ticks(ax)
  ax.set_title(f'Loss (mean of {window} rows)')
  ax.set_xlabel(' / '.join(sorted(names)))


def _plot_epsilon(ax, runs, colors, x_key) -> None:
  names = set()
  for run, color in zip(runs, colors):
    columns = _epsilon(run)
    if columns is None:
      continue
    x, name = _x_for(columns, run, x_key)
    names.add(name)
    ax.plot(x, columns['epsilon'], color=color, linewidth=1.4,
            label=_legend(run, 'epsilon', run.label))
  _mark_resumes(ax, runs, colors, sorted(names))
  ax.set_title('Exploration epsilon')
  ax.set_xlabel(' / '.join(sorted(names)))


def save_figure(figure: Any, path: str, dpi: int = 100) -> str:
  """Saves a matplotlib Figure as PNG atomically; returns `path`."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with atomic.atomic_path(path) as temp:
    figure.savefig(temp, format='png', dpi=dpi, bbox_inches='tight')
  return path


def learning_curves_figure(
    sources: Union[str, Sequence[str]],
    window: int = 10,
    labels: Optional[Sequence[str]] = None,
    x_key: Optional[str] = None,
    train_label: str = 'train',
    eval_label: str = 'evaluator',
    learner_label: str = 'learner',
    title: Optional[str] = None) -> Any:
  """The matplotlib Figure `plot_learning_curves` saves (same arguments)."""
  if isinstance(sources, (str, os.PathLike)):
    sources = [sources]
  sources = [os.fspath(s) for s in sources]
  if not sources:
    raise ValueError('Learning curves need at least one run directory or CSV file.')
  if labels is not None and len(labels) != len(sources):
    raise ValueError(f'Got {len(labels)} labels for {len(sources)} sources.')
  if isinstance(window, bool) or not isinstance(window, int) or window < 1:
    raise ValueError(f'window must be a positive integer, got {window!r}.')
  kinds = {'train': train_label, 'evaluator': eval_label, 'learner': learner_label}
  runs = [_Run(source, labels[i] if labels else None, kinds)
          for i, source in enumerate(sources)]
  runs[0].alone = len(runs) == 1
  if x_key is not None:
    available = sorted({key for run in runs for columns in (run.train, run.evaluator, run.learner)
                        if columns for key in columns})
    if x_key not in available:
      raise ValueError(f'x_key {x_key!r} is in none of the logs; available columns: '
                       f'{", ".join(available)}.')
  from matplotlib import colormaps  # pylint: disable=g-import-not-at-top
  from matplotlib import figure as mpl_figure  # pylint: disable=g-import-not-at-top
  palette = colormaps['tab10']
  colors = [palette(i % 10) for i in range(len(runs))]

  panels: List[Callable[[Any], None]] = []
  if any(r.train is not None and 'episode_return' in r.train for r in runs):
    panels.append(lambda ax: _plot_train(ax, runs, colors, window, x_key))
  if any(r.evaluator is not None and 'return_mean' in r.evaluator for r in runs):
    panels.append(lambda ax: _plot_eval(ax, runs, colors, x_key))
  if any(_loss_keys(r) for r in runs):
    panels.append(lambda ax: _plot_loss(ax, runs, colors, window, x_key))
  if any(_epsilon(r) is not None for r in runs):
    panels.append(lambda ax: _plot_epsilon(ax, runs, colors, x_key))
  if not panels:
    raise ValueError(
        f'Nothing to plot in {sources}: no episode_return, return_mean, *loss* or '
        f'epsilon column in the logs {sorted(set(kinds.values()))}.')

  ncols = 1 if len(panels) == 1 else 2
  nrows = math.ceil(len(panels) / ncols)
  fig = mpl_figure.Figure(figsize=(6.5 * ncols, 4.2 * nrows))
  axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
  for ax, draw in zip(axes, panels):
    draw(ax)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
      ax.legend(fontsize='small')
  for ax in axes[len(panels):]:
    fig.delaxes(ax)
  if title is None:
    title = (os.path.normpath(runs[0].source) if len(runs) == 1 and runs[0].is_directory
             else ', '.join(run.label for run in runs))
  fig.tight_layout()
  _fit_title(fig, title)
  return fig


def _fit_title(fig: Any, title: str, min_size: float = 7.0) -> None:
  """The whole title on one line above the panels: smaller type, then a wider figure, if long."""
  from matplotlib.backends import backend_agg  # pylint: disable=g-import-not-at-top
  canvas = backend_agg.FigureCanvasAgg(fig)
  size = 11.0
  text = fig.suptitle(title, fontsize=size, wrap=False)
  width = fig.get_figwidth() * fig.dpi * 0.98
  extent = text.get_window_extent(canvas.get_renderer())
  while extent.width > width and size > min_size:
    size = max(min_size, size - 1.0)
    text.set_fontsize(size)
    extent = text.get_window_extent(canvas.get_renderer())
  if extent.width > width:
    fig.set_figwidth(extent.width / (fig.dpi * 0.96))
  fig.tight_layout(rect=(0, 0, 1, 1 - (size * 2.2 / 72) / fig.get_figheight()))


def plot_learning_curves(
    sources: Union[str, Sequence[str]],
    output_path: Optional[str] = None,
    window: int = 10,
    labels: Optional[Sequence[str]] = None,
    x_key: Optional[str] = None,
    train_label: str = 'train',
    eval_label: str = 'evaluator',
    learner_label: str = 'learner',
    title: Optional[str] = None,
    dpi: int = 100) -> str:
  """Plots the learning curves of one or more runs into one PNG.

  Args:
    sources: run directories (their logs/<label>.csv are read) or CSV files
      (each classified by its columns: return_mean is an evaluation log,
      episode_return a training log, anything else a learner log).
    output_path: the PNG to write; by default <run>/plots/learning_curves.png
      when `sources` is one run directory (required otherwise).
    window: rolling-mean window (rows) for returns and losses.
    labels: legend names, one per source; by default `<experiment>/<run>`.
    x_key: column to use as x axis wherever present (default: actor_steps,
      else steps; learner_steps for learner logs).
    train_label, eval_label, learner_label: the log labels of a run directory.
    title: figure title (default: the run directory for one run, else the labels).
    dpi: resolution of the PNG.

  Returns:
    The path of the PNG.

  Raises:
    FileNotFoundError: a source does not exist.
    ValueError: nothing to plot, or no `output_path` for several sources.
  """
  single = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
  if output_path is None:
    if len(single) != 1 or not os.path.isdir(single[0]):
      raise ValueError('output_path is required unless sources is one run directory.')
    output_path = os.path.join(os.fspath(single[0]), 'plots', 'learning_curves.png')
  fig = learning_curves_figure(single, window=window, labels=labels, x_key=x_key,
                               train_label=train_label, eval_label=eval_label,
                               learner_label=learner_label, title=title)
  return save_figure(fig, output_path, dpi=dpi)


def plot_gridworld_values(environment: Any,
                          q: Union[np.ndarray, Callable[[Any], Any]],
                          directory: str,
                          prefix: str = '',
                          epsilon: float = 0.1,
                          dpi: int = 100) -> Dict[str, str]:
  """Writes a GridWorld agent's value maps as PNGs (seed 001's figures).

  Uses `rlkit.environments.gridworld_plotting`: the q-value map of each action
  around the state-value map, the state-value map alone, and the greedy-policy
  arrows.

  Args:
    environment: a GridWorld (or a wrapper forwarding its attributes).
    q: an (H, W, num_actions) array, or a function observation -> action
      values evaluated at every cell with `gridworld_plotting.q_values_grid`.
    directory: where the PNGs go (created if missing).
    prefix: prepended to the file names.
    epsilon: exploration rate of v(s) = (1 - eps) max q + eps mean q.
    dpi: resolution.

  Returns:
    {'q_values': path, 'state_values': path, 'greedy_policy': path}.
  """
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  from rlkit.environments import gridworld_plotting  # pylint: disable=g-import-not-at-top
  if callable(q):
    q = gridworld_plotting.q_values_grid(environment, q)
  q = np.asarray(q, dtype=np.float64)
  os.makedirs(directory, exist_ok=True)
  figures = {
      'q_values': lambda: gridworld_plotting.plot_action_values(q, epsilon=epsilon),
      'state_values': lambda: gridworld_plotting.plot_state_value(q, epsilon=epsilon),
      'greedy_policy': lambda: gridworld_plotting.plot_greedy_policy(environment, q),
  }
  paths = {}
  for name, make in figures.items():
    fig = make()
    try:
      paths[name] = save_figure(fig, os.path.join(directory, f'{prefix}{name}.png'), dpi=dpi)
    finally:
      plt.close(fig)
  return paths
