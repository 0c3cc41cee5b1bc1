"""Soak test of checkpoint/resume: SIGKILL one DQN CartPole-v1 run again and again.

    python -m benchmarks.soak_resume                  # 20 kills, 30k steps, reference (~5 min)
    python -m benchmarks.soak_resume --kills=5 --num_steps=10000 --noreference
    python -m benchmarks.soak_resume --smoke          # 2 kills, 3k steps: checks it runs

One `experiments.run_dqn` run on gym:CartPole-v1 with DQNConfig's defaults
(the launcher's CartPole settings) is started, killed with SIGKILL, and
started again with the same command, `--kills` times; the last start runs to
the end of the budget. Kill moments are random but spread over the run: kill
i waits until the run has checkpointed past a random step (the sorted draws
of `--kills` uniform steps in the budget) and since it started, then a random
0..`--max_delay` s (about one checkpoint interval at
`--checkpoint_every_steps=500`). Every `--aimed_every`-th kill instead comes
aimed at a checkpoint, alternately inside a Reverb write (0..20 ms after the
next Reverb checkpoint directory appears) and in the gap between the replay
write and the agent checkpoint write (that start runs with the test hook
`RLKIT_TEST_PAUSE_BETWEEN_CHECKPOINT_WRITES=--pause_between_writes`, which
holds the gap open, and is killed inside it), since at random moments only a
few percent of kills would land there.

After a kill, with probability `--damage_probability`, the run directory is
damaged before the next start: the newest ckpt-*.pt is truncated to half its
size, `checkpoints/replay/` is deleted, or both (drawn uniformly).

After each kill the run directory tells what it interrupted: the agent file
(a temporary file left), a Reverb checkpoint (a directory without DONE), the
gap after Reverb's checkpoint and before the agent's, or nothing (between
writes). A resume succeeds when the next start restores the newest undamaged
agent checkpoint and trains on. Its replay matches when the Reverb snapshot the
start loaded (the newest complete one in `checkpoints/replay/` as it resumes)
is the one the restored checkpoint's sidecar names (`replay_checkpoint`), so
the replay's step (the sidecar that first named that snapshot) equals the
agent's (`actor_steps`); otherwise the replay must start empty and the start
must say so with a warning (refilled). Anything else is a mismatch.

Reported: resumes succeeded, the logs' continuity (one row per episode, none
repeated or lost), the learner ratio, the replay's content (items inserted
against the items of the logged episodes), the launcher's evaluations and a
final greedy evaluation of the saved policy (`--final_episodes`, loaded with
`registry.load_policy`), checkpoint sizes and write times (the agent file from
its sidecars; the Reverb tables by checkpointing a copy of the final replay
again), and the same outcome for an uninterrupted run of the same command
(`--reference`), which the soaked run is compared against.
"""

import argparse
import csv
import glob
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHECKPOINT = re.compile(r'^ckpt-(\d+)\.pt$')
_RESUMED = re.compile(r'Resumed from \S*ckpt-(\d+)\.pt at (\d+) steps')
_REFILL_WARNING = 'starts empty and refills'
_PAUSE_ENV = 'RLKIT_TEST_PAUSE_BETWEEN_CHECKPOINT_WRITES'
_DAMAGES = ('truncate newest ckpt', 'delete replay/', 'both')
_REVERB_WRITE, _GAP = 'Reverb write', 'between replay and agent writes'
# DQNConfig defaults, for the learner-ratio and replay checks.
MIN_REPLAY_SIZE, SAMPLES_PER_INSERT, BATCH_SIZE, N_STEP = 1000, 32.0, 64, 3


def _launcher_command(args: argparse.Namespace, run_dir: str) -> List[str]:
  return [sys.executable, '-m', 'experiments.run_dqn', f'--run_dir={run_dir}',
          '--env=gym:CartPole-v1', f'--num_steps={args.num_steps}',
          f'--seed={args.seed}', f'--checkpoint_every_steps={args.checkpoint_every_steps}',
          f'--eval_every={args.eval_every}', f'--eval_episodes={args.eval_episodes}',
          '--log_every_seconds=30', '--novideo', '--noplots']


def _checkpoints_dir(run_dir: str) -> str:
  return os.path.join(run_dir, 'checkpoints')


def _steps(run_dir: str) -> List[int]:
  directory = _checkpoints_dir(run_dir)
  if not os.path.isdir(directory):
    return []
  return sorted(int(m.group(1)) for m in map(_CHECKPOINT.match, os.listdir(directory)) if m)


class _SidecarCollector:
  """Reads every checkpoint sidecar once, while keep-K still leaves it on disk."""

  def __init__(self, run_dir: str):
    self._directory = _checkpoints_dir(run_dir)
    self.sidecars: Dict[int, Dict[str, Any]] = {}

  def poll(self) -> None:
    for path in glob.glob(os.path.join(self._directory, 'ckpt-*.json')):
      step = int(os.path.basename(path)[len('ckpt-'):-len('.json')])
      if step in self.sidecars:
        continue
      try:
        with open(path) as f:
          self.sidecars[step] = json.load(f)
      except (OSError, ValueError):
        pass  # Pruned or replaced meanwhile; the next poll reads it if it is back.

  def snapshot_steps(self) -> Dict[str, int]:
    """Each Reverb snapshot's step: that of the first agent checkpoint naming it."""
    steps: Dict[str, int] = {}
    for step, sidecar in sorted(self.sidecars.items()):
      name = (sidecar.get('metadata') or {}).get('replay_checkpoint')
      if name:
        steps.setdefault(os.path.basename(str(name)), step)
    return steps


class _Process:
  """One launcher start, its output in a log file."""

  def __init__(self, command: List[str], log_path: str, run_dir: str,
               pause_between_writes: float = 0.0):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1')
    env.pop(_PAUSE_ENV, None)
    if pause_between_writes:
      env[_PAUSE_ENV] = str(pause_between_writes)
    self.log_path = log_path
    self.run_dir = run_dir
    self.resumed_from: Optional[int] = None
    self.resume_seconds: Optional[float] = None  # From start to training again.
    # The newest complete Reverb snapshot when the start said it resumed:
    # the one its replay server restored (None: the replay started empty).
    self.replay_loaded: Optional[str] = None
    self.expected_resume: Optional[int] = None  # The newest undamaged checkpoint's step.
    with open(log_path, 'w') as log:
      self.start = time.monotonic()
      self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT)

  def output(self) -> str:
    with open(self.log_path, errors='replace') as f:
      return f.read()

  def poll_resumed(self) -> None:
    if self.resumed_from is None:
      match = _RESUMED.search(self.output())
      if match:
        snapshots = _complete_snapshots(self.run_dir)
        self.replay_loaded = snapshots[-1] if snapshots else None
        self.resumed_from = int(match.group(1))
        self.resume_seconds = time.monotonic() - self.start


def _kill_phase(run_dir: str) -> str:
  """What the SIGKILL interrupted, judged from what it left in the run directory."""
  from rlkit.utils import atomic  # pylint: disable=g-import-not-at-top
  from rlkit.utils import checkpointing  # pylint: disable=g-import-not-at-top
  directory = _checkpoints_dir(run_dir)
  if any(atomic.is_temp_file(name) for name in os.listdir(directory)):
    return 'agent file write'
  replay = os.path.join(directory, 'replay')
  entries = sorted(os.listdir(replay)) if os.path.isdir(replay) else []
  done = [e for e in entries if os.path.exists(os.path.join(replay, e, 'DONE'))]
  if any(e not in done for e in entries):
    return 'Reverb write'
  infos = checkpointing.Checkpointer(directory).checkpoints()
  if infos and infos[-1].metadata is None:
    return 'sidecar write'
  if infos and done:
    recorded = os.path.basename(str(infos[-1].metadata.get('replay_checkpoint')))
    if recorded != done[-1]:
      return 'after Reverb, before agent file'
  return 'between writes'


def _replay_entries(run_dir: str) -> List[str]:
  replay = os.path.join(_checkpoints_dir(run_dir), 'replay')
  return sorted(os.listdir(replay)) if os.path.isdir(replay) else []


def _complete_snapshots(run_dir: str) -> List[str]:
  replay = os.path.join(_checkpoints_dir(run_dir), 'replay')
  return [e for e in _replay_entries(run_dir) if os.path.exists(os.path.join(replay, e, 'DONE'))]


def _wait_for_snapshot(process: _Process, run_dir: str, seconds: float = 30.0) -> bool:
  """Waits until a new complete Reverb snapshot appears (the replay write has ended)."""
  before = set(_complete_snapshots(run_dir))
  deadline = time.monotonic() + seconds
  while time.monotonic() < deadline and process.popen.poll() is None:
    if set(_complete_snapshots(run_dir)) - before:
      return True
    time.sleep(0.001)
  return False


def _stat(run_dir: str, step: int):
  stat = os.stat(os.path.join(_checkpoints_dir(run_dir), f'ckpt-{step}.pt'))
  return stat.st_size, stat.st_mtime_ns


def _damage(run_dir: str, kind: str) -> Optional[int]:
  """Damages the run directory; returns the step of the truncated checkpoint, if any."""
  directory = _checkpoints_dir(run_dir)
  truncated = None
  if kind in (_DAMAGES[0], _DAMAGES[2]):
    steps = _steps(run_dir)
    if steps:
      truncated = steps[-1]
      path = os.path.join(directory, f'ckpt-{truncated}.pt')
      os.truncate(path, os.path.getsize(path) // 2)
  if kind in (_DAMAGES[1], _DAMAGES[2]):
    shutil.rmtree(os.path.join(directory, 'replay'), ignore_errors=True)
  return truncated


def _replay_pairing(process: _Process, collector: '_SidecarCollector') -> str:
  """How one resume's replay went with its agent checkpoint.

  'matched (step N)': the snapshot loaded is the one the agent checkpoint
  names, written at the same actor step; 'refilled (warned)': the replay
  started empty and the start said so; anything else is a failure.
  """
  if process.resumed_from is None:
    return 'no resume'
  sidecar = collector.sidecars.get(process.resumed_from) or {}
  wanted = os.path.basename(str((sidecar.get('metadata') or {}).get('replay_checkpoint')))
  warned = _REFILL_WARNING in process.output()
  if process.replay_loaded is None:
    return 'refilled (warned)' if warned else 'MISMATCH: empty, no warning'
  step = collector.snapshot_steps().get(process.replay_loaded)
  if process.replay_loaded == wanted and step == process.resumed_from and not warned:
    return f'matched (step {step})'
  return f'MISMATCH: replay of step {step}' + (' (warned)' if warned else '')


def _wait_for_replay_write(process: _Process, run_dir: str, seconds: float = 30.0) -> bool:
  """Waits until a new Reverb checkpoint directory appears (a write has begun)."""
  before = set(_replay_entries(run_dir))
  deadline = time.monotonic() + seconds
  while time.monotonic() < deadline and process.popen.poll() is None:
    if set(_replay_entries(run_dir)) - before:
      return True
    time.sleep(0.001)
  return False


def _items_per_episode(length: int) -> int:
  # NStepTransitionAdder (see its docstring): windows grow from o_0 to n
  # steps, slide, then shrink to the final observation.
  return length + min(length, N_STEP) - 1


def _rows(path: str) -> List[Dict[str, str]]:
  if not os.path.exists(path):
    return []
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def _log_problems(rows: List[Dict[str, str]]) -> List[str]:
  """Missing or repeated episodes and steps in train.csv."""
  problems = []
  total = 0
  for index, row in enumerate(rows, start=1):
    total += int(row['episode_length'])
    if int(row['actor_episodes']) != index:
      problems.append(f'row {index}: actor_episodes {row["actor_episodes"]}')
    if int(row['actor_steps']) != total:
      problems.append(f'row {index}: actor_steps {row["actor_steps"]}, episode lengths sum '
                      f'to {total}')
  return problems


def _outcome(args: argparse.Namespace, run_dir: str) -> Dict[str, Any]:
  """How a finished run did: its launcher evaluations and a fresh greedy evaluation."""
  evaluations = [float(r['return_mean'])
                 for r in _rows(os.path.join(run_dir, 'logs', 'evaluator.csv'))]
  return {'evaluations': evaluations, 'final': _evaluate(run_dir, args.final_episodes)}


def _outcome_lines(args: argparse.Namespace, label: str,
                   outcome: Dict[str, Any]) -> List[str]:
  final = outcome['final']
  threshold = args.threshold
  launcher_final = outcome['evaluations'][-1] if outcome['evaluations'] else float('nan')
  return [
      f'{label}: launcher evaluations ({args.eval_episodes} episodes each): '
      + ', '.join(f'{r:.0f}' for r in outcome['evaluations'])
      + f'; the final one {launcher_final:.1f}: '
      f'{"solved" if launcher_final >= threshold else "not solved"}',
      f'{label}: saved policy (registry.load_policy), {args.final_episodes} greedy '
      f'episodes: {final["return_mean"]:.1f} +- {final["return_std"]:.1f} (checkpoint step '
      f'{final["step"]}): {"solved" if final["return_mean"] >= threshold else "not solved"} '
      f'(threshold {threshold:g})',
  ]


def _evaluate(run_dir: str, episodes: int) -> Dict[str, Any]:
  from rlkit import evaluation  # pylint: disable=g-import-not-at-top
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  loaded = registry.load_policy(run_dir)
  environment = loaded.make_environment(seed=12345)
  try:
    stats = evaluation.evaluate(environment, loaded.actor, episodes)
  finally:
    environment.close()
  return dict(stats, step=loaded.step)


def _replay_checkpoint_cost(run_dir: str, repeats: int = 3) -> Dict[str, float]:
  """Seconds and bytes of checkpointing the final Reverb tables (on a copy)."""
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.agents.dqn import builder  # pylint: disable=g-import-not-at-top
  from rlkit.agents.dqn import config as dqn_config  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  source = os.path.join(_checkpoints_dir(run_dir), 'replay')
  with tempfile.TemporaryDirectory() as scratch:
    copy = os.path.join(scratch, 'replay')
    shutil.copytree(source, copy)
    spec = specs.make_environment_spec(factory.make_environment('gym:CartPole-v1'))
    from rlkit.replay import server as server_lib  # pylint: disable=g-import-not-at-top
    server = server_lib.ReplayServer(
        builder.DQNBuilder(dqn_config.DQNConfig()).make_replay_tables(spec, None),
        checkpoint_dir=copy)
    try:
      info = server.client().server_info()[builder.MAIN_TABLE]
      items = info.current_size
      inserted = info.rate_limiter_info.insert_stats.completed
      seconds = []
      for _ in range(repeats):
        start = time.perf_counter()
        path = server.checkpoint()
        seconds.append(time.perf_counter() - start)
      size = sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))
    finally:
      server.stop()
  return {'items': items, 'inserted': inserted, 'seconds': statistics.median(seconds),
          'bytes': size}


def _wait_for_kill_point(process: _Process, run_dir: str, floor: int,
                         collector: _SidecarCollector, timeout: float) -> Optional[int]:
  """Waits for a checkpoint past `floor`; None if the process ended first."""
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    collector.poll()
    process.poll_resumed()
    if process.popen.poll() is not None:
      return None
    steps = _steps(run_dir)
    if steps and steps[-1] > floor:
      return steps[-1]
    time.sleep(0.005)
  raise TimeoutError(f'no checkpoint past step {floor} within {timeout} s')


def _stop(processes: List[_Process]) -> None:
  """SIGKILLs and reaps every start still running (after an error or an interrupt)."""
  for process in processes:
    if process.popen.poll() is None:
      process.popen.kill()
      process.popen.wait()


def _soak(args: argparse.Namespace, run_dir: str, log_dir: str,
          processes: List[_Process]) -> None:
  """Runs the soak and the reference; appends every start to `processes`."""
  rng = random.Random(args.seed)
  targets = sorted(rng.randrange(0, int(0.95 * args.num_steps)) for _ in range(args.kills))
  command = _launcher_command(args, run_dir)
  collector = _SidecarCollector(run_dir)
  kills: List[Dict[str, Any]] = []
  print(f'Soak: {args.kills} SIGKILLs across one run of\n  {" ".join(command[1:])}\n',
        flush=True)
  start = time.monotonic()
  truncated: Dict[int, Any] = {}  # Step -> the file's (size, mtime) after truncating it.
  expected = None  # The step the next start must resume from.
  for number, target in enumerate(targets, start=1):
    # Past the target and past every checkpoint so far: this process has trained.
    floor = max([target] + _steps(run_dir))
    aimed = bool(args.aimed_every) and number % args.aimed_every == 0
    aim = ((_REVERB_WRITE, _GAP)[(number // args.aimed_every - 1) % 2] if aimed else None)
    process = _Process(command, os.path.join(log_dir, f'start-{number:02d}.log'), run_dir,
                       args.pause_between_writes if aim == _GAP else 0.0)
    process.expected_resume = expected
    processes.append(process)
    if _wait_for_kill_point(process, run_dir, floor, collector, args.timeout) is None:
      print(f'start {number} ended (status {process.popen.returncode}) before its kill '
            f'point:\n{process.output()[-2000:]}', flush=True)
      break
    if aim == _REVERB_WRITE and _wait_for_replay_write(process, run_dir):
      time.sleep(rng.uniform(0.0, 0.02))
    elif aim == _GAP and _wait_for_snapshot(process, run_dir):
      # Reverb has finished (and dropped the older snapshot) well before this.
      time.sleep(rng.uniform(0.1, 0.6) * args.pause_between_writes)
    else:
      time.sleep(rng.uniform(0.0, args.max_delay))
    collector.poll()
    process.poll_resumed()
    ended_first = process.popen.poll() is not None
    process.popen.send_signal(signal.SIGKILL)
    process.popen.wait()
    collector.poll()
    kill = {'kill': number, 'target': target, 'aim': aim,
            'newest_checkpoint': (_steps(run_dir) or [None])[-1],
            'phase': 'process ended first' if ended_first else _kill_phase(run_dir),
            'damage': ''}
    if rng.random() < args.damage_probability:
      kill['damage'] = rng.choice(_DAMAGES)
      step = _damage(run_dir, kill['damage'])
      if step is not None:
        truncated[step] = _stat(run_dir, step)
    intact = [s for s in _steps(run_dir) if truncated.get(s) != _stat(run_dir, s)]
    expected = intact[-1] if intact else None
    kills.append(kill)
    damaged = f'; damaged: {kill["damage"]}' if kill['damage'] else ''
    print(f'kill {number:2d}{" (aimed)" if aim else ""}: past step {target:6d}, newest '
          f'checkpoint {kill["newest_checkpoint"]}, interrupted: {kill["phase"]}'
          f'{f"; aimed at: {aim}" if aim else ""}{damaged}', flush=True)
  else:
    process = _Process(command, os.path.join(log_dir, 'final.log'), run_dir)
    process.expected_resume = expected
    processes.append(process)
    while process.popen.poll() is None:
      collector.poll()
      process.poll_resumed()
      time.sleep(0.02)
    collector.poll()
    process.poll_resumed()
  _report(args, run_dir, kills, processes, collector, time.monotonic() - start)
  if args.reference:
    reference_dir = os.path.join(os.path.dirname(run_dir), 'reference')
    start = time.monotonic()
    process = _Process(_launcher_command(args, reference_dir), os.path.join(log_dir, 'reference.log'),
                       reference_dir)
    processes.append(process)
    process.popen.wait()
    wall = time.monotonic() - start
    rows = _rows(os.path.join(reference_dir, 'logs', 'train.csv'))
    print(f'\nUninterrupted reference (same command, other --run_dir): exit status '
          f'{process.popen.returncode}, {rows[-1]["actor_steps"] if rows else 0} steps, '
          f'{wall:.0f} s')
    for line in _outcome_lines(args, 'Reference', _outcome(args, reference_dir)):
      print(line)


def _report(args: argparse.Namespace, run_dir: str, kills: List[Dict[str, Any]],
            processes: List[_Process], collector: _SidecarCollector, wall: float) -> None:
  from rlkit.utils import checkpointing  # pylint: disable=g-import-not-at-top
  print('\nkill | aimed | newest ckpt | the kill interrupted             | next start resumed from | ok')
  print('-----+-------+-------------+----------------------------------+-------------------------+----')
  succeeded, fell_back = 0, 0
  pairings: Dict[str, int] = {}
  pairing_rows = []
  for kill, after in zip(kills, processes[1:]):
    text = after.output()
    restored = after.resumed_from
    # A resume succeeds if it restores the newest undamaged checkpoint and
    # trains on (killed later, or finishing with status 0).
    ok = (restored is not None and restored == after.expected_resume and
          (after.popen.returncode in (0, -signal.SIGKILL)))
    succeeded += ok
    fell_back += 'Skipping checkpoint' in text
    pairing = _replay_pairing(after, collector)
    kind = pairing.split(':')[0].split(' ')[0]
    pairings[kind] = pairings.get(kind, 0) + 1
    pairing_rows.append((kill, after, pairing))
    print(f'{kill["kill"]:4d} | {"yes" if kill["aim"] else "":5s} | '
          f'{str(kill["newest_checkpoint"]):>11s} | {kill["phase"]:32s} | '
          f'{str(restored):>23s} | {"yes" if ok else "NO"}'
          f'{" (fell back)" if "Skipping checkpoint" in text else ""}')
    if not ok:
      print(f'     | expected to resume from {after.expected_resume}; '
            f'{(text.strip().splitlines() or ["(no output)"])[-1]}')
  print('\nEach resume: what the kill aimed at, the damage done after it, the newest undamaged '
        'agent checkpoint, the one restored, and the replay it loaded')
  for kill, after, pairing in pairing_rows:
    print(f'after kill {kill["kill"]:2d}: aimed at {kill["aim"] or "-":31s}  damage '
          f'{kill["damage"] or "-":20s}  newest undamaged {str(after.expected_resume):>6s}  '
          f'resumed from {str(after.resumed_from):>6s}  replay {pairing}')

  final = processes[-1]
  final_output = final.output()
  rows = _rows(os.path.join(run_dir, 'logs', 'train.csv'))
  problems = _log_problems(rows)
  state = checkpointing.Checkpointer(_checkpoints_dir(run_dir)).restore()
  counts, agent = state['counter'], state['agent']
  accrued = (counts['actor_steps'] - MIN_REPLAY_SIZE + 1) * SAMPLES_PER_INSERT / BATCH_SIZE
  learner_total = agent['num_learner_steps'] + agent['budget']
  outcome = _outcome(args, run_dir)
  sidecars = [s for _, s in sorted(collector.sidecars.items())]
  write = [s['serialize_seconds'] + s['write_seconds'] for s in sidecars]
  sizes = [s['size_bytes'] for s in sidecars]
  replay = _replay_checkpoint_cost(run_dir)
  resume_seconds = [p.resume_seconds for p in processes if p.resume_seconds is not None]
  phases: Dict[str, int] = {}
  for kill in kills:
    phases[kill['phase']] = phases.get(kill['phase'], 0) + 1

  print()
  damages: Dict[str, int] = {}
  for kill in kills:
    if kill['damage']:
      damages[kill['damage']] = damages.get(kill['damage'], 0) + 1
  aims = [k['phase'] for k in kills if k['aim'] == _GAP]
  print(f'Resumes succeeded:          {succeeded}/{len(kills)} (restored the newest undamaged '
        f'agent checkpoint and trained on; {fell_back} skipped a truncated one with a warning)')
  print(f'Replay and agent steps:     matched in {pairings.get("matched", 0)}/{len(kills)} '
        f'resumes; refilled with a warning in {pairings.get("refilled", 0)}; mismatched in '
        f'{pairings.get("MISMATCH", 0) + pairings.get("no", 0)}')
  print('Kills interrupted:          ' + ', '.join(f'{p}: {n}' for p, n in sorted(phases.items())))
  print(f'Kills aimed at the gap:     {len(aims)}, '
        f'{sum(p == "after Reverb, before agent file" for p in aims)} landed there '
        f'(pause {args.pause_between_writes:g} s, test hook {_PAUSE_ENV})')
  print('Damage between kills:       ' + (', '.join(f'{d}: {n}' for d, n in sorted(damages.items()))
                                          or 'none'))
  print(f'Final start:                exit status {final.popen.returncode}, '
        f'{"finished the budget" if "Done:" in final_output else "did NOT finish"}')
  print(f'Final counts:               {counts["actor_steps"]} steps (budget {args.num_steps}), '
        f'{counts["actor_episodes"]} episodes, {counts["learner_steps"]} learner steps')
  print(f'train.csv:                  {len(rows)} rows, '
        f'{"one per episode, none missing or repeated" if not problems else "PROBLEMS: " + "; ".join(problems[:5])}')
  print(f'Learner ratio kept:         {"yes" if learner_total == accrued else "NO"} (learner '
        f'steps + budget {learner_total:.1f}, expected {accrued:.1f})')
  for line in _outcome_lines(args, 'Soaked run', outcome):
    print(line)
  if write:
    print(f'Agent checkpoint (.pt):     {statistics.median(sizes) / 1e3:.0f} kB; serialize + '
          f'write + fsync + rename: median {1e3 * statistics.median(write):.1f} ms, max '
          f'{1e3 * max(write):.1f} ms ({len(write)} checkpoints)')
  print(f'Reverb checkpoint:          {replay["bytes"] / 1e6:.2f} MB for {replay["items"]} '
        f'items; {1e3 * replay["seconds"]:.0f} ms to write (final tables, median of 3)')
  refills = [p.resumed_from for p in processes if p.resumed_from is not None and
             p.replay_loaded is None]
  since = refills[-1] if refills else 0
  logged_items = sum(_items_per_episode(int(row['episode_length'])) for row in rows
                     if int(row['actor_steps']) > since)
  print(f'Replay restored:            {replay["inserted"]} items inserted over the run, '
        f'{logged_items} from the logged episodes ('
        + (f'both since the replay was last refilled, at step {since}; ' if refills else '')
        + f'{replay["inserted"] - logged_items:+d}: inserted while a snapshot was being '
        f'written, then again after a resume from it)')
  if resume_seconds:
    print(f'Start to training again:    median {statistics.median(resume_seconds):.1f} s, max '
          f'{max(resume_seconds):.1f} s (imports, Reverb restore, checkpoint load)')
  print(f'Wall time:                  {wall:.0f} s')


def _parse(argv: Optional[List[str]]) -> argparse.Namespace:
  """The flags, checked: a bad value fails here, naming it."""
  parser = argparse.ArgumentParser(
      description=__doc__.splitlines()[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  add = parser.add_argument
  add('--kills', type=int, default=20, help='SIGKILLs, each followed by a resume.')
  add('--num_steps', type=int, default=30_000, help='Training budget (environment steps).')
  add('--checkpoint_every_steps', type=int, default=500,
      help='Launcher --checkpoint_every_steps.')
  add('--eval_every', type=int, default=5000, help='Launcher --eval_every.')
  add('--eval_episodes', type=int, default=20,
      help='Launcher --eval_episodes (its periodic and final evaluations).')
  add('--final_episodes', type=int, default=100,
      help='Episodes of the final greedy evaluation of the saved policy.')
  add('--reference', action='store_true', default=True,
      help='Also run the same command uninterrupted and evaluate it the same way, for '
      'comparison (--noreference: not).')
  add('--noreference', dest='reference', action='store_false', help=argparse.SUPPRESS)
  add('--threshold', type=float, default=475.0,
      help='Mean greedy return that counts as solved.')
  add('--seed', type=int, default=0, help='Seed of the run (--seed) and of the kill moments.')
  add('--max_delay', type=float, default=1.0,
      help='Each kill comes a random 0..max_delay s after its checkpoint (about one '
      'checkpoint interval).')
  add('--aimed_every', type=int, default=2,
      help='Every this-many-th kill is aimed at a checkpoint write: it comes a random '
      '0..20 ms after a Reverb checkpoint directory appears (0: none aimed).')
  add('--pause_between_writes', type=float, default=1.0,
      help='Seconds the starts killed in the gap between the replay and agent writes hold '
      'that gap open (the test hook RLKIT_TEST_PAUSE_BETWEEN_CHECKPOINT_WRITES).')
  add('--damage_probability', type=float, default=0.4,
      help='After each kill, the chance that the run directory is damaged: the newest '
      'ckpt-*.pt truncated, checkpoints/replay/ deleted, or both.')
  add('--smoke', action='store_true',
      help='A tiny soak that checks the script runs (2 kills, 3000 steps, no reference, '
      'every kill aimed and followed by damage).')
  add('--nosmoke', dest='smoke', action='store_false', help=argparse.SUPPRESS)
  add('--work_dir', default=None,
      help="Holds run/ (the run directory) and logs/ (each start's output); default: a "
      'new temporary directory, removed at the end unless --keep.')
  add('--keep', action='store_true', help='Keep the temporary work directory.')
  add('--nokeep', dest='keep', action='store_false', help=argparse.SUPPRESS)
  add('--timeout', type=float, default=600.0,
      help='Seconds a process may take to reach its kill point or the end.')
  args = parser.parse_args(argv)
  if args.smoke:
    args.kills, args.num_steps, args.reference, args.aimed_every = 2, 3000, False, 1
    args.eval_every, args.eval_episodes, args.final_episodes = 0, 2, 2
    args.damage_probability = 1.0
  lower_bounds = {'kills': 0, 'num_steps': 1, 'checkpoint_every_steps': 1, 'eval_every': 0,
                  'eval_episodes': 1, 'final_episodes': 1, 'seed': 0, 'max_delay': 0.0,
                  'aimed_every': 0, 'timeout': 1.0, 'pause_between_writes': 0.0,
                  'damage_probability': 0.0}
  for name, low in lower_bounds.items():
    value = getattr(args, name)
    if not (value >= low and math.isfinite(value)):
      parser.error(f'--{name} must be >= {low}, got {value}.')
  if args.kills and args.num_steps < 2:
    parser.error(f'--num_steps={args.num_steps} leaves no step to kill at; use >= 2.')
  if args.damage_probability > 1:
    parser.error(f'--damage_probability must be <= 1, got {args.damage_probability}.')
  if args.aimed_every and not args.pause_between_writes:
    parser.error('--pause_between_writes=0 leaves no gap for the kills aimed between the '
                 'replay and agent writes; give it > 0 or --aimed_every=0.')
  if not math.isfinite(args.threshold):
    parser.error(f'--threshold must be a finite number, got {args.threshold}.')
  if args.work_dir and os.path.exists(args.work_dir) and os.listdir(args.work_dir):
    parser.error(f'--work_dir={args.work_dir} is not empty; the soak needs a fresh run.')
  return args


def main(argv: Optional[List[str]] = None) -> None:
  args = _parse(argv)
  work_dir = args.work_dir
  temporary = work_dir is None
  if temporary:
    work_dir = tempfile.mkdtemp(prefix='soak_resume-')
  run_dir, log_dir = os.path.join(work_dir, 'run'), os.path.join(work_dir, 'logs')
  os.makedirs(log_dir, exist_ok=True)
  processes: List[_Process] = []
  try:
    _soak(args, run_dir, log_dir, processes)
  finally:
    _stop(processes)
    if temporary and not args.keep:
      shutil.rmtree(work_dir, ignore_errors=True)
    else:
      print(f'Run directory: {run_dir}; launcher output: {log_dir}')


if __name__ == '__main__':
  main()
