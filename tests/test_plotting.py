"""Learning curves from real run logs, GridWorld value maps and the plot launcher."""

import math
import os
import subprocess
import sys

import imageio
import numpy as np
import pytest

from rlkit import environment_loop
from rlkit import evaluation
from rlkit.actors import RandomActor
from rlkit.environments import factory
from rlkit.environments import gridworld
from rlkit.utils import counting
from rlkit.utils import plotting
from rlkit.utils import run_dir as run_dir_lib
from tests.test_video import ShortestPathActor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quiet_logger(run, label):
  return run.make_logger(label, time_delta=0, print_fn=lambda _: None)


def _make_run(path, seed=0, learner_log=True, episodes=12):
  """A run directory whose logs come from a real loop and evaluator on CartPole."""
  run = run_dir_lib.RunDirectory.create(run_dir=str(path))
  counter = counting.Counter()
  learner_counter = counting.Counter(counter, 'learner')
  learner_counter.increment(steps=0)  # Every log's header then has learner_steps.
  environment = factory.make_environment('gym:CartPole-v1', seed=seed)
  loop = environment_loop.EnvironmentLoop(
      environment, RandomActor(environment.action_spec(), seed=seed),
      counter=counting.Counter(counter, 'actor'), logger=_quiet_logger(run, 'train'))
  evaluator = evaluation.Evaluator(
      factory.make_environment('gym:CartPole-v1', seed=seed + 100),
      RandomActor(environment.action_spec(), seed=seed + 1), num_episodes=3,
      counter=counter, logger=_quiet_logger(run, 'evaluator'),
      baseline={'return_mean': 20.0, 'return_std': 5.0})
  learner_logger = _quiet_logger(run, 'learner') if learner_log else None
  for round_ in range(3):
    loop.run(num_episodes=episodes // 3)
    if learner_logger:
      for _ in range(5):
        counts = learner_counter.increment(steps=1)
        learner_logger.write(dict(counts, loss=1.0 / counts['learner_steps'],
                                  epsilon=max(0.05, 1.0 - 0.1 * counts['learner_steps'])))
    evaluator.run()
  environment.close()
  return run


def _titles(fig):
  return [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]


def test_rolling_mean_is_a_trailing_mean():
  np.testing.assert_allclose(plotting.rolling_mean([1, 2, 3, 4, 5], 2), [1, 1.5, 2.5, 3.5, 4.5])
  np.testing.assert_allclose(plotting.rolling_mean([1, np.nan, 3], 3), [1, 1, 2])
  with pytest.raises(ValueError, match='window'):
    plotting.rolling_mean([1], 0)


def test_read_csv_skips_a_half_written_last_row(tmp_path):
  path = tmp_path / 'train.csv'
  path.write_text('steps,episode_return,note\n10,1.5,a\n20,,b\n30,2')
  columns = plotting.read_csv(str(path))
  assert sorted(columns) == ['episode_return', 'steps']  # 'note' has no number.
  np.testing.assert_array_equal(columns['steps'], [10, 20])
  assert np.isnan(columns['episode_return'][1])


def test_one_run_gets_all_four_panels(tmp_path):
  run = _make_run(tmp_path / 'dqn' / 'run0')
  fig = plotting.learning_curves_figure(run.path, window=4)
  assert _titles(fig) == ['Training episode return', 'Evaluation return (mean ± std, min/max)',
                          'Loss (mean of 4 rows)', 'Exploration epsilon']
  train_ax, eval_ax = fig.axes[0], fig.axes[1]
  assert train_ax.get_xlabel() == 'actor_steps' and eval_ax.get_xlabel() == 'actor_steps'
  assert fig.axes[2].get_xlabel() == 'learner_steps'
  assert fig.axes[2].get_yscale() == 'log'
  # The evaluation line has one point per evaluation; the baseline is drawn.
  eval_lines = [line for line in eval_ax.get_lines() if line.get_marker() == 'o']
  assert len(eval_lines) == 1 and len(eval_lines[0].get_xdata()) == 3
  assert any('random policy' in text.get_text() for text in eval_ax.get_legend().get_texts())

  path = plotting.plot_learning_curves(run.path, window=4)
  assert path == os.path.join(run.plots_dir, 'learning_curves.png')
  image = imageio.v2.imread(path)
  assert image.ndim == 3 and image.shape[0] > 500 and image.shape[1] > 800
  assert [n for n in os.listdir(run.plots_dir)] == ['learning_curves.png']


def test_missing_logs_and_columns_drop_their_panels(tmp_path):
  run = _make_run(tmp_path / 'run', learner_log=False)
  assert _titles(plotting.learning_curves_figure(run.path)) == [
      'Training episode return', 'Evaluation return (mean ± std, min/max)']
  os.remove(run.log_path('evaluator'))
  fig = plotting.learning_curves_figure(run.path)
  assert _titles(fig) == ['Training episode return']
  assert len(fig.axes) == 1
  os.remove(run.log_path('train'))
  with pytest.raises(ValueError, match='Nothing to plot'):
    plotting.learning_curves_figure(run.path)


def test_several_runs_share_one_figure(tmp_path):
  runs = [_make_run(tmp_path / 'dqn' / f'seed{seed}', seed=seed) for seed in (0, 1)]
  with pytest.raises(ValueError, match='output_path'):
    plotting.plot_learning_curves([r.path for r in runs])
  output = str(tmp_path / 'both.png')
  fig = plotting.learning_curves_figure([r.path for r in runs])
  legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
  assert legend == ['dqn/seed0 (mean of 10)', 'dqn/seed1 (mean of 10)']
  assert plotting.plot_learning_curves([r.path for r in runs], output_path=output,
                                       labels=['a', 'b']) == output
  assert os.path.getsize(output) > 10000


def test_csv_files_are_classified_by_their_columns(tmp_path):
  run = _make_run(tmp_path / 'run')
  fig = plotting.learning_curves_figure([run.log_path('evaluator'), run.log_path('learner')])
  assert _titles(fig) == ['Evaluation return (mean ± std, min/max)', 'Loss (mean of 10 rows)',
                          'Exploration epsilon']
  with pytest.raises(FileNotFoundError, match='nowhere'):
    plotting.learning_curves_figure(str(tmp_path / 'nowhere'))


def test_gridworld_value_maps(tmp_path):
  environment = factory.make_environment('gridworld:obstacle', observation_type='GRID')
  grid = environment.environment  # The GridWorld under SinglePrecisionWrapper.
  actor = ShortestPathActor(grid)

  def q_fn(observation):  # 1 for the shortest-path action, 0 for the others.
    del observation
    q = np.zeros(gridworld.NUM_ACTIONS)
    if grid.state != grid.goal_state:
      q[int(actor.select_action(None))] = 1.0
    return q

  paths = plotting.plot_gridworld_values(grid, q_fn, str(tmp_path / 'plots'), prefix='dqn_')
  assert sorted(paths) == ['greedy_policy', 'q_values', 'state_values']
  for name, path in paths.items():
    assert path == str(tmp_path / 'plots' / f'dqn_{name}.png')
    assert imageio.v2.imread(path).shape[0] > 200
  assert grid.state == grid.start_state  # q_values_grid restored the agent.


def test_plot_launcher_regenerates_plots(tmp_path):
  runs = [_make_run(tmp_path / 'dqn' / f'seed{seed}', seed=seed, episodes=6) for seed in (0, 1)]
  for run in runs:
    os.remove(run.log_path('learner'))
  result = subprocess.run(
      [sys.executable, '-m', 'experiments.plot', f'--run_dir={runs[0].path}',
       f'--run_dir={runs[1].path}', '--window=3'],
      capture_output=True, text=True, cwd=REPO, timeout=120)
  assert result.returncode == 0, result.stderr
  for run in runs:
    assert os.path.exists(os.path.join(run.plots_dir, 'learning_curves.png'))
  combined = str(tmp_path / 'dqn' / 'learning_curves.png')
  assert os.path.exists(combined) and combined in result.stdout

  result = subprocess.run(
      [sys.executable, '-m', 'experiments.plot', f'--run_dir={tmp_path / "missing"}'],
      capture_output=True, text=True, cwd=REPO, timeout=120)
  assert result.returncode != 0 and 'missing' in result.stderr
  assert 'Traceback' not in result.stderr


def _drawn(fig):
  from matplotlib.backends import backend_agg  # pylint: disable=g-import-not-at-top
  canvas = backend_agg.FigureCanvasAgg(fig)
  canvas.draw()
  return canvas.get_renderer()


def _vertical_lines(ax):
  return [line.get_xdata()[0] for line in ax.get_lines()
          if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
          and tuple(line.get_ydata()) == (0, 1)]


def test_resumes_the_runner_records_are_marked_on_every_panel(tmp_path):
  from rlkit.experiments import run_common  # pylint: disable=g-import-not-at-top
  run = _make_run(tmp_path / 'dqn' / 'run0')
  train = plotting.read_csv(run.log_path('train'))
  steps = [int(train['actor_steps'][3]), int(train['actor_steps'][8])]
  for actor_steps, learner_steps in zip(steps, (5, 10)):
    run_common.record_resume(run.log_path('resumes'),
                             {'actor_steps': actor_steps, 'actor_episodes': 0,
                              'learner_steps': learner_steps})
  fig = plotting.learning_curves_figure(run.path, window=4)
  train_ax, eval_ax, loss_ax, epsilon_ax = fig.axes
  assert _vertical_lines(train_ax) == steps and _vertical_lines(eval_ax) == steps
  assert _vertical_lines(loss_ax) == [5, 10] and _vertical_lines(epsilon_ax) == [5, 10]
  legend = [t.get_text() for t in train_ax.get_legend().get_texts()]
  assert legend.count('resumed') == 1
  os.remove(run.log_path('resumes'))
  fig = plotting.learning_curves_figure(run.path, window=4)
  assert not any(_vertical_lines(ax) for ax in fig.axes)


@pytest.mark.parametrize('low, high', [(0.12, 0.3), (0.5, 0.55), (1e-4, 10.0)])
def test_a_log_loss_axis_has_readable_number_ticks(tmp_path, low, high):
  path = tmp_path / 'learner.csv'
  values = np.geomspace(high, low, 40)
  path.write_text('learner_steps,loss\n' + ''.join(
      f'{i + 1},{v}\n' for i, v in enumerate(values)))
  fig = plotting.learning_curves_figure(str(path), window=1)
  ax = fig.axes[0]
  assert ax.get_yscale() == 'log'
  _drawn(fig)
  bottom, top = ax.get_ylim()
  labels = [(tick, label.get_text()) for tick, label in zip(ax.get_yticks(),
                                                            ax.get_yticklabels())
            if bottom <= tick <= top]
  assert 2 <= len(labels) <= 16, labels
  for tick, text in labels:
    assert text and '$' not in text and math.isclose(float(text), tick, rel_tol=0.01), labels


def test_the_title_is_the_whole_run_directory_on_one_line(tmp_path):
  name = 'bsuite_dqn_with_a_rather_long_experiment_name_for_the_title_' * 2
  run = _make_run(tmp_path / name / '20261201-113830_catch_0', learner_log=False)
  fig = plotting.learning_curves_figure(run.path)
  title = fig._suptitle  # pylint: disable=protected-access
  assert title.get_text() == os.path.normpath(run.path) and '\n' not in title.get_text()
  extent = title.get_window_extent(_drawn(fig))
  assert extent.x0 >= 0 and extent.x1 <= fig.get_figwidth() * fig.dpi
  assert extent.y1 <= fig.get_figheight() * fig.dpi
  for ax in fig.axes:
    assert ax.get_window_extent().y1 <= extent.y0 + 1  # the panels sit below it
  path = plotting.plot_learning_curves(run.path)
  image = imageio.v2.imread(path)
  assert image.shape[1] >= extent.width * 0.99
