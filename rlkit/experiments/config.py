"""What an experiment is: Acme's `ExperimentConfig`, plus the run directory's settings.

    config = ExperimentConfig(
        builder=dqn.DQNBuilder(dqn.DQNConfig()),
        environment_factory=factory.EnvironmentFactory('gym:CartPole-v1'),
        max_num_actor_steps=20_000)
    result = run_experiment(config, eval_every=5_000, num_eval_episodes=10)

The same config runs in one process (`run_experiment`) or distributed
(`run_distributed_experiment`). Nothing here reads absl flags: launchers turn
flags into this config.
"""

import dataclasses
import numbers
from typing import Any, Callable, Mapping, Optional, Sequence

from rlkit.agents import builders

# seed -> dm_env.Environment. `rlkit.environments.factory.EnvironmentFactory`
# is one (it also records the environment's name, so a checkpoint can rebuild it).
EnvironmentFactory = Callable[[int], Any]


@dataclasses.dataclass
class CheckpointingConfig:
  """When the run checkpoints, and whether it resumes from its run directory.

  Attributes:
    every_steps: checkpoint every this many actor steps (0: never periodically).
    every_seconds: also when this much wall time passed since the last one (0: never).
    keep: checkpoints kept (the newest).
    resume: resume from the newest checkpoint of an existing run directory;
      False starts over there (its checkpoints and logs are removed).
    in_background: write periodic checkpoints in a thread while training goes on.
  """
  every_steps: int = 10_000
  every_seconds: float = 600.0
  keep: int = 3
  resume: bool = True
  in_background: bool = True

  def __post_init__(self):
    _check_int('checkpointing.every_steps', self.every_steps, 0)
    _check_int('checkpointing.keep', self.keep, 1)
    if not isinstance(self.every_seconds, numbers.Real) or self.every_seconds < 0:
      raise ValueError(f'checkpointing.every_seconds must be >= 0, got {self.every_seconds!r}.')


@dataclasses.dataclass
class EvaluationConfig:
  """How the greedy policy is evaluated during and after training.

  Attributes:
    every_steps: actor steps between evaluations (0: only at the end).
    episodes: episodes per evaluation.
    random_baseline: evaluate a uniformly random policy once and log its
      return beside every evaluation (`baseline_return_*`).
    record_every: record every this-many-th evaluation episode to videos/ (0: none).
    stop_at_return: stop training once an evaluation's mean return is at least this.
  """
  every_steps: int = 5_000
  episodes: int = 10
  random_baseline: bool = True
  record_every: int = 0
  stop_at_return: Optional[float] = None

  def __post_init__(self):
    _check_int('evaluation.every_steps', self.every_steps, 0)
    _check_int('evaluation.episodes', self.episodes, 1)
    _check_int('evaluation.record_every', self.record_every, 0)


@dataclasses.dataclass
class ExperimentConfig:
  """One experiment: an agent's builder, its environment and the run's budget.

  Attributes:
    builder: the agent (`rlkit.agents.builders.ActorLearnerBuilder`).
    environment_factory: seed -> environment.
    evaluation_environment_factory: seed -> environment for evaluation, the
      random baseline and videos (default: `environment_factory`); e.g. the
      same environment without a suite's own logging.
    max_num_actor_steps: the budget in environment steps (the last episode is
      finished); also the schedules' horizon.
    max_num_episodes: the budget in episodes instead (give at most one budget).
    schedule_horizon: environment steps the schedules span when the budget
      is in episodes (or to override the step budget); None: the step budget.
    seed: seeds environments, networks and exploration.
    agent_name: the agent's registered name (the run directory and its
      checkpoints record it); found from the builder's class when None.
    num_envs: environment copies stepped together (one forward pass per step).
    env_processes: worker processes stepping the copies (0: this process).
    network_factory: (spec, seed) -> networks instead of `builder.make_networks`.
    observers: add metrics to the training rows (Acme's EnvLoopObserver).
    logger_factory: label -> Logger instead of the run directory's default
      (terminal, CSV, TensorBoard).
    checkpointing: see `CheckpointingConfig`.
    evaluation: see `EvaluationConfig`.
    run_dir: the run directory; a new `<runs_root>/<agent>/<timestamp>` when None.
    runs_root: parent of the default run directories.
    video: record a greedy episode at the end.
    plots: write learning curves (and the environment's value maps) at the end.
    fps: frames per second of videos.
    torch_threads: `torch.set_num_threads` for this process.
    log_every_seconds: seconds between printed rows (verbosity 2) and between
      plain progress lines when stdout is not a terminal.
    verbosity: 0 the progress line and the summary; 1 also a line per
      evaluation; 2 also every logger's rows.
    tensorboard: write TensorBoard event files to the run's tensorboard/.
    run_flags: what to record as the run's `flags.txt` and compare on resume
      (a launcher's absl FlagValues); None for library use.
    resume_ignored_flags: flags that may differ between a run and its resumption.
  """
  builder: builders.ActorLearnerBuilder
  environment_factory: EnvironmentFactory
  evaluation_environment_factory: Optional[EnvironmentFactory] = None
  max_num_actor_steps: Optional[int] = None
  max_num_episodes: Optional[int] = None
  schedule_horizon: Optional[int] = None
  seed: int = 0
  agent_name: Optional[str] = None
  num_envs: int = 1
  env_processes: int = 0
  network_factory: Optional[Callable[[Any, Optional[int]], Any]] = None
  observers: Sequence[Any] = ()
  logger_factory: Optional[Callable[..., Any]] = None
  checkpointing: CheckpointingConfig = dataclasses.field(default_factory=CheckpointingConfig)
  evaluation: EvaluationConfig = dataclasses.field(default_factory=EvaluationConfig)
  run_dir: Optional[str] = None
  runs_root: str = 'runs'
  video: bool = True
  plots: bool = True
  fps: int = 30
  torch_threads: int = 1
  log_every_seconds: float = 10.0
  verbosity: int = 1
  tensorboard: bool = True
  run_flags: Optional[Any] = None
  resume_ignored_flags: Sequence[str] = ()

  def __post_init__(self):
    if not isinstance(self.builder, builders.ActorLearnerBuilder):
      raise TypeError(f'builder must be an ActorLearnerBuilder, got {type(self.builder).__name__}.')
    if not callable(self.environment_factory):
      raise TypeError(
          f'environment_factory must be callable (seed -> environment), got '
          f'{self.environment_factory!r}.')
    if self.max_num_actor_steps is not None and self.max_num_episodes is not None:
      raise ValueError(
          f'Give max_num_actor_steps or max_num_episodes, not both (got '
          f'{self.max_num_actor_steps} and {self.max_num_episodes}).')
    for name in ('max_num_actor_steps', 'max_num_episodes', 'schedule_horizon'):
      if getattr(self, name) is not None:
        _check_int(name, getattr(self, name), 1)
    _check_int('seed', self.seed, 0)
    _check_int('num_envs', self.num_envs, 1)
    _check_int('env_processes', self.env_processes, 0)
    _check_int('fps', self.fps, 1)
    _check_int('torch_threads', self.torch_threads, 1)
    if self.env_processes and self.num_envs == 1:
      raise ValueError(f'env_processes={self.env_processes} needs num_envs > 1.')
    if self.env_processes > self.num_envs:
      raise ValueError(
          f'env_processes={self.env_processes} must be at most num_envs={self.num_envs} '
          f'(each process steps at least one copy).')
    if not isinstance(self.checkpointing, CheckpointingConfig):
      raise TypeError(f'checkpointing must be a CheckpointingConfig, got {self.checkpointing!r}.')
    if not isinstance(self.evaluation, EvaluationConfig):
      raise TypeError(f'evaluation must be an EvaluationConfig, got {self.evaluation!r}.')

  @property
  def evaluation_factory(self) -> EnvironmentFactory:
    """The factory of evaluation, baseline and video environments."""
    return self.evaluation_environment_factory or self.environment_factory

  @property
  def horizon(self) -> Optional[int]:
    """The environment steps the schedules span (None: unknown)."""
    if self.schedule_horizon is not None:
      return self.schedule_horizon
    return self.max_num_actor_steps

  def environment_record(self) -> Optional[Mapping[str, Any]]:
    """{'name', 'kwargs'} when the factory names its environment (to rebuild it later)."""
    name = getattr(self.environment_factory, 'name', None)
    if not isinstance(name, str):
      return None
    return {'name': name, 'kwargs': dict(getattr(self.environment_factory, 'kwargs', {}) or {})}


def _check_int(name: str, value: Any, minimum: int) -> None:
  if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
    raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}.')
