"""Environment-layer overhead, measured side by side in one run.

1. Raw Gymnasium CartPole-v1 steps/s vs the same through rlkit's dm_env adapter.
2. Raw GridWorld steps/s vs the EnvironmentLoop running a RandomActor on it.

Targets (issue 2): adapter >= 0.7x raw Gymnasium; loop >= 0.75x raw GridWorld.
Each pair is measured in alternating rounds and the median ratio reported,
because these machines are noisy.

  python -m benchmarks.environments [--steps 50000] [--rounds 5]
"""

import statistics
import time
from typing import Callable, List, Optional

from absl import flags
import gymnasium
import numpy as np

from benchmarks import bench_flags
from rlkit import environment_loop
from rlkit.actors import RandomActor
from rlkit.environments import gridworld
from rlkit.environments import gym as gym_adapter
from rlkit.utils import loggers


def raw_gymnasium(steps: int, seed: int) -> float:
  env = gymnasium.make('CartPole-v1')
  actions = np.random.default_rng(seed).integers(0, 2, size=steps)
  env.reset(seed=seed)
  start = time.perf_counter()
  for action in actions:
    _, _, terminated, truncated, _ = env.step(int(action))
    if terminated or truncated:
      env.reset()
  return steps / (time.perf_counter() - start)


def adapted_gymnasium(steps: int, seed: int) -> float:
  env = gym_adapter.GymnasiumEnvironment(gymnasium.make('CartPole-v1'), seed=seed)
  actions = np.random.default_rng(seed).integers(0, 2, size=steps)
  env.reset()
  start = time.perf_counter()
  for action in actions:
    if env.step(int(action)).last():
      env.reset()
  return steps / (time.perf_counter() - start)


def raw_gridworld(steps: int, seed: int) -> float:
  env = gridworld.build_gridworld_task('simple')
  actions = np.random.default_rng(seed).integers(0, 4, size=steps)
  env.reset()
  start = time.perf_counter()
  for action in actions:
    if env.step(action).last():
      env.reset()
  return steps / (time.perf_counter() - start)


def loop_gridworld(steps: int, seed: int) -> float:
  env = gridworld.build_gridworld_task('simple')
  actor = RandomActor(env.action_spec(), seed=seed)
  loop = environment_loop.EnvironmentLoop(env, actor, logger=loggers.NoOpLogger())
  start = time.perf_counter()
  taken = loop.run(num_steps=steps)
  return taken / (time.perf_counter() - start)


def compare(name: str, peer_name: str, peer: Callable[[int, int], float],
            ours: Callable[[int, int], float], steps: int, rounds: int,
            target: float) -> float:
  """Prints both median rates and the median per-round ratio ours / peer."""
  peer_rates, our_rates, ratios = [], [], []
  for r in range(rounds):
    p = peer(steps, r)
    o = ours(steps, r)
    peer_rates.append(p)
    our_rates.append(o)
    ratios.append(o / p)
  ratio = statistics.median(ratios)
  print(f'{peer_name:<28} {statistics.median(peer_rates):>12,.0f} steps/s')
  print(f'{name:<28} {statistics.median(our_rates):>12,.0f} steps/s')
  print(f'{"ratio (median of rounds)":<28} {ratio:>12.2f}   target >= {target}'
        f'   {"OK" if ratio >= target else "BELOW TARGET"}\n')
  return ratio


FLAGS = flags.FlagValues()
flags.DEFINE_integer('steps', 50_000, 'Environment steps per measurement.', flag_values=FLAGS)
flags.DEFINE_integer('rounds', 5, 'Alternating rounds; medians are reported.',
                     flag_values=FLAGS)


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.environments')
  if args.steps < 1:
    bench_flags.fail(f'--steps must be >= 1, got {args.steps}.')
  if args.rounds < 1:
    bench_flags.fail(f'--rounds must be >= 1, got {args.rounds}.')
  print(f'{args.steps} steps per measurement, {args.rounds} alternating rounds\n')
  compare('dm_env adapter', 'raw gymnasium CartPole-v1', raw_gymnasium,
          adapted_gymnasium, args.steps, args.rounds, 0.7)
  compare('EnvironmentLoop+RandomActor', 'raw GridWorld simple', raw_gridworld,
          loop_gridworld, args.steps, args.rounds, 0.75)


if __name__ == '__main__':
  main()
