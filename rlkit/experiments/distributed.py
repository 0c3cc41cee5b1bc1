"""Distributed runs on Ray: a learner holding the replay, K actors, a counter (Acme's layout).

    result = run_distributed_experiment(config, num_actors=4)            # a local cluster
    result = run_distributed_experiment(config, 4, ray_address='10.0.0.1:6379')

The same `ExperimentConfig` and builder as `run_experiment`; nodes are Ray
actors built from the builder's methods (see distributed_nodes.py). This
process (the launcher) opens the run directory, starts the nodes, evaluates
the greedy policy every `evaluation.every_steps` actor steps (summed over the
actors), checkpoints, stops the nodes when the budget is spent (the learner
first), and ends with the final evaluation, checkpoint, video and plots as
`run_experiment` does. SIGTERM/SIGINT checkpoint and stop every node; the
same call resumes. A local cluster binds Ray to 127.0.0.1 and is shut down
at the end; a cluster given by `ray_address` is only left.
"""

import dataclasses
import numbers
import os
import socket
import sys
import time
from typing import Any, Dict, List, Mapping, Optional

from rlkit.experiments import config as config_lib
from rlkit.experiments import environments as environments_lib
from rlkit.experiments import run_checkpoints
from rlkit.experiments import run_common
from rlkit.experiments import run_directory
from rlkit.experiments import schedule_horizon

LAYOUT = 'distributed'
POLL_S = 0.1
HEALTH_EVERY_S = 2.0
COUNT_KEYS = ('actor_steps', 'actor_episodes', 'learner_steps', 'evaluator_episodes',
              'evaluator_steps')


class ClusterError(Exception):
  """The Ray cluster cannot be used as asked (a usage error: one line, naming the address)."""


class NodeFailedError(RuntimeError):
  """The learner (with the replay it holds) or the counter failed: the run cannot go on."""


def _check_number(name: str, value: Any, minimum: float) -> None:
  if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < minimum:
    raise ValueError(f'{name} must be a number >= {minimum}, got {value!r}.')


def run_distributed_experiment(config: config_lib.ExperimentConfig, num_actors: int, *,
                               ray_address: Optional[str] = None,
                               actor_cpus: float = 1.0,
                               learner_gpus: float = 0.0,
                               learner_cpus: float = 1.0,
                               variable_update_period: float = 0.2,
                               max_actor_restarts: int = 10,
                               stall_timeout_s: float = 300.0,
                               eval_every: Optional[int] = None,
                               num_eval_episodes: Optional[int] = None
                               ) -> run_common.ExperimentResult:
  """Runs `config` with `num_actors` actor processes on Ray.

  Args:
    config: the experiment (as for `run_experiment`).
    num_actors: actor processes (each with `config.num_envs` environment copies).
    ray_address: HOST:PORT of a running cluster (`ray start --head`); None
      starts a local one on 127.0.0.1 (or uses the one this process already
      joined with `ray.init`).
    actor_cpus: CPUs Ray reserves per actor.
    learner_gpus: GPUs Ray reserves for the learner (its builder's `device`
      config field picks the device it computes on).
    learner_cpus: CPUs Ray reserves for the learner.
    variable_update_period: seconds; an actor fetches the learner's weights
      over Ray at most this often (its builder's actor asks every
      `variable_update_period` steps and gets the copy fetched last in between).
    max_actor_restarts: how often Ray restarts each actor that dies.
    stall_timeout_s: fail when no actor step was counted for this long.
    eval_every: overrides config.evaluation.every_steps.
    num_eval_episodes: overrides config.evaluation.episodes.

  Raises:
    ClusterError: `ray_address` does not answer (or is not HOST:PORT).
    NodeFailedError: the learner (with the replay) or the counter node died; the run's last
      checkpoint resumes with the same call.
    run_directory.RunDirectoryError, builders.UnsupportedSpecError: as run_experiment.
  """
  if not isinstance(config, config_lib.ExperimentConfig):
    raise TypeError(f'config must be an ExperimentConfig, got {type(config).__name__}.')
  if isinstance(num_actors, bool) or not isinstance(num_actors, int) or num_actors < 1:
    raise ValueError(f'num_actors must be an integer >= 1, got {num_actors!r}.')
  for name, value, minimum in (('actor_cpus', actor_cpus, 0), ('learner_gpus', learner_gpus, 0),
                               ('learner_cpus', learner_cpus, 0),
                               ('variable_update_period', variable_update_period, 0),
                               ('stall_timeout_s', stall_timeout_s, 1)):
    _check_number(name, value, minimum)
  if (isinstance(max_actor_restarts, bool) or not isinstance(max_actor_restarts, int)
      or max_actor_restarts < -1):
    raise ValueError(f'max_actor_restarts must be an integer >= -1 (-1: always), got '
                     f'{max_actor_restarts!r}.')
  if ray_address is not None:
    check_address(ray_address)
  if config.logger_factory is not None:
    raise ValueError('config.logger_factory is not supported by distributed runs (each node '
                     'writes the run directory\'s logs); leave it None.')
  config = run_common.with_evaluation_overrides(config, eval_every, num_eval_episodes)
  return _DistributedRun(config, num_actors, ray_address, dict(
      actor_cpus=float(actor_cpus), learner_gpus=float(learner_gpus),
      learner_cpus=float(learner_cpus), variable_update_period=float(variable_update_period),
      max_actor_restarts=max_actor_restarts, stall_timeout_s=float(stall_timeout_s))).run()


def check_address(address: Any, timeout_s: float = 5.0) -> str:
  """Raises ClusterError unless `address` is HOST:PORT and something listens there."""
  host, _, port = str(address).rpartition(':')
  if not isinstance(address, str) or not host or not port.isdigit() or not 0 < int(port) < 65536:
    raise ClusterError(f'--ray_address={address!r} is not HOST:PORT (e.g. 10.0.0.1:6379, as '
                       f'printed by `ray start --head`).')
  try:
    with socket.create_connection((host.strip('[]'), int(port)), timeout=timeout_s):
      pass
  except OSError as e:
    raise ClusterError(f'no Ray cluster answers at --ray_address={address} ({e.strerror or e}); '
                       f'start one there with `ray start --head --port={port}`, or drop '
                       f'--ray_address for a local cluster.') from e
  return address


def start_ray(ray_address: Optional[str]) -> bool:
  """Connects this process to Ray; returns whether it started (and must shut down) a local cluster."""
  if ray_address is None:
    # Binds every port of a local cluster to 127.0.0.1 (measured; see the README's Security).
    # Ray reads it when imported.
    os.environ.setdefault('RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER', '0')
  import ray  # pylint: disable=g-import-not-at-top
  if ray.is_initialized():
    return False
  env_vars = {'PYTHONPATH': os.pathsep.join(p for p in sys.path if p and os.path.isdir(p)),
              'TF_CPP_MIN_LOG_LEVEL': os.environ.get('TF_CPP_MIN_LOG_LEVEL', '2'),
              'OMP_NUM_THREADS': '1'}
  if ray_address is None:
    ray.init(include_dashboard=False, runtime_env={'env_vars': env_vars},
             logging_level='WARNING', configure_logging=True)
    return True
  try:
    ray.init(address=ray_address, runtime_env={'env_vars': {
        k: v for k, v in env_vars.items() if k != 'PYTHONPATH'}}, logging_level='WARNING')
  except (ConnectionError, RuntimeError) as e:
    raise ClusterError(f'cannot join the Ray cluster at --ray_address={ray_address}: {e}') from e
  return False


class _ReplayProxy:
  """What RunCheckpointer.save needs of a replay server: `checkpoint()`, via the learner node."""

  def __init__(self, learner: Any):
    self._learner = learner

  def checkpoint(self) -> str:
    import ray  # pylint: disable=g-import-not-at-top
    return ray.get(self._learner.replay_checkpoint.remote(), timeout=600)


class _DistributedRun:
  """One call of `run_distributed_experiment`."""

  def __init__(self, config: config_lib.ExperimentConfig, num_actors: int,
               ray_address: Optional[str], options: Mapping[str, Any]):
    from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top
    self.config, self.num_actors, self.ray_address = config, num_actors, ray_address
    self.options = dict(options)
    self.name = run_experiment.agent_name_of(config)
    self.started = time.monotonic()
    self.nodes: Dict[str, Any] = {}
    self.actors: List[Any] = []
    self.stats: Dict[str, Any] = {}
    self.refs: List[Any] = []

  def say(self, text: str) -> None:
    print(f'[{self.name}] {text}', flush=True)

  def run(self) -> run_common.ExperimentResult:
    from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top
    c = self.config
    environment = c.environment_factory(c.seed)
    try:
      spec = environments_lib.single_spec(environment)
    finally:
      environment.close()
    run_experiment.check_supported(c.builder, spec)
    run, resume = run_common.open_run(c, self.name, self.say,
                                      {'layout': LAYOUT, 'num_actors': self.num_actors})
    checkpointer = run_checkpoints.RunCheckpointer(run.checkpoints_dir, keep=c.checkpointing.keep)
    state = None
    if resume:
      state = run_common.restore_state(run, checkpointer, c.builder, self._logs())
      if state.get('layout') != LAYOUT:
        raise run_directory.RunDirectoryError(
            f'{run.path} holds a single-process run ({checkpointer.last_restore["path"]}); '
            f'resume it without --num_actors, or use another run_dir.')
    horizon = schedule_horizon.resolve(c, state, self.say)
    node_config = dataclasses.replace(c, run_dir=run.path, run_flags=None)
    ray_started = time.monotonic()
    owns_cluster = start_ray(self.ray_address)
    self.stats['ray_start_seconds'] = time.monotonic() - ray_started
    try:
      self._check_resources()
      self._start_nodes(node_config, spec, run, horizon, state)
      return _Driver(self, run, checkpointer, spec, state, horizon).run()
    finally:
      self._stop_all()
      if owns_cluster:
        import ray  # pylint: disable=g-import-not-at-top
        ray.shutdown()

  def _check_resources(self) -> None:
    """ClusterError when the nodes ask for more CPUs or GPUs than the cluster has (Ray would wait)."""
    import ray  # pylint: disable=g-import-not-at-top
    o, k = self.options, self.num_actors
    have = ray.cluster_resources()
    cpus = o['learner_cpus'] + k * o['actor_cpus']
    if cpus > have.get('CPU', 0.0) + 1e-9:
      spare = max(have.get('CPU', 0.0) - o['learner_cpus'], 0.0) / k
      raise ClusterError(
          f'{k} actors at --actor_cpus={o["actor_cpus"]:g} and the learner at '
          f'{o["learner_cpus"]:g} CPUs need {cpus:g} CPUs, but the Ray cluster has '
          f'{have.get("CPU", 0.0):g}: Ray would start some actors only when others end. '
          f'Use --actor_cpus={int(spare * 100) / 100:g} or less, fewer actors, or more machines.')
    if o['learner_gpus'] > have.get('GPU', 0.0) + 1e-9:
      raise ClusterError(f'--learner_gpus={o["learner_gpus"]:g}, but the Ray cluster has '
                         f'{have.get("GPU", 0.0):g} GPUs; use --learner_gpus=0 (CPU).')

  def _logs(self):
    return ([(f'train_{i}', 'actor_steps') for i in range(self.num_actors)] +
            [('evaluator', 'actor_steps'), ('learner', 'learner_steps')])

  def _start_nodes(self, node_config, spec, run, horizon, state) -> None:
    import ray  # pylint: disable=g-import-not-at-top
    from rlkit.experiments import distributed_nodes as nodes  # pylint: disable=g-import-not-at-top
    from rlkit.experiments import distributed_counter  # pylint: disable=g-import-not-at-top
    o = self.options
    started = time.monotonic()
    counts = dict((state or {}).get('counter') or {})
    for key in COUNT_KEYS:  # every CSV log has them all from its first row
      counts.setdefault(key, 0)
    counter = ray.remote(distributed_counter.CounterNode).options(
        num_cpus=0, max_restarts=0, name=None).remote(counts)
    self.nodes['counter'] = counter
    # Held here, so that Ray can rebuild a restarted actor from them.
    self.refs = [ray.put(node_config), ray.put(spec)]
    config_ref, spec_ref = self.refs
    learner = ray.remote(nodes.LearnerNode).options(
        num_cpus=o['learner_cpus'], num_gpus=o['learner_gpus'], max_restarts=0,
        max_concurrency=4).remote(config_ref, spec_ref, counter, horizon,
                                  (state or {}).get('agent', {}).get('learner'),
                                  run_checkpoints.replay_dir(run.checkpoints_dir))
    self.nodes['learner'] = learner
    c = self.config
    budget = ((('actor_episodes', c.max_num_episodes)) if c.max_num_episodes is not None else
              ('actor_steps', c.max_num_actor_steps))
    actor_class = ray.remote(nodes.ActorNode).options(
        num_cpus=o['actor_cpus'], max_restarts=o['max_actor_restarts'], max_task_retries=0,
        max_concurrency=4)
    self.actors = [actor_class.remote(config_ref, i, spec_ref, learner, counter,
                                      horizon, o['variable_update_period'], budget)
                   for i in range(self.num_actors)]
    ray.get([learner.pid.remote()] + [a.pid.remote() for a in self.actors], timeout=600)
    self.stats['nodes_start_seconds'] = time.monotonic() - started
    self.stats['replay_address'] = ray.get(learner.replay_address.remote(), timeout=60)

  def _stop_all(self) -> None:
    """Kills every node that is left (after a normal stop there is none that still works)."""
    try:
      import ray  # pylint: disable=g-import-not-at-top
    except ImportError:
      return
    if not ray.is_initialized():
      return
    for handle in self.actors + list(self.nodes.values()):
      try:
        ray.kill(handle, no_restart=True)
      except Exception:  # pylint: disable=broad-except
        pass
    self.actors, self.nodes = [], {}


class _Driver:
  """The launcher's loop: budget, evaluation, checkpoints, node health, and the end."""

  def __init__(self, owner: _DistributedRun, run, checkpointer, spec, state, horizon):
    import ray  # pylint: disable=g-import-not-at-top
    from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
    from rlkit.experiments import distributed_nodes as nodes  # pylint: disable=g-import-not-at-top
    from rlkit.experiments import distributed_counter  # pylint: disable=g-import-not-at-top
    self.ray, self.nodes_lib = ray, nodes
    self.owner, self.run_dir, self.checkpointer = owner, run, checkpointer
    self.spec, self.resume_state, self.horizon = spec, state, horizon
    c = owner.config
    self.counter = distributed_counter.RemoteCounter(owner.nodes['counter'], 'evaluator',
                                                     flush_every_s=0.0)
    self.learner = owner.nodes['learner']
    self.eval_environment = environments_lib.make_environment(
        c.evaluation_factory, c.seed + 1, render=bool(c.evaluation.record_every))
    self.eval_actor = registry.greedy_actor(
        c.builder, spec, nodes.LearnerVariables(self.learner, 0.0), c.seed)

  def _get(self, ref, what: str, timeout_s: float = 120.0):
    try:
      return self.ray.get(ref, timeout=timeout_s)
    except (self.ray.exceptions.RayActorError, self.ray.exceptions.GetTimeoutError) as e:
      last = self.checkpointer.has_checkpoint()
      raise NodeFailedError(
          f'the {what} failed ({type(e).__name__}: {str(e).strip().splitlines()[0]}); the run '
          f'stopped. {"Run the same command to resume from its last checkpoint." if last else "It had no checkpoint yet: the same command starts over."}'
      ) from e

  def _state(self) -> Dict[str, Any]:
    from rlkit.utils import rng  # pylint: disable=g-import-not-at-top
    c = self.owner.config
    learner_state = self._get(self.learner.save.remote(), 'learner', 600)
    return {
        'format': run_checkpoints.CHECKPOINT_FORMAT,
        'layout': LAYOUT,
        'num_actors': self.owner.num_actors,
        'agent_name': self.owner.name,
        'environment': c.environment_record(),
        'config': run_directory.config_as_dict(c.builder.config),
        'agent': {'learner': learner_state['learner']},
        'policy_variables': learner_state['policy_variables'],
        'counter': self.counter.flush(),
        'rng': rng.get_rng_states(),
        'eval_environment_rng': environments_lib.rng_state(self.eval_environment),
        'schedule_horizon': self.horizon,
    }

  def save_checkpoint(self) -> str:
    c = self.owner.config
    state = self._state()
    counts = state['counter']
    server = _ReplayProxy(self.learner) if c.builder.checkpoint_replay() else None
    metadata = {'agent': self.owner.name, 'env': (c.environment_record() or {}).get('name'),
                'actor_steps': counts.get('actor_steps', 0),
                'learner_steps': counts.get('learner_steps', 0), 'layout': LAYOUT}
    return self.checkpointer.save(state, int(counts.get('actor_steps', 0)), metadata, server)

  def _restore(self) -> None:
    from rlkit.utils import rng  # pylint: disable=g-import-not-at-top
    state = self.resume_state
    rng.set_rng_states(state.get('rng'))
    environments_lib.set_rng_state(self.eval_environment, state.get('eval_environment_rng'))
    counts = state['counter']
    self.owner.say(f'Resumed from {self.checkpointer.last_restore["path"]} at '
                   f'{counts.get("actor_steps", 0)} steps, {counts.get("actor_episodes", 0)} '
                   f'episodes.')

  def _check_health(self) -> None:
    status = self._get(self.learner.status.remote(), 'learner')
    if status['error']:
      raise NodeFailedError(f'the learner failed; the run stopped (the same command resumes '
                            f'from the last checkpoint):\n{status["error"]}')

  def run(self) -> run_common.ExperimentResult:
    from rlkit.utils import signals  # pylint: disable=g-import-not-at-top
    c, ev, owner = self.owner.config, self.owner.config.evaluation, self.owner
    if self.resume_state is not None:
      self._restore()
    logger_fn = self.owner_loggers()
    eval_logger = logger_fn('evaluator')
    evaluator = run_common.make_evaluator(c, self.eval_environment, self.eval_actor,
                                          self.counter, eval_logger, self.run_dir)
    for actor in owner.actors:
      actor.start.remote()
    counts = self.counter.flush()
    every, ckpt_every = ev.every_steps, c.checkpointing.every_steps
    next_eval = (counts['actor_steps'] // every + 1) * every if every else None
    next_ckpt = (counts['actor_steps'] // ckpt_every + 1) * ckpt_every if ckpt_every else None
    last_ckpt_time = last_health = time.monotonic()
    last_eval_steps = (run_directory.last_logged(self.run_dir.log_path('evaluator'),
                                                 'actor_steps')
                       if self.resume_state is not None else -1)
    last_progress, last_steps = time.monotonic(), counts['actor_steps']
    interrupted, solved, last_checkpoint = False, False, None
    start = time.monotonic()
    with signals.Terminator() as terminator:
      while not run_common.budget_done(c, counts) and not terminator.requested and not solved:
        time.sleep(POLL_S)
        counts = self.counter.flush()
        steps = counts['actor_steps']
        now = time.monotonic()
        if steps != last_steps:
          last_progress, last_steps = now, steps
        elif now - last_progress > owner.options['stall_timeout_s']:
          raise NodeFailedError(f'no actor step for {now - last_progress:.0f} s (at {steps} '
                                f'steps): every actor is stuck or dead; the run stopped.')
        if now - last_health >= HEALTH_EVERY_S:
          self._check_health()
          last_health = now
        if next_eval is not None and steps >= next_eval:
          evaluator.run()
          last_eval_steps = steps
          next_eval = (steps // every + 1) * every
          solved = run_common.solved(c, evaluator.last_result, steps, owner.say)
        due_steps = next_ckpt is not None and steps >= next_ckpt
        due_time = (c.checkpointing.every_seconds > 0 and
                    now - last_ckpt_time >= c.checkpointing.every_seconds)
        if due_steps or due_time:
          self.save_checkpoint()
          last_ckpt_time = time.monotonic()
          if next_ckpt is not None:
            next_ckpt = (steps // ckpt_every + 1) * ckpt_every
      counts = self._stop_nodes()
      if terminator.requested:
        interrupted = True
        last_checkpoint = self.save_checkpoint()
        owner.say(f'{terminator.signal_name}: checkpoint written to {last_checkpoint}; run the '
                  f'same command to resume.')
    training_seconds = time.monotonic() - start
    result = run_common.ExperimentResult(
        run_dir=self.run_dir.path, final_evaluation=None, checkpoint=last_checkpoint,
        video=None, plots={}, counts=counts, interrupted=interrupted,
        training_seconds=training_seconds)
    if not interrupted:
      if last_eval_steps != counts['actor_steps']:
        evaluator.run()
      result.final_evaluation = evaluator.last_result
      result.checkpoint = self.save_checkpoint()
      result.counts = self.counter.flush()
    eval_logger.close()
    evaluator.close()
    if not interrupted:
      run_common.write_outputs(c, self.run_dir, self.eval_actor, self.eval_environment, result)
    self.eval_environment.close()
    result.total_seconds = time.monotonic() - owner.started
    result.node_stats = dict(owner.stats)
    if not interrupted:
      run_common.print_summary(owner.say, result, self._node_lines())
    return result

  def owner_loggers(self):
    from rlkit.experiments import run_loggers  # pylint: disable=g-import-not-at-top
    return run_loggers.RunLoggers(self.run_dir, self.owner.config.log_every_seconds)

  def _stop_nodes(self) -> Dict[str, Any]:
    """Stops the learner's loop first, then the actors (after their episode); returns the counts.

    An actor blocked on an insert that the stopped learner will never make
    room for is killed after 30 s (its episode in flight is dropped, as on a crash).
    """
    ray, owner = self.ray, self.owner
    for actor in owner.actors:
      actor.request_stop.remote()
    owner.stats['learner'] = self._get(self.learner.stop.remote(), 'learner', 120)
    refs = [actor.stop.remote() for actor in owner.actors]
    done, pending = ray.wait(refs, num_returns=len(refs), timeout=30)
    actor_stats = []
    for ref in refs:
      if ref in done:
        try:
          actor_stats.append(ray.get(ref))
        except ray.exceptions.RayError as e:
          actor_stats.append({'error': str(e).splitlines()[0]})
      else:
        actor_stats.append({'error': 'did not stop within 30 s (killed)'})
    for ref, actor in zip(refs, owner.actors):
      if ref in pending:
        ray.kill(actor, no_restart=True)
    owner.stats['actors'] = actor_stats
    owner.stats['restarts'] = ray.get(owner.nodes['counter'].restarts.remote(), timeout=60)
    try:
      owner.stats['replay'] = ray.get(self.learner.replay_stats.remote(), timeout=60)
    except ray.exceptions.RayError:
      pass
    return self.counter.flush()

  def _node_lines(self) -> List[str]:
    stats = self.owner.stats
    learner = stats.get('learner') or {}
    restarts = stats.get('restarts') or {}
    lines = [f'{self.owner.num_actors} actors on Ray (started in '
             f'{stats.get("ray_start_seconds", 0):.1f} s, nodes in '
             f'{stats.get("nodes_start_seconds", 0):.1f} s); learner waited for batches '
             f'{100 * learner.get("wait_share", 0):.0f}% of its time.']
    if restarts:
      lines.append(f'Actor restarts: {dict(sorted(restarts.items()))}.')
    return lines
