"""Seeds averaged: one learning curve per group of runs, mean ± std across runs.

    plot_aggregate(['runs/dqn/s0', 'runs/dqn/s1', 'runs/dqn/s2'], 'dqn.png')
    plot_aggregate(glob('runs/dqn_nstep*/*'), 'nstep.png', group_by=['n_step'])

Every run directory belongs to one group; a group is drawn as the mean across
its runs with a shaded ±1 standard deviation band (sample std, ddof=1; a group
of one run is drawn without a band) and `label (N runs)` in the legend.

- Groups: without `group_by` all runs form one group; with `group_by` (flag
  names, e.g. `n_step`, or `agent`, the agent named in the newest checkpoint)
  runs with the same values in their flags.txt form a group. The runs of a
  group must agree on every other flag except the seed and bookkeeping flags
  (`IGNORED_FLAGS`); a difference is an error naming the flags to group by.
- Training return (logs/train.csv): each run's rolling mean of episode_return,
  interpolated onto `num_points` steps spanning the range all runs reached.
- Evaluation return (logs/evaluator.csv): return_mean aligned on steps. An
  evaluation runs after the episode that crosses a multiple of --eval_every,
  so its actor_steps differ a little between seeds; it is placed at the
  multiple it was due at (the final one at --num_steps), read from flags.txt.
  Only the steps every run of the group reached are drawn.

When runs stop at different steps, the steps beyond the shortest run are left
out; an `AggregateWarning` and the panel's x label say so.
"""

import glob
import os
import warnings
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from rlkit.utils import checkpointing
from rlkit.utils import plotting
from rlkit.utils import run_dir as run_dir_lib

# Flags that may differ between seeds of one configuration.
IGNORED_FLAGS = ('seed',) + run_dir_lib.BOOKKEEPING_FLAGS
AGENT = 'agent'


class AggregateWarning(UserWarning):
  """Steps not reached by every run of a group were left out."""


class RunLogs(NamedTuple):
  """What averaging needs from one run directory."""
  path: str
  label: str
  settings: Dict[str, Any]
  train: Optional[plotting.Columns]
  evaluator: Optional[plotting.Columns]


class Curve(NamedTuple):
  """One group's curve: mean and std across `num_runs` runs at `steps`."""
  steps: np.ndarray
  mean: np.ndarray
  std: np.ndarray
  num_runs: int
  x_name: str
  note: Optional[str] = None  # Why steps were left out, for the figure.
  warning: Optional[str] = None  # The same, naming the runs.


def expand_run_dirs(patterns: Iterable[str]) -> List[str]:
  """Expands glob patterns (sorted); plain paths are kept; a path given twice is an error."""
  paths: List[str] = []
  for pattern in patterns:
    pattern = os.fspath(pattern)
    if glob.has_magic(pattern):
      matches = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
      if not matches:
        raise FileNotFoundError(f'No run directory matches {pattern!r}.')
      paths.extend(matches)
    else:
      paths.append(pattern)
  seen: Dict[str, str] = {}
  for path in paths:
    key = os.path.realpath(path)
    if key in seen:
      raise ValueError(f'Run directory {path!r} is given twice (also as {seen[key]!r}); '
                       f'each run must count once.')
    seen[key] = path
  return paths


def _format_step(step: float) -> str:
  return f'{step:.0f}' if float(step).is_integer() else f'{step:g}'


def _agent_name(path: str) -> Optional[str]:
  saved = checkpointing.Checkpointer(os.path.join(path, 'checkpoints')).checkpoints()
  metadata = saved[-1].metadata if saved else None
  return (metadata or {}).get(AGENT)


def load_run(path: str, train_label: str = 'train', eval_label: str = 'evaluator') -> RunLogs:
  """Reads a run directory's training and evaluation logs, flags and agent name."""
  path = os.fspath(path)
  if not os.path.exists(path):
    raise FileNotFoundError(f'Run directory {path!r} does not exist.')
  if not os.path.isdir(path):
    raise ValueError(f'{path!r} is not a directory: averaging needs run directories '
                     f'(flags.txt and logs/), not CSV files.')
  logs = os.path.join(path, 'logs')
  if not os.path.isdir(logs):
    raise FileNotFoundError(f'{path!r} has no logs/ directory: is it a run directory?')
  columns = {}
  for kind, label, key in (('train', train_label, 'episode_return'),
                           ('evaluator', eval_label, 'return_mean')):
    csv_path = os.path.join(logs, f'{label}.csv')
    found = plotting.read_csv(csv_path) if os.path.exists(csv_path) else {}
    columns[kind] = found if key in found else None
  if columns['train'] is None and columns['evaluator'] is None:
    raise ValueError(f'{path!r} has no returns to average: no episode_return in '
                     f'logs/{train_label}.csv and no return_mean in logs/{eval_label}.csv.')
  flags_path = os.path.join(path, run_dir_lib.FLAGS_FILE)
  settings = run_dir_lib.parse_flags_file(flags_path) if os.path.exists(flags_path) else {}
  agent = _agent_name(path)
  if agent is not None:
    settings[AGENT] = agent
  parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
  return RunLogs(path, '/'.join(parts[-2:]), settings, columns['train'], columns['evaluator'])


def _differences(runs: Sequence[RunLogs], ignored: Sequence[str]) -> Dict[str, List[Any]]:
  names = sorted(set().union(*(run.settings for run in runs)) - set(ignored),
                 key=lambda name: (name != AGENT, name))
  found = {}
  for name in names:
    values = [run.settings.get(name) for run in runs]
    if any(value != values[0] for value in values):
      found[name] = values
  return found


def _flag_name(name: str) -> str:
  return name if name == AGENT else f'--{name}'


def _check_same_configuration(label: str, runs: Sequence[RunLogs],
                              group_by: Sequence[str]) -> None:
  differences = _differences(runs, tuple(IGNORED_FLAGS) + tuple(group_by))
  if not differences:
    return
  details = '; '.join(
      f'{_flag_name(name)} is ' + ', '.join(f'{"unset" if value is None else value} in {run.path}'
                                            for run, value in zip(runs, values))
      for name, values in list(differences.items())[:3])
  more = f' and {len(differences) - 3} more flags' if len(differences) > 3 else ''
  hint = ','.join(list(group_by) + list(differences))
  raise ValueError(f'The runs of {label!r} are not seeds of one configuration: {details}{more}. '
                   f'Draw one curve per value with --group_by={hint}, or leave runs out.')


def group_runs(runs: Sequence[RunLogs],
               group_by: Sequence[str] = ()) -> List[Tuple[str, List[RunLogs]]]:
  """Groups runs by the values of the `group_by` flags, in order of first appearance.

  Returns [(label, runs)]: labels are `name=value, ...`, or the runs' common
  parent directory name without `group_by`.

  Raises:
    ValueError: a run lacks a `group_by` flag, or the runs of a group differ in
      other flags than the seed and `IGNORED_FLAGS`.
  """
  if not runs:
    raise ValueError('Averaging needs at least one run directory.')
  common = os.path.basename(os.path.commonpath([os.path.abspath(run.path) for run in runs]))
  groups: Dict[str, List[RunLogs]] = {}
  for run in runs:
    if group_by:
      missing = [name for name in group_by if name not in run.settings]
      if missing:
        where = ('agent in its checkpoints' if missing == [AGENT] else
                 f'{", ".join(map(_flag_name, missing))} in {run_dir_lib.FLAGS_FILE}')
        raise ValueError(f'Cannot group {run.path!r} by {",".join(group_by)}: it has no {where}.')
      label = ', '.join(f'{name}={run.settings[name]}' for name in group_by)
    else:
      label = runs[0].label if len(runs) == 1 else common or 'all runs'
    groups.setdefault(label, []).append(run)
  for label, members in groups.items():
    _check_same_configuration(label, members, group_by)
  return list(groups.items())


def mean_std(values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Mean and sample std (ddof=1) over axis 0; std is NaN for a single row."""
  values = np.asarray(values, dtype=np.float64)
  if len(values) < 2:
    return values.mean(axis=0), np.full(values.shape[1:], np.nan)
  return values.mean(axis=0), values.std(axis=0, ddof=1)


def _common_x_name(names: Sequence[str], runs: Sequence[RunLogs], log: str) -> str:
  if len(set(names)) > 1:
    listed = ', '.join(f'{run.path}: {name}' for run, name in zip(runs, names))
    raise ValueError(f'The {log} logs have different step columns ({listed}); '
                     f'pick one with --x_key.')
  return names[0]


def _check_all_have(runs: Sequence[RunLogs], kind: str, what: str) -> None:
  lacking = [run.path for run in runs if getattr(run, kind) is None]
  if lacking:
    verb = 'lacks' if len(lacking) == 1 else 'lack'
    raise ValueError(f'{", ".join(map(repr, lacking))} {verb} {what} that other runs of the '
                     f'group have; leave it out, or the group would be averaged over fewer runs.')


def train_curve(runs: Sequence[RunLogs], window: int = 10, x_key: Optional[str] = None,
                num_points: int = 200) -> Curve:
  """Mean ± std of the runs' rolling-mean training return on a common step grid."""
  _check_all_have(runs, 'train', 'episode_return in its training log')
  xs, ys, names = [], [], []
  for run in runs:
    x, name = plotting.pick_x(run.train, plotting.TRAIN_X, x_key)
    y = plotting.rolling_mean(run.train['episode_return'], window)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if not len(x):
      raise ValueError(f'{run.path!r} has no training episode with a return and a step.')
    last = len(x) - 1 - np.unique(x[::-1], return_index=True)[1]  # Last row of each step.
    xs.append(x[last])
    ys.append(y[last])
    names.append(name)
  x_name = _common_x_name(names, runs, 'training')
  start, end = max(x[0] for x in xs), min(x[-1] for x in xs)
  if start > end:
    spans = ', '.join(f'{run.path}: {_format_step(x[0])}-{_format_step(x[-1])}'
                      for run, x in zip(runs, xs))
    raise ValueError(f'The training logs share no {x_name} range ({spans}).')
  steps = np.linspace(start, end, num_points) if end > start else np.array([start])
  mean, std = mean_std(np.stack([np.interp(steps, x, y) for x, y in zip(xs, ys)]))
  slack = max([float(np.max(np.diff(x))) for x in xs if len(x) > 1] or [0.0])
  longest = int(np.argmax([x[-1] for x in xs]))
  note = warning = None
  if xs[longest][-1] - end > slack:
    shortest = int(np.argmin([x[-1] for x in xs]))
    note = f'cut at {_format_step(end)}, where the shortest run stops'
    warning = (f'cut at {_format_step(end)} {x_name}, where {runs[shortest].label} stops '
               f'({runs[longest].label} goes on to {_format_step(xs[longest][-1])})')
  return Curve(steps, mean, std, len(runs), x_name, note, warning)


def _flag_int(settings: Dict[str, Any], name: str) -> Optional[int]:
  try:
    return int(settings[name])
  except (KeyError, TypeError, ValueError):
    return None


def due_steps(steps: Sequence[float], eval_every: Optional[int],
              num_steps: Optional[int] = None) -> np.ndarray:
  """The step each evaluation was due at (see the module docstring).

  A multiple of `eval_every` for a periodic evaluation, `num_steps` for one at
  or past the step budget; an evaluation due at the same step as the one
  before it (a final evaluation of an episode budget) keeps its own step.
  """
  due: List[float] = []
  for step in np.asarray(steps, dtype=np.float64):
    if num_steps and step >= num_steps:
      value = float(num_steps)
    elif eval_every:
      value = step // eval_every * eval_every
    else:
      value = float(step)
    due.append(float(step) if due and value <= due[-1] else value)
  return np.asarray(due)


def _eval_points(run: RunLogs, x_key: Optional[str]) -> Tuple[Dict[float, float], str]:
  x, name = plotting.pick_x(run.evaluator, plotting.EVAL_X, x_key)
  y = run.evaluator['return_mean']
  keep = ~(np.isnan(x) | np.isnan(y))
  x, y = x[keep], y[keep]
  if name == 'actor_steps':
    budget = None if run.settings.get('num_episodes') else _flag_int(run.settings, 'num_steps')
    x = due_steps(x, _flag_int(run.settings, 'eval_every'), budget)
  return dict(zip(x.tolist(), y.tolist())), name


def eval_curve(runs: Sequence[RunLogs], x_key: Optional[str] = None) -> Curve:
  """Mean ± std of the runs' evaluation return_mean at the steps all runs reached."""
  _check_all_have(runs, 'evaluator', 'return_mean in its evaluation log')
  points, names = zip(*(_eval_points(run, x_key) for run in runs))
  x_name = _common_x_name(names, runs, 'evaluation')
  common = sorted(set.intersection(*(set(p) for p in points)))
  if not common:
    listed = '; '.join(f'{run.path}: {", ".join(map(_format_step, sorted(p)[:5]))}'
                       for run, p in zip(runs, points))
    raise ValueError(f'The runs share no evaluation {x_name} ({listed}); steps are aligned '
                     f'with --eval_every and --num_steps from {run_dir_lib.FLAGS_FILE}.')
  mean, std = mean_std(np.array([[p[step] for step in common] for p in points]))
  note = warning = None
  left_out = sorted(set().union(*points) - set(common))
  if left_out:
    shown = ', '.join(map(_format_step, left_out[:4])) + (', ...' if len(left_out) > 4 else '')
    lasts = ', '.join(f'{run.label} {_format_step(max(p))}' for run, p in zip(runs[:4], points))
    note = f'only the steps all runs reached (up to {_format_step(common[-1])})'
    warning = (f'left out {x_name} {shown}, not reached by every run (last evaluations: '
               f'{lasts}{", ..." if len(runs) > 4 else ""})')
  return Curve(np.array(common), mean, std, len(runs), x_name, note, warning)


def _baseline(runs: Sequence[RunLogs]) -> Optional[float]:
  values = [np.nanmean(run.evaluator['baseline_return_mean']) for run in runs
            if 'baseline_return_mean' in run.evaluator]
  return float(np.mean(values)) if len(values) == len(runs) else None


def _draw(ax, curves: Sequence[Tuple[str, Curve, Any]], title: str,
          marker: Optional[str]) -> List[str]:
  """Draws one mean line (and std band) per curve; returns the warnings of their notes."""
  notes, details = [], []
  for label, curve, color in curves:
    runs = f'{curve.num_runs} run{"s" if curve.num_runs > 1 else ""}'
    ax.plot(curve.steps, curve.mean, color=color, linewidth=1.8, marker=marker, markersize=3,
            label=f'{label} ({runs})')
    if curve.num_runs > 1:
      ax.fill_between(curve.steps, curve.mean - curve.std, curve.mean + curve.std,
                      color=color, alpha=0.2, linewidth=0)
    if curve.note:
      prefix = f'{label}: ' if len(curves) > 1 else ''
      notes.append(prefix + curve.note)
      details.append(prefix + curve.warning)
  x_names = sorted({curve.x_name for _, curve, _ in curves})
  ax.set_xlabel('\n'.join([' / '.join(x_names)] + notes), fontsize='small')
  ax.set_ylabel('return')
  ax.set_title(title)
  ax.grid(True, alpha=0.3)
  ax.legend(fontsize='small')
  return details


def aggregate_figure(run_dirs: Sequence[str],
                     group_by: Sequence[str] = (),
                     labels: Optional[Sequence[str]] = None,
                     window: int = 10,
                     x_key: Optional[str] = None,
                     num_points: int = 200,
                     train_label: str = 'train',
                     eval_label: str = 'evaluator',
                     title: Optional[str] = None) -> Any:
  """The matplotlib Figure `plot_aggregate` saves (same arguments)."""
  if isinstance(run_dirs, (str, os.PathLike)):
    run_dirs = [run_dirs]
  if isinstance(window, bool) or not isinstance(window, int) or window < 1:
    raise ValueError(f'window must be a positive integer, got {window!r}.')
  if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 2:
    raise ValueError(f'num_points must be an integer of at least 2, got {num_points!r}.')
  if isinstance(group_by, str):
    group_by = [group_by]
  runs = [load_run(path, train_label, eval_label) for path in expand_run_dirs(run_dirs)]
  groups = group_runs(runs, list(group_by))
  if labels is not None:
    if len(labels) != len(groups):
      raise ValueError(f'Got {len(labels)} labels for {len(groups)} groups '
                       f'({", ".join(label for label, _ in groups)}).')
    groups = [(label, members) for label, (_, members) in zip(labels, groups)]

  from matplotlib import colormaps  # pylint: disable=g-import-not-at-top
  from matplotlib import figure as mpl_figure  # pylint: disable=g-import-not-at-top
  colors = [colormaps['tab10'](i % 10) for i in range(len(groups))]
  has = lambda members, kind: any(getattr(run, kind) is not None for run in members)
  panels = []
  if has(runs, 'train'):
    curves = [(label, train_curve(members, window, x_key, num_points), color)
              for (label, members), color in zip(groups, colors) if has(members, 'train')]
    panels.append(('Training episode return', f' (mean of {window}; mean ± std over runs)',
                   curves, None, []))
  if has(runs, 'evaluator'):
    curves, baselines = [], []
    for (label, members), color in zip(groups, colors):
      if has(members, 'evaluator'):
        curves.append((label, eval_curve(members, x_key), color))
        baselines.append((label, _baseline(members), color))
    panels.append(('Evaluation return', ' (mean ± std over runs)', curves, 'o', baselines))

  fig = mpl_figure.Figure(figsize=(6.5 * len(panels), 4.6))
  axes = fig.subplots(1, len(panels), squeeze=False).ravel()
  for ax, (name, details, curves, marker, baselines) in zip(axes, panels):
    for label, baseline, color in baselines:
      if baseline is not None and np.isfinite(baseline):
        ax.axhline(baseline, color=color, linestyle='--', linewidth=1.0,
                   label=f'{label}: random policy')
    for note in _draw(ax, curves, name + details, marker):
      warnings.warn(f'{name}: {note}.', AggregateWarning, stacklevel=2)
  fig.suptitle(title or ' vs '.join(label for label, _ in groups), fontsize='medium')
  fig.tight_layout()
  return fig


def plot_aggregate(run_dirs: Sequence[str],
                   output_path: str,
                   group_by: Sequence[str] = (),
                   labels: Optional[Sequence[str]] = None,
                   window: int = 10,
                   x_key: Optional[str] = None,
                   num_points: int = 200,
                   train_label: str = 'train',
                   eval_label: str = 'evaluator',
                   title: Optional[str] = None,
                   dpi: int = 100) -> str:
  """Plots one mean ± std learning curve per group of runs into one PNG.

  Args:
    run_dirs: run directories or glob patterns matching them.
    output_path: the PNG to write.
    group_by: flag names (or 'agent') whose values split the runs into groups;
      empty: all runs are one group.
    labels: legend names, one per group in order of first appearance.
    window: rolling-mean window (episodes) of each run's training return.
    x_key: column for the x axis (default: actor_steps).
    num_points: steps of the common grid the training curves are interpolated on.
    train_label, eval_label: the log labels of a run directory.
    title: figure title (default: the group labels).
    dpi: resolution of the PNG.

  Returns:
    The path of the PNG.

  Raises:
    FileNotFoundError: a run directory, its logs/ or a glob match is missing.
    ValueError: a run has no returns, runs of a group differ in configuration
      or lack a log the others have, or the runs share no steps.
  """
  fig = aggregate_figure(run_dirs, group_by=group_by, labels=labels, window=window,
                         x_key=x_key, num_points=num_points, train_label=train_label,
                         eval_label=eval_label, title=title)
  return plotting.save_figure(fig, output_path, dpi=dpi)
