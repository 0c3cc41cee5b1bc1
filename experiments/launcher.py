"""The one launcher: absl flags -> `ExperimentConfig` -> `run_experiment`.

Each `experiments/run_<agent>.py` is three lines:

    from experiments import launcher
    launcher.define_flags('dqn', env='gridworld:simple', observation_type='GRID')
    if __name__ == '__main__': launcher.run()

Flags come in three groups in `--help`: experiment, checkpointing, and the
agent's config (one flag per field of its config dataclass). A usage error
(a bad flag or value, conflicting flags, an unknown environment, an
incompatible run directory) prints one line and exits with status 2; a
failure during the run exits with 1. Nothing heavy (TensorFlow, Reverb,
torch) is imported before the flags and the environment were checked.
"""

import sys
from typing import Any, Callable, List, Optional

from absl import flags

from experiments import cli
from experiments import config_flags

FLAGS = flags.FLAGS
EXPERIMENT = 'experiment'
CHECKPOINTING = 'checkpointing'
DISTRIBUTED = 'distributed'

# Flags that leave what a run learns unchanged: a run may resume with other values.
BOOKKEEPING_FLAGS = ('run_dir', 'runs_root', 'resume', 'num_steps', 'num_episodes',
                     'log_every_seconds', 'video', 'plots', 'checkpoint_every_steps',
                     'checkpoint_every_seconds', 'keep_checkpoints', 'torch_threads',
                     'record_every', 'fps', 'env_processes', 'verbosity', 'tensorboard',
                     'ray_address', 'actor_cpus', 'learner_gpus')


class UsageError(Exception):
  """A mistake in the command: printed as one line, exit status 2."""


fail = cli.fail


_STATE = {}


def define_flags(agent_name: str, *, env: str = 'gridworld:simple',
                 observation_type: Optional[str] = None, num_steps: int = 20_000,
                 eval_every: int = 5_000, eval_episodes: int = 10,
                 checkpoint_every_steps: int = 10_000) -> None:
  """Defines the launcher's flags for agent `agent_name`, with these defaults."""
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  _STATE['agent'] = agent_name
  _define_experiment_flags(env, observation_type, num_steps, eval_every, eval_episodes)
  _define_checkpointing_flags(checkpoint_every_steps)
  _define_distributed_flags()
  _STATE['make_config'] = config_flags.define_config_flags(registry.config_class(agent_name))


def _define_experiment_flags(env, observation_type, num_steps, eval_every, eval_episodes):
  g = dict(module_name=EXPERIMENT)
  flags.DEFINE_string('env', env, "Environment: 'gridworld:<simple|obstacle|random_goal>', "
                      "'gym:<gymnasium id>' (e.g. gym:CartPole-v1), 'dm_control:<domain>-<task>' "
                      "or 'bsuite:<id>'.", **g)
  flags.DEFINE_string('observation_type', observation_type,
                      'GridWorld observations: STATE_INDEX, AGENT_ONEHOT, GRID or '
                      'AGENT_GOAL_POS (GridWorld only).', **g)
  flags.DEFINE_integer('max_episode_steps', None, 'Truncate episodes after this many '
                       'steps (default: GridWorld 200, gym the registered limit).',
                       lower_bound=1, **g)
  flags.DEFINE_integer('num_steps', num_steps, 'Training environment steps (the last '
                       'episode is finished); also the horizon of the schedules.',
                       lower_bound=1, **g)
  flags.DEFINE_integer('num_episodes', None, 'Train for this many episodes instead of '
                       '--num_steps (do not give both).', lower_bound=1, **g)
  flags.DEFINE_integer('schedule_horizon', None, 'Environment steps the schedules '
                       '(epsilon, learning-rate decay) span; default --num_steps. With '
                       '--num_episodes and no horizon they stay constant after a warm-up.',
                       lower_bound=1, **g)
  flags.DEFINE_integer('seed', 0, 'Seed of the environments, networks and exploration.',
                       lower_bound=0, **g)
  flags.DEFINE_integer('eval_every', eval_every, 'Training steps between greedy '
                       'evaluations (0: only at the end).', lower_bound=0, **g)
  flags.DEFINE_integer('eval_episodes', eval_episodes, 'Episodes per evaluation.',
                       lower_bound=1, **g)
  flags.DEFINE_float('stop_at_return', None, 'Stop once a greedy evaluation has a mean '
                     'return >= this (unset: use the whole budget).', **g)
  flags.DEFINE_integer('num_envs', 1, 'Environment copies stepped together; the actor '
                       'acts on all of them in one forward pass.', lower_bound=1, **g)
  flags.DEFINE_integer('env_processes', 0, 'Worker processes stepping the --num_envs '
                       'copies (same results); 0 steps them in this process.',
                       lower_bound=0, **g)
  flags.DEFINE_integer('torch_threads', 1, 'torch.set_num_threads (small networks are '
                       'fastest with 1).', lower_bound=1, **g)
  flags.DEFINE_float('log_every_seconds', 10.0, 'Seconds between progress lines on the '
                     'terminal (CSV logs get every row).', lower_bound=0.0, **g)
  flags.DEFINE_bool('video', True, 'Record a greedy episode to videos/ at the end.', **g)
  flags.DEFINE_integer('record_every', 0, 'During training, record every this-many-th '
                       'evaluation episode to videos/; 0 records none.', lower_bound=0, **g)
  flags.DEFINE_integer('fps', 30, 'Frames per second of the videos.', lower_bound=1, **g)
  flags.DEFINE_bool('random_baseline', True, 'Evaluate a uniformly random policy once and '
                    'log its return beside every evaluation.', **g)
  flags.DEFINE_bool('plots', True, 'Write learning curves (and GridWorld value maps) to '
                    'plots/ at the end.', **g)
  flags.DEFINE_bool('tensorboard', True, 'Write TensorBoard event files to tensorboard/ in '
                    'the run directory (`tensorboard --logdir runs`). Output on the terminal: '
                    "absl's --verbosity (-v): -1 quiet, 0 default, 1 debug.", **g)


def _define_checkpointing_flags(checkpoint_every_steps):
  g = dict(module_name=CHECKPOINTING)
  flags.DEFINE_string('run_dir', None, 'Run directory; default runs/<agent>/<timestamp>. '
                      'An existing one of this agent is resumed (see --resume).', **g)
  flags.DEFINE_string('runs_root', 'runs', 'Parent of the default run directories.', **g)
  flags.DEFINE_bool('resume', True, 'Resume from the newest checkpoint of --run_dir; '
                    '--noresume starts over there (its checkpoints and logs are removed).',
                    **g)
  flags.DEFINE_integer('checkpoint_every_steps', checkpoint_every_steps,
                       'Checkpoint every this many training steps (0: never).',
                       lower_bound=0, **g)
  flags.DEFINE_float('checkpoint_every_seconds', 600.0, 'Also checkpoint when this much '
                     'wall time passed since the last one (0: never).', lower_bound=0.0, **g)
  flags.DEFINE_integer('keep_checkpoints', 3, 'Checkpoints kept (the newest).',
                       lower_bound=1, **g)


def _define_distributed_flags():
  g = dict(module_name=DISTRIBUTED)
  flags.DEFINE_integer('num_actors', 0, 'Actor processes on Ray (0: one process, no Ray).',
                       lower_bound=0, **g)
  flags.DEFINE_string('ray_address', None, 'HOST:PORT of a Ray cluster started with '
                      '`ray start --head`; default: a local cluster on this machine.', **g)
  flags.DEFINE_float('actor_cpus', 1.0, 'CPUs Ray reserves per actor process.',
                     lower_bound=0.0, **g)
  flags.DEFINE_float('learner_gpus', 0.0, 'GPUs Ray reserves for the learner.',
                     lower_bound=0.0, **g)


def run_flags() -> flags.FlagValues:
  """The flags of this run (the launcher's own; not TensorFlow's or absl's)."""
  selected = flags.FlagValues()
  for flag_name in FLAGS:
    module = FLAGS.find_module_defining_flag(flag_name)
    if module in GROUPS:
      selected[flag_name] = FLAGS[flag_name]
      selected.register_flag_by_module(module, FLAGS[flag_name])
  return selected


def environment_kwargs() -> dict:
  """`make_environment` keyword arguments from the flags (seed excluded)."""
  kwargs = {}
  if FLAGS.observation_type:
    kwargs['observation_type'] = FLAGS.observation_type
  if FLAGS.max_episode_steps is not None:
    kwargs['max_episode_length'] = FLAGS.max_episode_steps
  return kwargs


def check_flag_conflicts(config: Any) -> None:
  """Flags that contradict each other are usage errors (never silently ignored)."""
  if FLAGS.num_episodes is not None and FLAGS['num_steps'].present:
    raise UsageError(f'--num_episodes={FLAGS.num_episodes} and --num_steps={FLAGS.num_steps} '
                     f'both set a budget; give one.')
  if FLAGS.observation_type and not FLAGS.env.strip().lower().startswith('gridworld:'):
    if FLAGS['observation_type'].present:
      raise UsageError(f'--observation_type={FLAGS.observation_type} applies to GridWorld '
                       f'only, not --env={FLAGS.env}; drop it.')
    FLAGS.observation_type = None
  minimum, maximum = (getattr(config, 'min_replay_size', None),
                      getattr(config, 'max_replay_size', None))
  if minimum is not None and maximum is not None and minimum > maximum:
    raise UsageError(f'--min_replay_size={minimum} is above --max_replay_size={maximum}: '
                     f'learning would never start; lower it or raise --max_replay_size.')
  if FLAGS.env_processes and FLAGS.num_envs == 1:
    raise UsageError(f'--env_processes={FLAGS.env_processes} needs --num_envs > 1.')
  if FLAGS.env_processes > FLAGS.num_envs:
    raise UsageError(f'--env_processes={FLAGS.env_processes} must be at most --num_envs='
                     f'{FLAGS.num_envs} (each process steps at least one copy).')
  if (minimum is not None and FLAGS.num_episodes is None and FLAGS.num_steps < minimum):
    print(f'warning: --num_steps={FLAGS.num_steps} is below --min_replay_size={minimum}: '
          f'the agent will collect but never learn.', file=sys.stderr, flush=True)


def make_environment_factory() -> Any:
  """The factory of --env; an unknown name or option is a usage error (checked by building one)."""
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  env_factory = factory.EnvironmentFactory(FLAGS.env, **environment_kwargs())
  try:
    env_factory(FLAGS.seed).close()
  except (ValueError, TypeError, KeyError, NotImplementedError, ImportError) as e:
    message = e.args[0] if isinstance(e, KeyError) and e.args else e
    raise UsageError(f'--env={FLAGS.env}: {message}') from e
  return env_factory


def check_run_directory(config: Any, env_factory: Any) -> None:
  """Refuses another run's --run_dir before anything heavy is imported or written."""
  from rlkit.experiments import run_directory  # pylint: disable=g-import-not-at-top
  environment = {'name': env_factory.name, 'kwargs': dict(env_factory.kwargs)}
  info = run_directory.run_info(_STATE['agent'], config, environment, FLAGS.seed,
                                FLAGS.num_envs)
  run_directory.check_run_directory(FLAGS.run_dir, info, FLAGS.resume, run_flags(),
                                    BOOKKEEPING_FLAGS)


def make_experiment_config(config: Any, env_factory: Any) -> Any:
  """The `ExperimentConfig` the flags describe."""
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import config as config_lib  # pylint: disable=g-import-not-at-top
  return config_lib.ExperimentConfig(
      builder=registry.make_builder(_STATE['agent'], config),
      environment_factory=env_factory,
      max_num_actor_steps=None if FLAGS.num_episodes is not None else FLAGS.num_steps,
      max_num_episodes=FLAGS.num_episodes,
      schedule_horizon=FLAGS.schedule_horizon,
      seed=FLAGS.seed, agent_name=_STATE['agent'], num_envs=FLAGS.num_envs,
      env_processes=FLAGS.env_processes,
      checkpointing=config_lib.CheckpointingConfig(
          every_steps=FLAGS.checkpoint_every_steps,
          every_seconds=FLAGS.checkpoint_every_seconds,
          keep=FLAGS.keep_checkpoints, resume=FLAGS.resume),
      evaluation=config_lib.EvaluationConfig(
          every_steps=FLAGS.eval_every, episodes=FLAGS.eval_episodes,
          random_baseline=FLAGS.random_baseline, record_every=FLAGS.record_every,
          stop_at_return=FLAGS.stop_at_return),
      run_dir=FLAGS.run_dir, runs_root=FLAGS.runs_root, video=FLAGS.video,
      plots=FLAGS.plots, fps=FLAGS.fps, torch_threads=FLAGS.torch_threads,
      log_every_seconds=FLAGS.log_every_seconds, verbosity=cli.output_level(),
      tensorboard=FLAGS.tensorboard, run_flags=run_flags(),
      resume_ignored_flags=BOOKKEEPING_FLAGS)


def main(argv: List[str]) -> None:
  if len(argv) > 1:
    fail(f'unexpected arguments {argv[1:]}; flags are --name=value.')
  try:
    config = _STATE['make_config']()
  except (TypeError, ValueError) as e:
    fail(str(e))
  from rlkit.agents import builders  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import run_directory  # pylint: disable=g-import-not-at-top
  try:
    check_flag_conflicts(config)
    env_factory = make_environment_factory()
    check_run_directory(config, env_factory)
    experiment = make_experiment_config(config, env_factory)
    from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top
    if FLAGS.num_actors:
      from rlkit.experiments import distributed  # pylint: disable=g-import-not-at-top
      try:
        distributed.run_distributed_experiment(
            experiment, num_actors=FLAGS.num_actors, ray_address=FLAGS.ray_address,
            actor_cpus=FLAGS.actor_cpus, learner_gpus=FLAGS.learner_gpus)
      except distributed.ClusterError as e:
        raise UsageError(str(e)) from e
    else:
      run_experiment.run_experiment(experiment)
  except (UsageError, run_directory.RunDirectoryError, builders.UnsupportedSpecError) as e:
    fail(str(e))


HELP_ARGUMENTS = ('--help', '-help', '-h', '-?', '--helpshort', '-helpshort')
GROUPS = (EXPERIMENT, CHECKPOINTING, config_flags.GROUP, DISTRIBUTED)


def grouped_help() -> str:
  """The launcher's own flags by group (absl's --help shows only the main module's)."""
  main = sys.modules.get('__main__')
  parts = [(main.__doc__ or '').strip()] if main is not None else []
  for group in GROUPS:
    text = FLAGS.module_help(group)
    if text:
      parts.append(text.replace(f'{group}:', f'{group} flags:', 1))
  parts.append('Try --helpfull for every flag, including those of the libraries.')
  return '\n\n'.join(parts)


def parse_flags(argv: List[str]) -> List[str]:
  """absl's parsing, with usage errors exiting 2 (absl's own exit with 1)."""
  if any(arg in HELP_ARGUMENTS for arg in argv[1:]):
    print(grouped_help())
    sys.exit(0)
  return cli.parse_flags(argv)


def run(main_fn: Callable[[List[str]], Any] = main) -> None:
  cli.run(main_fn, flags_parser=parse_flags)
