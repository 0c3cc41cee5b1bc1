"""Regenerates the learning-curve plots of one or more runs, or averages seeds.

    python -m experiments.plot --run_dir=runs/dqn/20240101-120000
    python -m experiments.plot --run_dir=runs/dqn/a --run_dir=runs/dqn/b [--output=cmp.png]
    python -m experiments.plot --aggregate --run_dir='runs/dqn/*'
    python -m experiments.plot --aggregate --run_dir='runs/dqn_n*/*' --group_by=n_step

Each run gets <run>/plots/learning_curves.png; with several runs, one more
figure holds them all (at --output, by default learning_curves.png in the runs'
common parent directory). GridWorld runs with a checkpoint of a Q-value agent
also get their value maps (q_values.png, state_values.png, greedy_policy.png)
from the newest checkpoint, unless --novalue_maps.

With --aggregate the runs are seeds: one figure (at --output, by default
learning_curves_mean.png in the runs' common parent directory) draws one curve
per group, the mean across its runs with a ±1 std band, for the training and
the evaluation return (see rlkit/utils/plotting_aggregate.py). Without
--group_by all runs are one group and must share every flag but the seed (and
bookkeeping flags); --group_by=n_step draws one curve per value of --n_step in
the runs' flags.txt (`agent` groups by agent). Steps not reached by every run
of a group are left out, with a warning. --run_dir takes glob patterns (quote
them) in both modes.
"""

import os
import sys
import warnings

from absl import flags

from experiments import cli

from rlkit.utils import checkpointing
from rlkit.utils import plotting
from rlkit.utils import plotting_aggregate
from rlkit.utils import run_dir as run_dir_lib

_RUN_DIR = flags.DEFINE_multi_string('run_dir', None, 'A run directory, or a quoted glob '
                                     "pattern such as 'runs/dqn/*'; repeat for several.")
_OUTPUT = flags.DEFINE_string('output', None, 'PNG path of the figure comparing several runs '
                              '(default: learning_curves.png, with --aggregate '
                              "learning_curves_mean.png, in the runs' common parent directory).")
_WINDOW = flags.DEFINE_integer('window', 10, 'Rolling-mean window, in rows.', lower_bound=1)
_X_KEY = flags.DEFINE_string('x_key', None, 'Column for the x axis (default: actor_steps, '
                             'else steps; learner_steps for learner logs).')
_LABELS = flags.DEFINE_list('labels', None, 'Legend names, one per --run_dir (with '
                            '--aggregate: one per group, in order of first appearance).')
_AGGREGATE = flags.DEFINE_bool('aggregate', False, 'Average the runs (seeds) instead of '
                               'overlaying them: one curve per group, the mean across its '
                               'runs with a +-1 std band, for the training and evaluation '
                               'return; steps not reached by every run are left out.')
_GROUP_BY = flags.DEFINE_list('group_by', None, 'With --aggregate: flags of flags.txt (or '
                              "'agent') whose values split the runs into groups, e.g. n_step; "
                              'default: one group, whose runs may differ only in --seed and '
                              'bookkeeping flags.')
_VALUE_MAPS = flags.DEFINE_bool('value_maps', True, 'Plot the Q-value maps and greedy policy '
                                'of GridWorld runs from their newest checkpoint.')
flags.mark_flag_as_required('run_dir')


_fail = cli.fail


def _value_maps(run: run_dir_lib.RunDirectory) -> None:
  """Writes the GridWorld value maps of `run`'s newest checkpoint, if it has Q-values."""
  try:
    env = run.read_flags().get('env', '')
  except FileNotFoundError:
    return
  if not isinstance(env, str) or not env.startswith('gridworld:'):
    return
  if not checkpointing.Checkpointer(run.checkpoints_dir).checkpoints():
    return
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  try:
    loaded = registry.load_policy(run.path)
    q_values = getattr(loaded.actor, 'q_values', None)
    if q_values is None:
      return
    environment = loaded.make_environment(seed=0)
    paths = plotting.plot_gridworld_values(environment, q_values, run.plots_dir)
  except (FileNotFoundError, ValueError, TypeError) as e:
    print(f'No value maps for {run.path}: {e}', file=sys.stderr)
    return
  print(f'Value maps of {run.path} (step {loaded.step}): {", ".join(paths.values())}')


def _aggregate(run_dirs, labels) -> None:
  """Writes the mean ± std figure of --aggregate; warnings go to stderr."""
  parents = [os.path.dirname(os.path.abspath(path)) for path in run_dirs]
  output = _OUTPUT.value or os.path.join(os.path.commonpath(parents), 'learning_curves_mean.png')
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always', plotting_aggregate.AggregateWarning)
    try:
      output = plotting_aggregate.plot_aggregate(
          run_dirs, output, group_by=_GROUP_BY.value or (), labels=labels,
          window=_WINDOW.value, x_key=_X_KEY.value)
    except (FileNotFoundError, ValueError) as e:
      _fail(str(e))
  for warning in caught:
    print(f'experiments.plot: warning: {warning.message}', file=sys.stderr, flush=True)
  runs = f'{len(run_dirs)} run{"s" if len(run_dirs) > 1 else ""}'
  print(f'Mean learning curves of {runs}: {output}')


def main(argv):
  if len(argv) > 1:
    _fail(f'unexpected arguments {argv[1:]}.')
  try:
    run_dirs = plotting_aggregate.expand_run_dirs(_RUN_DIR.value)
  except (FileNotFoundError, ValueError) as e:
    _fail(str(e))
  labels = _LABELS.value
  if _GROUP_BY.value and not _AGGREGATE.value:
    _fail(f'--group_by={",".join(_GROUP_BY.value)} needs --aggregate.')
  if _AGGREGATE.value:
    _aggregate(run_dirs, labels)
    return
  if labels is not None and len(labels) != len(run_dirs):
    _fail(f'--labels has {len(labels)} names for {len(run_dirs)} --run_dir.')
  plotted, plotted_labels = [], []
  for index, path in enumerate(run_dirs):
    try:
      run = run_dir_lib.RunDirectory.open(path)
      label = [labels[index]] if labels else None
      output = plotting.plot_learning_curves(run.path, window=_WINDOW.value, labels=label,
                                             x_key=_X_KEY.value)
    except (FileNotFoundError, NotADirectoryError, ValueError) as e:
      if len(run_dirs) == 1:
        _fail(str(e))
      print(f'Skipping {path}: {e}', file=sys.stderr)
      continue
    print(f'Learning curves of {run.path}: {output}')
    if _VALUE_MAPS.value:
      _value_maps(run)
    plotted.append(run.path)
    if labels:
      plotted_labels.append(labels[index])
  if not plotted:
    _fail('no run had anything to plot.')
  if len(run_dirs) > 1:
    output = _OUTPUT.value or os.path.join(os.path.commonpath(plotted), 'learning_curves.png')
    try:
      output = plotting.plot_learning_curves(plotted, output_path=output, window=_WINDOW.value,
                                             labels=plotted_labels or None, x_key=_X_KEY.value)
    except (FileNotFoundError, ValueError) as e:
      _fail(str(e))
    print(f'Learning curves of {len(plotted)} runs: {output}')


if __name__ == '__main__':
  cli.run(main)
