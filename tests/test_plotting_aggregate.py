"""Seeds averaged into mean ± std curves, on run directories written by the real loggers."""

import json
import os
import subprocess
import sys
import warnings

import imageio
import numpy as np
import pytest

from rlkit.utils import checkpointing
from rlkit.utils import plotting_aggregate as aggregate
from rlkit.utils import run_dir as run_dir_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_run(path, seed=0, lengths=(30,) * 20, returns=None, eval_returns=None,
              eval_every=100, num_steps=None, agent=None, evaluator=True, **flags):
  """A run directory as the launchers write it, for episodes of the given lengths.

  Evaluations follow the launcher's schedule: after the episode that crosses a
  multiple of `eval_every`, and once more at the end. `returns` and
  `eval_returns` map (episode index or evaluation index, actor steps) to a return.
  """
  returns = returns or (lambda episode, steps: float(episode))
  eval_returns = eval_returns or (lambda index, steps: 10.0 * index)
  num_steps = num_steps or int(sum(lengths))
  run = run_dir_lib.RunDirectory.create(run_dir=str(path), flags={
      'env': 'gym:CartPole-v1', 'seed': seed, 'eval_every': eval_every, 'num_steps': num_steps,
      'eval_episodes': 5, 'n_step': 1, **flags})
  quiet = dict(time_delta=0, print_fn=lambda _: None)
  train, evals = run.make_logger('train', **quiet), None
  if evaluator:
    evals = run.make_logger('evaluator', **quiet)
  steps, next_eval, last_eval, count = 0, eval_every, -1, 0

  def evaluate():
    evals.write(dict(actor_steps=steps, actor_episodes=episode + 1, learner_steps=steps // 4,
                     evaluator_episodes=5 * (count + 1), evaluator_steps=100 * (count + 1),
                     return_mean=eval_returns(count, steps), return_std=1.0, return_min=0.0,
                     return_max=2.0, episode_length_mean=20.0, episodes=5,
                     evaluation_seconds=0.01, baseline_return_mean=5.0,
                     baseline_return_std=1.0))

  for episode, length in enumerate(lengths):
    steps += length
    train.write(dict(episode_length=length, episode_return=returns(episode, steps),
                     steps_per_second=1000.0, episode_duration=0.01, actor_steps=steps,
                     actor_episodes=episode + 1, learner_steps=steps // 4, evaluator_episodes=0,
                     evaluator_steps=0, epsilon=0.1))
    if evals and steps >= next_eval:
      evaluate()
      count, last_eval, next_eval = count + 1, steps, (steps // eval_every + 1) * eval_every
  if evals and last_eval != steps:
    evaluate()
  train.close()
  if evals:
    evals.close()
  if agent:  # The sidecar of a checkpoint (the .pt itself would need torch, slow to import).
    name = os.path.join(run.checkpoints_dir, checkpointing.checkpoint_name(steps))
    open(name, 'wb').close()
    with open(checkpointing.sidecar_path(name), 'w') as f:
      json.dump({'step': steps, 'metadata': {'agent': agent, 'actor_steps': steps}}, f)
  return run


def _figure(*args, **kwargs):
  with warnings.catch_warnings():
    warnings.simplefilter('error', aggregate.AggregateWarning)
    return aggregate.aggregate_figure(*args, **kwargs)


def test_due_steps_place_evaluations_at_their_multiple_of_eval_every():
  np.testing.assert_array_equal(aggregate.due_steps([2145, 4003, 6010, 8000, 10002], 2000, 10000),
                                [2000, 4000, 6000, 8000, 10000])
  # The final evaluation (num_steps not a multiple of eval_every) is due at num_steps.
  np.testing.assert_array_equal(aggregate.due_steps([3010, 6020, 9050, 10030], 3000, 10000),
                                [3000, 6000, 9000, 10000])
  # An episode budget: the final evaluation keeps its own step.
  np.testing.assert_array_equal(aggregate.due_steps([1010, 1500], 1000), [1000, 1500])
  np.testing.assert_array_equal(aggregate.due_steps([120, 250], 0), [120, 250])


def test_mean_std_is_the_sample_std_and_nan_for_one_run():
  values = np.array([[1.0, 2.0], [3.0, 6.0], [8.0, 1.0]])
  mean, std = aggregate.mean_std(values)
  np.testing.assert_allclose(mean, values.mean(axis=0))
  np.testing.assert_allclose(std, values.std(axis=0, ddof=1))
  mean, std = aggregate.mean_std(values[:1])
  np.testing.assert_array_equal(mean, values[0])
  assert np.all(np.isnan(std))


def test_training_curves_are_interpolated_onto_the_common_steps(tmp_path):
  # Linear returns in steps, so interpolating the (window 1) curves is exact.
  slopes, lengths = (0.5, 1.0, 3.0), ((30,) * 20, (45,) * 14, (37,) * 17)
  runs = [aggregate.load_run(_make_run(tmp_path / f's{seed}', seed, lengths[seed],
                                       returns=lambda _, steps, a=a: a * steps + 7).path)
          for seed, a in enumerate(slopes)]
  curve = aggregate.train_curve(runs, window=1, num_points=50)
  start, end = max(length[0] for length in lengths), min(sum(length) for length in lengths)
  np.testing.assert_allclose(curve.steps, np.linspace(start, end, 50))
  np.testing.assert_allclose(curve.mean, np.mean(slopes) * curve.steps + 7)
  np.testing.assert_allclose(curve.std, np.std(slopes, ddof=1) * curve.steps)
  assert curve.num_runs == 3 and curve.x_name == 'actor_steps' and curve.note is None

  # A rolling mean per run first, then the interpolation.
  curve = aggregate.train_curve(runs, window=4, num_points=20)
  per_run = []
  for run in runs:
    x, y = run.train['actor_steps'], run.train['episode_return']
    rolled = [y[max(0, i - 3):i + 1].mean() for i in range(len(y))]
    per_run.append(np.interp(curve.steps, x, rolled))
  np.testing.assert_allclose(curve.mean, np.mean(per_run, axis=0))
  np.testing.assert_allclose(curve.std, np.std(per_run, axis=0, ddof=1))


def test_evaluations_are_aligned_on_the_steps_they_were_due(tmp_path):
  lengths = ((30,) * 20, (45,) * 14, (37,) * 17)  # Evaluations at 120, 135, 111, ...
  scores = np.array([[1.0, 4.0, 9.0, 9.0, 12.0, 15.0, 20.0],
                     [2.0, 2.0, 5.0, 8.0, 10.0, 11.0, 13.0],
                     [0.0, 6.0, 4.0, 7.0, 14.0, 13.0, 18.0]])
  runs = [aggregate.load_run(_make_run(
      tmp_path / f's{seed}', seed, lengths[seed], num_steps=600,
      eval_returns=lambda index, _, seed=seed: scores[seed][index]).path) for seed in range(3)]
  assert len(runs[0].evaluator['actor_steps']) == 6  # 600 steps: the last one is due at 600.
  assert runs[1].evaluator['actor_steps'][0] == 135
  curve = aggregate.eval_curve(runs)
  np.testing.assert_array_equal(curve.steps, [100, 200, 300, 400, 500, 600])
  np.testing.assert_allclose(curve.mean, scores[:, :6].mean(axis=0))
  np.testing.assert_allclose(curve.std, scores[:, :6].std(axis=0, ddof=1))
  assert curve.note is None

  fig = _figure([run.path for run in runs], window=3)
  train_ax, eval_ax = fig.axes
  assert eval_ax.get_title() == 'Evaluation return (mean ± std over runs)'
  line = eval_ax.get_lines()[-1]
  np.testing.assert_allclose(line.get_ydata(), curve.mean)
  band = eval_ax.collections[0].get_paths()[0].vertices
  np.testing.assert_allclose(band[:, 1].max(), np.max(curve.mean + curve.std))
  np.testing.assert_allclose(band[:, 1].min(), np.min(curve.mean - curve.std))
  group = tmp_path.name  # The runs' common parent directory.
  assert [t.get_text() for t in eval_ax.get_legend().get_texts()] == [
      f'{group}: random policy', f'{group} (3 runs)']
  assert eval_ax.get_lines()[0].get_ydata()[0] == 5.0  # The random baseline.
  assert [t.get_text() for t in train_ax.get_legend().get_texts()] == [f'{group} (3 runs)']


def test_runs_of_different_lengths_keep_only_the_common_steps(tmp_path):
  long_runs = [_make_run(tmp_path / 'dqn' / f's{seed}', seed, (25,) * 24) for seed in (0, 1)]
  short = _make_run(tmp_path / 'dqn' / 's2', 2, (25,) * 10)
  paths = [run.path for run in long_runs + [short]]
  with pytest.warns(aggregate.AggregateWarning) as caught:
    fig = aggregate.aggregate_figure(paths)
  messages = [str(w.message) for w in caught]
  assert any(m.startswith('Training episode return: cut at 250 actor_steps, where dqn/s2 stops')
             for m in messages), messages
  assert ('Evaluation return: left out actor_steps 250, 300, 400, 500, ..., not reached by '
          'every run (last evaluations: dqn/s0 600, dqn/s1 600, dqn/s2 250).') in messages
  train_ax, eval_ax = fig.axes
  assert train_ax.get_xlabel() == 'actor_steps\ncut at 250, where the shortest run stops'
  assert eval_ax.get_xlabel() == 'actor_steps\nonly the steps all runs reached (up to 200)'
  np.testing.assert_array_equal(eval_ax.get_lines()[-1].get_xdata(), [100, 200])
  assert fig.axes[0].get_lines()[0].get_xdata()[-1] == 250
  assert fig._suptitle.get_text() == 'dqn'  # pylint: disable=protected-access


def test_groups_by_flag_and_a_single_run_has_no_band(tmp_path):
  paths = [_make_run(tmp_path / f'n{n}_s{seed}', seed, n_step=n,
                     returns=lambda episode, _, n=n, seed=seed: 10.0 * n + seed).path
           for n, seed in ((1, 0), (3, 0), (1, 1), (3, 1))]
  paths.append(_make_run(tmp_path / 'n5_s0', 0, n_step=5).path)
  fig = _figure(paths, group_by='n_step', window=1)
  train_ax = fig.axes[0]
  assert [t.get_text() for t in train_ax.get_legend().get_texts()] == [
      'n_step=1 (2 runs)', 'n_step=3 (2 runs)', 'n_step=5 (1 run)']
  np.testing.assert_allclose(train_ax.get_lines()[0].get_ydata(), 10.5)
  np.testing.assert_allclose(train_ax.get_lines()[1].get_ydata(), 30.5)
  assert len(train_ax.collections) == 2  # Bands for the groups of two runs only.
  band = train_ax.collections[1].get_paths()[0].vertices[:, 1]
  np.testing.assert_allclose([band.min(), band.max()], 30.5 + np.array([-1, 1]) * np.sqrt(0.5))

  fig = _figure(paths[:2], group_by=['n_step'], labels=['one step', 'three steps'])
  assert fig.axes[1].get_legend().get_texts()[-1].get_text() == 'three steps (1 run)'
  with pytest.raises(ValueError, match=r'--n_step is 1 in \S*n1_s0, 3 in \S*n3_s0, 1 in '
                                       r'.*--group_by=n_step'):
    _figure(paths)
  with pytest.raises(ValueError, match='Got 1 labels for 3 groups'):
    _figure(paths, group_by=['n_step'], labels=['a'])


def test_png_is_written_at_the_figure_size(tmp_path):
  paths = [_make_run(tmp_path / f's{seed}', seed).path for seed in (0, 1)]
  output = str(tmp_path / 'out' / 'mean.png')
  assert aggregate.plot_aggregate(paths, output, dpi=50) == output
  image = imageio.v2.imread(output)
  assert image.ndim == 3 and image.shape[2] in (3, 4)
  height, width = image.shape[:2]  # Two 6.5 x 4.6 inch panels at 50 dpi, tight bbox.
  assert 0.9 * 650 < width <= 650 and 0.9 * 230 < height <= 230, image.shape


def test_bad_input_fails_naming_the_value(tmp_path):
  good = _make_run(tmp_path / 'good', 0).path
  cases = {
      str(tmp_path / 'missing'): (FileNotFoundError, 'missing.* does not exist'),
      str(tmp_path / 'nomatch*'): (FileNotFoundError, r'No run directory matches .*nomatch\*'),
  }
  os.makedirs(tmp_path / 'nologs')
  cases[str(tmp_path / 'nologs')] = (FileNotFoundError, 'nologs.* has no logs/')
  empty = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'empty'))
  cases[empty.path] = (ValueError, 'empty.* has no returns to average')
  cases[os.path.join(good, 'logs', 'train.csv')] = (ValueError, 'train.csv.* not a directory')
  for path, (error, message) in cases.items():
    with pytest.raises(error, match=message):
      aggregate.aggregate_figure([good, path])
  with pytest.raises(ValueError, match='good.* is given twice'):
    aggregate.aggregate_figure([good, str(tmp_path / '*')])

  no_eval = _make_run(tmp_path / 'no_eval', 1, evaluator=False).path
  with pytest.raises(ValueError, match='no_eval.* lacks return_mean'):
    aggregate.aggregate_figure([good, no_eval])
  with pytest.raises(ValueError, match="Cannot group .*good.* by double_q: it has no --double_q"):
    aggregate.aggregate_figure([good], group_by=['double_q'])
  other_eval = _make_run(tmp_path / 'other_eval', 1, eval_every=70).path
  with pytest.raises(ValueError, match=r'--eval_every is 100 in .*good, 70 in .*other_eval'):
    aggregate.aggregate_figure([good, other_eval])
  with pytest.raises(ValueError, match='num_points'):
    aggregate.aggregate_figure([good], num_points=1)

  # Without flags.txt evaluations cannot be placed at their multiple of --eval_every.
  unaligned = [_make_run(tmp_path / f'noflags{seed}', seed, (30 + 15 * seed,) * 12)
               for seed in (0, 1)]
  for run in unaligned:
    os.remove(run.flags_path)
  with pytest.raises(ValueError, match=r'share no evaluation actor_steps \(\S*noflags0: 120, '
                                       r'210, 300, 360; \S*noflags1: 135, 225, 315, 405, 540'):
    aggregate.aggregate_figure([run.path for run in unaligned])


def test_mixed_agents_need_group_by_agent(tmp_path):
  dqn = [_make_run(tmp_path / f'dqn{seed}', seed, agent='dqn').path for seed in (0, 1)]
  nfq = _make_run(tmp_path / 'nfq0', 0, agent='nfq').path
  with pytest.raises(ValueError, match=r'agent is dqn in \S*dqn0, dqn in \S*dqn1, nfq in '
                                       r'\S*nfq0.*--group_by=agent'):
    aggregate.aggregate_figure(dqn + [nfq])
  fig = _figure(dqn + [nfq], group_by=['agent'])
  assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
      'agent=dqn (2 runs)', 'agent=nfq (1 run)']


def test_plot_launcher_aggregates_glob_patterns(tmp_path):
  for n in (1, 3):
    for seed in (0, 1):
      _make_run(tmp_path / f'dqn_n{n}' / f's{seed}', seed, n_step=n,
                lengths=(25,) * (24 if seed else 10))
  command = [sys.executable, '-m', 'experiments.plot', '--aggregate',
             f'--run_dir={tmp_path}/dqn_n*/*']
  result = subprocess.run(command + ['--group_by=n_step'], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
  assert result.returncode == 0, result.stderr
  output = str(tmp_path / 'learning_curves_mean.png')
  assert f'Mean learning curves of 4 runs: {output}' in result.stdout
  assert imageio.v2.imread(output).shape[1] > 1000
  assert 'warning: Evaluation return: n_step=1: left out actor_steps 250, 300' in result.stderr
  assert 'Traceback' not in result.stderr

  result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=60)
  assert result.returncode != 0 and '--group_by=n_step' in result.stderr
  assert 'Traceback' not in result.stderr
