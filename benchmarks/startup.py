"""Start-up and shutdown of the launchers, against a bare `import reverb, torch`.

    python -m benchmarks.startup                       # every launcher, 1 repeat
    python -m benchmarks.startup --launchers=dqn,sac --repeats=3
    python -m benchmarks.startup --smoke               # run_dqn only: the wiring

Each launcher runs as `python -m experiments.run_<agent>` with its default
environment, a budget of one 1-step episode and no video, plots, TensorBoard,
random baseline or periodic checkpoints. Its lines are timestamped as they
arrive (unbuffered): "first step" is the time from the spawn to the first
training row (`--log_every_seconds=0` prints one per episode; the episode is
one step), "shutdown" the time from the end-of-run summary (`Done: ...`) to
the process's exit (the final evaluation and checkpoint come before it). The
bare import is compared with both. "bad flag" (`--num_steps=0`) and "bad env"
(`--env=gym:NoSuchEnv-v0`) time the rejection, exit status 2, against a
target of one second; when the bad environment takes longer, the heaviest
imports before the check are listed from `python -X importtime`, with the
rlkit or experiments module importing each.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

from absl import flags

from benchmarks import bench_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_S = 1.0
BARE_IMPORT = 'import reverb, torch'
TINY_RUN = ('--num_steps=1', '--max_episode_steps=1', '--eval_every=0', '--eval_episodes=1',
            '--novideo', '--noplots', '--notensorboard', '--norandom_baseline',
            '--checkpoint_every_steps=0', '--checkpoint_every_seconds=0',
            '--log_every_seconds=0')
BAD_FLAG = '--num_steps=0'
BAD_ENV = '--env=gym:NoSuchEnv-v0'
FIRST_ROW = re.compile(r'^\[train\] 1/')
SUMMARY = re.compile(r'^\[\w+\] Done: ')

FLAGS = flags.FlagValues()
flags.DEFINE_list('launchers', [], 'Agents whose launcher (experiments/run_<agent>.py) is '
                  'timed; default every registered agent with a launcher.', flag_values=FLAGS)
flags.DEFINE_integer('repeats', 1, 'Runs of each measurement; medians are reported.',
                     flag_values=FLAGS)
flags.DEFINE_float('timeout', 300.0, 'Seconds a launcher may take before it counts as hung.',
                   flag_values=FLAGS)
flags.DEFINE_bool('smoke', False, 'run_dqn only, one repeat: checks the wiring.',
                  flag_values=FLAGS)


def _environment() -> Dict[str, str]:
  return dict(os.environ, PYTHONUNBUFFERED='1', TF_CPP_MIN_LOG_LEVEL='2')


def _timed_lines(command: Sequence[str], timeout: float) -> Tuple[int, float, List[Tuple[float, str]]]:
  """Runs `command`; (exit status, seconds to exit, [(seconds, line)] of its stdout and stderr)."""
  start = time.monotonic()
  process = subprocess.Popen(command, cwd=ROOT, env=_environment(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1)
  lines = []
  try:
    for line in process.stdout:
      lines.append((time.monotonic() - start, line.rstrip('\n')))
      if time.monotonic() - start > timeout:
        raise subprocess.TimeoutExpired(command, timeout)
    status = process.wait(timeout=max(1.0, timeout - (time.monotonic() - start)))
  except subprocess.TimeoutExpired:
    process.kill()
    process.wait()
    raise
  return status, time.monotonic() - start, lines


def bare_import(timeout: float) -> float:
  status, seconds, lines = _timed_lines([sys.executable, '-c', BARE_IMPORT], timeout)
  if status != 0:
    raise RuntimeError(f'python -c "{BARE_IMPORT}" exited {status}: '
                       f'{" | ".join(text for _, text in lines[-5:])}')
  return seconds


def launcher_run(agent: str, timeout: float) -> Dict[str, float]:
  """{'first_step', 'shutdown', 'total'} seconds of one tiny run of `agent`'s launcher."""
  with tempfile.TemporaryDirectory(prefix='rlkit-startup-') as directory:
    command = [sys.executable, '-m', f'experiments.run_{agent}',
               f'--run_dir={os.path.join(directory, "run")}', *TINY_RUN]
    status, total, lines = _timed_lines(command, timeout)
  if status != 0:
    raise RuntimeError(f'run_{agent} exited {status}: '
                       f'{" | ".join(text for _, text in lines[-5:])}')
  first = next((t for t, text in lines if FIRST_ROW.match(text)), None)
  done = next((t for t, text in lines if SUMMARY.match(text)), None)
  if first is None or done is None:
    raise RuntimeError(f'run_{agent} printed no first training row or no summary line; '
                       f'its last lines: {" | ".join(text for _, text in lines[-5:])}')
  return {'first_step': first, 'shutdown': total - done, 'total': total}


def rejection(agent: str, bad: str, timeout: float) -> Tuple[float, str]:
  """Seconds for `agent`'s launcher to reject `bad`, and its error line; exit 2 expected."""
  command = [sys.executable, '-m', f'experiments.run_{agent}', bad]
  status, seconds, lines = _timed_lines(command, timeout)
  errors = [text for _, text in lines if 'error:' in text]
  if status != 2 or not errors:
    raise RuntimeError(f'run_{agent} {bad} exited {status} (expected 2 with an error line): '
                       f'{" | ".join(text for _, text in lines[-5:])}')
  return seconds, errors[-1]


def heavy_imports(agent: str, bad: str, timeout: float,
                  minimum_s: float = 0.05) -> List[Tuple[str, str, float]]:
  """(rlkit/experiments module, third-party module it imports, cumulative s), heaviest first.

  From `python -X importtime`: a module's children are the lines just before
  it indented one level deeper.
  """
  command = [sys.executable, '-X', 'importtime', '-m', f'experiments.run_{agent}', bad]
  process = subprocess.run(command, cwd=ROOT, env=_environment(), capture_output=True,
                           text=True, timeout=timeout)
  entries = []
  for line in process.stderr.splitlines():
    match = re.match(r'^import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$', line)
    if match:
      entries.append((len(match.group(2)), match.group(3), int(match.group(1)) / 1e6))
  found = []
  for index, (depth, name, seconds) in enumerate(entries):
    if _ours(name) or seconds < minimum_s:
      continue
    parent = next((n for d, n, _ in entries[index + 1:] if d < depth), None)
    if parent is not None and _ours(parent):
      found.append((parent, name, seconds))
  return sorted(found, key=lambda item: -item[2])


def _ours(module: str) -> bool:
  return module.split('.')[0] in ('rlkit', 'experiments')


def launchers() -> List[str]:
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  return [name for name in registry.names()
          if os.path.exists(os.path.join(ROOT, 'experiments', f'run_{name}.py'))]


def _median(values: List[float]) -> float:
  return statistics.median(values)


def _verdict(seconds: float) -> str:
  return 'OK' if seconds < TARGET_S else 'ABOVE TARGET'


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.startup')
  known = launchers()
  agents = ['dqn'] if args.smoke else (list(args.launchers) or known)
  unknown = [a for a in agents if a not in known]
  if unknown:
    bench_flags.fail(f'--launchers={",".join(args.launchers)}: no launcher for '
                     f'{", ".join(unknown)}; expected some of {", ".join(known)}.')
  if args.repeats < 1:
    bench_flags.fail(f'--repeats must be >= 1, got {args.repeats}.')
  if not 0 < args.timeout < float('inf'):
    bench_flags.fail(f'--timeout must be a positive number of seconds, got {args.timeout}.')
  repeats = 1 if args.smoke else args.repeats
  print(f'startup benchmark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, '
        f'medians of {repeats} runs', flush=True)
  bare = _median([bare_import(args.timeout) for _ in range(repeats)])
  print(f'\npython -c "{BARE_IMPORT}": {bare:.2f} s\n', flush=True)
  print(f'{"launcher":<16} {"first step (s)":>14} {"vs import":>9} {"shutdown (s)":>12} '
        f'{"total (s)":>9} {"bad flag (s)":>12} {"bad env (s)":>11}', flush=True)
  slow_env = []
  for agent in agents:
    runs = [launcher_run(agent, args.timeout) for _ in range(repeats)]
    first, shutdown, total = (_median([r[key] for r in runs])
                              for key in ('first_step', 'shutdown', 'total'))
    bad_flag = _median([rejection(agent, BAD_FLAG, args.timeout)[0] for _ in range(repeats)])
    bad_env = _median([rejection(agent, BAD_ENV, args.timeout)[0] for _ in range(repeats)])
    if bad_env >= TARGET_S:
      slow_env.append(agent)
    print(f'{"run_" + agent:<16} {first:>14.2f} {first / bare:>8.1f}x {shutdown:>12.2f} '
          f'{total:>9.2f} {bad_flag:>7.2f} {_verdict(bad_flag):>4} '
          f'{bad_env:>6.2f} {_verdict(bad_env)}', flush=True)
  print(f'\nTargets: a bad flag and a bad environment rejected (exit 2) in under '
        f'{TARGET_S:g} s.', flush=True)
  if slow_env:
    agent = slow_env[0]
    print(f'\nImports before run_{agent} rejects {BAD_ENV} (python -X importtime, '
          f'cumulative s, >= 0.05 s):', flush=True)
    heavy = heavy_imports(agent, BAD_ENV, args.timeout)[:10]
    for parent, name, seconds in heavy:
      print(f'  {seconds:6.2f}  {name:<28} imported by {parent}', flush=True)
    if not heavy:
      print('  (none)', flush=True)


if __name__ == '__main__':
  main()
