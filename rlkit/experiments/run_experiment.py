"""The single-process runner: train, evaluate, checkpoint and resume any builder's agent.

    result = run_experiment(config, eval_every=5_000, num_eval_episodes=10)

One call makes the environments and the run directory (`run.json`,
`flags.txt` from a launcher, `logs/`, `checkpoints/`, `videos/`, `plots/`),
the agent (`local_layout.make_local_agent`) and an evaluator; trains until
the budget, evaluating every `eval_every` actor steps; checkpoints
periodically (in the background) and on SIGTERM/SIGINT; resumes from the
newest checkpoint of an existing run directory; and at the end writes a
video of the greedy policy and the plots. No absl: callable from a notebook.
"""

import time
from typing import Any, Dict, Mapping, Optional

from rlkit import batched_environment_loop
from rlkit import environment_loop
from rlkit.agents import builders
from rlkit.agents import registry
from rlkit.environments import batched
from rlkit.experiments import config as config_lib
from rlkit.experiments import environments as environments_lib
from rlkit.experiments import local_layout
from rlkit.experiments import run_checkpoints
from rlkit.experiments import run_common
from rlkit.experiments import run_directory
from rlkit.experiments import run_loggers
from rlkit.experiments import schedule_horizon
from rlkit.utils import background
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import rng
from rlkit.utils import signals


ExperimentResult = run_common.ExperimentResult


class ActorMetrics:
  """An observer adding the actor's `get_metrics()` (e.g. epsilon) to every training row."""

  def __init__(self, actor: Any):
    self._get_metrics = getattr(actor, 'get_metrics', None)

  def observe_first(self, env, timestep) -> None:
    del env, timestep

  def observe(self, env, timestep, action) -> None:
    del env, timestep, action

  def get_metrics(self) -> Mapping[str, Any]:
    return dict(self._get_metrics()) if callable(self._get_metrics) else {}


def agent_name_of(config: config_lib.ExperimentConfig) -> str:
  if config.agent_name:
    return config.agent_name
  return registry.name_of(config.builder)


def run_experiment(config: config_lib.ExperimentConfig, eval_every: Optional[int] = None,
                   num_eval_episodes: Optional[int] = None) -> ExperimentResult:
  """Runs `config` in this process (see the module docstring).

  Args:
    config: the experiment.
    eval_every: actor steps between evaluations (overrides config.evaluation.every_steps).
    num_eval_episodes: episodes per evaluation (overrides config.evaluation.episodes).

  Raises:
    run_directory.RunDirectoryError: the run directory is another run's, or unwritable.
    builders.UnsupportedSpecError: the agent cannot act in the environment's spec.
  """
  if not isinstance(config, config_lib.ExperimentConfig):
    raise TypeError(f'config must be an ExperimentConfig, got {type(config).__name__}.')
  config = run_common.with_evaluation_overrides(config, eval_every, num_eval_episodes)
  return _Run(config).run()


def check_supported(builder: Any, environment_spec: Any) -> None:
  """Raises UnsupportedSpecError naming the spec and the rlkit agents that can act in it."""
  unsupported = builder.supports(environment_spec)
  if not unsupported:
    return
  others = registry.agents_supporting(environment_spec)
  hint = (f' rlkit agents that can: {", ".join(others)}.' if others else
          ' No rlkit agent can act in it.')
  raise builders.UnsupportedSpecError(unsupported + hint)


class _Run:
  """One call of `run_experiment`: the pieces, built in order and closed in reverse."""

  def __init__(self, config: config_lib.ExperimentConfig):
    self.config = config
    self.name = agent_name_of(config)
    self.started = time.monotonic()
    self.print_fn = lambda text: print(text, flush=True)

  def _print(self, text: str) -> None:
    self.print_fn(f'[{self.name}] {text}')

  def run(self) -> ExperimentResult:
    c = self.config
    environment = environments_lib.make_training_environment(c)
    try:
      spec = environments_lib.single_spec(environment)
      check_supported(c.builder, spec)
      run, resume = run_common.open_run(c, self.name, self._print)
      return self._run_in(run, resume, environment, spec)
    finally:
      environment.close()

  def _run_in(self, run, resume, environment, spec) -> ExperimentResult:
    c = self.config
    checkpointer = run_checkpoints.RunCheckpointer(run.checkpoints_dir, keep=c.checkpointing.keep)
    state = None
    if resume:
      state = run_common.restore_state(run, checkpointer, c.builder,
                                       run_common.SINGLE_PROCESS_LOGS)
    horizon = schedule_horizon.resolve(c, state, self._print)

    import torch  # pylint: disable=g-import-not-at-top
    torch.set_num_threads(c.torch_threads)
    rng.seed_everything(c.seed)
    counter = counting.Counter()
    counter.increment(actor_steps=0, actor_episodes=0, learner_steps=0)
    budget = ((c.max_num_episodes, 'episodes') if c.max_num_episodes is not None
              else (c.max_num_actor_steps, 'steps'))
    logger_factory = c.logger_factory or run_loggers.RunLoggers(
        run, c.log_every_seconds, resume_state=state, verbosity=c.verbosity, budget=budget,
        tensorboard=c.tensorboard)
    if isinstance(logger_factory, run_loggers.RunLoggers):
      self.print_fn = logger_factory.print
    networks = (c.network_factory(spec, c.seed) if c.network_factory else None)
    agent = local_layout.make_local_agent(
        c.builder, spec, seed=c.seed, counter=counter, logger_fn=logger_factory,
        num_envs=c.num_envs if c.num_envs > 1 else None, horizon=horizon,
        replay_checkpoint_dir=run_checkpoints.replay_dir(run.checkpoints_dir),
        networks=networks)
    try:
      result = _Training(self, run, checkpointer, agent, environment, spec, counter,
                         logger_factory, horizon, state).run()
    finally:
      agent.close()
      close = getattr(logger_factory, 'close', None)
      if callable(close):
        close()
      self.print_fn = lambda text: print(text, flush=True)
    result.total_seconds = time.monotonic() - self.started
    if not result.interrupted:
      run_common.print_summary(self._print, result)
    return result


class _Training:
  """The training loop of one run, with evaluation, checkpoints and the end-of-run outputs."""

  def __init__(self, owner: _Run, run, checkpointer, agent, environment, spec, counter,
               logger_factory, horizon, resume_state):
    self.owner, self.run_dir, self.checkpointer = owner, run, checkpointer
    self.agent, self.environment, self.spec = agent, environment, spec
    self.counter, self.logger_factory, self.horizon = counter, logger_factory, horizon
    self.resume_state = resume_state
    c = owner.config
    self.eval_environment = environments_lib.make_environment(
        c.evaluation_factory, c.seed + 1, render=bool(c.evaluation.record_every))
    self.eval_actor = registry.greedy_actor(c.builder, spec, agent.learner, c.seed)
    self.writer = background.BackgroundJob('checkpoint')

  def _state(self) -> Dict[str, Any]:
    c = self.owner.config
    return {
        'format': run_checkpoints.CHECKPOINT_FORMAT,
        'agent_name': self.owner.name,
        'environment': c.environment_record(),
        'config': run_directory.config_as_dict(c.builder.config),
        'agent': self.agent.save(),
        'policy_variables': self.agent.learner.get_variables(['policy'])[0],
        'counter': self.counter.save(),
        'rng': rng.get_rng_states(),
        'environment_rng': environments_lib.rng_state(self.environment),
        'eval_environment_rng': environments_lib.rng_state(self.eval_environment),
        'schedule_horizon': self.horizon,
    }

  def save_checkpoint(self, in_background: bool = False) -> Optional[str]:
    """Takes the state now; writes replay then agent checkpoint (in a thread if asked)."""
    counts = self.counter.get_counts()
    state = self._state()
    c = self.owner.config
    server = self.agent.replay_server if c.builder.checkpoint_replay() else None
    metadata = {'agent': self.owner.name,
                'env': (c.environment_record() or {}).get('name'),
                'actor_steps': counts['actor_steps'],
                'learner_steps': counts.get('learner_steps', 0)}

    def write() -> str:
      return self.checkpointer.save(state, int(counts['actor_steps']), metadata, server)

    if in_background:
      self.writer.submit(write)
      return None
    self.writer.wait()
    return write()

  def _restore(self) -> None:
    state = self.resume_state
    self.agent.restore(state['agent'])
    self.counter.restore(state['counter'])
    rng.set_rng_states(state.get('rng'))
    environments_lib.set_rng_state(self.environment, state.get('environment_rng'))
    environments_lib.set_rng_state(self.eval_environment, state.get('eval_environment_rng'))
    counts = self.counter.get_counts()
    self.owner._print(  # pylint: disable=protected-access
        f'Resumed from {self.checkpointer.last_restore["path"]} at {counts["actor_steps"]} '
        f'steps, {counts["actor_episodes"]} episodes.')

  def run(self) -> ExperimentResult:
    c = self.owner.config
    ev = c.evaluation
    if self.resume_state is not None:
      self._restore()
    train_logger = self.logger_factory('train')
    eval_logger = self.logger_factory('evaluator')
    evaluator = run_common.make_evaluator(c, self.eval_environment, self.eval_actor,
                                          self.counter, eval_logger, self.run_dir)
    batched_run = isinstance(self.environment, batched.BatchedEnvironmentBase)
    loop_class = (batched_environment_loop.BatchedEnvironmentLoop if batched_run
                  else environment_loop.EnvironmentLoop)
    actor_metrics = ActorMetrics(self.agent.actor)
    observers = [actor_metrics] + list(c.observers)
    loop_kwargs = {} if batched_run else {'observers': observers}
    loop = loop_class(self.environment, self.agent,
                      counter=counting.Counter(self.counter, prefix='actor'),
                      logger=loggers.NoOpLogger(), label='train', **loop_kwargs)
    counts = self.counter.get_counts()
    every, ckpt_every = ev.every_steps, c.checkpointing.every_steps
    next_eval = (counts['actor_steps'] // every + 1) * every if every else None
    next_ckpt = (counts['actor_steps'] // ckpt_every + 1) * ckpt_every if ckpt_every else None
    last_ckpt_time = time.monotonic()
    last_eval_steps = (run_directory.last_logged(self.run_dir.log_path('evaluator'),
                                                 'actor_steps')
                       if self.resume_state is not None else -1)
    interrupted, solved, last_checkpoint = False, False, None
    start = time.monotonic()
    with self.writer, signals.Terminator() as terminator:
      while not run_common.budget_done(c, counts) and not terminator.requested and not solved:
        rows = loop.step() if batched_run else [loop.run_episode()]
        for row in rows:
          if batched_run:  # The batched loop takes no observers: one row per finished copy.
            row.update(actor_metrics.get_metrics())
          train_logger.write(row)
        counts = self.counter.get_counts()
        steps = counts['actor_steps']
        if next_eval is not None and steps >= next_eval:
          evaluator.run()
          last_eval_steps = steps
          next_eval = (steps // every + 1) * every
          solved = run_common.solved(c, evaluator.last_result, steps, self.owner._print)  # pylint: disable=protected-access
        due_steps = next_ckpt is not None and steps >= next_ckpt
        due_time = (c.checkpointing.every_seconds > 0 and
                    time.monotonic() - last_ckpt_time >= c.checkpointing.every_seconds)
        if due_steps or due_time:
          self.save_checkpoint(in_background=c.checkpointing.in_background)
          last_ckpt_time = time.monotonic()
          if next_ckpt is not None:
            next_ckpt = (steps // ckpt_every + 1) * ckpt_every
      if terminator.requested:
        interrupted = True
        last_checkpoint = self.save_checkpoint()
        self.owner._print(  # pylint: disable=protected-access
            f'{terminator.signal_name}: checkpoint written to {last_checkpoint}; run the '
            f'same command to resume.')
    training_seconds = time.monotonic() - start
    result = ExperimentResult(run_dir=self.run_dir.path, final_evaluation=None,
                              checkpoint=last_checkpoint, video=None, plots={},
                              counts=counts, interrupted=interrupted,
                              training_seconds=training_seconds)
    if not interrupted:
      if last_eval_steps != counts['actor_steps']:
        evaluator.run()
      result.final_evaluation = evaluator.last_result
      result.checkpoint = self.save_checkpoint()
    train_logger.close()
    eval_logger.close()
    evaluator.close()
    if not interrupted:
      run_common.write_outputs(c, self.run_dir, self.eval_actor, self.eval_environment, result)
    self.eval_environment.close()
    return result
