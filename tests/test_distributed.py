"""Distributed runs on Ray with real Reverb: DQN learning, counts, faults, signals, resume, ports.

One local Ray cluster is shared by the in-process tests (session fixture); the
SIGTERM test runs a launcher subprocess with its own cluster. Each run starts
fresh node processes (each imports TensorFlow for Reverb), so runs are few.
"""

import csv
import dataclasses
import ipaddress
import os
import signal
import threading
import time

import psutil
import pytest
import torch

from rlkit.experiments import distributed
from rlkit.experiments import run_experiment
from tests import distributed_tiny
from tests import forkserver
from tests import waiting

# One xdist worker runs the Ray tests (make test: --dist loadgroup): one cluster at a time.
pytestmark = pytest.mark.xdist_group('ray')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DQN_BUDGET = 10_000
# Greedy mean return (5 episodes every 2000 steps) on CartPole-v1; a random policy gets ~22.
DQN_THRESHOLD = 150.0
# The distributed run ends at its budget, not at a threshold, so that the killed actor is
# back and acting before the end (a run can reach 150 at 2000 steps, before the restarted
# actor has acted). Its best evaluation reached 150 at 4k, 6k and 6k steps in three runs
# and peaked at 139 (4k-8k steps) in a fourth, on a machine busy with the other tests.
DISTRIBUTED_DQN_BUDGET = 8_000
DISTRIBUTED_DQN_THRESHOLD = 100.0
REINFORCE_EPISODES = 60


def _rows(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


@pytest.fixture(scope='session')
def cluster():
  torch.set_num_threads(1)
  owns = distributed.start_ray(None)
  import ray  # pylint: disable=g-import-not-at-top
  yield ray
  if owns:
    ray.shutdown()


def _loopback(address: str) -> bool:
  ip = ipaddress.ip_address(address.split('%')[0])
  mapped = getattr(ip, 'ipv4_mapped', None)
  return (mapped or ip).is_loopback


def _listening(root: psutil.Process):
  """(pid, name, ip, port) of every listening inet socket of `root` and its descendants."""
  found = []
  for process in [root] + root.children(recursive=True):
    try:
      for connection in process.net_connections(kind='inet'):
        if connection.status == psutil.CONN_LISTEN:
          found.append((process.pid, process.name(), connection.laddr.ip,
                        connection.laddr.port))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
      continue
  return found


def _node_processes(title: str):
  return [p for p in psutil.Process().children(recursive=True)
          if title in ' '.join(_cmdline(p))]


def _cmdline(process):
  try:
    return process.cmdline()
  except (psutil.NoSuchProcess, psutil.AccessDenied):
    return []


def _alive(pid: int) -> bool:
  """True while `pid` runs (a zombie has exited)."""
  try:
    return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
  except psutil.NoSuchProcess:
    return False


def test_unreachable_ray_address_fails_at_once(tmp_path):
  started = time.monotonic()
  with pytest.raises(distributed.ClusterError, match='127.0.0.1:9'):
    distributed.run_distributed_experiment(
        distributed_tiny.make_config(str(tmp_path / 'run'), 100), 1,
        ray_address='127.0.0.1:9')
  assert time.monotonic() - started < 10
  with pytest.raises(distributed.ClusterError, match='HOST:PORT'):
    distributed.check_address('no-port')
  with pytest.raises(ValueError, match='num_actors'):
    distributed.run_distributed_experiment(
        distributed_tiny.make_config(str(tmp_path / 'run'), 100), 0)


def test_nodes_asking_for_more_than_the_cluster_has_fail_at_once(cluster, tmp_path):
  del cluster
  config = distributed_tiny.make_config(str(tmp_path / 'run'), 100)
  started = time.monotonic()
  with pytest.raises(distributed.ClusterError, match=r'--actor_cpus=1000 .* need 2000\.5 CPUs'):
    distributed.run_distributed_experiment(config, 2, actor_cpus=1000, learner_cpus=0.5)
  with pytest.raises(distributed.ClusterError, match='--learner_gpus=4'):
    distributed.run_distributed_experiment(config, 1, actor_cpus=0.5, learner_cpus=0.5,
                                           learner_gpus=4)
  assert time.monotonic() - started < 30


def _config(agent: str, env: str, run_dir: str, *, num_steps=None, num_episodes=None,
            eval_every=2_000, stop_at_return=None):
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import config as config_lib  # pylint: disable=g-import-not-at-top
  return config_lib.ExperimentConfig(
      builder=registry.make_builder(agent), environment_factory=factory.EnvironmentFactory(env),
      max_num_actor_steps=num_steps, max_num_episodes=num_episodes, run_dir=run_dir,
      video=False, plots=False, log_every_seconds=1.0,
      evaluation=config_lib.EvaluationConfig(every_steps=eval_every, episodes=5,
                                             random_baseline=False,
                                             stop_at_return=stop_at_return),
      checkpointing=config_lib.CheckpointingConfig(every_steps=0, every_seconds=0))


def _dqn_config(run_dir: str, stop_at_return=None):
  return _config('dqn', 'gym:CartPole-v1', run_dir, num_steps=DQN_BUDGET,
                 stop_at_return=stop_at_return)


class _ActorKiller:
  """Kills one actor node process (SIGKILL) once the actors have logged an episode."""

  def __init__(self, run_dir: str):
    self.run_dir, self.killed = run_dir, []
    self._thread = threading.Thread(target=self._kill_one, daemon=True)
    self._thread.start()

  def _kill_one(self):
    deadline = time.monotonic() + 240
    log = os.path.join(self.run_dir, 'logs', 'train_0.csv')
    while time.monotonic() < deadline:
      if os.path.exists(log) and _rows(log):
        for process in psutil.Process().children(recursive=True):
          if 'ActorNode' in ' '.join(_cmdline(process)) or 'ActorNode' in _name(process):
            os.kill(process.pid, signal.SIGKILL)
            self.killed.append(process.pid)
            return
      time.sleep(0.2)

  def join(self):
    self._thread.join()


@pytest.mark.parametrize('layout', ['single_process', 'distributed'])
def test_dqn_learns_cartpole_in_both_layouts(cluster, tmp_path, layout):
  """The same DQN builder learns through both runners (greedy returns of 150 and 100).

  Single process: the run stops at the first evaluation that reaches it.
  Distributed: 2 actor processes; one is killed after its first episode, Ray
  restarts it and it acts again; the run ends at its budget. Counts agree with
  the per-actor logs, and nothing but Reverb listens off loopback.
  """
  del cluster
  if layout == 'single_process':
    config = _dqn_config(str(tmp_path / layout), stop_at_return=DQN_THRESHOLD)
    result = run_experiment.run_experiment(config)
  else:
    config = dataclasses.replace(_dqn_config(str(tmp_path / layout)),
                                 max_num_actor_steps=DISTRIBUTED_DQN_BUDGET)
    seen, stop = [], threading.Event()

    def watch():
      # A sweep reads every socket of every node process (about 0.2 s of CPU); the
      # listening ones stay up for the whole run.
      while not stop.wait(3.0):
        seen.extend(_listening(psutil.Process()))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    killer = _ActorKiller(config.run_dir)
    try:
      result = distributed.run_distributed_experiment(config, 2, actor_cpus=0.5,
                                                      learner_cpus=0.5)
    finally:
      stop.set()
      watcher.join()
      killer.join()
  assert not result.interrupted
  counts = result.counts
  logs = os.path.join(result.run_dir, 'logs')
  evaluator_rows = _rows(os.path.join(logs, 'evaluator.csv'))
  assert int(evaluator_rows[-1]['evaluator_episodes']) == 5 * len(evaluator_rows)
  returns = [float(r['return_mean']) for r in evaluator_rows]
  threshold = DQN_THRESHOLD if layout == 'single_process' else DISTRIBUTED_DQN_THRESHOLD
  assert max(returns) >= threshold, returns
  # Samples per insert 32 at batch 64: one learner step per two inserted transitions
  # (less the 1000 transitions of min_replay_size).
  assert counts['learner_steps'] >= 0.4 * (counts['actor_steps'] - 1000), counts
  assert os.path.exists(result.checkpoint)
  if layout == 'single_process':
    assert int(evaluator_rows[-1]['actor_steps']) == counts['actor_steps']
    return
  assert counts['actor_steps'] >= DISTRIBUTED_DQN_BUDGET, counts
  per_actor = [_rows(os.path.join(logs, f'train_{i}.csv')) for i in range(2)]
  assert all(per_actor), 'every actor logged episodes'
  steps = sum(int(r['episode_length']) for rows in per_actor for r in rows)
  episodes = sum(len(rows) for rows in per_actor)
  # An actor logs an episode, then adds it to the counts: the SIGKILL may land
  # between the two, so its last episode before the kill may be logged but not counted.
  restarted = int(next(iter(result.node_stats['restarts'])).split('_')[1])
  last_before_kill = [r for r in per_actor[restarted] if int(r['restarts']) == 0][-1]
  assert (steps - counts['actor_steps'], episodes - counts['actor_episodes']) in (
      (0, 0), (int(last_before_kill['episode_length']), 1)), (steps, episodes, counts)
  # The last learner row is at most the final count (rows go at most once a second).
  learner_rows = _rows(os.path.join(logs, 'learner.csv'))
  assert float(learner_rows[-1]['learner_steps']) <= counts['learner_steps']
  # The learner logs the policy lag of the weights the actors act with: it grows
  # between an actor's pulls (every `variable_update_period` of its steps) and falls
  # when it pulls.
  lags = [(int(r['policy_lag_min']), int(r['policy_lag_max'])) for r in learner_rows]
  assert all(0 <= low <= high <= float(r['learner_steps'])
             for (low, high), r in zip(lags, learner_rows)), lags
  assert any(later[0] < earlier[0] for earlier, later in zip(lags, lags[1:])), lags

  assert killer.killed, 'an actor process was killed'
  assert not _alive(killer.killed[0])
  restarts = result.node_stats['restarts']
  assert sum(restarts.values()) == 1, restarts
  restarted = int(next(iter(restarts)).split('_')[1])
  assert any(int(r['restarts']) == 1 for r in per_actor[restarted]), 'the restarted actor acted'

  assert seen, 'the watcher saw the cluster listening'
  assert [s for s in seen if 'ray' in s[1] or 'gcs' in s[1] or 'raylet' in s[1]]
  # Reverb 0.14 has no bind address: its server (in the learner node) is the one
  # documented exception (README "Security"); everything else is loopback.
  exposed = {s for s in seen if not _loopback(s[2])}
  assert exposed, 'the Reverb server listens on every interface'
  replay_pids = {p.pid for p in _node_processes('LearnerNode')} | {
      s[0] for s in exposed if 'LearnerNode' in s[1]}
  assert all(s[0] in replay_pids or 'LearnerNode' in s[1] for s in exposed), exposed


def _name(process):
  try:
    return process.name()
  except (psutil.NoSuchProcess, psutil.AccessDenied):
    return ''


def test_sigterm_and_a_killed_learner_each_leave_a_run_that_resumes(cluster, tmp_path, capsys):
  """One run, stopped twice.

  1. A launcher with its own cluster (a forked process) gets SIGTERM: it writes a
     checkpoint, exits 0 and leaves no process behind.
  2. The same configuration resumes from that checkpoint (on the tests' cluster);
     its learner process is SIGKILLed after the next checkpoint: the call raises
     NodeFailedError naming the fix, and the actors are stopped.
  3. The same call again resumes from the newest checkpoint and finishes its budget.
  """
  del cluster
  from rlkit.experiments import config as config_lib  # pylint: disable=g-import-not-at-top
  run_dir = str(tmp_path / 'run')
  checkpoints = os.path.join(run_dir, 'checkpoints')
  process = forkserver.start('tests.distributed_tiny', run_dir, '200000', '1', cwd=ROOT,
                             stdout=forkserver.PIPE, stderr=forkserver.STDOUT)
  launcher = psutil.Process(process.pid)
  pids, deadline = set(), time.monotonic() + 300
  log = os.path.join(run_dir, 'logs', 'train_0.csv')
  while time.monotonic() < deadline and process.poll() is None:
    pids |= {p.pid for p in launcher.children(recursive=True)}
    if os.path.exists(log) and len(_rows(log)) >= 3:
      break
    time.sleep(0.5)
  assert process.poll() is None, process.stdout.read()
  pids |= {p.pid for p in launcher.children(recursive=True)}
  process.send_signal(signal.SIGTERM)
  output, _ = process.communicate(timeout=180)
  assert process.returncode == 0, output
  assert 'SIGTERM: checkpoint written' in output, output
  assert 'interrupted=True' in output
  saved = _saved_steps(checkpoints)
  assert saved
  # Ray's workers exit after its raylet does, a few seconds later on a busy machine.
  waiting.wait_until(lambda: not any(_alive(pid) for pid in pids), 30, poll_s=0.5)
  left = [pid for pid in pids if _alive(pid)]
  assert not left, [(pid, _cmdline(psutil.Process(pid))) for pid in left]

  config = dataclasses.replace(
      distributed_tiny.make_config(run_dir, 1_000_000),
      checkpointing=config_lib.CheckpointingConfig(every_steps=2_000, every_seconds=0))
  killed = []

  def kill_the_learner():
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
      if os.path.isdir(checkpoints) and max(_saved_steps(checkpoints)) > saved[-1]:
        for node in _node_processes('LearnerNode') or [
            p for p in psutil.Process().children(recursive=True) if 'LearnerNode' in _name(p)]:
          os.kill(node.pid, signal.SIGKILL)
          killed.append(node.pid)
          return
      time.sleep(0.2)

  killer = threading.Thread(target=kill_the_learner, daemon=True)
  killer.start()
  with pytest.raises(distributed.NodeFailedError,
                     match='the learner failed.*Run the same command to resume'):
    distributed.run_distributed_experiment(config, 1, actor_cpus=0.5, learner_cpus=0.5)
  killer.join()
  assert f'Resumed from {os.path.join(checkpoints, f"ckpt-{saved[-1]}.pt")}' in (
      capsys.readouterr().out)
  assert killed, 'the learner process was killed'
  waiting.wait_until(lambda: not _node_processes('ActorNode'), 20, poll_s=0.2)
  assert not _node_processes('ActorNode'), 'the actors were stopped'

  newest = max(_saved_steps(checkpoints))
  resumed = distributed.run_distributed_experiment(
      dataclasses.replace(config, max_num_actor_steps=newest + 1_000), 1, actor_cpus=0.5,
      learner_cpus=0.5)
  assert not resumed.interrupted
  assert f'Resumed from {os.path.join(checkpoints, f"ckpt-{newest}.pt")}' in (
      capsys.readouterr().out)
  assert newest + 1_000 <= resumed.counts['actor_steps'] < 1_000_000


def _saved_steps(checkpoints: str):
  return sorted(int(n.split('-')[1].split('.')[0]) for n in os.listdir(checkpoints)
                if n.endswith('.pt'))


def test_reinforce_on_two_actors_through_a_queue_logs_its_policy_lag(cluster, tmp_path):
  """On-policy: 2 actors write whole episodes to the builder's queue table.

  Counts only: of two runs measured, one solved CartPole-v0 (200) and one
  collapsed to a one-sided policy (~10), so no return threshold is asserted.
  A small queue holds the actors back, so the learner cannot fall more than
  the queue, one episode per actor waiting to be written and one batch in
  the learner's hands behind them (with the default queue of 65, a run whose
  policy collapsed to 10-step episodes ended with 61 episodes written and
  27 taken).
  """
  del cluster
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  queue_size, num_actors = 4, 2
  config = _config('reinforce', 'gym:CartPole-v0', str(tmp_path / 'reinforce'),
                   num_episodes=REINFORCE_EPISODES, eval_every=0)
  config = dataclasses.replace(config, builder=registry.make_builder(
      'reinforce', registry.config_class('reinforce')(queue_size=queue_size)))
  result = distributed.run_distributed_experiment(config, num_actors, actor_cpus=0.5,
                                                  learner_cpus=0.5)
  counts = result.counts
  assert not result.interrupted and counts['actor_episodes'] >= REINFORCE_EPISODES, counts
  # One learner step per `episodes_per_update` (1) episode taken from the queue.
  assert counts['learner_steps'] <= counts['actor_episodes'], counts
  assert counts['actor_episodes'] - counts['learner_steps'] <= queue_size + num_actors + 1, counts
  learner_rows = _rows(os.path.join(result.run_dir, 'logs', 'learner.csv'))
  assert learner_rows and all(int(r['policy_lag_max']) >= int(r['policy_lag_min']) >= 0
                              for r in learner_rows)
  assert result.final_evaluation['episodes'] == 5
