"""Reverb replay vs a numpy ring buffer, measured side by side in one run.

CartPole-sized transitions (float32[4] observations, int64 action, float32
reward and discount) throughout.

1. insert: transitions/s written through `NStepTransitionAdder` (n=1, n=3)
   vs a preallocated numpy ring buffer's `add` (target >= 20k/s).
2. sample: transitions/s delivered as torch tensors by the replay iterator at
   batch 64 and 256 vs the ring buffer (random indices + torch.from_numpy)
   (target >= 100k/s), with the CPU time spent per transition.
3. wait share: a DQN-sized learner (MLP 4-256-256-2, Adam) fed by the
   iterator at batch 64 and 256; the share of its step time spent blocked in
   next() (target < 10%).
4. layouts: insert and sample rates of the columns (Acme's `Transition`) and
   packed (one float32 vector per item) transition tables, side by side.
5. with --options: the data-path variants that were compared.

The machine is shared and noisy: the variants of each table are measured in
alternating rounds and the medians reported, with the load average.

  python -m benchmarks.replay [--items 20000] [--seconds 1.5] [--rounds 3]
      [--options] [--tf-threads N]
"""

import copy
import os
import resource
import statistics
import time
from typing import Callable, Dict, List, Optional

from absl import flags

import dm_env
import numpy as np
import reverb
import torch
import tree

from benchmarks import bench_flags
from rlkit import specs
from rlkit import types
from rlkit.adders import transition
from rlkit.replay import dataset
from rlkit.replay import server as server_lib
from rlkit.replay import tables

TABLE = 'replay'
EPISODE_LENGTH = 200
SPEC = specs.EnvironmentSpec(
    observations=specs.Array((4,), np.float32, 'observation'),
    actions=specs.DiscreteArray(2, dtype=np.int64, name='action'),
    rewards=specs.Array((), np.float32, 'reward'),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0, 'discount'))


class RingBuffer:
  """A minimal preallocated numpy replay buffer of CartPole transitions."""

  def __init__(self, capacity: int):
    self._capacity = capacity
    self._observation = np.zeros((capacity, 4), np.float32)
    self._action = np.zeros((capacity,), np.int64)
    self._reward = np.zeros((capacity,), np.float32)
    self._discount = np.zeros((capacity,), np.float32)
    self._next_observation = np.zeros((capacity, 4), np.float32)
    self._index = 0
    self._size = 0
    self._rng = np.random.default_rng(0)

  def add(self, observation, action, reward, discount, next_observation):
    i = self._index
    self._observation[i] = observation
    self._action[i] = action
    self._reward[i] = reward
    self._discount[i] = discount
    self._next_observation[i] = next_observation
    self._index = (i + 1) % self._capacity
    self._size = min(self._size + 1, self._capacity)

  def sample(self, batch_size: int) -> types.Transition:
    idx = self._rng.integers(0, self._size, size=batch_size)
    return types.Transition(
        observation=torch.from_numpy(self._observation[idx]),
        action=torch.from_numpy(self._action[idx]),
        reward=torch.from_numpy(self._reward[idx]),
        discount=torch.from_numpy(self._discount[idx]),
        next_observation=torch.from_numpy(self._next_observation[idx]))


class Steps:
  """Precomputed CartPole-like steps: episodes of EPISODE_LENGTH steps."""

  def __init__(self, num_steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    self.observations = rng.normal(size=(num_steps + 1, 4)).astype(np.float32)
    self.actions = rng.integers(0, 2, size=num_steps).astype(np.int64)
    self.num_steps = num_steps

  def timestep(self, t: int) -> dm_env.TimeStep:
    """The timestep after action t."""
    if t % EPISODE_LENGTH == EPISODE_LENGTH - 1:
      return dm_env.termination(np.float32(1.0), self.observations[t + 1])
    return dm_env.transition(np.float32(1.0), self.observations[t + 1],
                             np.float32(1.0))


def cpu_seconds() -> float:
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def write(adder, steps: Steps) -> None:
  for t in range(steps.num_steps):
    if t % EPISODE_LENGTH == 0:
      adder.add_first(dm_env.restart(steps.observations[t]))
    adder.add(steps.actions[t], steps.timestep(t))
  adder.flush()


def make_server(max_size: int, layout: str = 'columns') -> server_lib.ReplayServer:
  return server_lib.ReplayServer(
      [tables.make_transition_table(TABLE, SPEC, max_size=max_size, layout=layout)])


def insert_adder(steps: Steps, n_step: int, layout: str = 'columns') -> float:
  """Items/s written through the n-step adder (fresh table, with flush)."""
  with make_server(max_size=2 * steps.num_steps, layout=layout) as srv:
    adder = transition.NStepTransitionAdder(
        srv.client(), n_step=n_step, discount=0.99,
        priority_fns={TABLE: None}, environment_spec=SPEC, layout=layout)
    start = time.perf_counter()
    write(adder, steps)
    elapsed = time.perf_counter() - start
    adder.close()
    return srv.table_sizes()[TABLE] / elapsed


def insert_ring(steps: Steps) -> float:
  buffer = RingBuffer(steps.num_steps)
  obs = steps.observations
  start = time.perf_counter()
  for t in range(steps.num_steps):
    timestep = steps.timestep(t)
    buffer.add(obs[t], steps.actions[t], timestep.reward, timestep.discount,
               timestep.observation)
  return steps.num_steps / (time.perf_counter() - start)


def throughput(next_batch: Callable[[], object], batch_size: int,
               seconds: float, warmup: int = 10) -> Dict[str, float]:
  for _ in range(warmup):
    next_batch()
  count = 0
  cpu_start = cpu_seconds()
  start = time.perf_counter()
  while count == 0 or time.perf_counter() - start < seconds:
    next_batch()
    count += 1
  elapsed = time.perf_counter() - start
  items = count * batch_size
  return {'rate': items / elapsed,
          'cpu_us': 1e6 * (cpu_seconds() - cpu_start) / items}


def sample_iterator(address: str, batch_size: int, seconds: float,
                    **kwargs) -> Dict[str, float]:
  with dataset.make_transition_iterator(address, TABLE, batch_size,
                                        **kwargs) as iterator:
    return throughput(lambda: next(iterator), batch_size, seconds)


def sample_tf_default(address: str, batch_size: int,
                      seconds: float) -> Dict[str, float]:
  """reverb.TrajectoryDataset defaults + .batch, iterated and copied to torch."""
  ds = reverb.TrajectoryDataset.from_table_signature(
      address, TABLE, max_in_flight_samples_per_worker=2 * batch_size)
  iterator = iter(ds.batch(batch_size, drop_remainder=True).prefetch(2))
  to_torch = lambda s: tree.map_structure(
      lambda t: torch.from_numpy(t.numpy()), s)
  return throughput(lambda: to_torch(next(iterator)), batch_size, seconds)


def sample_python_client(client: reverb.Client, batch_size: int,
                         seconds: float) -> Dict[str, float]:
  """client.sample(table, batch_size) in Python, stacked into torch."""

  def next_batch():
    samples = list(client.sample(TABLE, num_samples=batch_size,
                                 emit_timesteps=False))
    columns = zip(*[s.data for s in samples])
    return [torch.from_numpy(np.stack(c)) for c in columns]

  return throughput(next_batch, batch_size, seconds, warmup=2)


def sample_ring(buffer: RingBuffer, batch_size: int,
                seconds: float) -> Dict[str, float]:
  return throughput(lambda: buffer.sample(batch_size), batch_size, seconds)


class DqnLearner:
  """The update of a DQN on CartPole: MLP 4-256-256-2, Adam, Huber loss."""

  def __init__(self, seed: int = 0):
    torch.manual_seed(seed)
    self._net = torch.nn.Sequential(
        torch.nn.Linear(4, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
        torch.nn.ReLU(), torch.nn.Linear(256, 2))
    self._target = copy.deepcopy(self._net)
    self._optimizer = torch.optim.Adam(self._net.parameters(), lr=1e-3)

  def step(self, data: types.Transition) -> None:
    q = self._net(data.observation).gather(1, data.action[:, None])[:, 0]
    with torch.no_grad():
      next_q = self._target(data.next_observation).max(dim=1).values
      target = data.reward + 0.99 * data.discount * next_q
    loss = torch.nn.functional.smooth_l1_loss(q, target)
    self._optimizer.zero_grad()
    loss.backward()
    self._optimizer.step()


def wait_share(next_data: Callable[[], types.Transition],
               seconds: float) -> Dict[str, float]:
  learner = DqnLearner()
  for _ in range(20):
    learner.step(next_data())
  waited = 0.0
  steps = 0
  start = time.perf_counter()
  while steps == 0 or time.perf_counter() - start < seconds:
    before = time.perf_counter()
    data = next_data()
    waited += time.perf_counter() - before
    learner.step(data)
    steps += 1
  total = time.perf_counter() - start
  return {'share': waited / total, 'step_ms': 1e3 * total / steps,
          'wait_ms': 1e3 * waited / steps}


def interleaved(variants: Dict[str, Callable[[], Dict[str, float]]],
                rounds: int) -> Dict[str, Dict[str, float]]:
  """Runs each variant once per round, in turn; returns per-variant medians.

  Alternating the variants within each round spreads the load of other
  processes over all of them.
  """
  runs = {name: [] for name in variants}
  for _ in range(rounds):
    for name, fn in variants.items():
      runs[name].append(fn())
  return {
      name: {k: statistics.median(r[k] for r in results) for k in results[0]}
      for name, results in runs.items()
  }


def fmt_rate(x: float) -> str:
  return f'{x / 1000:8.1f}k'


def print_table(title: str, header: List[str], rows: List[List[str]]) -> None:
  widths = [max(len(str(r[i])) for r in [header] + rows)
            for i in range(len(header))]
  print(f'\n{title}')
  print('  '.join(str(h).ljust(w) for h, w in zip(header, widths)))
  print('  '.join('-' * w for w in widths))
  for row in rows:
    print('  '.join(str(c).ljust(w) for c, w in zip(row, widths)))


def fill_ring(steps: Steps) -> RingBuffer:
  ring = RingBuffer(steps.num_steps)
  for t in range(steps.num_steps):
    timestep = steps.timestep(t)
    ring.add(steps.observations[t], steps.actions[t], timestep.reward,
             timestep.discount, timestep.observation)
  return ring


def run_insert(steps: Steps, rounds: int) -> None:
  results = interleaved({
      'ring': lambda: {'rate': insert_ring(steps)},
      'n=1': lambda: {'rate': insert_adder(steps, 1)},
      'n=3': lambda: {'rate': insert_adder(steps, 3)},
  }, rounds)
  ring = results['ring']['rate']
  rows = []
  for n_step in (1, 3):
    rate = results[f'n={n_step}']['rate']
    rows.append([f'NStepTransitionAdder n={n_step}', fmt_rate(rate),
                 fmt_rate(ring), f'{rate / ring:.3f}',
                 'yes' if rate >= 20_000 else 'NO'])
  print_table('insert (transitions/s, one step at a time)',
              ['path', 'reverb', 'ring buffer', 'ratio', '>=20k'], rows)


def run_sample(address: str, ring: RingBuffer, seconds: float,
               rounds: int) -> None:
  variants = {}
  for batch_size in (64, 256):
    variants[f'ours{batch_size}'] = (
        lambda b=batch_size: sample_iterator(address, b, seconds))
    variants[f'ring{batch_size}'] = (
        lambda b=batch_size: sample_ring(ring, b, seconds))
  results = interleaved(variants, rounds)
  rows = []
  for batch_size in (64, 256):
    ours = results[f'ours{batch_size}']
    base = results[f'ring{batch_size}']
    rows.append([
        str(batch_size), fmt_rate(ours['rate']), f'{ours["cpu_us"]:.1f}',
        fmt_rate(base['rate']), f'{ours["rate"] / base["rate"]:.3f}',
        'yes' if ours['rate'] >= 100_000 else 'NO'])
  print_table(
      'sample as torch tensors (transitions/s; CPU us per transition, all '
      'threads)',
      ['batch', 'iterator', 'cpu us', 'ring buffer', 'ratio', '>=100k'], rows)


def run_layouts(steps: Steps, seconds: float, rounds: int) -> None:
  layouts = ('columns', 'packed')
  servers = {layout: make_server(steps.num_steps, layout) for layout in layouts}
  try:
    variants = {}
    for layout, srv in servers.items():
      adder = transition.NStepTransitionAdder(
          srv.client(), n_step=1, discount=0.99, priority_fns={TABLE: None},
          environment_spec=SPEC, layout=layout)
      write(adder, steps)
      adder.close()
      variants[f'{layout} insert'] = lambda l=layout: {'rate': insert_adder(steps, 3, l)}
      for batch_size in (64, 256):
        variants[f'{layout} {batch_size}'] = (
            lambda a=srv.address, b=batch_size: sample_iterator(a, b, seconds))
    results = interleaved(variants, rounds)
  finally:
    for srv in servers.values():
      srv.stop()
  rows = []
  for layout in layouts:
    row = [layout, fmt_rate(results[f'{layout} insert']['rate'])]
    for batch_size in (64, 256):
      result = results[f'{layout} {batch_size}']
      row += [fmt_rate(result['rate']), f'{result["cpu_us"]:.1f}']
    rows.append(row)
  print_table('transition layouts (transitions/s; CPU us per sampled transition, all threads)',
              ['layout', 'insert n=3', 'b=64', 'cpu us 64', 'b=256', 'cpu us 256'], rows)


def run_wait_share(address: str, ring: RingBuffer, seconds: float,
                   rounds: int) -> None:

  def with_iterator(batch_size):
    with dataset.make_transition_iterator(address, TABLE,
                                          batch_size) as iterator:
      return wait_share(lambda: next(iterator).data, seconds)

  variants = {}
  for batch_size in (64, 256):
    variants[('ours', batch_size)] = lambda b=batch_size: with_iterator(b)
    variants[('ring', batch_size)] = (
        lambda b=batch_size: wait_share(lambda: ring.sample(b), seconds))
  results = interleaved(variants, rounds)
  rows = []
  for batch_size in (64, 256):
    for source, name in (('ours', 'replay iterator'), ('ring', 'ring buffer')):
      r = results[(source, batch_size)]
      verdict = ('yes' if r['share'] < 0.1 else 'NO') if source == 'ours' else ''
      rows.append([str(batch_size), name, f'{r["step_ms"]:.2f}',
                   f'{r["wait_ms"]:.2f}', f'{100 * r["share"]:.1f}%', verdict])
  print_table(
      'DQN learner step (MLP 4-256-256-2, Adam, 1 torch thread)',
      ['batch', 'data source', 'step ms', 'wait ms', 'wait share', '<10%'],
      rows)


def run_variants(srv: server_lib.ReplayServer, seconds: float,
                 rounds: int) -> None:
  address = srv.address
  client = srv.client()
  variants = {
      'TrajectoryDataset defaults, .numpy() copy':
          lambda b: sample_tf_default(address, b, seconds),
      'client.sample() in Python':
          lambda b: sample_python_client(client, b, seconds),
      'iterator, 1 worker, numpy copy':
          lambda b: sample_iterator(address, b, seconds,
                                    num_workers_per_iterator=1,
                                    conversion='numpy'),
      'iterator, 1 worker, dlpack':
          lambda b: sample_iterator(address, b, seconds,
                                    num_workers_per_iterator=1),
      'iterator, 2 workers, dlpack (default)':
          lambda b: sample_iterator(address, b, seconds),
      'iterator, 2 workers, in-flight 2x batch':
          lambda b: sample_iterator(address, b, seconds,
                                    max_in_flight_samples_per_worker=2 * b),
      'iterator, 2 workers, 4 batches per fetch':
          lambda b: sample_iterator(address, b, seconds, batches_per_fetch=4),
      'iterator, 3 workers':
          lambda b: sample_iterator(address, b, seconds,
                                    num_workers_per_iterator=3),
  }
  calls = {(name, b): (lambda fn=fn, b=b: fn(b))
           for name, fn in variants.items() for b in (64, 256)}
  results = interleaved(calls, rounds)
  rows = []
  for name in variants:
    row = [name]
    for batch_size in (64, 256):
      result = results[(name, batch_size)]
      row += [fmt_rate(result['rate']), f'{result["cpu_us"]:.1f}']
    rows.append(row)
  print_table('data-path variants (transitions/s; CPU us per transition)',
              ['variant', 'b=64', 'cpu us', 'b=256', 'cpu us'], rows)


def run_chunk_lengths(steps: Steps, seconds: float, rounds: int) -> None:
  """Insert and sample rates when the adder writes chunks of other lengths."""
  rows = []
  for chunk_length in (1, 4, 16):
    with make_server(max_size=2 * steps.num_steps) as srv:
      adder = transition.NStepTransitionAdder(
          srv.client(), n_step=1, discount=0.99, priority_fns={TABLE: None},
          environment_spec=SPEC, chunk_length=chunk_length)
      start = time.perf_counter()
      write(adder, steps)
      insert = srv.table_sizes()[TABLE] / (time.perf_counter() - start)
      adder.close()
      results = interleaved({
          b: (lambda b=b: sample_iterator(srv.address, b, seconds))
          for b in (64, 256)}, rounds)
      row = [str(chunk_length), fmt_rate(insert)]
      for batch_size in (64, 256):
        row += [fmt_rate(results[batch_size]['rate']),
                f'{results[batch_size]["cpu_us"]:.1f}']
      rows.append(row)
  print_table('adder chunk_length (n=1): insert and sample rates',
              ['chunk', 'insert', 'b=64', 'cpu us', 'b=256', 'cpu us'], rows)


FLAGS = flags.FlagValues()
flags.DEFINE_integer('items', 20_000, 'Transitions written per insert run / in the table.',
                     flag_values=FLAGS)
flags.DEFINE_float('seconds', 1.5, 'Duration of each sampling measurement.',
                   flag_values=FLAGS)
flags.DEFINE_integer('rounds', 3, 'Alternating rounds; medians are reported.',
                     flag_values=FLAGS)
flags.DEFINE_bool('options', False, 'Also compare data-path variants and chunk lengths.',
                  flag_values=FLAGS)
flags.DEFINE_integer('tf-threads', 0, 'TF inter/intra-op threads (0: TF default).',
                     flag_values=FLAGS)


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.replay')
  if args.items < EPISODE_LENGTH:
    bench_flags.fail(f'--items must be >= {EPISODE_LENGTH} (one episode), got {args.items}.')
  if not 0 < args.seconds < float('inf'):
    bench_flags.fail(f'--seconds must be a positive number, got {args.seconds}.')
  if args.rounds < 1:
    bench_flags.fail(f'--rounds must be >= 1, got {args.rounds}.')
  if args.tf_threads < 0:
    bench_flags.fail(f'--tf-threads must be >= 0 (0: TF default), got {args.tf_threads}.')

  if args.tf_threads:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.config.threading.set_inter_op_parallelism_threads(args.tf_threads)
    tf.config.threading.set_intra_op_parallelism_threads(args.tf_threads)
  torch.set_num_threads(1)
  print(f'replay benchmark: {os.cpu_count()} cores, load average '
        f'{os.getloadavg()[0]:.1f} at start, medians of {args.rounds} '
        f'alternating rounds')

  steps = Steps(args.items)
  run_insert(steps, args.rounds)
  ring = fill_ring(steps)
  with make_server(max_size=args.items) as srv:
    adder = transition.NStepTransitionAdder(
        srv.client(), n_step=1, discount=0.99, priority_fns={TABLE: None},
        environment_spec=SPEC)
    write(adder, steps)
    adder.close()
    run_sample(srv.address, ring, args.seconds, args.rounds)
    run_wait_share(srv.address, ring, 2 * args.seconds, args.rounds)
    if args.options:
      run_variants(srv, args.seconds, args.rounds)
  run_layouts(steps, args.seconds, args.rounds)
  if args.options:
    run_chunk_lengths(steps, args.seconds, args.rounds)
  print(f'\nload average at end: {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
  main()
