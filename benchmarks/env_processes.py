"""Batched environments in worker processes vs in this process, and vs Gymnasium.

Steps N copies of CartPole-v1 with random actions (auto-reset) and prints the
environment steps per second of

  * rlkit `BatchedEnvironment` (in process) and `SubprocessBatchedEnvironment`
    (`--processes` workers), and beside them
  * the peers: Gymnasium's `SyncVectorEnv` and `AsyncVectorEnv` (one worker
    process per copy),

for a cheap step (plain CartPole, a few microseconds) and for a costly one
(CartPole plus `--work_us` microseconds of CPU work per step, standing in for
a physics simulator or an emulator). Worker processes pay off only for the
costly step, and at most by the number of free cores.

  python -m benchmarks.env_processes [--num_envs 8] [--processes 2]
      [--steps 2000] [--work_us 200] [--rounds 3]
"""

import functools
import os
import statistics
import time
from typing import Callable, Dict, List, Optional

from absl import flags
import gymnasium
import numpy as np

from benchmarks import bench_flags
from rlkit.environments import batched
from rlkit.environments import gym as gym_adapter
from rlkit.environments import subprocess_batched

ENV_ID = 'CartPole-v1'


class CostlyStep(gymnasium.Wrapper):
  """Spends `work_us` microseconds of CPU in every step."""

  def __init__(self, env: gymnasium.Env, work_us: float):
    super().__init__(env)
    self._work_s = work_us * 1e-6

  def step(self, action):
    deadline = time.perf_counter() + self._work_s
    while time.perf_counter() < deadline:
      pass
    return self.env.step(action)


def make_gym(work_us: float) -> gymnasium.Env:
  env = gymnasium.make(ENV_ID)
  return CostlyStep(env, work_us) if work_us else env


def make_rlkit(work_us: float, seed: Optional[int]):
  return gym_adapter.GymnasiumEnvironment(make_gym(work_us), seed=seed)


def rate_rlkit(env, steps: int) -> float:
  rng = np.random.default_rng(0)
  actions = rng.integers(0, 2, size=(steps, env.num_envs))
  env.reset()
  start = time.perf_counter()
  for action in actions:
    env.step(action)
  return steps * env.num_envs / (time.perf_counter() - start)


def rate_gymnasium(env: gymnasium.vector.VectorEnv, steps: int) -> float:
  rng = np.random.default_rng(0)
  actions = rng.integers(0, 2, size=(steps, env.num_envs))
  env.reset(seed=0)
  start = time.perf_counter()
  for action in actions:
    env.step(action)
  return steps * env.num_envs / (time.perf_counter() - start)


def variants(num_envs: int, processes: int, work_us: float,
             steps: int) -> Dict[str, Callable[[], float]]:
  """Name -> a function that builds the environment, measures it, closes it."""
  make = functools.partial(make_rlkit, work_us)
  gym_fns = [functools.partial(make_gym, work_us)] * num_envs

  def measure(build, rate):
    env = build()
    try:
      return rate(env, steps)
    finally:
      env.close()

  return {
      'rlkit BatchedEnvironment (in process)': lambda: measure(
          lambda: batched.BatchedEnvironment.from_factory(make, num_envs, seed=0),
          rate_rlkit),
      f'rlkit SubprocessBatchedEnvironment ({processes} processes)': lambda: measure(
          lambda: subprocess_batched.SubprocessBatchedEnvironment(
              make, num_envs, seed=0, num_processes=processes), rate_rlkit),
      'gymnasium SyncVectorEnv': lambda: measure(
          lambda: gymnasium.vector.SyncVectorEnv(gym_fns), rate_gymnasium),
      f'gymnasium AsyncVectorEnv ({num_envs} processes)': lambda: measure(
          lambda: gymnasium.vector.AsyncVectorEnv(gym_fns, context='spawn'),
          rate_gymnasium),
  }


FLAGS = flags.FlagValues()
flags.DEFINE_integer('num_envs', 8, 'Environment copies stepped together.', flag_values=FLAGS)
flags.DEFINE_integer('processes', 2, 'Worker processes of SubprocessBatchedEnvironment.',
                     flag_values=FLAGS)
flags.DEFINE_integer('steps', 2000, 'Vector steps per measurement.', flag_values=FLAGS)
flags.DEFINE_float('work_us', 200.0, 'CPU microseconds added to each step of the costly '
                   'variant.', flag_values=FLAGS)
flags.DEFINE_integer('rounds', 3, 'Alternating rounds; medians are reported.',
                     flag_values=FLAGS)


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.env_processes')
  if args.num_envs < 2:
    bench_flags.fail(f'--num_envs must be >= 2, got {args.num_envs}.')
  if not 1 <= args.processes <= args.num_envs:
    bench_flags.fail(f'--processes must be in [1, --num_envs={args.num_envs}], got '
                 f'{args.processes}.')
  if args.steps < 1 or args.rounds < 1:
    bench_flags.fail(f'--steps and --rounds must be >= 1, got {args.steps}, {args.rounds}.')
  if not 0 < args.work_us < 1e6:
    bench_flags.fail(f'--work_us must be in (0, 1e6), got {args.work_us}.')

  print(f'env_processes benchmark: {os.cpu_count()} cores, load average '
        f'{os.getloadavg()[0]:.1f}, {args.num_envs} copies of {ENV_ID}, '
        f'{args.steps} vector steps, medians of {args.rounds} rounds')
  for title, work_us in (('cheap step', 0.0), (f'costly step (+{args.work_us:g} us)',
                                                 args.work_us)):
    fns = variants(args.num_envs, args.processes, work_us, args.steps)
    runs = {name: [] for name in fns}
    for _ in range(args.rounds):
      for name, fn in fns.items():
        runs[name].append(fn())
    rates = {name: statistics.median(r) for name, r in runs.items()}
    in_process = next(iter(rates.values()))
    width = max(len(name) for name in rates)
    print(f'\n{title}: environment steps/s, and ratio to rlkit in process')
    for name, rate in rates.items():
      print(f'  {name.ljust(width)}  {rate:>10,.0f}  {rate / in_process:5.2f}x')


if __name__ == '__main__':
  main()
