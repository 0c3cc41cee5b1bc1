"""Distributed runs on Ray: throughput with K actors beside the single-process run.

    python -m benchmarks.distributed                 # K = 1, 2, 4 (tiny agent, 20k steps)
    python -m benchmarks.distributed --agent=dqn --env=gym:CartPole-v1
    python -m benchmarks.distributed --smoke         # K = 1, 2, tiny budgets

Per layout: environment steps/s and learner steps/s over the training time
(from the first actor step to the budget), the learner's wait share (time
blocked on the next batch), each node's memory (RSS), Ray's start-up and the
nodes' start-up. The single-process run uses the same builder, so the same
samples-per-insert. Then the per-component rates that bound a large cluster:
counter calls/s (one Ray actor), weight fetches/s of a state dict of
`--weights_kb` (the learner's broadcast), and Reverb inserts/s of the run.
"""

import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

from absl import flags

from benchmarks import bench_flags

FLAGS = flags.FlagValues()
flags.DEFINE_string('agent', 'tiny', "'tiny' (tests/tiny_agent.py) or a registered agent (dqn).",
                    flag_values=FLAGS)
flags.DEFINE_string('env', 'gridworld:simple', 'Environment.', flag_values=FLAGS)
flags.DEFINE_integer('num_steps', 20_000, 'Environment steps per run.', flag_values=FLAGS)
flags.DEFINE_list('actors', ['1', '2', '4'], 'Actor counts K.', flag_values=FLAGS)
flags.DEFINE_float('actor_cpus', 0.5, 'CPUs Ray reserves per actor (less when K actors and the '
                   'learner would not fit on the machine).', flag_values=FLAGS)
flags.DEFINE_integer('weights_kb', 280, 'Size of the state dict in the weight-fetch test '
                     '(DQN 2x256 MLP on CartPole: ~280 kB).', flag_values=FLAGS)
flags.DEFINE_bool('smoke', False, 'Tiny mode: K = 1, 2 and 2000 steps.', flag_values=FLAGS)
flags.DEFINE_string('json', None, 'Also write the report as JSON here.', flag_values=FLAGS)


def _config(run_dir: str, num_steps: int):
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import config as config_lib  # pylint: disable=g-import-not-at-top
  kwargs = {'observation_type': 'AGENT_ONEHOT'} if FLAGS.env.startswith('gridworld') else {}
  if FLAGS.agent == 'tiny':
    from tests import tiny_agent  # pylint: disable=g-import-not-at-top
    builder = tiny_agent.TinyBuilder()
  else:
    from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
    builder = registry.make_builder(FLAGS.agent)
  return config_lib.ExperimentConfig(
      builder=builder, environment_factory=factory.EnvironmentFactory(FLAGS.env, **kwargs),
      max_num_actor_steps=num_steps, run_dir=run_dir, video=False, plots=False,
      log_every_seconds=60.0,
      evaluation=config_lib.EvaluationConfig(every_steps=0, episodes=1, random_baseline=False),
      checkpointing=config_lib.CheckpointingConfig(every_steps=0, every_seconds=0))


def _row(label: str, result) -> Dict[str, Any]:
  seconds = max(result.training_seconds, 1e-9)
  row = {'layout': label, 'actor_steps': result.counts['actor_steps'],
         'learner_steps': result.counts['learner_steps'],
         'env_steps_per_s': result.counts['actor_steps'] / seconds,
         'learner_steps_per_s': result.counts['learner_steps'] / seconds,
         'training_s': result.training_seconds}
  stats = result.node_stats
  if stats:
    learner = stats.get('learner') or {}
    row['learner_wait_share'] = learner.get('wait_share')
    row['nodes_start_s'] = stats.get('nodes_start_seconds')
    row['rss_mb'] = {'learner': learner.get('rss_bytes', 0) / 2**20,
                     'actors': [a.get('rss_bytes', 0) / 2**20 for a in stats.get('actors', [])]}
    tables = (stats.get('replay') or {}).get('tables') or {}
    row['reverb_inserts_per_s'] = sum(t['inserts'] for t in tables.values()) / seconds
  return row


def _component_rates(weights_kb: int) -> Dict[str, float]:
  import ray  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import distributed_counter  # pylint: disable=g-import-not-at-top
  counter = ray.remote(distributed_counter.CounterNode).options(num_cpus=0).remote({})
  ray.get(counter.get_counts.remote())
  calls = 300
  started = time.perf_counter()
  for _ in range(calls):
    ray.get(counter.increment.remote('bench', {'steps': 1}))
  counter_rate = calls / (time.perf_counter() - started)

  class Weights:
    def __init__(self, numel):
      self._state = {'w': torch.zeros(numel)}

    def get(self):
      return self._state

  source = ray.remote(Weights).options(num_cpus=0).remote(weights_kb * 256)
  ray.get(source.get.remote())
  fetches = 100
  started = time.perf_counter()
  for _ in range(fetches):
    ray.get(source.get.remote())
  fetch_rate = fetches / (time.perf_counter() - started)
  ray.kill(counter)
  ray.kill(source)
  return {'counter_calls_per_s': counter_rate, 'weight_fetches_per_s': fetch_rate,
          'weights_kb': weights_kb}


def main(argv: Optional[List[str]] = None) -> None:
  bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.distributed')
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(1)
  from rlkit.experiments import distributed  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top
  num_steps = 2_000 if FLAGS.smoke else FLAGS.num_steps
  actor_counts = [1, 2] if FLAGS.smoke else [int(k) for k in FLAGS.actors]
  report: Dict[str, Any] = {'agent': FLAGS.agent, 'env': FLAGS.env, 'num_steps': num_steps,
                            'cpus': os.cpu_count(), 'runs': []}
  with tempfile.TemporaryDirectory(prefix='rlkit-bench-distributed-') as root:
    result = run_experiment.run_experiment(_config(os.path.join(root, 'single'), num_steps))
    report['runs'].append(_row('single process', result))
    started = time.monotonic()
    owns = distributed.start_ray(None)
    report['ray_start_s'] = time.monotonic() - started
    try:
      for k in actor_counts:
        result = distributed.run_distributed_experiment(
            _config(os.path.join(root, f'k{k}'), num_steps), k,
            actor_cpus=min(FLAGS.actor_cpus, (os.cpu_count() - 0.5) / k), learner_cpus=0.5)
        report['runs'].append(_row(f'{k} actors', result))
      report['components'] = _component_rates(FLAGS.weights_kb)
    finally:
      if owns:
        import ray  # pylint: disable=g-import-not-at-top
        ray.shutdown()
  _print(report)
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump(report, f, indent=1)


def _print(report: Dict[str, Any]) -> None:
  print(f'\nDistributed runs: {report["agent"]} on {report["env"]}, {report["num_steps"]} steps, '
        f'{report["cpus"]} CPUs; Ray start-up {report["ray_start_s"]:.1f} s.')
  print(f'{"layout":<16}{"env steps/s":>12}{"learner/s":>11}{"wait":>7}{"inserts/s":>11}'
        f'{"nodes up":>10}  RSS MB (learner with replay, actors)')
  for row in report['runs']:
    wait = row.get('learner_wait_share')
    rss = row.get('rss_mb')
    rss_text = (f'{rss["learner"]:.0f}, '
                f'{"/".join(f"{a:.0f}" for a in rss["actors"])}' if rss else '-')
    wait_text = '-' if wait is None else f'{100 * wait:.0f}%'
    start = row.get('nodes_start_s')
    start_text = '-' if start is None else f'{start:.1f} s'
    print(f'{row["layout"]:<16}{row["env_steps_per_s"]:>12,.0f}{row["learner_steps_per_s"]:>11,.0f}'
          f'{wait_text:>7}{row.get("reverb_inserts_per_s", 0):>11,.0f}{start_text:>10}'
          f'  {rss_text}')
  c = report.get('components') or {}
  if c:
    print(f'Counter node: {c["counter_calls_per_s"]:,.0f} calls/s (one caller); weight fetch of '
          f'{c["weights_kb"]} kB: {c["weight_fetches_per_s"]:,.0f}/s (one caller).')
  sys.stdout.flush()


if __name__ == '__main__':
  main()
