"""Vectorized collection: seed 003's DQN recipe on 32 CartPoles vs one CartPole.

Seed 003 (a PyTorch blog post) trains DQN on CartPole-v0 with 32 copies
stepped together: 20,000 vector steps, one update of batch 32 per vector step,
target sync every 100 steps, epsilon 1 -> 0 over the first 10%, an MLP 24-24,
Adam 1e-3, gamma 0.95 (43 s wall time reported). Here the same agent runs on a
`BatchedEnvironment` of 32 copies and on a single environment for the same
number of environment steps. Both keep the recipe's "one update of batch 32 per
vector step": with one environment a vector step is one environment step, so
the single run makes one update per step (samples_per_insert 32), the
vectorized one per 32 steps (samples_per_insert 1).

Targets (issue 7): the vectorized run at >= 4x the single run's environment
steps per second, and a final greedy mean return >= 195 (100 episodes).

  python -m benchmarks.vectorized [--vector_steps 20000] [--num_envs 32]
      [--single_steps N] [--eval_episodes 100] [--seed 0] [--torch_threads 1]
"""

import time
from typing import Any, Dict, List, Optional, Tuple

from absl import flags

import numpy as np
import torch

from benchmarks import bench_flags
from rlkit import batched_environment_loop
from rlkit import environment_loop
from rlkit import evaluation
from rlkit.agents.dqn import builder as dqn_builder
from rlkit.agents.dqn import config as dqn_config
from rlkit.environments import batched
from rlkit.environments import factory
from rlkit.utils import loggers

ENV = 'gym:CartPole-v0'


def seed_003_config(num_envs: int) -> dqn_config.DQNConfig:
  return dqn_config.DQNConfig(
      hidden_sizes=(24, 24), learning_rate=1e-3, discount=0.95, batch_size=32,
      loss='mse', target_update_period=100, min_replay_size=32,
      max_replay_size=100_000, samples_per_insert=32.0 / num_envs,
      epsilon_init=1.0, epsilon_final=0.0, epsilon_decay_fraction=0.1)


def make_env(seed: int):
  return factory.make_environment(ENV, seed=seed)


def train(num_envs: int, env_steps: int, seed: int,
          eval_episodes: int = 100) -> Tuple[float, int, Dict[str, Any]]:
  """Returns (wall seconds, env steps taken, greedy evaluation)."""
  builder = dqn_builder.DQNBuilder(seed_003_config(num_envs))
  if num_envs > 1:
    env = batched.BatchedEnvironment.from_factory(make_env, num_envs, seed=seed)
    spec = env.single_environment_spec()
  else:
    env = make_env(seed)
    spec = None
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  spec = spec or specs.make_environment_spec(env)
  from rlkit.experiments import local_layout  # pylint: disable=g-import-not-at-top
  agent = local_layout.make_local_agent(builder, spec, seed=seed, horizon=env_steps,
                                        num_envs=num_envs if num_envs > 1 else None)
  try:
    logger = loggers.make_default_logger(f'{num_envs}_envs', time_delta=5.0)
    if num_envs > 1:
      loop = batched_environment_loop.BatchedEnvironmentLoop(env, agent, logger=logger)
    else:
      loop = environment_loop.EnvironmentLoop(env, agent, logger=logger)
    start = time.perf_counter()
    taken = loop.run(num_steps=env_steps)
    elapsed = time.perf_counter() - start
    eval_actor = builder.make_actor(
        seed, builder.make_policy(agent.networks, spec, evaluation=True), spec)
    result = evaluation.evaluate(make_env(seed + 1000), eval_actor, eval_episodes)
  finally:
    agent.close()
  return elapsed, taken, result


FLAGS = flags.FlagValues()
flags.DEFINE_integer('vector_steps', 20_000, 'Vector steps of the vectorized run.',
                     flag_values=FLAGS)
flags.DEFINE_integer('num_envs', 32, 'Environment copies of the vectorized run.',
                     flag_values=FLAGS)
flags.DEFINE_integer('single_steps', None, 'Environment steps of the single run (default: '
                     'the same as the vectorized run, vector_steps * num_envs).',
                     flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Seed of both runs.', flag_values=FLAGS)
flags.DEFINE_integer('torch_threads', 1, 'torch.set_num_threads.', flag_values=FLAGS)
flags.DEFINE_integer('eval_episodes', 100, 'Greedy episodes of the final evaluation of each '
                     'run.', flag_values=FLAGS)


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.vectorized')
  for name in ('vector_steps', 'torch_threads', 'eval_episodes'):
    if getattr(args, name) < 1:
      bench_flags.fail(f'--{name} must be >= 1, got {getattr(args, name)}.')
  if args.num_envs < 2:
    bench_flags.fail(f'--num_envs must be >= 2, got {args.num_envs}.')
  if args.single_steps is not None and args.single_steps < 1:
    bench_flags.fail(f'--single_steps must be >= 1, got {args.single_steps}.')
  if args.seed < 0:
    bench_flags.fail(f'--seed must be >= 0, got {args.seed}.')
  torch.set_num_threads(args.torch_threads)
  env_steps = args.vector_steps * args.num_envs
  single_steps = args.single_steps or env_steps

  rows = []
  for num_envs, steps in ((args.num_envs, env_steps), (1, single_steps)):
    elapsed, taken, result = train(num_envs, steps, args.seed, args.eval_episodes)
    rows.append((num_envs, taken, elapsed, taken / elapsed, result))
    print(f'{num_envs} envs: {taken} steps in {elapsed:.1f} s, greedy mean '
          f'{result["return_mean"]:.1f}', flush=True)

  print(f'\n{"envs":>5} {"env steps":>10} {"wall s":>8} {"steps/s":>9} '
        f'{f"greedy mean ({args.eval_episodes} ep)":>21}')
  for num_envs, taken, elapsed, rate, result in rows:
    print(f'{num_envs:>5} {taken:>10} {elapsed:>8.1f} {rate:>9.0f} '
          f'{result["return_mean"]:>21.1f}')
  ratio = rows[0][3] / rows[1][3]
  print(f'\nsteps/s ratio vectorized / single: {ratio:.2f} (target >= 4); '
        f'vectorized greedy mean {rows[0][4]["return_mean"]:.1f} (target >= 195)')


if __name__ == '__main__':
  main()
