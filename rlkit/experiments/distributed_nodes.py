"""The nodes of a distributed run (plain classes; `distributed.py` makes them Ray actors).

    counter  CounterNode   the run's counts (distributed_counter.py); every node reports to it
    learner  LearnerNode   `make_dataset_iterator` + `make_learner`, stepping in a thread,
                           beside the run's Reverb server (`Replay`, over `make_replay_tables`)
    actor_i  ActorNode     its own environment(s), networks, adder and actor, in a thread

The replay lives in the learner's process: the learner reads `samples_per_insert`
times what the actors write, so its samples stay on its machine, and a run starts
one process (one TensorFlow import) fewer.

Each node builds its part only through the builder's methods (the contract in
rlkit/agents/builders.py), so any builder runs unchanged. Every wait has a
timeout or a stop flag: a node never blocks forever on a peer that stopped.
"""

import dataclasses
import os
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import ray

from rlkit import batched_environment_loop
from rlkit import core
from rlkit import environment_loop
from rlkit.adders import batched as batched_adder
from rlkit.agents import builders
from rlkit.environments import batched
from rlkit.experiments import config as config_lib
from rlkit.experiments import distributed_counter
from rlkit.experiments import distributed_tables
from rlkit.experiments import environments as environments_lib
from rlkit.replay import server as server_lib
from rlkit.utils import counting
from rlkit.utils import loggers

def rss_bytes() -> int:
  import psutil  # pylint: disable=g-import-not-at-top
  return int(psutil.Process().memory_info().rss)


class LearnerVariables(core.VariableSource):
  """The learner node's variables over Ray, fetched at most every `min_period_s`.

  A builder's `VariableClient` may ask on every `update_period` actor steps;
  between fetches it gets the copy fetched last. `learner_step` is the
  learner's step count when that copy was taken (for the policy lag).
  """

  def __init__(self, learner: Any, min_period_s: float = 0.0, caller: Optional[str] = None):
    self._learner = learner
    self._min_period_s = float(min_period_s)
    self._caller = caller
    self._cache: Dict[Tuple[str, ...], List[Any]] = {}
    self._fetched_at: Dict[Tuple[str, ...], float] = {}
    self.learner_step = 0

  def get_variables(self, names: Sequence[str]) -> List[Any]:
    key = tuple(names)
    now = time.monotonic()
    if key not in self._cache or now - self._fetched_at[key] >= self._min_period_s:
      variables, step = ray.get(
          self._learner.get_variables_and_step.remote(list(names), self._caller),
          timeout=distributed_counter.CALL_TIMEOUT_S)
      self._cache[key], self._fetched_at[key], self.learner_step = variables, now, step
    return self._cache[key]


class PolicyLag:
  """An observer adding `policy_lag`: learner steps since the actor's weights were taken."""

  def __init__(self, source: LearnerVariables, counter: counting.Counter):
    self._source, self._counter = source, counter

  def observe_first(self, env, timestep) -> None:
    del env, timestep

  def observe(self, env, timestep, action) -> None:
    del env, timestep, action

  def get_metrics(self) -> Mapping[str, Any]:
    learner_steps = self._counter.get_counts().get('learner_steps', 0)
    return {'policy_lag': max(0, learner_steps - self._source.learner_step)}


def _make_networks(config: config_lib.ExperimentConfig, spec: Any, seed: int) -> Any:
  if config.network_factory is not None:
    return config.network_factory(spec, seed)
  return config.builder.make_networks(spec, seed)


def _setup_process(config: config_lib.ExperimentConfig) -> None:
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(config.torch_threads)


class Replay:
  """The run's Reverb server, with tables whose inserts follow the sample ratio."""

  def __init__(self, config: config_lib.ExperimentConfig, spec: Any, networks: Any,
               checkpoint_dir: Optional[str]):
    builder = config.builder
    policy = builder.make_policy(networks, spec, evaluation=False)
    tables = [distributed_tables.with_insert_blocking(table)
              for table in builder.make_replay_tables(spec, policy)]
    self._server = server_lib.ReplayServer(
        tables, checkpoint_dir=checkpoint_dir if builder.checkpoint_replay() else None)
    self._host = ray.util.get_node_ip_address()

  def address(self) -> str:
    """host:port for clients anywhere in the cluster (the node's Ray address)."""
    return f'{self._host}:{self._server.port}'

  def checkpoint(self) -> str:
    return self._server.checkpoint()

  def can_sample(self, num_samples: int) -> bool:
    """Whether every table's rate limiter lets `num_samples` be sampled now."""
    return all(self._server.can_sample(table, num_samples) for table in self._server.tables)

  def stats(self) -> Dict[str, Any]:
    info = self._server.client().server_info()
    return {'tables': {name: {'size': t.current_size,
                              'inserts': t.rate_limiter_info.insert_stats.completed,
                              'samples': t.rate_limiter_info.sample_stats.completed}
                       for name, t in info.items()}}


class _Worker:
  """A loop in a thread of a Ray actor: `stop()` sets a flag and joins it with a timeout."""

  def __init__(self):
    self._stop = threading.Event()
    self._thread: Optional[threading.Thread] = None
    self._error: Optional[str] = None

  def _start(self, name: str) -> None:
    self._thread = threading.Thread(target=self._guarded, name=name, daemon=True)
    self._thread.start()

  def _guarded(self) -> None:
    try:
      self._loop()
    except BaseException:  # pylint: disable=broad-except
      if not self._stop.is_set():
        self._error = traceback.format_exc()
        self._on_error()

  def _loop(self) -> None:
    raise NotImplementedError

  def _on_error(self) -> None:
    pass

  def request_stop(self) -> None:
    self._stop.set()

  def _join(self, timeout_s: float) -> bool:
    self._stop.set()
    if self._thread is not None:
      self._thread.join(timeout_s)
      return not self._thread.is_alive()
    return True

  def pid(self) -> int:
    return os.getpid()


class LearnerNode(_Worker):
  """Steps the builder's learner in a thread; serves its variables, state and replay meanwhile.

  Before each step it waits (checking the stop flag) until the dataset is
  `ready()` or, for a replay-ratio builder, the tables' rate limiters let a
  batch be sampled (a dataset that samples in the learner's thread knows only
  the batches it already holds), so stopping never waits on a sample; that
  wait is the learner's `wait_share`. A builder's dataset without `ready()` is
  stepped directly: its `TimeoutError` (empty or rate-limited table) is
  retried until stopped.
  """

  def __init__(self, config: config_lib.ExperimentConfig, spec: Any, counter: Any,
               horizon: Optional[int], state: Optional[Mapping[str, Any]] = None,
               replay_checkpoint_dir: Optional[str] = None):
    super().__init__()
    import reverb  # pylint: disable=g-import-not-at-top
    from rlkit.utils import rng  # pylint: disable=g-import-not-at-top
    _setup_process(config)
    rng.seed_everything(config.seed)
    builder = config.builder
    networks = _make_networks(config, spec, config.seed)
    self._replay = Replay(config, spec, networks, replay_checkpoint_dir)
    self._client = reverb.Client(self._replay.address())
    self._dataset = builder.make_dataset_iterator(self._client)
    self._update_rule = builder.update_rule()
    self._counter = distributed_counter.RemoteCounter(counter, 'learner')
    # Learner step at each actor's last weight fetch: the learner logs the policy lag.
    self._actors_weights_step: Dict[str, int] = {}
    logger_fn = _with_policy_lag(_logger_factory(config), self._policy_lag)
    self._learner = builder.make_learner(
        networks, self._dataset, logger_fn, spec, self._client,
        counting.Counter(self._counter, prefix='learner'), horizon=horizon)
    self._logger_fn = logger_fn
    if state is not None:
      self._learner.restore(state)
    self._lock = threading.Lock()
    self._steps = 0
    self._wait_s = 0.0
    self._step_s = 0.0
    self._start('learner')

  def _can_step(self) -> Optional[Callable[[], bool]]:
    ready = getattr(self._dataset, 'ready', None)
    if not callable(ready):
      return None
    rule = self._update_rule
    if not isinstance(rule, builders.ReplayRatio):
      return ready
    return lambda: ready() or self._replay.can_sample(rule.batch_size)

  def _loop(self) -> None:
    can_step = self._can_step()
    while not self._stop.is_set():
      if can_step is not None:
        started = time.monotonic()
        while not can_step() and not self._stop.is_set():
          time.sleep(0.001)
        self._wait_s += time.monotonic() - started
        if self._stop.is_set():
          break
      started = time.monotonic()
      try:
        with self._lock:
          self._learner.step()
      except TimeoutError:
        self._wait_s += time.monotonic() - started
        continue
      self._step_s += time.monotonic() - started
      self._steps += 1

  def get_variables_and_step(self, names: Sequence[str],
                             caller: Optional[str] = None) -> Tuple[List[Any], int]:
    with self._lock:
      step = int(self._counter.get_counts().get('learner_steps', 0))
      if caller is not None:
        self._actors_weights_step[caller] = step
      return self._learner.get_variables(list(names)), step

  def _policy_lag(self) -> Dict[str, int]:
    """Learner steps since the oldest (and newest) weights an actor acts with now (0: none yet)."""
    step = int(self._counter.get_counts().get('learner_steps', 0))
    fetched = list(self._actors_weights_step.values()) or [step]
    return {'policy_lag_max': max(0, step - min(fetched)),
            'policy_lag_min': max(0, step - max(fetched))}

  def replay_address(self) -> str:
    return self._replay.address()

  def replay_checkpoint(self) -> str:
    """Writes the replay checkpoint (Reverb's); returns its path."""
    return self._replay.checkpoint()

  def replay_stats(self) -> Dict[str, Any]:
    return self._replay.stats()

  def save(self) -> Dict[str, Any]:
    with self._lock:
      return {'learner': self._learner.save(),
              'policy_variables': self._learner.get_variables(['policy'])[0]}

  def status(self) -> Dict[str, Any]:
    total = self._wait_s + self._step_s
    return {'error': self._error, 'steps': self._steps, 'wait_seconds': self._wait_s,
            'step_seconds': self._step_s,
            'wait_share': self._wait_s / total if total else 0.0,
            'rss_bytes': rss_bytes(), 'pid': os.getpid(),
            'alive': self._thread is not None and self._thread.is_alive()}

  def stop(self, timeout_s: float = 30.0) -> Dict[str, Any]:
    """Stops stepping (the learner stays to serve variables and `save`); flushes its counts."""
    joined = self._join(timeout_s)
    self._counter.flush()
    status = self.status()
    status['joined'] = joined
    return status

  def close(self) -> None:
    close = getattr(self._dataset, 'close', None)
    if callable(close):
      close()
    close = getattr(self._logger_fn, 'close', None)
    if callable(close):
      close()


class ActorNode(_Worker):
  """One actor process: its environment(s), fresh networks, adder and actor, in a loop.

  It pulls the learner's weights at once (also after Ray restarts it) and
  then as its builder's actor asks. It stops by itself when the run's budget
  is reached (as far as its counter knows) or when asked. An error in its
  loop (an environment that raises) ends the process, so that Ray restarts it.
  """

  def __init__(self, config: config_lib.ExperimentConfig, index: int, spec: Any,
               learner: Any, counter: Any, horizon: Optional[int],
               variable_update_period: float, budget: Tuple[Optional[str], Optional[int]]):
    super().__init__()
    import reverb  # pylint: disable=g-import-not-at-top
    _setup_process(config)
    self._index = index
    restarts = _restart_count(counter, f'actor_{index}')
    seed = config.seed + 1_000 * (index + 1) + 100_003 * restarts
    self._restarts = restarts
    builder = config.builder
    self._environment = environments_lib.make_training_environment(
        dataclasses.replace(config, seed=seed))
    num_envs = config.num_envs if config.num_envs > 1 else None
    networks = _make_networks(config, spec, seed)
    policy = builder.make_policy(networks, spec, evaluation=False)
    client = reverb.Client(ray.get(learner.replay_address.remote(),
                                   timeout=distributed_counter.CALL_TIMEOUT_S))
    if num_envs is None:
      self._adder = builder.make_adder(client, spec, policy)
    else:
      self._adder = batched_adder.BatchedAdder.from_factory(
          lambda: builder.make_adder(client, spec, policy), num_envs)
    self._source = LearnerVariables(learner, variable_update_period, caller=f'actor_{index}')
    self._actor = builder.make_actor(seed, policy, spec, self._source, self._adder,
                                     horizon=horizon, num_envs=num_envs)
    self._actor.update(wait=True)
    self._counter = distributed_counter.RemoteCounter(counter, f'actor_{index}')
    actor_counter = counting.Counter(self._counter, prefix='actor')
    from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top
    observers = [run_experiment.ActorMetrics(self._actor),
                 PolicyLag(self._source, self._counter)] + list(config.observers)
    self._batched = isinstance(self._environment, batched.BatchedEnvironmentBase)
    loop_class = (batched_environment_loop.BatchedEnvironmentLoop if self._batched
                  else environment_loop.EnvironmentLoop)
    self._loop_runner = loop_class(self._environment, self._actor, counter=actor_counter,
                                   logger=loggers.NoOpLogger(), label='train',
                                   observers=observers)
    self._logger_fn = _logger_factory(config)
    self._logger = self._logger_fn('train', instance=index)
    self._budget_key, self._budget = budget
    self._go = threading.Event()
    if restarts:
      self._go.set()
    self._start(f'actor_{index}')

  def start(self) -> None:
    """Starts acting (a restarted actor starts by itself)."""
    self._go.set()

  def _budget_reached(self) -> bool:
    if self._budget is None:
      return False
    return self._counter.get_counts().get(self._budget_key, 0) >= self._budget

  def _loop(self) -> None:
    while not self._go.wait(0.1):
      if self._stop.is_set():
        return
    while not self._stop.is_set() and not self._budget_reached():
      rows = (self._loop_runner.step() if self._batched
              else [self._loop_runner.run_episode()])
      for row in rows:
        row['restarts'] = self._restarts
        self._logger.write(row)
      if self._budget is not None:
        self._counter.flush()

  def _on_error(self) -> None:
    print(f'[actor_{self._index}] the actor loop failed; the process exits so that Ray '
          f'restarts it:\n{self._error}', flush=True)
    os._exit(1)  # pylint: disable=protected-access

  def status(self) -> Dict[str, Any]:
    return {'pid': os.getpid(), 'rss_bytes': rss_bytes(), 'restarts': self._restarts,
            'alive': self._thread is not None and self._thread.is_alive()}

  def stop(self, timeout_s: float = 10.0) -> Dict[str, Any]:
    """Stops the loop (after its episode), flushes its counts, closes the adder."""
    joined = self._join(timeout_s)
    self._counter.flush()
    if joined:
      _close_with_timeout(self._adder, timeout_s)
      _close_with_timeout(self._environment, timeout_s)
    self._logger.close()
    status = self.status()
    status['joined'] = joined
    return status


def _close_with_timeout(resource: Any, timeout_s: float) -> bool:
  close = getattr(resource, 'close', None)
  if not callable(close):
    return True
  thread = threading.Thread(target=close, daemon=True)
  thread.start()
  thread.join(timeout_s)
  return not thread.is_alive()


def _restart_count(counter: Any, label: str) -> int:
  """How often Ray restarted this actor (0 on the first start), kept by the counter node."""
  if not ray.get_runtime_context().was_current_actor_reconstructed:
    return 0
  return ray.get(counter.note_restart.remote(label), timeout=distributed_counter.CALL_TIMEOUT_S)


class _PolicyLagLogger(loggers.Logger):
  """Adds the learner node's policy-lag columns to each row of the learner's logger."""

  def __init__(self, logger: Any, policy_lag: Callable[[], Mapping[str, int]]):
    self._logger, self._policy_lag = logger, policy_lag

  def write(self, data: Mapping[str, Any]) -> None:
    self._logger.write({**data, **self._policy_lag()})

  def close(self) -> None:
    self._logger.close()


def _with_policy_lag(logger_fn: Any, policy_lag: Callable[[], Mapping[str, int]]) -> Any:
  def make_logger(label: str, *args, **kwargs):
    logger = logger_fn(label, *args, **kwargs)
    return _PolicyLagLogger(logger, policy_lag) if label == 'learner' else logger
  return make_logger


def _logger_factory(config: config_lib.ExperimentConfig) -> Any:
  """The run directory's loggers in this node (`config.logger_factory` when given)."""
  if config.logger_factory is not None:
    return config.logger_factory
  from rlkit.experiments import run_loggers  # pylint: disable=g-import-not-at-top
  from rlkit.utils import run_dir as run_dir_lib  # pylint: disable=g-import-not-at-top
  return run_loggers.RunLoggers(run_dir_lib.RunDirectory(config.run_dir),
                                config.log_every_seconds)
