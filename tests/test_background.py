"""BackgroundJob: one job at a time, errors never lost."""

import threading

import pytest

from rlkit.utils import background


def test_jobs_run_one_after_the_other_and_return_their_result():
  job = background.BackgroundJob('test')
  release = threading.Event()
  order = []

  def first():
    release.wait(5)
    order.append('first')

  job.submit(first)
  assert job.busy
  release.set()
  job.submit(lambda: order.append('second') or 42)  # Waits for the first.
  assert job.wait() == 42
  assert order == ['first', 'second'] and not job.busy
  assert job.wait() == 42  # Nothing running: the last result again.


def test_an_error_is_raised_by_the_next_submit_or_wait():
  job = background.BackgroundJob('test')
  job.submit(lambda: 1 / 0)
  with pytest.raises(ZeroDivisionError):
    job.submit(lambda: None)
  job.submit(lambda: [][1])
  with pytest.raises(IndexError):
    job.wait()
  job.wait()  # Reported once.


def test_context_exit_waits_and_keeps_the_first_exception():
  finished = []
  with background.BackgroundJob('test') as job:
    job.submit(lambda: finished.append(True))
  assert finished == [True]
  with pytest.raises(ZeroDivisionError):
    with background.BackgroundJob('test') as job:
      job.submit(lambda: 1 / 0)
  with pytest.raises(KeyError):  # The caller's error wins over the job's.
    with background.BackgroundJob('test') as job:
      job.submit(lambda: 1 / 0)
      raise KeyError('caller')
