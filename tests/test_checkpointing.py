"""Checkpointer: round trip, keep-K, corrupt/partial files, a real SIGKILL mid-write."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from rlkit.utils import atomic
from rlkit.utils import checkpointing

torch.set_num_threads(1)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _state(seed: int = 0):
  torch.manual_seed(seed)
  model = torch.nn.Linear(4, 2)
  optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
  model(torch.ones(3, 4)).sum().backward()
  optimizer.step()
  return {
      'network': model.state_dict(),
      'optimizer': optimizer.state_dict(),
      'counts': {'actor_steps': 120, 'learner_steps': 30},
      'epsilon': np.float32(0.25),
      'table': np.arange(12, dtype=np.int16).reshape(3, 4),
      'python_rng': random.Random(seed).getstate(),
      'numpy_rng': np.random.default_rng(seed).bit_generator.state,
      'legacy_numpy_rng': np.random.RandomState(seed).get_state(),
      'torch_rng': torch.get_rng_state(),
      'names': ['a', None, 1.5, (2, 'b')],
  }


def _assert_equal(a, b):
  assert type(a) is type(b), (type(a), type(b))
  if isinstance(a, dict):
    assert list(a) == list(b)
    for key in a:
      _assert_equal(a[key], b[key])
  elif isinstance(a, (list, tuple)):
    assert len(a) == len(b)
    for x, y in zip(a, b):
      _assert_equal(x, y)
  elif isinstance(a, torch.Tensor):
    assert a.dtype == b.dtype and torch.equal(a, b)
  elif isinstance(a, (np.ndarray, np.generic)):
    assert a.dtype == b.dtype and np.array_equal(a, b)
  else:
    assert a == b


def test_round_trip_preserves_values_and_types(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path))
  state = _state()
  path = checkpointer.save(state, step=30, metadata={'agent': 'dqn'})
  assert path == str(tmp_path / 'ckpt-30.pt')
  restored = checkpointing.Checkpointer(str(tmp_path)).restore()
  _assert_equal(state, restored)
  # RNG states restore into working generators.
  rng = random.Random()
  rng.setstate(restored['python_rng'])
  assert rng.random() == random.Random(0).random()
  generator = np.random.default_rng()
  generator.bit_generator.state = restored['numpy_rng']
  assert generator.integers(1 << 30) == np.random.default_rng(0).integers(1 << 30)


def test_save_reports_size_and_timing(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path))
  path = checkpointer.save({'w': torch.zeros(1000)}, step=5, metadata={'seed': 3})
  info = checkpointer.last_save
  assert info.path == path and info.step == 5
  assert info.size_bytes == os.path.getsize(path) > 4000
  assert info.write_seconds >= 0 and info.serialize_seconds >= 0
  sidecar = json.load(open(tmp_path / 'ckpt-5.json'))
  assert sidecar['size_bytes'] == info.size_bytes and sidecar['sha256'] == info.sha256
  assert sidecar['metadata'] == {'seed': 3}
  checkpointer.restore()
  assert checkpointer.last_restore['step'] == 5
  assert checkpointer.last_restore['size_bytes'] == info.size_bytes
  assert checkpointer.last_restore['metadata'] == {'seed': 3}


def test_keep_prunes_the_oldest(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=2)
  for step in (10, 20, 30, 40):
    checkpointer.save({'step': step}, step)
  assert [c.step for c in checkpointer.checkpoints()] == [30, 40]
  assert sorted(os.listdir(tmp_path)) == ['ckpt-30.json', 'ckpt-30.pt', 'ckpt-40.json',
                                          'ckpt-40.pt']
  keep_all = checkpointing.Checkpointer(str(tmp_path / 'all'), keep=None)
  for step in range(5):
    keep_all.save({'step': step}, step)
  assert len(keep_all.checkpoints()) == 5


def test_steps_are_ordered_numerically(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=None)
  checkpointer.save({'step': 9}, 9)
  checkpointer.save({'step': 100}, 100)
  assert checkpointer.latest() == str(tmp_path / 'ckpt-100.pt')
  assert checkpointer.restore()['step'] == 100


def test_kill_during_write_leaves_previous_checkpoint(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path))
  checkpointer.save({'step': 100}, 100)
  # What a kill leaves: a temporary file cut short, and (kill between the two
  # renames of a later save, then the disk damaged) a truncated final file.
  data = checkpointing.serialize({'step': 200})
  (tmp_path / f'{atomic.TEMP_PREFIX}abc-ckpt-200.pt').write_bytes(data[:len(data) // 2])
  (tmp_path / 'ckpt-200.pt').write_bytes(data[:len(data) // 2])

  with pytest.warns(checkpointing.CheckpointWarning, match='ckpt-200.pt'):
    restored = checkpointing.Checkpointer(str(tmp_path)).restore()
  assert restored == {'step': 100}
  assert checkpointer.latest() == str(tmp_path / 'ckpt-100.pt')

  with pytest.warns(checkpointing.CheckpointWarning, match='newer than step 150'):
    checkpointer.save({'step': 150}, 150)
  assert sorted(os.listdir(tmp_path)) == ['ckpt-100.json', 'ckpt-100.pt', 'ckpt-150.json',
                                          'ckpt-150.pt']


def test_complete_checkpoint_without_sidecar_loads(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path))
  checkpointer.save({'step': 1}, 1)
  (tmp_path / 'ckpt-2.pt').write_bytes(checkpointing.serialize({'step': 2}))
  assert checkpointer.restore() == {'step': 2}


def test_corrupt_newest_falls_back_with_a_warning(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path))
  checkpointer.save({'w': torch.arange(100)}, 1)
  path = checkpointer.save({'w': torch.arange(100) * 2}, 2)
  data = bytearray(open(path, 'rb').read())
  data[len(data) // 2] ^= 0xFF  # Same size, one flipped byte: only the checksum sees it.
  open(path, 'wb').write(bytes(data))
  assert 'SHA-256' in checkpointer.verify(path)
  with pytest.warns(checkpointing.CheckpointWarning, match="ckpt-2.pt' is corrupt"):
    restored = checkpointer.restore()
  assert torch.equal(restored['w'], torch.arange(100))
  assert checkpointer.last_restore['skipped'] == [path]
  with pytest.raises(ValueError, match='ckpt-2.pt'):
    checkpointer.restore(path)  # An explicit path never falls back.


def test_no_usable_checkpoint_errors_name_the_directory(tmp_path):
  checkpointer = checkpointing.Checkpointer(str(tmp_path / 'ckpts'))
  with pytest.raises(FileNotFoundError, match='ckpts'):
    checkpointer.restore()
  assert checkpointer.latest() is None
  checkpointer.save({'a': 1}, 3)
  (tmp_path / 'ckpts' / 'ckpt-3.pt').write_bytes(b'garbage')
  with pytest.warns(checkpointing.CheckpointWarning):
    with pytest.raises(ValueError, match="No usable checkpoint in .*ckpts.*ckpt-3.pt"):
      checkpointer.restore()
  with pytest.raises(FileNotFoundError, match='ckpt-9.pt'):
    checkpointer.restore('ckpt-9.pt')


def test_invalid_arguments_are_refused(tmp_path):
  with pytest.raises(ValueError, match='keep'):
    checkpointing.Checkpointer(str(tmp_path), keep=0)
  checkpointer = checkpointing.Checkpointer(str(tmp_path))
  with pytest.raises(ValueError, match='step'):
    checkpointer.save({'a': 1}, step=-1)
  with pytest.raises(TypeError, match='dict'):
    checkpointer.save([1, 2], step=1)
  with pytest.raises(TypeError, match=r"state\['config'\].*Linear"):
    checkpointer.save({'config': torch.nn.Linear(1, 1)}, step=1)
  with pytest.raises(TypeError, match='object'):
    checkpointer.save({'a': np.array([None])}, step=1)
  assert checkpointer.checkpoints() == []


_WRITER = textwrap.dedent('''
    import sys
    import torch
    from rlkit.utils import checkpointing
    checkpointer = checkpointing.Checkpointer(sys.argv[1], keep=2)
    step = 0
    while True:
      step += 1
      checkpointer.save({'step': step, 'w': torch.full((1 << 21,), float(step))}, step)
      print(step, flush=True)
''')


@pytest.mark.parametrize('delay', [0.005, 0.05])
def test_sigkill_while_saving_leaves_a_loadable_checkpoint(tmp_path, delay):
  process = subprocess.Popen([sys.executable, '-c', _WRITER, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True, cwd=REPO)
  try:
    first = process.stdout.readline()
    assert first.strip() == '1', first
    time.sleep(delay)
  finally:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
  checkpointer = checkpointing.Checkpointer(str(tmp_path), keep=2)
  state = checkpointer.restore()
  assert state['step'] >= 1
  assert torch.all(state['w'] == float(state['step']))
