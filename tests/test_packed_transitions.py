"""The packed transition layout against the columns layout, through real Reverb servers."""

import dm_env
import numpy as np
import pytest
import reverb
import tensorflow as tf
import torch
import tree

from rlkit import specs
from rlkit import types
from rlkit.adders import transition
from rlkit.environments import gridworld
from rlkit.replay import dataset
from rlkit.replay import packing
from rlkit.replay import server as server_lib
from rlkit.replay import signatures
from rlkit.replay import tables
from tests import test_acme_adder_cases as acme_cases

_REWARD = specs.Array((), np.float32, 'reward')
_DISCOUNT = specs.BoundedArray((), np.float32, 0.0, 1.0, 'discount')
BOX = specs.EnvironmentSpec(
    observations=specs.BoundedArray((4,), np.float32, -5.0, 5.0, 'observation'),
    actions=specs.DiscreteArray(3, dtype=np.int64, name='action'),
    rewards=_REWARD, discounts=_DISCOUNT)
NESTED = specs.EnvironmentSpec(
    observations={
        'position': specs.Array((2,), np.float32),
        'image': specs.Array((3, 2, 2), np.uint8),
        'cell': specs.BoundedArray((), np.int32, 0, 80),
        'flag': specs.Array((), np.bool_),
    },
    actions=specs.DiscreteArray(5, dtype=np.int32, name='action'),
    rewards=_REWARD, discounts=_DISCOUNT)
WIDE = specs.EnvironmentSpec(
    observations=specs.Array((3,), np.float64, 'observation'),
    actions=specs.DiscreteArray(4, dtype=np.int64, name='action'),
    rewards=specs.Array((), np.float64, 'reward'), discounts=_DISCOUNT)


def _random_leaf(spec, rng):
  dtype = np.dtype(spec.dtype)
  if dtype == np.bool_:
    return rng.random(spec.shape) < 0.5
  if dtype.kind in 'iu':
    low = int(getattr(spec, 'minimum', 0))
    high = int(getattr(spec, 'maximum', np.iinfo(dtype).max if dtype.itemsize == 1 else 100))
    return rng.integers(low, high + 1, size=spec.shape).astype(dtype)
  return rng.normal(size=spec.shape).astype(dtype)


def random_episodes(spec, seed, lengths=(1, 2, 5, 7)):
  """(timesteps, actions) of episodes; odd ones are truncated (LAST, discount 1)."""
  rng = np.random.default_rng(seed)
  observe = lambda: tree.map_structure(lambda s: _random_leaf(s, rng), spec.observations)
  reward_dtype = np.dtype(spec.rewards.dtype)
  for e, length in enumerate(lengths):
    steps = [dm_env.restart(observe())]
    actions = [_random_leaf(spec.actions, rng) for _ in range(length)]
    for t in range(length):
      last = t == length - 1
      discount = np.float32((e % 2) if last else rng.choice([1.0, 0.5]))
      steps.append(dm_env.TimeStep(
          dm_env.StepType.LAST if last else dm_env.StepType.MID,
          reward_dtype.type(rng.normal()), discount, observe()))
    yield steps, actions


def gridworld_episodes(environment, seed, num_steps=60):
  rng = np.random.default_rng(seed)
  steps, actions = [environment.reset()], []
  for _ in range(num_steps):
    actions.append(np.int32(rng.integers(4)))
    steps.append(environment.step(actions[-1]))
    if steps[-1].last():
      yield steps, actions
      steps, actions = [environment.reset()], []
  if len(steps) > 1:
    yield steps, actions


def write(adder, episodes):
  count = 0
  for steps, actions in episodes:
    adder.add_first(steps[0])
    for action, timestep in zip(actions, steps[1:]):
      adder.add(action, timestep)
      count += 1
    if not steps[-1].last():
      adder.reset()
  adder.close()


def sample_all(replay_server, table, spec):
  """Every item of a max_times_sampled=1 table, once each, as rows of numpy leaves."""
  size = replay_server.table_sizes()[table]
  with dataset.make_transition_iterator(replay_server.address, table, size,
                                        environment_spec=spec, timeout_s=20) as it:
    data = next(it).data
  assert isinstance(data, types.Transition)
  leaves = [leaf.numpy() for leaf in tree.flatten(data)]
  rows = [tuple(leaf[i] for leaf in leaves) for i in range(size)]
  rows.sort(key=lambda row: b''.join(np.ascontiguousarray(x).tobytes() for x in row))
  return data, rows


def round_trip(spec, make_episodes, n_step=3):
  layouts = ('columns', 'packed')
  replay_tables = [tables.make_transition_table(
      layout, spec, max_size=1000, max_times_sampled=1, layout=layout) for layout in layouts]
  with server_lib.ReplayServer(replay_tables) as replay_server:
    for layout in layouts:
      adder = transition.NStepTransitionAdder(
          replay_server.client(), n_step, 0.9, priority_fns={layout: None},
          environment_spec=spec, layout=layout)
      write(adder, make_episodes())
    return [sample_all(replay_server, layout, spec) for layout in layouts]


@pytest.mark.timeout(90)
@pytest.mark.parametrize('name', ['box', 'nested', 'float64', 'gridworld_onehot',
                                  'gridworld_index'])
def test_packed_round_trip_equals_columns(name):
  if name.startswith('gridworld'):
    observation_type = 'AGENT_ONEHOT' if name == 'gridworld_onehot' else 'STATE_INDEX'
    environment = gridworld.build_gridworld_task(
        'simple', observation_type=observation_type, max_episode_length=15)
    spec = specs.make_environment_spec(environment)
    make_episodes = lambda: gridworld_episodes(environment, seed=0)
  else:
    spec = {'box': BOX, 'nested': NESTED, 'float64': WIDE}[name]
    make_episodes = lambda: random_episodes(spec, seed=1)
  (columns, column_rows), (packed, packed_rows) = round_trip(spec, make_episodes)
  assert len(packed_rows) == len(column_rows) > 10
  for (path, c), p in zip(tree.flatten_with_path(columns), tree.flatten(packed)):
    assert (p.dtype, p.shape) == (c.dtype, c.shape), path
  for c_row, p_row in zip(column_rows, packed_rows):
    for c, p in zip(c_row, p_row):
      np.testing.assert_array_equal(p, c)


def test_packed_signature_is_one_vector_naming_its_layout():
  signature = signatures.transition_signature(NESTED, layout='packed')
  assert isinstance(signature, tf.TensorSpec)
  assert signature.dtype == tf.float32
  # position 2 + image 12 + cell 1 + flag 1, twice, with action, reward, discount.
  assert signature.shape.as_list() == [2 * 16 + 3]
  layout = packing.from_table_signature(signature)
  assert layout.signature == signatures.transition_signature(NESTED)
  assert signatures.transition_signature(WIDE, layout='packed').dtype == tf.float64
  assert packing.from_table_signature(signatures.transition_signature(BOX)) is None


@pytest.mark.parametrize('spec, leaf, reason', [
    (BOX._replace(observations=specs.Array((2,), np.int64)), 'observation', 'no bounds'),
    (BOX._replace(actions=specs.DiscreteArray(2**24 + 2, dtype=np.int64)), 'action',
     'beyond 2\\*\\*24'),
    (BOX._replace(observations={'name': specs.Array((), np.str_)}),
     'observation.name', 'not a number type'),
])
def test_unpackable_specs_are_refused_naming_the_leaf(spec, leaf, reason):
  with pytest.raises(ValueError, match=rf'leaf {leaf} .*{reason}.*columns'):
    tables.make_transition_table('t', spec, layout='packed')
  assert tables.make_transition_table('t', spec, layout='columns').name == 't'


def test_layout_arguments_are_checked():
  with pytest.raises(ValueError, match="layout must be one of .*'rows'"):
    tables.make_transition_table('t', BOX, layout='rows')
  with pytest.raises(ValueError, match='needs the environment_spec'):
    with server_lib.ReplayServer([tables.make_transition_table('t', BOX)]) as server:
      transition.NStepTransitionAdder(server.client(), 1, 0.9, priority_fns={'t': None},
                                      layout='packed')


@pytest.mark.timeout(60)
def test_priority_functions_see_the_transition_with_the_packed_layout():
  table = tables.make_transition_table('p', BOX, max_size=100, prioritized=True,
                                       priority_exponent=1.0, layout='packed')
  with server_lib.ReplayServer([table]) as replay_server:
    adder = transition.NStepTransitionAdder(
        replay_server.client(), 2, 0.9, environment_spec=BOX, layout='packed',
        priority_fns={'p': lambda t: abs(float(t.reward)) + float(t.action)})
    write(adder, random_episodes(BOX, seed=2))
    with dataset.make_transition_iterator(replay_server.address, 'p', 32) as it:
      sample = next(it)
  expected = sample.data.reward.abs().double() + sample.data.action.double()
  torch.testing.assert_close(sample.info.priority, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.timeout(60)
def test_packed_writes_copy_observations_the_environment_reuses():
  table = tables.make_transition_table('t', BOX, max_size=100, max_times_sampled=1,
                                       layout='packed')
  with server_lib.ReplayServer([table]) as replay_server:
    adder = transition.NStepTransitionAdder(
        replay_server.client(), 3, 1.0, priority_fns={'t': None}, environment_spec=BOX,
        layout='packed')
    buffer = np.zeros(4, np.float32)
    adder.add_first(dm_env.restart(buffer))
    for t in range(1, 5):
      buffer[:] = t
      step = (dm_env.termination if t == 4 else dm_env.transition)(np.float32(0), buffer)
      adder.add(np.int64(0), step)
    adder.close()
    _, rows = sample_all(replay_server, 't', BOX)
  firsts = sorted(float(row[0][0]) for row in rows)
  nexts = sorted(float(row[4][0]) for row in rows)
  assert firsts == [0, 0, 0, 1, 2, 3] and nexts == [1, 2, 3, 4, 4, 4]


def _bounded_spec(value):
  """A spec of `value`; integers get bounds, which the packed layout needs."""
  array = np.asarray(value)
  if array.dtype.kind in 'iu':
    return specs.BoundedArray(array.shape, array.dtype, -100, 100)
  return specs.Array(array.shape, array.dtype)


@pytest.mark.timeout(60)
@pytest.mark.parametrize('name', sorted(acme_cases.TRANSITION_CASES))
def test_packed_layout_matches_acme_cases(name):
  n_step, discount, first_obs, steps, expected = acme_cases.TRANSITION_CASES[name]
  action, timestep = steps[0][:2]
  to_specs = lambda nest: tree.map_structure(_bounded_spec, nest)
  spec = specs.EnvironmentSpec(
      observations=to_specs(timestep.observation), actions=to_specs(action),
      rewards=to_specs(timestep.reward), discounts=to_specs(timestep.discount))
  extras_spec = to_specs(steps[0][2]) if len(steps[0]) == 3 else ()
  signature = transition.NStepTransitionAdder.signature(spec, extras_spec, 'packed')
  layout = packing.from_table_signature(signature)
  server = reverb.Server([reverb.Table.queue('queue', 100, signature=signature)])
  try:
    client = reverb.Client(f'localhost:{server.port}')
    adder = transition.NStepTransitionAdder(
        client, n_step, discount, priority_fns={'queue': None}, environment_spec=spec,
        layout='packed', extras_spec=extras_spec)
    acme_cases._run(adder, dm_env.restart(first_obs), steps)  # pylint: disable=protected-access
    samples = client.sample('queue', num_samples=len(expected), emit_timesteps=False)
    vectors = [np.asarray(sample.data[0]) for sample in samples]
  finally:
    server.stop()
  assert layout.dtype == np.float64 and len(vectors) == len(expected)
  for e, vector in zip(expected, vectors):
    observed = tree.map_structure(lambda x: x[0].numpy(),
                                  layout.unpack(torch.from_numpy(vector)[None]))
    acme_cases._check(e, observed, layout.signature)  # pylint: disable=protected-access


def test_auto_layout_packs_small_lossless_specs_only():
  resolve = signatures.resolve_transition_layout
  assert resolve('auto', BOX) == resolve('auto', NESTED) == 'packed'
  frames = BOX._replace(observations=specs.Array((84, 84, 4), np.uint8))
  unbounded = BOX._replace(observations=specs.Array((2,), np.int64))
  assert resolve('auto', frames) == resolve('auto', unbounded) == 'columns'
  assert resolve('packed', frames) == 'packed' and resolve('columns', BOX) == 'columns'
  with pytest.raises(ValueError, match='layout must be one of'):
    resolve('rows', BOX)


def test_value_based_builder_follows_replay_layout():
  from rlkit.agents import dqn  # pylint: disable=g-import-not-at-top
  unbounded = BOX._replace(observations=specs.Array((2,), np.int64))
  signature_of = lambda layout, spec: dqn.DQNBuilder(dqn.DQNConfig(
      replay_layout=layout)).make_replay_tables(spec)[0].info.signature
  assert isinstance(signature_of('auto', BOX), tf.TensorSpec)
  assert signature_of('columns', BOX) == signatures.transition_signature(BOX)
  assert signature_of('auto', unbounded) == signatures.transition_signature(unbounded)
  with pytest.raises(ValueError, match='leaf observation .*no bounds'):
    signature_of('packed', unbounded)
  with pytest.raises(ValueError, match="replay_layout='rows' is not allowed"):
    dqn.DQNConfig(replay_layout='rows')
