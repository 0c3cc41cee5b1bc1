"""Loggers: terminal formatting, CSV appends, dispatcher and filters."""

import csv
import os

import numpy as np
import pytest

from rlkit.utils import loggers


class ListLogger(loggers.Logger):

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append(dict(data))


def read_csv(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def test_terminal_logger_formats_a_row():
  lines = []
  logger = loggers.TerminalLogger('train', print_fn=lines.append)
  logger.write({'episode_return': np.float32(1.5), 'steps': 3})
  assert lines == ['[Train] Episode Return = 1.500 | Steps = 3']


def test_csv_logger_writes_and_appends_on_reopen(tmp_path):
  logger = loggers.CSVLogger(str(tmp_path), 'train')
  logger.write({'steps': 1, 'return': np.float64(2.0)})
  logger.write({'steps': 2, 'return': 3.0})
  logger.close()
  resumed = loggers.CSVLogger(str(tmp_path), 'train')
  resumed.write({'steps': 3, 'return': 4.0})
  resumed.close()
  rows = read_csv(os.path.join(tmp_path, 'train.csv'))
  assert [r['steps'] for r in rows] == ['1', '2', '3']
  assert rows[0]['return'] == '2.0'


def test_csv_logger_rejects_new_keys(tmp_path):
  logger = loggers.CSVLogger(str(tmp_path), 'train')
  logger.write({'steps': 1})
  with pytest.raises(ValueError, match='loss'):
    logger.write({'steps': 2, 'loss': 0.1})


def test_dispatcher_and_none_filter():
  a, b = ListLogger(), ListLogger()
  logger = loggers.NoneFilter(loggers.Dispatcher([a, b]))
  logger.write({'x': 1, 'y': None})
  assert a.rows == b.rows == [{'x': 1}]


def test_time_filter_throttles():
  inner = ListLogger()
  logger = loggers.TimeFilter(inner, time_delta=3600)
  for i in range(5):
    logger.write({'i': i})
  assert inner.rows == [{'i': 0}]
  every = ListLogger()
  unthrottled = loggers.TimeFilter(every, time_delta=0)
  for i in range(3):
    unthrottled.write({'i': i})
  assert len(every.rows) == 3
  with pytest.raises(ValueError, match='time_delta'):
    loggers.TimeFilter(inner, time_delta=-1)


def test_default_logger_prints_and_writes_csv(tmp_path):
  lines = []
  logger = loggers.make_default_logger(
      'evaluator', time_delta=0, directory=str(tmp_path), print_fn=lines.append)
  logger.write({'return_mean': 9.5})
  logger.close()
  assert lines and 'Return Mean = 9.500' in lines[0]
  assert read_csv(os.path.join(tmp_path, 'evaluator.csv')) == [{'return_mean': '9.5'}]
