"""ReplayServer, checkpoints, and clients connecting to a server at an address."""

import os
import sys
import time

import dm_env
import numpy as np
import portpicker
import pytest
import reverb

from rlkit import specs
from rlkit.adders import transition
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from tests import forkserver

SPEC = specs.EnvironmentSpec(
    observations=specs.Array((2,), np.float32),
    actions=specs.DiscreteArray(2, dtype=np.int64),
    rewards=specs.Array((), np.float32),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))
TABLE = tables.DEFAULT_PRIORITY_TABLE


def make_tables():
  return [tables.make_transition_table(environment_spec=SPEC, max_size=100),
          tables.make_queue_table('episodes', SPEC, max_size=10)]


def write_episode(client, num_steps, start=0):
  adder = transition.NStepTransitionAdder(client, n_step=1, discount=0.9,
                                          environment_spec=SPEC)
  adder.add_first(dm_env.restart(np.full(2, start, np.float32)))
  for t in range(1, num_steps + 1):
    observation = np.full(2, start + t, np.float32)
    if t == num_steps:
      adder.add(1, dm_env.termination(np.float32(t), observation))
    else:
      adder.add(1, dm_env.transition(np.float32(t), observation, np.float32(1)))
  adder.close()


@pytest.mark.timeout(60)
def test_server_on_a_free_port():
  with server_lib.ReplayServer(make_tables()) as server:
    assert server.address == f'localhost:{server.port}'
    assert server.client() is server.client()
    assert server.table_sizes() == {TABLE: 0, 'episodes': 0}
    assert not server.can_sample(TABLE)
    write_episode(server.client(), 3)
    assert server.table_sizes() == {TABLE: 3, 'episodes': 0}
    assert server.can_sample(TABLE, 3)
    with pytest.raises(KeyError, match="No table 'missing'"):
      server.can_sample('missing')
  with pytest.raises(RuntimeError, match='was stopped'):
    server.client()
  server.stop()  # Idempotent.


@pytest.mark.timeout(60)
def test_server_without_checkpoint_dir_leaves_no_temporary_directory():
  server = server_lib.ReplayServer(make_tables())
  write_episode(server.client(), 2)
  path = server.checkpoint()
  assert os.path.exists(path) and 'rlkit-replay-' in path
  temporary_dir = path[:path.index('rlkit-replay-')]
  temporary_dir += path[len(temporary_dir):].split(os.sep)[0]
  assert server.checkpoint_dir is None
  server.stop()
  assert not os.path.exists(temporary_dir)


@pytest.mark.timeout(60)
def test_server_on_a_given_port_and_connect():
  port = portpicker.pick_unused_port()
  with server_lib.ReplayServer(make_tables(), port=port) as server:
    assert server.port == port
    client = server_lib.connect(f'localhost:{port}', timeout_s=5)
    assert set(client.server_info()) == {TABLE, 'episodes'}
    write_episode(client, 2)
    assert server.table_sizes()[TABLE] == 2


@pytest.mark.parametrize('address', ['localhost', 'localhost:', ':8000',
                                     'localhost:abc', 'localhost:0',
                                     'localhost:70000', 'local host:80'])
def test_connect_rejects_malformed_addresses(address):
  with pytest.raises(ValueError, match='host:port'):
    server_lib.connect(address)


@pytest.mark.timeout(60)
def test_connect_to_a_dead_address_raises_connection_error():
  address = f'localhost:{portpicker.pick_unused_port()}'
  start = time.monotonic()
  with pytest.raises(ConnectionError, match=f'No Reverb server answered at {address}'):
    server_lib.connect(address, timeout_s=1)
  assert time.monotonic() - start < 10


def test_server_validates_arguments():
  with pytest.raises(ValueError, match='at least one table'):
    server_lib.ReplayServer([])
  with pytest.raises(TypeError, match='reverb.Table'):
    server_lib.ReplayServer(['table'])
  with pytest.raises(ValueError, match='unique'):
    server_lib.ReplayServer([tables.make_transition_table('a', SPEC),
                             tables.make_transition_table('a', SPEC)])
  with pytest.raises(ValueError, match='port must be in'):
    server_lib.ReplayServer(make_tables(), port=-3)


@pytest.mark.timeout(60)
def test_checkpoint_and_restore(tmp_path):
  directory = str(tmp_path / 'replay')
  with server_lib.ReplayServer(make_tables(), checkpoint_dir=directory) as server:
    assert not server.restored
    write_episode(server.client(), 5, start=10)
    path = server.checkpoint()
    assert path.startswith(directory)
    assert os.listdir(directory)

  with server_lib.ReplayServer(make_tables(), checkpoint_dir=directory) as server:
    assert server.restored
    assert server.table_sizes() == {TABLE: 5, 'episodes': 0}
    assert server.can_sample(TABLE, 1)
    assert not server.can_sample('episodes', 1)
    samples = server.client().sample(TABLE, 50, emit_timesteps=False,
                                     unpack_as_table_signature=True)
    firsts = {float(sample.data.observation[0]) for sample in samples}
    assert firsts <= {10.0, 11.0, 12.0, 13.0, 14.0}
    assert len(firsts) >= 3

  # A server on a fresh directory starts empty.
  with server_lib.ReplayServer(make_tables(),
                               checkpoint_dir=str(tmp_path / 'other')) as server:
    assert server.table_sizes() == {TABLE: 0, 'episodes': 0}


@pytest.mark.timeout(120)
def test_adder_writes_to_a_server_in_another_process():
  port = portpicker.pick_unused_port()
  # The server: this module run as __main__ (the end of the file), forked warm.
  process = forkserver.start('tests.test_server', str(port), stdin=forkserver.PIPE,
                             stdout=forkserver.PIPE, stderr=forkserver.DEVNULL)
  try:
    assert process.stdout.readline().strip() == 'ready'
    client = server_lib.connect(f'localhost:{port}', timeout_s=30)
    write_episode(client, 4)
    assert client.server_info()[TABLE].current_size == 4
    samples = client.sample(TABLE, 20, emit_timesteps=False,
                            unpack_as_table_signature=True)
    rewards = {float(sample.data.reward) for sample in samples}
    assert rewards <= {1.0, 2.0, 3.0, 4.0}
  finally:
    process.stdin.close()
    process.wait(timeout=30)
  assert process.returncode == 0
  with pytest.raises(ConnectionError):
    server_lib.connect(f'localhost:{port}', timeout_s=1)


@pytest.mark.timeout(60)
def test_can_sample_after_restoring_a_ratio_limited_table(tmp_path):
  directory = str(tmp_path / 'replay')

  def ratio_tables():
    # min_diff = 2 * 1 - 1: sampling needs inserts - samples - n >= 1.
    return [tables.make_transition_table(
        environment_spec=SPEC, max_size=100, min_size_to_sample=2,
        samples_per_insert=1.0, block_inserts=False)]

  with server_lib.ReplayServer(ratio_tables(), checkpoint_dir=directory) as server:
    write_episode(server.client(), 5)
    assert len(list(server.client().sample(TABLE, 2, emit_timesteps=False))) == 2
    assert server.can_sample(TABLE, 2) and not server.can_sample(TABLE, 3)
    server.checkpoint()
  with server_lib.ReplayServer(ratio_tables(), checkpoint_dir=directory) as server:
    assert server.table_sizes() == {TABLE: 5}
    assert server.can_sample(TABLE, 2) and not server.can_sample(TABLE, 3)
    write_episode(server.client(), 1)
    assert server.can_sample(TABLE, 3) and not server.can_sample(TABLE, 4)
    assert len(list(server.client().sample(TABLE, 3, emit_timesteps=False))) == 3
    assert not server.can_sample(TABLE, 1)


def _serve(port: int) -> None:
  """A replay server on `port` with SPEC's transition table until stdin closes."""
  with server_lib.ReplayServer([tables.make_transition_table(environment_spec=SPEC)],
                               port=port):
    print('ready', flush=True)
    sys.stdin.read()


if __name__ == '__main__':
  _serve(int(sys.argv[1]))
