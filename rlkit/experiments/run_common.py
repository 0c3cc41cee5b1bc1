"""What every runner does the same way: the run directory, resuming, evaluation, the end.

`run_experiment` (one process) and `run_distributed_experiment` (Ray) both
open the run directory, restore the newest checkpoint and trim the logs to
it, decide when the budget is spent, evaluate the greedy policy, and end with
the video, plots and summary lines. Those steps live here, once.
"""

import csv
import dataclasses
import os
import sys
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from rlkit import evaluation
from rlkit.experiments import config as config_lib
from rlkit.experiments import environments as environments_lib
from rlkit.experiments import outputs
from rlkit.experiments import run_checkpoints
from rlkit.experiments import run_directory

# (log label, the count its rows are trimmed by on resume).
# logs/resumes.csv: one row per resume, the counts it resumed at (plots mark them).
RESUMES_LOG = 'resumes'
RESUME_COUNTS = ('actor_steps', 'actor_episodes', 'learner_steps')
SINGLE_PROCESS_LOGS = (('train', 'actor_steps'), ('evaluator', 'actor_steps'),
                       ('learner', 'learner_steps'))


@dataclasses.dataclass
class ExperimentResult:
  run_dir: str
  final_evaluation: Optional[Dict[str, Any]]
  checkpoint: Optional[str]
  video: Optional[str]
  plots: Dict[str, str]
  counts: Dict[str, Any]
  interrupted: bool
  training_seconds: float = 0.0
  total_seconds: float = 0.0
  # Distributed runs: per node (learner, actors, replay) its final status, and Ray's start-up.
  node_stats: Dict[str, Any] = dataclasses.field(default_factory=dict)


def with_evaluation_overrides(config: config_lib.ExperimentConfig,
                              eval_every: Optional[int],
                              num_eval_episodes: Optional[int]) -> config_lib.ExperimentConfig:
  """`config` with the runner's eval_every / num_eval_episodes arguments applied."""
  overrides = {}
  if eval_every is not None:
    overrides['every_steps'] = eval_every
  if num_eval_episodes is not None:
    overrides['episodes'] = num_eval_episodes
  if not overrides:
    return config
  return dataclasses.replace(config, evaluation=dataclasses.replace(config.evaluation,
                                                                    **overrides))


def open_run(config: config_lib.ExperimentConfig, name: str, say: Callable[[str], None],
             extra_info: Optional[Mapping[str, Any]] = None):
  """Creates or reopens the run directory (run.json, flags.txt); returns (run, resume)."""
  info = run_directory.run_info(name, config.builder.config, config.environment_record(),
                                config.seed, config.num_envs)
  info.update(extra_info or {})
  run, resume = run_directory.open_run_directory(
      info, run_dir=config.run_dir, runs_root=config.runs_root,
      resume=config.checkpointing.resume, run_flags=config.run_flags,
      ignored_flags=config.resume_ignored_flags)
  say(f'{info["environment"]["name"] if info["environment"] else "environment"} -> {run.path}')
  return run, resume


def restore_state(run, checkpointer: run_checkpoints.RunCheckpointer, builder: Any,
                  logs: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
  """The newest checkpoint's state; rows logged after it are dropped from `logs`."""
  state = checkpointer.restore(builder.checkpoint_replay())
  counts = state['counter']
  for label, key in tuple(logs) + ((RESUMES_LOG, 'actor_steps'),):
    run_directory.truncate_log(run.log_path(label), key, counts.get(key, 0))
  record_resume(run.log_path(RESUMES_LOG), counts)
  return state


def record_resume(path: str, counts: Mapping[str, Any]) -> None:
  """Appends the counts a run resumed at to its resumes log."""
  new = not os.path.exists(path)
  with open(path, 'a', newline='') as f:
    writer = csv.writer(f)
    if new:
      writer.writerow(RESUME_COUNTS)
    writer.writerow([int(counts.get(key, 0)) for key in RESUME_COUNTS])


def budget_done(config: config_lib.ExperimentConfig, counts: Mapping[str, Any]) -> bool:
  if config.max_num_episodes is not None:
    return counts.get('actor_episodes', 0) >= config.max_num_episodes
  if config.max_num_actor_steps is not None:
    return counts.get('actor_steps', 0) >= config.max_num_actor_steps
  return False


def solved(config: config_lib.ExperimentConfig, result: Optional[Mapping[str, Any]],
           steps: int, say: Callable[[str], None]) -> bool:
  """Whether an evaluation reached `evaluation.stop_at_return` (says so once)."""
  target = config.evaluation.stop_at_return
  if target is None or not result or result['return_mean'] < target:
    return False
  say(f'Solved at {steps} steps: greedy return {result["return_mean"]:.2f} >= '
      f'stop_at_return={target:g}; stopping.')
  return True


def make_evaluator(config: config_lib.ExperimentConfig, environment: Any, actor: Any,
                   counter: Any, logger: Any, run) -> evaluation.Evaluator:
  """The run's evaluator (with the random baseline when asked)."""
  ev = config.evaluation
  baseline = None
  if ev.random_baseline:
    baseline = evaluation.random_baseline(
        config.evaluation_factory(config.seed + 3), ev.episodes, seed=config.seed)
  return evaluation.Evaluator(
      environment, actor, ev.episodes, counter=counter, logger=logger, baseline=baseline,
      video_directory=run.videos_dir if ev.record_every else None,
      record_every=ev.record_every or None, fps=config.fps)


def write_outputs(config: config_lib.ExperimentConfig, run, actor: Any,
                  eval_environment: Any, result: ExperimentResult) -> None:
  """The end-of-run video and plots, into `result`."""
  if config.video:
    result.video = outputs.record_video(
        environments_lib.make_environment(config.evaluation_factory, config.seed + 2,
                                          render=True),
        actor, run, config.fps)
  if config.plots:
    result.plots = outputs.write_plots(run, actor, eval_environment)


def print_summary(say: Callable[[str], None], result: ExperimentResult,
                  extra_lines: Sequence[str] = ()) -> None:
  counts, final = result.counts, result.final_evaluation or {}
  say(f'Done: {counts["actor_steps"]} steps, {counts["actor_episodes"]} episodes, '
      f'{counts.get("learner_steps", 0)} learner steps; training {result.training_seconds:.1f} s, '
      f'{result.total_seconds:.1f} s in all (start-up, evaluation, video and plots included).')
  for line in extra_lines:
    say(line)
  if final:
    say(f'Greedy evaluation over {final["episodes"]} episodes: return '
        f'{final["return_mean"]:.2f} +- {final["return_std"]:.2f}, length '
        f'{final["episode_length_mean"]:.1f}.')
  say(f'Run directory: {result.run_dir}')
  say(f'Checkpoint:    {result.checkpoint}')
  if result.video:
    say(f'Video:         {result.video}')
  for name, path in result.plots.items():
    say(f'Plot ({name}): {path}')
  sys.stdout.flush()
