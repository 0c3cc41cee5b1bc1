"""Wall time for REINFORCE and A2C to solve CartPole, over several seeds.

"Solved" means a greedy (mode) evaluation over 100 episodes with mean return
>= 195 on CartPole-v0 or >= 475 on CartPole-v1. Every seed is reported,
failures included. The peer is not run here: the times are compared against
issue 5's targets, median <= 9.0 s (REINFORCE) and <= 15.3 s (A2C) on
CartPole-v0 (Tianshou's published times, which dropped failed seeds), and
CartPole-v1 solved in at least 4 of 5 seeds by both.

Timing: the clock starts before the agent (Reverb server, networks) is built
and stops when an evaluation passes; all evaluation time is included. Process
start-up and imports are not (an untimed warm-up run builds one agent first).

Evaluation: every `--eval_every` training episodes the greedy policy plays
100 episodes on its own environments, `--eval_envs` at a time with one
batched forward pass per step. It stops early once the threshold has become
unreachable: each return is at most the time limit (200 or 500), so when the
summed shortfall of finished episodes exceeds 100 * (limit - threshold) the
mean cannot reach the threshold. That decides pass/fail exactly as a full
evaluation would, and makes failing evaluations cheap.

  python -m benchmarks.pg_cartpole [--agents reinforce,actor_critic]
      [--envs CartPole-v0,CartPole-v1] [--seeds 5] [--budget_s 120]
      [--eval_every 10] [--eval_envs 10] [--max_episodes 20000] [--threshold R]
"""

import ast
import statistics
import time
from typing import Any, Dict, List, Optional, Sequence

from absl import flags

import numpy as np
import torch

from benchmarks import bench_flags
from rlkit import specs
from rlkit.agents.actor_critic import builder as ac_builder
from rlkit.agents.actor_critic import config as ac_config
from rlkit.agents.reinforce import builder as reinforce_builder
from rlkit.agents.reinforce import config as reinforce_config
from rlkit.environments import factory
from rlkit.experiments import local_layout

THRESHOLDS = {'CartPole-v0': 195.0, 'CartPole-v1': 475.0}
TIME_LIMITS = {'CartPole-v0': 200, 'CartPole-v1': 500}
TARGET_MEDIAN_S = {('reinforce', 'CartPole-v0'): 9.0, ('actor_critic', 'CartPole-v0'): 15.3}


def parse_overrides(text: str) -> Dict[str, Any]:
  """'a=1;b=(64, 64)' -> {'a': 1, 'b': (64, 64)} (values are Python literals)."""
  overrides = {}
  for item in filter(None, (part.strip() for part in text.split(';'))):
    key, separator, value = item.partition('=')
    if not separator:
      raise ValueError(f'Override {item!r} is not key=value.')
    try:
      overrides[key.strip()] = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
      overrides[key.strip()] = value.strip()
  return overrides


def make_builder(agent: str, overrides: Optional[Dict[str, Any]] = None):
  """The builder with the agent's default (tuned) config, plus `overrides`."""
  overrides = overrides or {}
  if agent == 'reinforce':
    return reinforce_builder.REINFORCEBuilder(reinforce_config.REINFORCEConfig(**overrides))
  if agent == 'actor_critic':
    return ac_builder.ActorCriticBuilder(ac_config.ActorCriticConfig(**overrides))
  raise ValueError(f"agent must be 'reinforce' or 'actor_critic', got {agent!r}.")


def greedy_evaluation(policy: torch.nn.Module, environments: Sequence[Any],
                      num_episodes: int, threshold: Optional[float] = None,
                      max_return: Optional[float] = None) -> Dict[str, Any]:
  """Plays `num_episodes` greedy episodes, len(environments) at a time.

  Args:
    policy: observations [B, ...] -> logits [B, A], in eval mode.
    environments: dm_env environments, one per parallel slot.
    num_episodes: episodes to play.
    threshold, max_return: when both are given, stop as soon as the mean
      return can no longer reach `threshold` (see the module docstring).

  Returns:
    dict with `passed` (mean >= threshold, or None without one), `episodes`
    played, `return_mean` of those episodes and `steps`.
  """
  slots = list(environments)[:num_episodes]
  timesteps = [env.reset() for env in slots]
  returns = [0.0] * len(slots)
  active = list(range(len(slots)))
  started, finished = len(slots), []
  budget = None
  if threshold is not None and max_return is not None:
    budget = num_episodes * (max_return - threshold)
  shortfall, steps = 0.0, 0
  while active:
    observations = torch.as_tensor(np.stack([timesteps[i].observation for i in active]))
    with torch.inference_mode():
      actions = policy(observations).argmax(-1).numpy()
    still_active = []
    for i, action in zip(active, actions):
      timestep = slots[i].step(action)
      timesteps[i] = timestep
      returns[i] += float(timestep.reward)
      steps += 1
      if not timestep.last():
        still_active.append(i)
        continue
      finished.append(returns[i])
      if max_return is not None:
        shortfall += max_return - returns[i]
      if started < num_episodes:
        started += 1
        timesteps[i] = slots[i].reset()
        returns[i] = 0.0
        still_active.append(i)
    active = still_active
    if budget is not None and shortfall > budget:
      return {'passed': False, 'episodes': len(finished),
              'return_mean': float(np.mean(finished)), 'steps': steps}
  mean = float(np.mean(finished))
  return {'passed': None if threshold is None else mean >= threshold,
          'episodes': len(finished), 'return_mean': mean, 'steps': steps}


def run_seed(agent: str, env_name: str, seed: int, budget_s: float,
             eval_every: int, eval_envs: int, max_episodes: int,
             overrides: Optional[Dict[str, Any]] = None,
             threshold: Optional[float] = None) -> Dict[str, Any]:
  """Trains one agent until a greedy evaluation passes or the budget runs out.

  `threshold` defaults to the environment's (THRESHOLDS).
  """
  time_limit = TIME_LIMITS[env_name]
  if threshold is None:
    threshold = THRESHOLDS[env_name]
  torch.manual_seed(seed)
  start = time.perf_counter()
  environment = factory.make_environment(f'gym:{env_name}', seed=seed)
  spec = specs.make_environment_spec(environment)
  builder = make_builder(agent, overrides)
  agent_ = local_layout.make_local_agent(builder, spec, seed=seed)
  # The evaluator's actor: its own eval-mode networks, pulled from the agent.
  eval_policy = builder.make_policy(builder.make_networks(spec, seed), spec, evaluation=True)
  eval_actor = builder.make_actor(seed, eval_policy, spec, variable_source=agent_)
  eval_envs_ = [factory.make_environment(f'gym:{env_name}', seed=10_000 + 100 * seed + i)
                for i in range(eval_envs)]
  episodes, steps, evaluations, eval_seconds = 0, 0, 0, 0.0
  solved_s, last_eval = None, None
  try:
    while time.perf_counter() - start < budget_s and episodes < max_episodes:
      timestep = environment.reset()
      agent_.observe_first(timestep)
      while not timestep.last():
        action = agent_.select_action(timestep.observation)
        timestep = environment.step(action)
        agent_.observe(action, timestep)
        agent_.update()
        steps += 1
      episodes += 1
      if episodes % eval_every:
        continue
      eval_start = time.perf_counter()
      eval_actor.update(wait=True)
      last_eval = greedy_evaluation(eval_actor.network, eval_envs_, 100,
                                    threshold, time_limit)
      evaluations += 1
      eval_seconds += time.perf_counter() - eval_start
      if last_eval['passed']:
        solved_s = time.perf_counter() - start
        break
  finally:
    agent_.close()
  return {'agent': agent, 'env': env_name, 'seed': seed, 'solved': solved_s is not None,
          'seconds': solved_s if solved_s is not None else time.perf_counter() - start,
          'episodes': episodes, 'steps': steps, 'evaluations': evaluations,
          'eval_seconds': eval_seconds,
          'eval_mean': last_eval['return_mean'] if last_eval else float('nan')}


FLAGS = flags.FlagValues()
flags.DEFINE_string('agents', 'reinforce,actor_critic', 'Comma-separated agents.',
                    flag_values=FLAGS)
flags.DEFINE_string('envs', 'CartPole-v0,CartPole-v1', 'Comma-separated Gymnasium ids.',
                    flag_values=FLAGS)
flags.DEFINE_integer('seeds', 5, 'Seeds per agent and env.', flag_values=FLAGS)
flags.DEFINE_integer('first_seed', 0, 'The first seed.', flag_values=FLAGS)
flags.DEFINE_float('budget_s', 120.0, 'Wall-time budget per seed; a seed that runs out '
                   'fails.', flag_values=FLAGS)
flags.DEFINE_integer('max_episodes', 20_000, 'Training episodes per seed at most.',
                     flag_values=FLAGS)
flags.DEFINE_integer('eval_every', 10, 'Training episodes between greedy evaluations.',
                     flag_values=FLAGS)
flags.DEFINE_integer('eval_envs', 10, 'Evaluation episodes played side by side.',
                     flag_values=FLAGS)
flags.DEFINE_string('overrides', '', "Config fields to change, e.g. "
                    "'learning_rate=0.005;dropout=0.6' (applied to every agent run).",
                    flag_values=FLAGS)
flags.DEFINE_float('threshold', None, 'Mean greedy return that counts as solved, for every '
                   'env (default: 195 on CartPole-v0, 475 on CartPole-v1; the targets assume '
                   'the defaults).', flag_values=FLAGS)


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.pg_cartpole')
  agents = [a for a in args.agents.split(',') if a]
  envs = [e for e in args.envs.split(',') if e]
  if not agents:
    bench_flags.fail(f'--agents: none given in {args.agents!r}.')
  if not envs:
    bench_flags.fail(f'--envs: none given in {args.envs!r}.')
  for env_name in envs:
    if env_name not in THRESHOLDS:
      bench_flags.fail(f'--envs: unknown {env_name!r}; expected some of {sorted(THRESHOLDS)}.')
  try:
    overrides = parse_overrides(args.overrides)
    for agent in agents:
      make_builder(agent, overrides)
  except (TypeError, ValueError) as e:
    bench_flags.fail(f'--agents={args.agents!r} --overrides={args.overrides!r}: {e}')
  for name in ('seeds', 'max_episodes', 'eval_every', 'eval_envs'):
    if getattr(args, name) < 1:
      bench_flags.fail(f'--{name} must be >= 1, got {getattr(args, name)}.')
  if args.first_seed < 0:
    bench_flags.fail(f'--first_seed must be >= 0, got {args.first_seed}.')
  if not 0 < args.budget_s < float('inf'):
    bench_flags.fail(f'--budget_s must be a positive number, got {args.budget_s}.')
  if args.threshold is not None:
    limit = min(TIME_LIMITS[e] for e in envs)
    if not 0 < args.threshold <= limit:
      bench_flags.fail(f'--threshold must be in (0, {limit}] (the time limit), got '
                   f'{args.threshold}.')
  torch.set_num_threads(1)

  # Untimed warm-up: first-use costs (lazy imports in torch.optim, Reverb start-up).
  run_seed(agents[0], envs[0], 12345, budget_s=2.0, eval_every=1, eval_envs=2,
           max_episodes=2)

  if overrides:
    print(f'Config overrides: {overrides}')
  if args.threshold is not None:
    print(f'Threshold: {args.threshold:g} on every env (not the defaults the targets '
          f'assume).')
  print(f'Clock: agent construction to the first passing greedy evaluation '
        f'(evaluation time included); every {args.eval_every} training episodes, '
        f'100 episodes, {args.eval_envs} side by side.\n')
  header = (f'{"agent":<13} {"env":<12} {"seed":>4} {"solved":>6} {"seconds":>8} '
            f'{"episodes":>8} {"env steps":>9} {"evals":>5} {"eval s":>7} {"eval mean":>9}')
  summary = []
  for env_name in envs:
    for agent in agents:
      print(header)
      results = []
      for seed in range(args.first_seed, args.first_seed + args.seeds):
        r = run_seed(agent, env_name, seed, args.budget_s, args.eval_every,
                     args.eval_envs, args.max_episodes, overrides, args.threshold)
        results.append(r)
        print(f'{agent:<13} {env_name:<12} {seed:>4} {str(r["solved"]):>6} '
              f'{r["seconds"]:>8.2f} {r["episodes"]:>8} {r["steps"]:>9} '
              f'{r["evaluations"]:>5} {r["eval_seconds"]:>7.2f} {r["eval_mean"]:>9.1f}',
              flush=True)
      times = [r['seconds'] if r['solved'] else float('inf') for r in results]
      median = statistics.median(times)
      solved = sum(r['solved'] for r in results)
      target = TARGET_MEDIAN_S.get((agent, env_name))
      verdict = ''
      if target is not None:
        verdict = f'target median <= {target} s: {"OK" if median <= target else "MISSED"}'
      elif env_name == 'CartPole-v1':
        verdict = f'target >= 4 of {len(results)} solved: {"OK" if solved >= 4 else "MISSED"}'
      print(f'  median {median:.2f} s, solved {solved}/{len(results)}  {verdict}\n')
      summary.append((agent, env_name, median, solved, len(results), verdict))
  print('Summary')
  for agent, env_name, median, solved, n, verdict in summary:
    print(f'  {agent:<13} {env_name:<12} median {median:7.2f} s  solved {solved}/{n}  {verdict}')


if __name__ == '__main__':
  main()
