"""Runs one agent over a bsuite sweep and scores it with bsuite's own analysis.

    python -m experiments.run_bsuite --bsuite_subset=basic          # DQN, every basic id
    python -m experiments.run_bsuite --bsuite_ids=catch/0,cartpole/0 --max_episodes_per_id=200
    python -m experiments.run_bsuite --agent=qr_dqn --bsuite_ids=deep_sea/0
    python -m experiments.run_bsuite --help                         # every flag with its default

Each id trains for the episodes bsuite prescribes (`--max_episodes_per_id`
caps them for a quick look) in its own run directory
`<run_dir>/<id with / as _>/` (logs, checkpoints, plots as any launcher).
bsuite's CSV logger records the training episodes into `<run_dir>/bsuite/`;
at the end bsuite's analysis scores them: `<run_dir>/bsuite_scores.md` (the
table, printed), `bsuite_radar.png` and `bsuite_bars.png`. Evaluation and the
random baseline play their own environments, outside bsuite's logs.

With an episode budget the schedules have no step horizon: learning rates
stay constant and exploration decays over the agent's warm-up (as bsuite's
reference agents, which use constant rates); `--schedule_horizon` sets one
for every id. Running the command again with the same --run_dir skips the
ids that finished and starts the others over.
"""

import dataclasses
import datetime
import os
import sys
from typing import List, Optional, Sequence

from absl import flags

from experiments import cli
from experiments import launcher

FLAGS = flags.FLAGS
BSUITE = 'bsuite'
DEFAULT_AGENT = 'dqn'
RESULTS_SUBDIR = 'bsuite'
COMPLETED_FILE = 'completed.txt'
# Set per id by this launcher; giving them is a usage error.
PER_ID_FLAGS = ('env', 'num_steps', 'num_episodes', 'observation_type')


def agent_from_argv(argv: Sequence[str]) -> str:
  """--agent's value, read before the agent's config flags are defined."""
  for i, arg in enumerate(argv):
    if arg.startswith('--agent='):
      return arg.partition('=')[2]
    if arg == '--agent' and i + 1 < len(argv):
      return argv[i + 1]
  return DEFAULT_AGENT


def define_flags(agent: str) -> None:
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  if agent not in registry.names():
    cli.fail(f'--agent={agent} is not a registered agent; expected one of '
             f'{", ".join(registry.names())}.')
  launcher.define_flags(agent, env='bsuite:catch/0', num_steps=1, eval_every=0,
                        eval_episodes=10, checkpoint_every_steps=50_000)
  FLAGS.set_default('video', False)
  g = dict(module_name=BSUITE)
  flags.DEFINE_string('agent', DEFAULT_AGENT, 'The agent (a registered name acting in '
                      'discrete actions, e.g. dqn, qr_dqn, nfq, reinforce, actor_critic).',
                      **g)
  flags.DEFINE_list('bsuite_ids', [], "bsuite ids to run, e.g. 'catch/0,cartpole/0'.", **g)
  flags.DEFINE_string('bsuite_subset', None, "A bsuite subset instead: 'all', a tag "
                      "('basic', 'noise', 'scale', 'exploration', 'credit_assignment', "
                      "'memory', 'generalization') or an experiment name ('catch').", **g)
  flags.DEFINE_integer('max_episodes_per_id', None, "Cap each id's episodes (bsuite "
                       'prescribes 1000 to 10000; scores over fewer are partial).',
                       lower_bound=1, **g)


def selected_ids() -> List[str]:
  """The ids of --bsuite_ids or --bsuite_subset (MNIST experiments excluded: they download)."""
  from rlkit.environments import behaviour_suite  # pylint: disable=g-import-not-at-top
  if bool(FLAGS.bsuite_ids) == bool(FLAGS.bsuite_subset):
    raise launcher.UsageError('give --bsuite_ids or --bsuite_subset (one of them).')
  try:
    if FLAGS.bsuite_subset:
      return list(behaviour_suite.subset_ids(FLAGS.bsuite_subset, include_downloads=False))
    return [behaviour_suite.check_id(i.strip()) for i in FLAGS.bsuite_ids]
  except ValueError as e:
    raise launcher.UsageError(str(e)) from e


def episodes_of(bsuite_id: str) -> int:
  from rlkit.environments import behaviour_suite  # pylint: disable=g-import-not-at-top
  episodes = behaviour_suite.num_episodes(bsuite_id)
  if FLAGS.max_episodes_per_id is not None:
    episodes = min(episodes, FLAGS.max_episodes_per_id)
  return episodes


def id_directory(bsuite_id: str) -> str:
  return bsuite_id.replace('/', '_')


def sweep_directory(agent: str) -> str:
  if FLAGS.run_dir:
    return FLAGS.run_dir
  stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
  return os.path.join(FLAGS.runs_root, f'bsuite_{agent}', stamp)


def completed_ids(results_dir: str) -> List[str]:
  path = os.path.join(results_dir, COMPLETED_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [line.strip() for line in f if line.strip()]


def mark_completed(results_dir: str, bsuite_id: str) -> None:
  with open(os.path.join(results_dir, COMPLETED_FILE), 'a') as f:
    f.write(bsuite_id + '\n')


def experiment_for(bsuite_id: str, config, results_dir: str, run_dir: str, resume: bool):
  """The ExperimentConfig of one id, from the launcher's flags."""
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  name = f'bsuite:{bsuite_id}'
  FLAGS.env = name
  FLAGS.num_episodes = episodes_of(bsuite_id)
  FLAGS.run_dir = run_dir
  training = factory.EnvironmentFactory(name, bsuite_results_dir=results_dir,
                                        bsuite_overwrite=True)
  experiment = launcher.make_experiment_config(config, factory.EnvironmentFactory(name))
  checkpointing = dataclasses.replace(experiment.checkpointing, resume=resume)
  return dataclasses.replace(experiment, environment_factory=training,
                             evaluation_environment_factory=factory.EnvironmentFactory(name),
                             checkpointing=checkpointing)


def check_supported(agent: str, config, ids: Sequence[str]) -> None:
  """Every id's spec is one the agent acts in, checked before the first id trains."""
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  builder = registry.make_builder(agent, config)
  for bsuite_id in ids:
    environment = factory.make_environment(f'bsuite:{bsuite_id}', seed=FLAGS.seed)
    try:
      spec = specs.make_environment_spec(environment)
    finally:
      environment.close()
    unsupported = builder.supports(spec)
    if unsupported:
      raise launcher.UsageError(f'--agent={agent} on bsuite:{bsuite_id}: {unsupported}')


def run_sweep(agent: str, config) -> Optional[str]:
  """Runs every id not yet completed; returns the sweep directory, or None if interrupted."""
  ids = selected_ids()
  FLAGS.num_episodes = episodes_of(ids[0])
  launcher.check_flag_conflicts(config)
  if FLAGS.num_envs > 1:
    raise launcher.UsageError(f'--num_envs={FLAGS.num_envs}: bsuite logs one environment per '
                              f'id; use --num_envs=1.')
  check_supported(agent, config, ids)
  sweep_dir = sweep_directory(agent)
  results_dir = os.path.join(sweep_dir, RESULTS_SUBDIR)
  os.makedirs(results_dir, exist_ok=True)
  done = completed_ids(results_dir)
  from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top
  print(f'bsuite sweep of {agent}: {len(ids)} ids -> {sweep_dir}', flush=True)
  for index, bsuite_id in enumerate(ids, 1):
    if bsuite_id in done:
      print(f'[{index}/{len(ids)}] {bsuite_id}: completed earlier; skipped.', flush=True)
      continue
    print(f'[{index}/{len(ids)}] {bsuite_id}: {episodes_of(bsuite_id)} episodes', flush=True)
    run_dir = os.path.join(sweep_dir, id_directory(bsuite_id))
    experiment = experiment_for(bsuite_id, config, results_dir, run_dir, resume=False)
    result = run_experiment.run_experiment(experiment)
    if result.interrupted:
      print(f'Interrupted during {bsuite_id}; run the same command with --run_dir={sweep_dir} '
            f'to run it and the rest (completed ids are skipped).', flush=True)
      return None
    mark_completed(results_dir, bsuite_id)
  return sweep_dir


def report(sweep_dir: str) -> None:
  from rlkit.utils import bsuite_report  # pylint: disable=g-import-not-at-top
  written = bsuite_report.write_report(os.path.join(sweep_dir, RESULTS_SUBDIR), sweep_dir)
  with open(written.table_path) as f:
    print(f.read(), end='', flush=True)
  for name, path in sorted(written.plots.items()):
    print(f'{name}: {path}', flush=True)
  print(f'bsuite scores: {written.table_path}', flush=True)


def main(argv: List[str]) -> None:
  if len(argv) > 1:
    cli.fail(f'unexpected arguments {argv[1:]}; flags are --name=value.')
  for name in PER_ID_FLAGS:
    if FLAGS[name].present:
      cli.fail(f'--{name} is set per bsuite id by this launcher; choose ids with '
               f'--bsuite_ids or --bsuite_subset and cap episodes with --max_episodes_per_id.')
  agent = FLAGS.agent
  try:
    config = launcher._STATE['make_config']()  # pylint: disable=protected-access
  except (TypeError, ValueError) as e:
    cli.fail(str(e))
  from rlkit.experiments import run_directory  # pylint: disable=g-import-not-at-top
  try:
    sweep_dir = run_sweep(agent, config)
  except (launcher.UsageError, run_directory.RunDirectoryError) as e:
    cli.fail(str(e))
  if sweep_dir is not None:
    report(sweep_dir)


def parse_flags(argv: List[str]) -> List[str]:
  """The launcher's parsing; --help also lists the bsuite flags."""
  if any(arg in launcher.HELP_ARGUMENTS for arg in argv[1:]):
    own = FLAGS.module_help(BSUITE).replace(f'{BSUITE}:', f'{BSUITE} flags:', 1)
    print(launcher.grouped_help().replace('experiment flags:', f'{own}\n\nexperiment flags:', 1))
    sys.exit(0)
  return cli.parse_flags(argv)


if __name__ == '__main__':
  define_flags(agent_from_argv(sys.argv[1:]))
  cli.run(main, flags_parser=parse_flags)
