"""QR-DQN beside DQN on CartPole-v1: time to a greedy return of 475, and the final return.

    python -m benchmarks.qr_dqn_cartpole                     # seeds 0,1,2, 30000 steps each
    python -m benchmarks.qr_dqn_cartpole --seeds=0 --num_steps=20000
    python -m benchmarks.qr_dqn_cartpole --smoke             # seconds: wiring only

Both agents run their config's defaults (`DQNConfig()`, `QRDQNConfig()`) in
one process each after the other, built by `make_local_agent` with the run's
horizon, on the same seeds. Every `--eval_every` steps the greedy policy
plays `--eval_episodes` episodes on a separate environment; "time to 475" is
the training wall time (evaluation excluded) until the first evaluation whose
mean return reaches `--threshold`, or none. The table gives both agents per
seed, then the medians and the QR-DQN / DQN ratios.
"""

import statistics
import time
from typing import Any, Dict, List, Optional

from absl import app
from absl import flags

from benchmarks import bench_flags

# The benchmark's own flags, so that benchmarks import side by side in one process.
FLAGS = flags.FlagValues()
_SEEDS = flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds, one run per agent each.', flag_values=FLAGS)
_NUM_STEPS = flags.DEFINE_integer('num_steps', 30_000, 'Environment steps per run (the horizon).', flag_values=FLAGS)
_EVAL_EVERY = flags.DEFINE_integer('eval_every', 2_500, 'Environment steps between evaluations.', flag_values=FLAGS)
_EVAL_EPISODES = flags.DEFINE_integer('eval_episodes', 10, 'Greedy episodes per evaluation.', flag_values=FLAGS)
_THRESHOLD = flags.DEFINE_float('threshold', 475.0, 'Greedy mean return that counts as solved.', flag_values=FLAGS)
_TORCH_THREADS = flags.DEFINE_integer('torch_threads', 1, 'torch.set_num_threads.', flag_values=FLAGS)
_SMOKE = flags.DEFINE_bool(
    'smoke', False, 'A run of seconds (one seed, 300 steps, tiny replay warm-up) to check '
    'the wiring; its numbers mean nothing.', flag_values=FLAGS)

AGENTS = ('dqn', 'qr_dqn')


def _builder(agent: str, smoke: bool):
  from rlkit.agents import dqn  # pylint: disable=g-import-not-at-top
  from rlkit.agents import qr_dqn  # pylint: disable=g-import-not-at-top
  overrides = dict(min_replay_size=50, hidden_sizes=(16,)) if smoke else {}
  if agent == 'dqn':
    return dqn.DQNBuilder(dqn.DQNConfig(**overrides))
  if agent == 'qr_dqn':
    return qr_dqn.QRDQNBuilder(qr_dqn.QRDQNConfig(**overrides))
  raise ValueError(f'agent must be one of {AGENTS}, got {agent!r}.')


def run_one(agent: str, seed: int, num_steps: int, eval_every: int, eval_episodes: int,
            threshold: float, smoke: bool = False) -> Dict[str, Any]:
  """Trains one agent; returns its evaluations, time to `threshold` and final return."""
  from rlkit import environment_loop  # pylint: disable=g-import-not-at-top
  from rlkit import evaluation  # pylint: disable=g-import-not-at-top
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import local_layout  # pylint: disable=g-import-not-at-top
  from rlkit.utils import loggers  # pylint: disable=g-import-not-at-top

  environment = factory.make_environment('gym:CartPole-v1', seed=seed)
  eval_environment = factory.make_environment('gym:CartPole-v1', seed=seed + 10_000)
  spec = specs.make_environment_spec(environment)
  builder = _builder(agent, smoke)
  history: List[Dict[str, float]] = []
  with local_layout.make_local_agent(builder, spec, seed=seed, horizon=num_steps) as trained:
    greedy = builder.make_actor(
        seed, builder.make_policy(trained.networks, spec, evaluation=True), spec)
    loop = environment_loop.EnvironmentLoop(environment, trained, logger=loggers.NoOpLogger())
    steps, train_seconds = 0, 0.0
    while steps < num_steps:
      start = time.perf_counter()
      steps += loop.run(num_steps=min(eval_every, num_steps - steps))
      train_seconds += time.perf_counter() - start
      result = evaluation.evaluate(eval_environment, greedy, eval_episodes)
      history.append({'steps': steps, 'train_seconds': train_seconds,
                      'return_mean': result['return_mean']})
    learner_steps = trained.num_learner_steps
  solved = next((h for h in history if h['return_mean'] >= threshold), None)
  return {'agent': agent, 'seed': seed, 'history': history, 'learner_steps': learner_steps,
          'steps_per_second': steps / max(train_seconds, 1e-9),
          'time_to_threshold': solved['train_seconds'] if solved else None,
          'steps_to_threshold': solved['steps'] if solved else None,
          'final_return': history[-1]['return_mean']}


def _median(values: List[Optional[float]]) -> Optional[float]:
  known = [v for v in values if v is not None]
  return statistics.median(known) if known else None


def _format(value: Optional[float], digits: int = 1) -> str:
  return 'never' if value is None else f'{value:.{digits}f}'


def report(results: List[Dict[str, Any]], threshold: float) -> str:
  lines = [f'CartPole-v1, time to a greedy return of {threshold:g} (training seconds) '
           f'and final greedy return',
           f'{"agent":8} {"seed":>4} {"time to":>9} {"steps to":>9} {"final":>7} {"steps/s":>8}']
  for r in results:
    lines.append(f'{r["agent"]:8} {r["seed"]:>4} {_format(r["time_to_threshold"]):>9} '
                 f'{_format(r["steps_to_threshold"], 0):>9} {r["final_return"]:>7.1f} '
                 f'{r["steps_per_second"]:>8.0f}')
  summary = {}
  for agent in AGENTS:
    mine = [r for r in results if r['agent'] == agent]
    summary[agent] = {
        'time': _median([r['time_to_threshold'] for r in mine]),
        'solved': sum(r['time_to_threshold'] is not None for r in mine),
        'runs': len(mine),
        'final': statistics.mean(r['final_return'] for r in mine)}
    s = summary[agent]
    lines.append(f'{agent:8} median time to {threshold:g}: {_format(s["time"])} s '
                 f'({s["solved"]}/{s["runs"]} runs solved), mean final return {s["final"]:.1f}')
  dqn, qr = summary['dqn'], summary['qr_dqn']
  time_ratio = (qr['time'] / dqn['time']) if qr['time'] and dqn['time'] else None
  final_ratio = qr['final'] / dqn['final'] if dqn['final'] else None
  lines.append(f'QR-DQN / DQN: time to {threshold:g} x{_format(time_ratio, 2)}, '
               f'final return x{_format(final_ratio, 2)}')
  return '\n'.join(lines)


def main(argv: List[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  try:
    seeds = [int(s) for s in _SEEDS.value]
  except ValueError as error:
    raise app.UsageError(f'--seeds must be integers, got {_SEEDS.value}.') from error
  for name, value in (('num_steps', _NUM_STEPS.value), ('eval_every', _EVAL_EVERY.value),
                      ('eval_episodes', _EVAL_EPISODES.value),
                      ('torch_threads', _TORCH_THREADS.value)):
    if value < 1:
      raise app.UsageError(f'--{name} must be >= 1, got {value}.')
  num_steps, eval_every, eval_episodes = _NUM_STEPS.value, _EVAL_EVERY.value, _EVAL_EPISODES.value
  if _SMOKE.value:
    seeds, num_steps, eval_every, eval_episodes = seeds[:1], 300, 150, 1
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(_TORCH_THREADS.value)
  results = [run_one(agent, seed, num_steps, eval_every, eval_episodes, _THRESHOLD.value,
                     smoke=_SMOKE.value)
             for seed in seeds for agent in AGENTS]
  print(report(results, _THRESHOLD.value), flush=True)


if __name__ == '__main__':
  app.run(main, flags_parser=bench_flags.app_flags_parser(FLAGS, __doc__, 'benchmarks.qr_dqn_cartpole'))
