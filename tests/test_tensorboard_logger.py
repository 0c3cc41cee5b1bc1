"""TensorBoardLogger: scalars read back by TensorBoard's own reader; resume."""

import collections
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from rlkit.utils import loggers
from rlkit.utils.loggers import tensorboard


def _scalars(directory):
  """{tag: [(step, value)]} as TensorBoard's EventAccumulator reads them."""
  from tensorboard.backend.event_processing import event_accumulator
  accumulator = event_accumulator.EventAccumulator(
      directory, size_guidance={event_accumulator.SCALARS: 0}, purge_orphaned_data=False)
  accumulator.Reload()
  return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
          for tag in accumulator.Tags()['scalars']}


def _raw_steps(directory):
  """{tag: [step, ...]} over every event file, without TensorBoard's purging."""
  steps = collections.defaultdict(list)
  for event in tensorboard.read_events(directory):
    for value in event.summary.value:
      steps[value.tag].append(event.step)
  return dict(steps)


def test_numeric_values_become_scalars_tagged_by_label_at_the_steps_key(tmp_path):
  logger = loggers.TensorBoardLogger(str(tmp_path), 'train', 'actor_steps')
  logger.write({'actor_steps': 10, 'episode_return': 3.5, 'name': 'cartpole',
                'loss': torch.tensor(0.25), 'one': np.array([7.0]), 'many': np.arange(3),
                'nested': {'a': 1}, 'episodes': np.int64(1), 'solved': True})
  logger.write({'actor_steps': np.int64(25), 'episode_return': 4.0})
  logger.close()
  logger.close()

  scalars = _scalars(str(tmp_path / 'train'))
  assert sorted(scalars) == ['train/episode_return', 'train/episodes', 'train/loss',
                             'train/one', 'train/solved']
  assert scalars['train/episode_return'] == [(10, 3.5), (25, 4.0)]
  assert scalars['train/loss'] == [(10, 0.25)]
  assert scalars['train/one'] == [(10, 7.0)]
  assert scalars['train/solved'] == [(10, 1.0)]
  with pytest.raises(RuntimeError, match='closed'):
    logger.write({'actor_steps': 30, 'x': 1.0})


def test_rows_without_the_steps_key_count_up(tmp_path):
  logger = loggers.TensorBoardLogger(str(tmp_path), 'learner', 'learner_steps')
  for loss in (1.0, 2.0, 3.0):
    logger.write({'loss': loss})
  logger.close()
  assert _scalars(str(tmp_path / 'learner'))['learner/loss'] == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_labels_write_to_their_own_subdirectories(tmp_path):
  for label, key in (('train', 'actor_steps'), ('learner', 'learner_steps')):
    logger = loggers.TensorBoardLogger(str(tmp_path), label, key)
    logger.write({key: 5, 'x': 1.0})
    logger.close()
  assert sorted(os.listdir(tmp_path)) == ['learner', 'train']
  assert list(_scalars(str(tmp_path / 'learner'))) == ['learner/x']


def test_a_resumed_run_appends_without_duplicated_steps(tmp_path):
  first = loggers.TensorBoardLogger(str(tmp_path), 'train', 'actor_steps')
  for step in range(10, 101, 10):
    first.write({'actor_steps': step, 'episode_return': float(step)})
  # Killed after the checkpoint at step 60: no close(), a half-written record at the end.
  with open(first.file_path, 'ab') as f:
    f.write(b'\x10\x00\x00')

  second = loggers.TensorBoardLogger(str(tmp_path), 'train', 'actor_steps', resume_step=60)
  for step in (50, 60, 70, 80, 90, 100, 110, 120):
    second.write({'actor_steps': step, 'episode_return': step + 0.5})
  second.close()

  directory = str(tmp_path / 'train')
  assert len([n for n in os.listdir(directory) if 'tfevents' in n]) == 2
  assert _raw_steps(directory) == {'train/episode_return': list(range(10, 121, 10))}
  values = _scalars(directory)['train/episode_return']
  assert values == ([(s, float(s)) for s in range(10, 61, 10)] +
                    [(s, s + 0.5) for s in range(70, 121, 10)])


def test_a_row_at_the_resume_step_the_files_lack_is_written(tmp_path):
  first = loggers.TensorBoardLogger(str(tmp_path), 'evaluator', 'actor_steps')
  for step in (30, 60):
    first.write({'actor_steps': step, 'return_mean': 1.0})
  first.close()
  # Checkpointed at 68, killed before the final evaluation at 68.
  second = loggers.TensorBoardLogger(str(tmp_path), 'evaluator', 'actor_steps', resume_step=68)
  second.write({'actor_steps': 60, 'return_mean': 2.0})
  second.write({'actor_steps': 68, 'return_mean': 3.0})
  second.close()
  assert _scalars(str(tmp_path / 'evaluator'))['evaluator/return_mean'] == [
      (30, 1.0), (60, 1.0), (68, 3.0)]


def test_make_default_logger_adds_tensorboard_next_to_csv(tmp_path):
  logger = loggers.make_default_logger(
      'evaluator', time_delta=0.0, directory=str(tmp_path / 'logs'), print_fn=lambda _: None,
      tensorboard_dir=str(tmp_path / 'tensorboard'), steps_key='actor_steps')
  logger.write({'actor_steps': 100, 'return_mean': 9.0, 'return_std': None})
  logger.close()
  assert os.path.exists(tmp_path / 'logs' / 'evaluator.csv')
  assert _scalars(str(tmp_path / 'tensorboard' / 'evaluator')) == {
      'evaluator/return_mean': [(100, 9.0)]}
  with pytest.raises(ValueError, match='steps_key'):
    loggers.make_default_logger('train', tensorboard_dir=str(tmp_path))


@pytest.mark.parametrize('kwargs, message', [
    ({'label': 'a/b'}, 'plain file name'),
    ({'steps_key': ''}, 'steps_key'),
    ({'resume_step': -1}, 'resume_step'),
])
def test_bad_arguments_are_rejected(tmp_path, kwargs, message):
  arguments = {'logdir': str(tmp_path), 'label': 'train', 'steps_key': 'actor_steps', **kwargs}
  with pytest.raises(ValueError, match=message):
    loggers.TensorBoardLogger(**arguments)


def test_a_step_that_is_not_a_whole_number_is_rejected(tmp_path):
  logger = loggers.TensorBoardLogger(str(tmp_path), 'train', 'actor_steps')
  with pytest.raises(ValueError, match="'actor_steps' must be a whole number"):
    logger.write({'actor_steps': 'ten', 'x': 1.0})
  logger.close()


def test_writing_does_not_import_tensorflow(tmp_path):
  script = ('import sys\n'
            'from rlkit.utils import loggers\n'
            f'logger = loggers.TensorBoardLogger({str(tmp_path)!r}, "train", "actor_steps")\n'
            'logger.write({"actor_steps": 1, "x": 1.0}); logger.close()\n'
            'print("tensorflow" in sys.modules, "torch" in sys.modules)\n')
  output = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
  assert output.stdout.split() == ['False', 'False']
