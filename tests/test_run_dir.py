"""RunDirectory layout, flags.txt round trip through absl, atomic writes."""

import os

from absl import flags
import pytest

from rlkit.utils import atomic
from rlkit.utils import run_dir as run_dir_lib


def _flag_values():
  values = flags.FlagValues()
  flags.DEFINE_string('env', 'gym:CartPole-v1', '', flag_values=values)
  flags.DEFINE_integer('seed', 0, '', flag_values=values)
  flags.DEFINE_float('lr', 1e-3, '', flag_values=values)
  flags.DEFINE_bool('record_video', False, '', flag_values=values)
  flags.DEFINE_multi_string('tag', [], '', flag_values=values)
  flags.DEFINE_string('note', None, '', flag_values=values)
  return values


def test_create_makes_timestamped_layout(tmp_path):
  run = run_dir_lib.RunDirectory.create(root=str(tmp_path), experiment='dqn')
  parent, stamp = os.path.split(run.path)
  assert parent == str(tmp_path / 'dqn')
  assert len(stamp) == len('20240101-120000') and stamp[8] == '-'
  for directory in (run.logs_dir, run.checkpoints_dir, run.videos_dir, run.plots_dir):
    assert os.path.isdir(directory)
  assert run.log_path('evaluator') == os.path.join(run.path, 'logs', 'evaluator.csv')
  assert run.plot_path('curves') == os.path.join(run.path, 'plots', 'curves.png')
  assert run.video_path('eval-0') == os.path.join(run.path, 'videos', 'eval-0.mp4')


def test_two_runs_in_the_same_second_get_distinct_directories(tmp_path):
  paths = {run_dir_lib.RunDirectory.create(root=str(tmp_path), experiment='x').path
           for _ in range(3)}
  assert len(paths) == 3


def test_explicit_run_dir_is_created_and_reused(tmp_path):
  target = tmp_path / 'my_run'
  first = run_dir_lib.RunDirectory.create(run_dir=str(target), flags={'seed': 1})
  (target / 'logs' / 'train.csv').write_text('a\n1\n')
  second = run_dir_lib.RunDirectory.create(run_dir=str(target))
  assert first.path == second.path
  assert (target / 'logs' / 'train.csv').read_text() == 'a\n1\n'
  assert second.read_flags() == {'seed': '1'}


def test_create_refuses_a_foreign_non_empty_directory(tmp_path):
  (tmp_path / 'thesis.tex').write_text('x')
  with pytest.raises(ValueError, match='not a run directory'):
    run_dir_lib.RunDirectory.create(run_dir=str(tmp_path))


def test_flags_file_reloads_with_absl_flagfile(tmp_path):
  values = _flag_values()
  values(['prog', '--seed=7', '--lr=0.5', '--record_video', '--tag=a', '--tag=b c',
          '--env=gridworld:simple'])
  run = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'r'), flags=values)
  text = open(run.flags_path).read()
  assert '--seed=7\n' in text and '--record_video\n' in text
  assert 'logtostderr' not in text and 'note' not in text  # absl's own; None.

  reloaded = _flag_values()
  reloaded(['prog', f'--flagfile={run.flags_path}'])
  assert reloaded.seed == 7
  assert reloaded.lr == 0.5
  assert reloaded.record_video is True
  assert reloaded.tag == ['a', 'b c']
  assert reloaded.env == 'gridworld:simple'
  assert run.read_flags()['tag'] == ['a', 'b c']


def test_compare_flags_reports_differences(tmp_path):
  run = run_dir_lib.RunDirectory.create(
      run_dir=str(tmp_path / 'r'), flags={'seed': 1, 'env': 'gym:CartPole-v1', 'run_dir': 'a'})
  assert run.compare_flags({'seed': 1, 'env': 'gym:CartPole-v1', 'run_dir': 'b'},
                           ignore=['run_dir']) == {}
  assert run.compare_flags({'seed': 2, 'env': 'gym:CartPole-v1'}, ignore=['run_dir']) == {
      'seed': ('1', '2')}


def test_flag_values_with_newlines_are_refused():
  with pytest.raises(ValueError, match='newline'):
    run_dir_lib.format_flags({'note': 'a\nb'})


def test_open_validates_existence_and_layout(tmp_path):
  with pytest.raises(FileNotFoundError, match='nope'):
    run_dir_lib.RunDirectory.open(str(tmp_path / 'nope'))
  (tmp_path / 'half').mkdir()
  (tmp_path / 'half' / 'logs').mkdir()
  with pytest.raises(ValueError, match='lacks checkpoints/, videos/, plots/'):
    run_dir_lib.RunDirectory.open(str(tmp_path / 'half'))
  created = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'ok'))
  assert run_dir_lib.RunDirectory.open(str(tmp_path / 'ok')).path == created.path


def test_make_logger_writes_the_run_csv(tmp_path):
  run = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'r'))
  logger = run.make_logger('evaluator', time_delta=0, print_fn=lambda _: None)
  logger.write({'evaluator_steps': 3, 'return_mean': 1.5})
  logger.close()
  assert open(run.log_path('evaluator')).read().splitlines() == [
      'evaluator_steps,return_mean', '3,1.5']


def test_bad_names_are_refused(tmp_path):
  with pytest.raises(ValueError, match='experiment'):
    run_dir_lib.RunDirectory.create(root=str(tmp_path), experiment='a/b')
  run = run_dir_lib.RunDirectory.create(run_dir=str(tmp_path / 'r'))
  with pytest.raises(ValueError, match='label'):
    run.log_path('../x')


def test_atomic_write_failure_keeps_previous_file(tmp_path):
  path = tmp_path / 'flags.txt'
  atomic.write_text(str(path), 'good\n')
  with pytest.raises(RuntimeError, match='boom'):
    with atomic.atomic_open(str(path), 'w') as f:
      f.write('half a fi')
      raise RuntimeError('boom')
  assert path.read_text() == 'good\n'
  assert os.listdir(tmp_path) == ['flags.txt']  # No temporary file left.


def test_atomic_path_keeps_extension_and_cleans_leftovers(tmp_path):
  with atomic.atomic_path(str(tmp_path / 'plot.png')) as temp:
    assert temp.endswith('plot.png') and atomic.is_temp_file(temp)
    assert os.path.dirname(temp) == str(tmp_path)
    open(temp, 'wb').write(b'png')
  leftover = tmp_path / f'{atomic.TEMP_PREFIX}dead-plot.png'
  leftover.write_bytes(b'partial')
  assert atomic.remove_temp_files(str(tmp_path)) == [str(leftover)]
  assert os.listdir(tmp_path) == ['plot.png']
