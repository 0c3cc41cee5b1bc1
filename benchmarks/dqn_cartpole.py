"""DQN on CartPole-v1: rlkit against Stable-Baselines3, same machine, same script.

    python -m benchmarks.dqn_cartpole                 # 5 seeds each (~20 min)
    python -m benchmarks.dqn_cartpole --quick         # 2 seeds, short runs (~3 min)
    python -m benchmarks.dqn_cartpole --seeds=0,1 --frameworks=rlkit

SB3 runs its DQN with the rl-baselines3-zoo CartPole-v1 hyper-parameters
(lr 2.3e-3, batch 64, buffer 100k, learning_starts 1000, gamma 0.99,
target_update_interval 10, train_freq 256, gradient_steps 128,
exploration_fraction 0.16, exploration_final_eps 0.04, net_arch [256, 256],
50k steps). rlkit runs `DQNConfig()`'s defaults on the Reverb replay and the
EnvironmentLoop, exactly as `experiments.run_dqn` does.

Both are evaluated every `--eval_every` environment steps with
`--eval_episodes` greedy episodes on a separate environment instance.
Wall times exclude evaluation and construction for both: a clock runs during
training only (it is paused while evaluating), so "time to 475" is the
training time until the first evaluation whose mean return reaches the
threshold. Each (framework, seed) runs in its own subprocess, one at a time,
with `--torch_threads` torch threads.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time
import types
from typing import Any, Dict, List, Optional

from absl import flags

from benchmarks import bench_flags
from benchmarks import sb3_peer

ENV_ID = 'CartPole-v1'
EVAL_SEED_OFFSET = 10_000


class _Clock:
  """Training wall time: runs except while paused for evaluation."""

  def __init__(self):
    self._start = time.perf_counter()
    self._paused = 0.0

  def elapsed(self) -> float:
    return time.perf_counter() - self._start - self._paused

  def pause(self):
    return time.perf_counter()

  def resume(self, paused_at: float) -> None:
    self._paused += time.perf_counter() - paused_at


def _record(history: List[Dict[str, Any]], clock: _Clock, steps: int, returns: List[float]):
  history.append({'steps': int(steps), 'train_seconds': round(clock.elapsed(), 3),
                  'return_mean': float(sum(returns) / len(returns))})


def _run_rlkit(seed: int, num_steps: int, eval_every: int, eval_episodes: int,
               rlkit_config: Optional[str] = None) -> Dict[str, Any]:
  import torch  # pylint: disable=g-import-not-at-top
  from rlkit import environment_loop  # pylint: disable=g-import-not-at-top
  from rlkit import specs
  from rlkit.agents import dqn
  from rlkit.environments import factory
  from rlkit import evaluation
  from rlkit.utils import loggers
  from rlkit.utils import observers

  torch.manual_seed(seed)
  environment = factory.make_environment(f'gym:{ENV_ID}', seed=seed)
  eval_environment = factory.make_environment(f'gym:{ENV_ID}', seed=seed + EVAL_SEED_OFFSET)
  spec = specs.make_environment_spec(environment)
  overrides = json.loads(rlkit_config) if rlkit_config else {}
  config = dqn.DQNConfig(**overrides)
  builder = dqn.DQNBuilder(config)
  from rlkit.experiments import local_layout
  agent = local_layout.make_local_agent(builder, spec, seed=seed, horizon=num_steps)
  greedy = builder.make_actor(seed, builder.make_policy(agent.networks, spec, evaluation=True),
                              spec)
  history: List[Dict[str, Any]] = []
  clock = None

  def run_evaluation(steps: int) -> None:
    paused_at = clock.pause()
    returns = evaluation.evaluate(eval_environment, greedy, eval_episodes)['returns']
    _record(history, clock, steps, returns)
    clock.resume(paused_at)

  class EvalObserver(observers.EnvLoopObserver):
    """Evaluates every `eval_every` steps, mid-episode if need be."""

    def __init__(self):
      self.steps = 0

    def observe_first(self, env, timestep):
      pass

    def observe(self, env, timestep, action):
      self.steps += 1
      if self.steps % eval_every == 0 and self.steps <= num_steps:
        run_evaluation(self.steps)

    def get_metrics(self):
      return {}

  observer = EvalObserver()
  loop = environment_loop.EnvironmentLoop(
      environment, agent, logger=loggers.NoOpLogger(), observers=[observer])
  clock = _Clock()
  loop.run(num_steps=num_steps)
  if observer.steps % eval_every != 0 or observer.steps > num_steps:
    run_evaluation(observer.steps)
  total = clock.elapsed()
  agent.close()
  return {'history': history, 'train_seconds': total, 'steps': observer.steps,
          'learner_steps': agent.num_learner_steps, 'config': _asdict(config)}


def _asdict(config) -> Dict[str, Any]:
  import dataclasses  # pylint: disable=g-import-not-at-top
  return {k: (list(v) if isinstance(v, tuple) else v)
          for k, v in dataclasses.asdict(config).items()}


def _run_sb3(seed: int, num_steps: int, eval_every: int, eval_episodes: int) -> Dict[str, Any]:
  import gymnasium  # pylint: disable=g-import-not-at-top
  import numpy as np
  from stable_baselines3 import DQN
  from stable_baselines3.common.callbacks import BaseCallback

  environment = gymnasium.make(ENV_ID)
  eval_environment = gymnasium.make(ENV_ID)
  eval_state = {'first': True}
  model = DQN('MlpPolicy', environment, learning_rate=2.3e-3, batch_size=64,
              buffer_size=100_000, learning_starts=1000, gamma=0.99,
              target_update_interval=10, train_freq=256, gradient_steps=128,
              exploration_fraction=0.16, exploration_final_eps=0.04,
              policy_kwargs=dict(net_arch=[256, 256]), seed=seed, device='cpu', verbose=0)
  sb3_peer.without_log_folder(model)
  history: List[Dict[str, Any]] = []
  clock = None

  def evaluate() -> List[float]:
    returns = []
    for _ in range(eval_episodes):
      if eval_state['first']:
        obs, _ = eval_environment.reset(seed=seed + EVAL_SEED_OFFSET)
        eval_state['first'] = False
      else:
        obs, _ = eval_environment.reset()
      done, total = False, 0.0
      while not done:
        action, _ = model.predict(obs, deterministic=True)
        obs, reward, terminated, truncated, _ = eval_environment.step(int(action))
        total += float(reward)
        done = terminated or truncated
      returns.append(total)
    return returns

  class EvalCallback(BaseCallback):

    def _on_step(self) -> bool:
      if self.num_timesteps % eval_every == 0:
        paused_at = clock.pause()
        _record(history, clock, self.num_timesteps, evaluate())
        clock.resume(paused_at)
      return True

  callback = EvalCallback()
  clock = _Clock()
  model.learn(total_timesteps=num_steps, callback=callback)
  if num_steps % eval_every != 0:
    paused_at = clock.pause()
    _record(history, clock, num_steps, evaluate())
    clock.resume(paused_at)
  total = clock.elapsed()
  del np
  return {'history': history, 'train_seconds': total, 'steps': num_steps}


def _worker(args: types.SimpleNamespace) -> None:
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(args.torch_threads)
  if args.worker == 'rlkit':
    result = _run_rlkit(args.worker_seed, args.rlkit_steps, args.eval_every,
                        args.eval_episodes, args.rlkit_config)
  else:
    result = _run_sb3(args.worker_seed, args.sb3_steps, args.eval_every, args.eval_episodes)
  result.update(framework=args.worker, seed=args.worker_seed)
  print('RESULT ' + json.dumps(result), flush=True)


def _launch(framework: str, seed: int, steps: int, eval_every: int, eval_episodes: int,
            torch_threads: int, rlkit_config: Optional[str]) -> Dict[str, Any]:
  command = [sys.executable, '-m', 'benchmarks.dqn_cartpole', f'--worker={framework}',
             f'--worker_seed={seed}', f'--rlkit_steps={steps}', f'--sb3_steps={steps}',
             f'--eval_every={eval_every}', f'--eval_episodes={eval_episodes}',
             f'--torch_threads={torch_threads}']
  if rlkit_config:
    command.append(f'--rlkit_config={rlkit_config}')
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONUNBUFFERED='1')
  process = subprocess.run(command, capture_output=True, text=True, env=env,
                           cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  for line in process.stdout.splitlines():
    if line.startswith('RESULT '):
      return json.loads(line[len('RESULT '):])
  raise RuntimeError(f'{framework} seed {seed} failed (exit {process.returncode}):\n'
                     f'{process.stderr[-3000:]}')


def _summarize(result: Dict[str, Any], threshold: float) -> Dict[str, Any]:
  first = next((h for h in result['history'] if h['return_mean'] >= threshold), None)
  final = result['history'][-1]
  return {
      'time_to_threshold': first['train_seconds'] if first else None,
      'steps_to_threshold': first['steps'] if first else None,
      'final_return': final['return_mean'],
      'solved_at_end': final['return_mean'] >= threshold,
      'train_seconds': result['train_seconds'],
      'steps_per_second': result['steps'] / max(result['train_seconds'], 1e-9),
  }


def _median(values: List[Optional[float]]) -> Optional[float]:
  """Median where a run that never reached the threshold counts as infinitely slow."""
  if not values:
    return None
  ordered = sorted(float('inf') if v is None else v for v in values)
  median = statistics.median(ordered)
  return None if median == float('inf') else median


def _fmt(value: Optional[float], digits: int = 1) -> str:
  return '-' if value is None else f'{value:.{digits}f}'


FLAGS = flags.FlagValues()
flags.DEFINE_string('seeds', None, 'Comma-separated seeds to run (default: 0..4, or 0,1 '
                    'with --quick).', flag_values=FLAGS)
flags.DEFINE_bool('quick', False, 'Two seeds, 20k steps, evaluation every 2500 steps with 10 '
                  'episodes: a smoke run of a few minutes.', flag_values=FLAGS)
flags.DEFINE_string('frameworks', 'rlkit,sb3', 'Comma-separated: which of rlkit, sb3 to run.',
                    flag_values=FLAGS)
flags.DEFINE_integer('rlkit_steps', 30_000, 'rlkit training steps (its epsilon decays over '
                     'the first 10%).', flag_values=FLAGS)
flags.DEFINE_integer('sb3_steps', 50_000, 'SB3 training steps (rl-zoo: 50000).',
                     flag_values=FLAGS)
flags.DEFINE_integer('eval_every', 2500, 'Environment steps between evaluations.',
                     flag_values=FLAGS)
flags.DEFINE_integer('eval_episodes', 20, 'Greedy episodes per evaluation.', flag_values=FLAGS)
flags.DEFINE_float('threshold', 475.0, 'Mean evaluation return that counts as solved.',
                   flag_values=FLAGS)
flags.DEFINE_integer('torch_threads', 1, 'torch.set_num_threads for both.', flag_values=FLAGS)
flags.DEFINE_string('rlkit_config', None, 'JSON object of DQNConfig overrides for rlkit (for '
                    'experiments; the reported comparison uses the defaults).',
                    flag_values=FLAGS)
flags.DEFINE_string('output', None, 'Also write all results to this JSON file.',
                    flag_values=FLAGS)
flags.DEFINE_enum('worker', None, ['rlkit', 'sb3'], 'Internal: run one (framework) in this '
                  'process.', flag_values=FLAGS)
flags.DEFINE_integer('worker_seed', 0, "Internal: the worker's seed.", flag_values=FLAGS)


def _parse(argv: Optional[List[str]]) -> types.SimpleNamespace:
  """The flags, checked: a bad value fails here, naming it."""
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.dqn_cartpole')
  for name in ('rlkit_steps', 'sb3_steps', 'eval_every', 'eval_episodes', 'torch_threads'):
    if getattr(args, name) < 1:
      bench_flags.fail(f'--{name} must be >= 1, got {getattr(args, name)}.')
  if not math.isfinite(args.threshold):
    bench_flags.fail(f'--threshold must be a finite number, got {args.threshold}.')
  args.frameworks = [f for f in args.frameworks.split(',') if f]
  unknown = sorted(set(args.frameworks) - {'rlkit', 'sb3'})
  if unknown or not args.frameworks:
    bench_flags.fail(f'--frameworks: unknown {unknown or args.frameworks}; use rlkit and/or sb3.')
  if args.seeds is not None:
    try:
      args.seeds = [int(s) for s in args.seeds.split(',') if s]
    except ValueError:
      bench_flags.fail(f'--seeds must be comma-separated integers, got {args.seeds!r}.')
    if not args.seeds or min(args.seeds) < 0:
      bench_flags.fail(f'--seeds must name seeds >= 0, got {args.seeds}.')
  if args.rlkit_config:
    try:
      overrides = json.loads(args.rlkit_config)
    except ValueError as e:
      bench_flags.fail(f'--rlkit_config is not JSON ({e}): {args.rlkit_config!r}.')
    if not isinstance(overrides, dict):
      bench_flags.fail(f'--rlkit_config must be a JSON object, got {args.rlkit_config!r}.')
  return args


def main(argv: Optional[List[str]] = None) -> None:
  args = _parse(argv)
  if args.worker:
    _worker(args)
    return
  quick = args.quick
  seeds = args.seeds or ([0, 1] if quick else [0, 1, 2, 3, 4])
  eval_every = 2500 if quick else args.eval_every
  eval_episodes = 10 if quick else args.eval_episodes
  steps = {'rlkit': 20_000 if quick else args.rlkit_steps,
           'sb3': 20_000 if quick else args.sb3_steps}
  threshold = args.threshold
  print(f'DQN CartPole-v1: seeds {seeds}, evaluation every {eval_every} steps with '
        f'{eval_episodes} greedy episodes, threshold {threshold}; times exclude '
        f'evaluation and set-up.', flush=True)
  results: Dict[str, List[Dict[str, Any]]] = {}
  for framework in args.frameworks:
    for seed in seeds:
      result = _launch(framework, seed, steps[framework], eval_every, eval_episodes,
                       args.torch_threads, args.rlkit_config)
      summary = _summarize(result, threshold)
      result['summary'] = summary
      results.setdefault(framework, []).append(result)
      curve = ' '.join(f"{h['return_mean']:.0f}" for h in result['history'])
      print(f"{framework:5s} seed {seed}: {threshold:.0f} at "
            f"{_fmt(summary['time_to_threshold'])} s ({summary['steps_to_threshold']} steps), "
            f"final {summary['final_return']:.1f}, {summary['steps_per_second']:.0f} steps/s, "
            f"train {summary['train_seconds']:.1f} s | evals: {curve}", flush=True)

  print()
  header = (f"{'framework':10s} {'seed':>4s} {'t->' + str(int(threshold)) + ' (s)':>11s} "
            f"{'steps->' + str(int(threshold)):>11s} {'final':>7s} {'steps/s':>8s} {'train (s)':>9s}")
  print(header)
  print('-' * len(header))
  medians = {}
  for framework, runs in results.items():
    for run in runs:
      s = run['summary']
      print(f"{framework:10s} {run['seed']:4d} {_fmt(s['time_to_threshold']):>11s} "
            f"{str(s['steps_to_threshold'] or '-'):>11s} {s['final_return']:7.1f} "
            f"{s['steps_per_second']:8.0f} {s['train_seconds']:9.1f}")
    times = [r['summary']['time_to_threshold'] for r in runs]
    medians[framework] = _median(times)
    solved = sum(r['summary']['solved_at_end'] for r in runs)
    print(f"{framework:10s} {'med':>4s} {_fmt(medians[framework]):>11s} {'':11s} "
          f"{'':7s} {'':8s} {'':9s}  solved at end: {solved}/{len(runs)}")
  if medians.get('rlkit') is not None and medians.get('sb3') is not None:
    ratio = medians['rlkit'] / medians['sb3']
    print(f'\nMedian time to {threshold:.0f}: rlkit {medians["rlkit"]:.1f} s, '
          f'SB3 {medians["sb3"]:.1f} s, ratio rlkit/SB3 = {ratio:.2f} (target <= 0.5).')
  if args.output:
    with open(args.output, 'w') as f:
      json.dump(results, f, indent=1)
    print(f'Results written to {args.output}')


if __name__ == '__main__':
  main()
