"""What every training launcher shares: flags, config flags, and the training run.

A launcher is three steps:

    common.define_common_flags(env='gridworld:simple', observation_type='GRID')
    make_config = common.define_config_flags(dqn.DQNConfig)
    flags.adopt_module_key_flags(common)   # so --help lists them

    def main(argv):
      config = common.build_config(make_config)
      common.run_experiment('dqn', config, common.BuilderAgentFactory(
          lambda: dqn.DQNBuilder(config)))

`run_experiment` makes the environments, the run directory (flags.txt, logs/,
checkpoints/, videos/, plots/), the agent and an evaluator, trains with
progress on the terminal, evaluates every `--eval_every` steps, checkpoints
periodically and on SIGTERM/SIGINT, resumes from the newest checkpoint of an
existing `--run_dir`, and at the end writes a video of the greedy policy and
the plots.

Checkpoints (`checkpoints/ckpt-<actor steps>.pt`) hold the agent's state
(learner networks, optimizer, target network, exploration schedule position
and generator), the counters, the global random generators, and the
environment/config needed to rebuild the policy (`registry.load_policy`);
the Reverb tables are checkpointed beside them (`checkpoints/replay/`) and
reloaded when the server starts. A resumed run drops log rows written after
the checkpoint it resumes from, so logs have no duplicated steps.
"""

import csv
import dataclasses
import os

# TensorFlow (under Reverb) prints INFO lines at import; keep warnings and errors.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
import sys
import time
import typing
from typing import Any, Callable, Dict, List, Mapping, NoReturn, Optional, Tuple, Type

from absl import flags

from rlkit import batched_environment_loop
from rlkit import core
from rlkit import environment_loop
from rlkit import evaluation
from rlkit import specs
from rlkit.agents import config_fields
from rlkit.environments import batched
from rlkit.environments import subprocess_batched
from rlkit.utils import background
from rlkit.utils import checkpointing
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import rng
from rlkit.utils import run_dir as run_dir_lib
from rlkit.utils import signals

FLAGS = flags.FLAGS

# Flags that may differ between a run and its resumption.
RESUME_IGNORED_FLAGS = run_dir_lib.BOOKKEEPING_FLAGS
CHECKPOINT_FORMAT = 1


class LauncherError(Exception):
  """A user error: the launcher prints it and exits with status 2."""


def fail(message: str) -> NoReturn:
  """Prints `error: message` to stderr and exits with status 2."""
  program = os.path.basename(sys.argv[0]) if sys.argv else 'launcher'
  print(f'{program}: error: {message}', file=sys.stderr, flush=True)
  sys.exit(2)


def define_common_flags(env: str = 'gridworld:simple',
                        observation_type: Optional[str] = None,
                        num_steps: int = 20_000,
                        eval_every: int = 5_000,
                        eval_episodes: int = 10,
                        checkpoint_every_steps: int = 10_000,
                        log_every_seconds: float = 2.0) -> None:
  """Defines the flags every training launcher has, with these defaults."""
  flags.DEFINE_string('env', env, "Environment: 'gridworld:<simple|obstacle|random_goal>' "
                      "or 'gym:<gymnasium id>', e.g. gym:CartPole-v1.")
  flags.DEFINE_string('observation_type', observation_type,
                      'GridWorld observations: STATE_INDEX, AGENT_ONEHOT, GRID or '
                      'AGENT_GOAL_POS (ignored for gym environments).')
  flags.DEFINE_integer('max_episode_steps', None, 'Truncate episodes after this many '
                       'steps (default: GridWorld 200, gym the registered limit); seed 001 '
                       'uses 50 for DQN on GridWorld and 300 for actor-critic on CartPole.',
                       lower_bound=1)
  flags.DEFINE_integer('num_steps', num_steps, 'Training environment steps (the last '
                       'episode is finished). Also the horizon of epsilon decay.', lower_bound=1)
  flags.DEFINE_integer('num_episodes', None, 'Train for this many episodes instead of '
                       '--num_steps.', lower_bound=1)
  flags.DEFINE_integer('seed', 0, 'Seed of the environments, network initialization and '
                       'exploration.', lower_bound=0)
  flags.DEFINE_integer('eval_every', eval_every, 'Training steps between greedy evaluations '
                       '(0: only at the end).', lower_bound=0)
  flags.DEFINE_integer('eval_episodes', eval_episodes, 'Episodes per evaluation.',
                       lower_bound=1)
  flags.DEFINE_float('stop_at_return', None, 'Stop training once a greedy evaluation '
                     '(every --eval_every steps) has a mean return >= this, as seed 001 '
                     'stops REINFORCE once CartPole is solved; unset: use the whole budget.')
  flags.DEFINE_string('run_dir', None, 'Run directory; default runs/<agent>/<timestamp>. '
                      'An existing one with checkpoints is resumed (see --resume).')
  flags.DEFINE_string('runs_root', 'runs', 'Parent of the default run directories.')
  flags.DEFINE_bool('resume', True, 'Resume from the newest checkpoint of --run_dir if it '
                    'has one; --noresume starts over (old checkpoints are removed).')
  flags.DEFINE_integer('checkpoint_every_steps', checkpoint_every_steps,
                       'Checkpoint every this many training steps (0: never).', lower_bound=0)
  flags.DEFINE_float('checkpoint_every_seconds', 600.0, 'Also checkpoint when this much '
                     'wall time passed since the last one (0: never).', lower_bound=0.0)
  flags.DEFINE_integer('keep_checkpoints', 3, 'Checkpoints kept (the newest).', lower_bound=1)
  flags.DEFINE_float('log_every_seconds', log_every_seconds, 'Seconds between progress '
                     'lines on the terminal (CSV logs get every episode).', lower_bound=0.0)
  flags.DEFINE_integer('torch_threads', 1, 'torch.set_num_threads (small networks are '
                       'fastest with 1).', lower_bound=1)
  flags.DEFINE_bool('video', True, 'Record a greedy episode to videos/ at the end.')
  flags.DEFINE_integer('record_every', 0, 'During training, record every this-many-th '
                       'evaluation episode to videos/evaluator-<episode>.mp4; 0 records none.',
                       lower_bound=0)
  flags.DEFINE_integer('num_envs', 1, 'Copies of the environment stepped together '
                       '(a BatchedEnvironment); the actor acts on all of them in one '
                       'forward pass.', lower_bound=1)
  flags.DEFINE_integer('env_processes', 0, 'Worker processes stepping the --num_envs '
                       'copies (a SubprocessBatchedEnvironment, same results); 0 steps '
                       'them in this process. Pays off for environments slower to step '
                       'than to send their observations between processes.', lower_bound=0)
  flags.DEFINE_integer('fps', 30, 'Frames per second of the videos.', lower_bound=1)
  flags.DEFINE_bool('random_baseline', True, 'Evaluate a uniformly random policy once and '
                    'log its return beside every evaluation (baseline_return_* columns).')
  flags.DEFINE_bool('plots', True, 'Write learning curves (and GridWorld value maps) to '
                    'plots/ at the end.')


def _flag_type(field: dataclasses.Field, config_cls: type) -> Any:
  hints = typing.get_type_hints(config_cls)
  return hints.get(field.name, type(field.default))


def define_config_flags(config_cls: Type[Any],
                        flag_values: flags.FlagValues = FLAGS) -> Callable[[], Any]:
  """Defines one flag per field of the config dataclass `config_cls`.

  Each flag has the field's default and help text (with its valid range) in
  `--help`, and a validator that rejects out-of-range values while flags are
  parsed, before anything starts. Tuple fields are comma-separated lists.

  Returns:
    A function that builds the config from the parsed flags.
  """
  if not dataclasses.is_dataclass(config_cls):
    raise TypeError(f'config_cls must be a dataclass, got {config_cls!r}.')
  defaults = config_cls()
  names = []
  for field in dataclasses.fields(config_cls):
    name = field.name
    default = getattr(defaults, name)
    text, allowed = config_fields.field_help(field)
    help_text = f'{text} Valid: {allowed}.' if allowed else text
    kind = _flag_type(field, config_cls)
    if isinstance(default, bool):
      flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
    elif isinstance(default, int):
      flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
    elif isinstance(default, float):
      flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
    elif isinstance(default, str):
      if field.metadata.get('choices'):
        flags.DEFINE_enum(name, default, list(field.metadata['choices']), help_text,
                          flag_values=flag_values)
      else:
        flags.DEFINE_string(name, default, help_text, flag_values=flag_values)
    elif isinstance(default, tuple):
      flags.DEFINE_list(name, [str(v) for v in default], help_text, flag_values=flag_values)
    else:
      raise TypeError(f'Cannot make a flag of {config_cls.__name__}.{name} '
                      f'({kind}, default {default!r}).')
    names.append(name)
    flags.register_validator(
        name, _make_validator(field, default), message=f'invalid --{name}',
        flag_values=flag_values)

  def build() -> Any:
    values = {name: _convert(getattr(flag_values, name), getattr(defaults, name))
              for name in names}
    return config_cls(**values)

  return build


def _convert(value: Any, default: Any) -> Any:
  if isinstance(default, tuple):
    item_type = type(default[0]) if default else str
    return tuple(item_type(v) for v in value)
  return value


def _make_validator(field: dataclasses.Field, default: Any) -> Callable[[Any], bool]:
  def validate(value: Any) -> bool:
    try:
      value = _convert(value, default)
    except (TypeError, ValueError):
      raise flags.ValidationError(
          f'--{field.name}={",".join(map(str, value))} must be a comma-separated list '
          f'of {type(default[0]).__name__}.') from None
    message = config_fields.check_value(field, value)
    if message:
      raise flags.ValidationError(f'--{message}')
    return True
  return validate


def build_config(make_config: Callable[[], Any]) -> Any:
  """Builds the config from flags; a cross-field error exits with its message."""
  try:
    return make_config()
  except (TypeError, ValueError) as e:
    fail(str(e))


def config_as_dict(config: Any) -> Dict[str, Any]:
  return {k: (list(v) if isinstance(v, tuple) else v)
          for k, v in dataclasses.asdict(config).items()}


class AgentFactory:
  """How `run_experiment` builds an agent and its evaluation policy.

  Subclass it (or use `BuilderAgentFactory` for builders with DQN's
  interface) to plug another agent into the launchers.
  """

  def make_agent(self, environment_spec: specs.EnvironmentSpec, *, total_steps: int,
                 seed: int, counter: counting.Counter, learner_logger: loggers.Logger,
                 replay_checkpoint_dir: Optional[str]) -> Any:
    """Returns the training Agent (an Actor with save/restore/close)."""
    raise NotImplementedError

  def make_eval_actor(self, agent: Any, environment_spec: specs.EnvironmentSpec) -> core.Actor:
    """Returns the greedy policy acting with the agent's current parameters."""
    raise NotImplementedError


class BuilderAgentFactory(AgentFactory):
  """Agents from a builder with `make_agent(...)` and `make_actor(network, spec)`.

  Args:
    make_builder: returns the builder; called when the agent is built (after
      the environment was checked), so that importing torch and Reverb does
      not delay flag and environment errors.
  """

  def __init__(self, make_builder: Callable[[], Any]):
    if not callable(make_builder):
      raise TypeError(f'make_builder must be callable, got {make_builder!r}.')
    self._make_builder = make_builder
    self._builder = None

  @property
  def builder(self) -> Any:
    if self._builder is None:
      self._builder = self._make_builder()
    return self._builder

  def make_agent(self, environment_spec, **kwargs):
    return self.builder.make_agent(environment_spec, **kwargs)

  def make_eval_actor(self, agent, environment_spec):
    """The builder's `make_greedy_actor(agent, spec)` when it has one, else
    `make_actor(network, spec)` on the learner's network (value-based agents)."""
    make_greedy_actor = getattr(self.builder, 'make_greedy_actor', None)
    if make_greedy_actor is not None:
      return make_greedy_actor(agent, environment_spec)
    return self.builder.make_actor(agent.learner.network, environment_spec)


@dataclasses.dataclass
class ExperimentResult:
  run_dir: str
  final_evaluation: Optional[Dict[str, Any]]
  checkpoint: Optional[str]
  video: Optional[str]
  plots: Dict[str, str]
  counts: Dict[str, Any]
  interrupted: bool


def environment_kwargs() -> Dict[str, Any]:
  """`make_environment` keyword arguments from the flags (seed excluded)."""
  kwargs: Dict[str, Any] = {}
  if FLAGS.observation_type and FLAGS.env.startswith('gridworld:'):
    kwargs['observation_type'] = FLAGS.observation_type
  if FLAGS.max_episode_steps is not None:
    kwargs['max_episode_length'] = FLAGS.max_episode_steps
  return kwargs


def make_environment(name: str, seed: int, render_mode: Optional[str] = None,
                     **kwargs: Any):
  """`factory.make_environment`; a bad name or option raises LauncherError."""
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  try:
    return factory.make_environment(name, seed=seed, render_mode=render_mode, **kwargs)
  except (ValueError, TypeError, KeyError, NotImplementedError) as e:
    message = e.args[0] if isinstance(e, KeyError) and e.args else e
    raise LauncherError(f'--env={name}: {message}') from e


def _check_spec(spec: specs.EnvironmentSpec) -> specs.EnvironmentSpec:
  if not isinstance(spec.actions, specs.DiscreteArray):
    raise LauncherError(
        f'--env={FLAGS.env} has actions {spec.actions}; these agents need discrete '
        f'actions (a DiscreteArray), e.g. gridworld:simple or gym:CartPole-v1.')
  return spec


def _environment_rng_state(environment) -> Optional[Dict[str, Any]]:
  """The environment's `get_rng_state()`, or None if it has none."""
  get_state = getattr(environment, 'get_rng_state', None)
  return get_state() if callable(get_state) else None


def _truncate_log(path: str, key: str, limit: float) -> None:
  """Drops rows of a CSV log whose `key` exceeds `limit` (written after a checkpoint)."""
  if not os.path.exists(path):
    return
  with open(path, newline='') as f:
    rows = list(csv.reader(f))
  if not rows or key not in rows[0]:
    return
  index = rows[0].index(key)
  kept = [rows[0]]
  for row in rows[1:]:
    try:
      if len(row) == len(rows[0]) and float(row[index]) <= limit:
        kept.append(row)
    except ValueError:
      continue
  if len(kept) != len(rows):
    temporary = path + '.tmp'
    with open(temporary, 'w', newline='') as f:
      csv.writer(f).writerows(kept)
    os.replace(temporary, path)


def _last_logged(path: str, key: str) -> int:
  """The `key` column of the last row of a CSV log (-1 without rows)."""
  if not os.path.exists(path):
    return -1
  with open(path, newline='') as f:
    rows = list(csv.DictReader(f))
  try:
    return int(float(rows[-1][key])) if rows else -1
  except (KeyError, ValueError, TypeError):
    return -1


def _learner_logger(run: run_dir_lib.RunDirectory, print_every: float) -> loggers.Logger:
  """Learner rows: to CSV at most once a second, to the terminal every `print_every` s."""
  terminal = loggers.TimeFilter(loggers.TerminalLogger('learner'), print_every)
  csv_logger = loggers.CSVLogger(run.logs_dir, 'learner')
  return loggers.TimeFilter(loggers.NoneFilter(loggers.Dispatcher([terminal, csv_logger])), 1.0)


def _start_over(run: run_dir_lib.RunDirectory) -> None:
  """Removes the checkpoints (and replay) and logs of an earlier run in `run`."""
  import shutil  # pylint: disable=g-import-not-at-top
  for directory in (run.checkpoints_dir, run.logs_dir):
    for name in os.listdir(directory):
      path = os.path.join(directory, name)
      if os.path.isdir(path):
        shutil.rmtree(path)
      else:
        os.remove(path)


def launcher_flags() -> flags.FlagValues:
  """The flags of the run: this module's and the launcher's (`__main__`) key flags.

  flags.txt and the resume check use only these: libraries register absl flags
  of their own when imported (TensorFlow, under Reverb: --delta_threshold,
  --hbm_oom_exit, ...), which are no part of a run's configuration.
  """
  selected = flags.FlagValues()
  for module in (__name__, '__main__'):
    for flag in FLAGS.get_key_flags_for_module(module):
      if flag.name not in selected:
        selected[flag.name] = flag
        selected.register_flag_by_module(module, flag)
  return selected


def _prepare_run_directory(agent_name: str) -> Tuple[run_dir_lib.RunDirectory, bool]:
  """Creates or reopens the run directory; returns it and whether to resume."""
  try:
    run = run_dir_lib.RunDirectory.create(root=FLAGS.runs_root, experiment=agent_name,
                                          run_dir=FLAGS.run_dir)
  except (ValueError, OSError) as e:
    raise LauncherError(f'--run_dir: {e}') from e
  checkpointer = checkpointing.Checkpointer(run.checkpoints_dir)
  has_checkpoint = bool(checkpointer.checkpoints())
  resume = has_checkpoint and FLAGS.resume
  if resume and os.path.exists(run.flags_path):
    run_flags = launcher_flags()
    # Flags this launcher does not define (e.g. TensorFlow's, which older
    # flags.txt files hold) are not compared.
    foreign = tuple(set(run.read_flags()) - set(run_flags))
    differences = run.compare_flags(run_flags, ignore=RESUME_IGNORED_FLAGS + foreign)
    if differences:
      details = ', '.join(f'--{name}: saved {saved!r}, now {given!r}'
                          for name, (saved, given) in differences.items())
      raise LauncherError(
          f'{run.path} holds a run with other settings ({details}). Use the same flags '
          f'to resume it, --noresume to start over there, or another --run_dir.')
  if not resume:
    _start_over(run)
  run.write_flags(launcher_flags())
  return run, resume


def run_experiment(agent_name: str, config: Any, factory: AgentFactory) -> ExperimentResult:
  """Trains, evaluates and checkpoints as the flags say (see the module docstring).

  A `LauncherError` (bad environment, incompatible run directory) exits with
  status 2 and its message.
  """
  try:
    return _run_experiment(agent_name, config, factory)
  except LauncherError as e:
    fail(str(e))


def _run_experiment(agent_name: str, config: Any, factory: AgentFactory) -> ExperimentResult:
  seed = FLAGS.seed
  env_kwargs = environment_kwargs()
  eval_environment = make_environment(
      FLAGS.env, seed + 1, render_mode='rgb_array' if FLAGS.record_every else None,
      **env_kwargs)
  if FLAGS.env_processes and not (FLAGS.num_envs > 1 and FLAGS.env_processes <= FLAGS.num_envs):
    if FLAGS.num_envs == 1:
      raise LauncherError(f'--env_processes={FLAGS.env_processes} needs --num_envs > 1.')
    raise LauncherError(
        f'--env_processes={FLAGS.env_processes} must be at most --num_envs='
        f'{FLAGS.num_envs} (each process steps at least one copy).')
  from rlkit.environments import factory as env_factory  # pylint: disable=g-import-not-at-top
  if FLAGS.num_envs > 1 and FLAGS.env_processes:
    environment = subprocess_batched.SubprocessBatchedEnvironment(
        env_factory.EnvironmentFactory(FLAGS.env, **env_kwargs), FLAGS.num_envs, seed,
        num_processes=FLAGS.env_processes)
  elif FLAGS.num_envs > 1:
    environment = batched.BatchedEnvironment.from_factory(
        env_factory.EnvironmentFactory(FLAGS.env, **env_kwargs), FLAGS.num_envs, seed)
  else:
    environment = make_environment(FLAGS.env, seed, **env_kwargs)
  try:
    return _run_in_environment(agent_name, config, factory, environment,
                               eval_environment, env_kwargs)
  finally:
    environment.close()


def _run_in_environment(agent_name: str, config: Any, factory: AgentFactory,
                        environment, eval_environment,
                        env_kwargs: Dict[str, Any]) -> ExperimentResult:
  seed = FLAGS.seed
  spec = _check_spec(
      environment.single_environment_spec()
      if isinstance(environment, batched.BatchedEnvironmentBase)
      else specs.make_environment_spec(environment))
  run, resume = _prepare_run_directory(agent_name)
  print(f'[{agent_name}] {FLAGS.env} {env_kwargs or ""} -> {run.path}', flush=True)
  checkpointer = checkpointing.Checkpointer(run.checkpoints_dir, keep=FLAGS.keep_checkpoints)
  resume_state = None
  if resume:
    # Before any logger opens the logs: drop rows written after the checkpoint.
    resume_state = checkpointer.restore()
    saved_counts = resume_state['counter']
    for label, key in (('train', 'actor_steps'), ('evaluator', 'actor_steps'),
                       ('learner', 'learner_steps')):
      _truncate_log(run.log_path(label), key, saved_counts.get(key, 0))

  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(FLAGS.torch_threads)
  rng.seed_everything(seed)
  counter = counting.Counter()
  counter.increment(actor_steps=0, actor_episodes=0, learner_steps=0)
  agent = factory.make_agent(
      spec, total_steps=FLAGS.num_steps, seed=seed, counter=counter,
      learner_logger=_learner_logger(run, max(5.0, 2 * FLAGS.log_every_seconds)),
      replay_checkpoint_dir=os.path.join(run.checkpoints_dir, 'replay'),
      **({'num_envs': FLAGS.num_envs} if FLAGS.num_envs > 1 else {}))
  try:
    return _train(agent_name, config, factory, agent, environment, eval_environment, spec,
                  env_kwargs, run, resume_state, counter, checkpointer)
  finally:
    agent.close()


def _train(agent_name, config, factory, agent, environment, eval_environment, spec,
           env_kwargs, run, resume_state, counter, checkpointer) -> ExperimentResult:
  eval_actor = factory.make_eval_actor(agent, spec)
  resume = resume_state is not None

  if resume:
    state = resume_state
    agent.restore(state['agent'])
    counter.restore(state['counter'])
    rng.set_rng_states(state.get('rng'))
    for env, env_state in ((environment, state.get('environment_rng')),
                           (eval_environment, state.get('eval_environment_rng'))):
      if env_state is not None:
        env.set_rng_state(env_state)
    counts = counter.get_counts()
    print(f'[{agent_name}] Resumed from {checkpointer.last_restore["path"]} at '
          f'{counts["actor_steps"]} steps, {counts["actor_episodes"]} episodes.', flush=True)

  train_logger = run.make_logger('train', time_delta=FLAGS.log_every_seconds)
  eval_logger = run.make_logger('evaluator', time_delta=0.0)
  baseline = None
  if FLAGS.random_baseline:
    baseline = evaluation.random_baseline(
        make_environment(FLAGS.env, FLAGS.seed + 3, **env_kwargs), FLAGS.eval_episodes,
        seed=FLAGS.seed)
  evaluator = evaluation.Evaluator(
      eval_environment, eval_actor, FLAGS.eval_episodes, counter=counter,
      logger=eval_logger, baseline=baseline,
      video_directory=run.videos_dir if FLAGS.record_every else None,
      record_every=FLAGS.record_every or None, fps=FLAGS.fps)
  batched_run = isinstance(environment, batched.BatchedEnvironmentBase)
  loop_class = (batched_environment_loop.BatchedEnvironmentLoop if batched_run
                else environment_loop.EnvironmentLoop)
  loop = loop_class(environment, agent, counter=counting.Counter(counter, prefix='actor'),
                    logger=loggers.NoOpLogger(), label='train')

  writer = background.BackgroundJob('checkpoint')

  def save_checkpoint(in_background: bool = False) -> Optional[str]:
    """Writes the replay tables, then the agent's checkpoint; returns its path.

    The state is taken now; with `in_background` the (slow, for large
    replays) writes happen in a thread while training goes on, and the path
    is not returned. The replay may then hold a few more items than the
    agent has seen, as when a run is killed between the two writes.
    """
    counts = counter.get_counts()
    state = {
        'format': CHECKPOINT_FORMAT,
        'agent_name': agent_name,
        'environment': {'name': FLAGS.env, 'kwargs': env_kwargs},
        'config': config_as_dict(config),
        'agent': agent.save(),
        'counter': counter.save(),
        'rng': rng.get_rng_states(),
        'environment_rng': _environment_rng_state(environment),
        'eval_environment_rng': _environment_rng_state(eval_environment),
    }
    server = getattr(agent, 'replay_server', None)

    def write() -> str:
      replay_checkpoint = server.checkpoint() if server is not None else None
      return checkpointer.save(
          state, int(counts['actor_steps']),
          metadata={'agent': agent_name, 'env': FLAGS.env,
                    'actor_steps': counts['actor_steps'],
                    'learner_steps': counts.get('learner_steps', 0),
                    'replay_checkpoint': replay_checkpoint})

    if in_background:
      writer.submit(write)
      return None
    writer.wait()
    return write()

  def budget_done(counts: Mapping[str, Any]) -> bool:
    if FLAGS.num_episodes is not None:
      return counts['actor_episodes'] >= FLAGS.num_episodes
    return counts['actor_steps'] >= FLAGS.num_steps

  counts = counter.get_counts()
  eval_every, ckpt_every = FLAGS.eval_every, FLAGS.checkpoint_every_steps
  next_eval = (counts['actor_steps'] // eval_every + 1) * eval_every if eval_every else None
  next_ckpt = (counts['actor_steps'] // ckpt_every + 1) * ckpt_every if ckpt_every else None
  last_ckpt_time = time.monotonic()
  last_eval_steps = _last_logged(run.log_path('evaluator'), 'actor_steps') if resume else -1
  last_checkpoint = None
  interrupted = False
  start = time.monotonic()

  with writer, signals.Terminator() as terminator:
    solved = False
    while not budget_done(counts) and not terminator.requested and not solved:
      rows = loop.step() if batched_run else [loop.run_episode()]
      epsilon = getattr(getattr(agent, 'actor', None), 'epsilon', None)
      for row in rows:
        if epsilon is not None:
          row['epsilon'] = epsilon
        train_logger.write(row)
      counts = counter.get_counts()
      steps = counts['actor_steps']
      if next_eval is not None and steps >= next_eval:
        evaluator.run()
        last_eval_steps = steps
        next_eval = (steps // eval_every + 1) * eval_every
        solved = _solved(evaluator.last_result, agent_name, steps)
      due_steps = next_ckpt is not None and steps >= next_ckpt
      due_time = (FLAGS.checkpoint_every_seconds > 0 and
                  time.monotonic() - last_ckpt_time >= FLAGS.checkpoint_every_seconds)
      if due_steps or due_time:
        save_checkpoint(in_background=True)
        last_ckpt_time = time.monotonic()
        if next_ckpt is not None:
          next_ckpt = (steps // ckpt_every + 1) * ckpt_every
    if terminator.requested:
      interrupted = True
      last_checkpoint = save_checkpoint()
      print(f'[{agent_name}] {terminator.signal_name}: checkpoint written to '
            f'{last_checkpoint}; run the same command to resume.', flush=True)

  result = ExperimentResult(run_dir=run.path, final_evaluation=None, checkpoint=last_checkpoint,
                            video=None, plots={}, counts=counts, interrupted=interrupted)
  if interrupted:
    train_logger.close()
    eval_logger.close()
    return result

  if last_eval_steps != counts['actor_steps']:
    evaluator.run()
  result.final_evaluation = evaluator.last_result
  last_checkpoint = save_checkpoint()
  result.checkpoint = last_checkpoint
  train_logger.close()
  eval_logger.close()
  elapsed = time.monotonic() - start

  if FLAGS.video:
    result.video = _record_video(eval_actor, env_kwargs, run)
  if FLAGS.plots:
    result.plots = _write_plots(run, eval_actor, eval_environment)
  final = result.final_evaluation or {}
  print(f'\n[{agent_name}] Done: {counts["actor_steps"]} steps, '
        f'{counts["actor_episodes"]} episodes, {counts.get("learner_steps", 0)} learner '
        f'steps in {elapsed:.1f} s.')
  if final:
    print(f'[{agent_name}] Greedy evaluation over {final["episodes"]} episodes: return '
          f'{final["return_mean"]:.2f} +- {final["return_std"]:.2f}, length '
          f'{final["episode_length_mean"]:.1f}.')
  print(f'[{agent_name}] Run directory: {run.path}')
  print(f'[{agent_name}] Checkpoint:    {last_checkpoint}')
  if result.video:
    print(f'[{agent_name}] Video:         {result.video}')
  for name, path in result.plots.items():
    print(f'[{agent_name}] Plot ({name}): {path}')
  sys.stdout.flush()
  return result


def _solved(result: Optional[Mapping[str, Any]], agent_name: str, steps: int) -> bool:
  """Whether an evaluation reached --stop_at_return (and says so)."""
  if FLAGS.stop_at_return is None or not result:
    return False
  if result['return_mean'] < FLAGS.stop_at_return:
    return False
  print(f'[{agent_name}] Solved at {steps} steps: greedy return {result["return_mean"]:.2f} '
        f'>= --stop_at_return={FLAGS.stop_at_return:g}; stopping.', flush=True)
  return True


def _record_video(actor: core.Actor, env_kwargs: Dict[str, Any],
                  run: run_dir_lib.RunDirectory) -> Optional[str]:
  from rlkit.utils import video  # pylint: disable=g-import-not-at-top
  try:
    environment = make_environment(FLAGS.env, FLAGS.seed + 2, render_mode='rgb_array',
                                   **env_kwargs)
    return video.record_episode(environment, actor, run.video_path('greedy'))['path']
  except Exception as e:  # pylint: disable=broad-except
    print(f'Could not record a video: {type(e).__name__}: {e}', file=sys.stderr)
    return None


def _write_plots(run: run_dir_lib.RunDirectory, actor: core.Actor,
                 environment: Any) -> Dict[str, str]:
  from rlkit.utils import plotting  # pylint: disable=g-import-not-at-top
  paths: Dict[str, str] = {}
  try:
    paths['learning_curves'] = plotting.plot_learning_curves(run.path)
  except (ValueError, FileNotFoundError) as e:
    print(f'Could not plot learning curves: {e}', file=sys.stderr)
  q_values = getattr(actor, 'q_values', None)
  if FLAGS.env.startswith('gridworld:') and q_values is not None:
    try:
      paths.update(plotting.plot_gridworld_values(environment, q_values, run.plots_dir))
    except (TypeError, ValueError) as e:
      print(f'Could not plot GridWorld values: {e}', file=sys.stderr)
  return paths


def check_no_arguments(argv: List[str]) -> None:
  if len(argv) > 1:
    fail(f'unexpected arguments {argv[1:]}; flags are --name=value.')
