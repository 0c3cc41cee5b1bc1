"""rlkit's DQN vs a bare single-file torch DQN: the framework's cost per environment step.

    python -m benchmarks.overhead                      # 20000 steps, 3 rounds, single and vectorized
    python -m benchmarks.overhead --paths=single --rounds=1 --num_steps=5000
    python -m benchmarks.overhead --smoke              # seconds: wiring only
    python -m benchmarks.overhead --columns            # also rlkit on Acme's column layout
    python -m benchmarks.overhead --fetch=1,8          # also rlkit with other batches_per_fetch

Both sides run the same DQN on CartPole-v1: an MLP 4-128-128-2, Adam
(learning rate 3e-3 decaying linearly to 3e-4 over the run), double Q with a
Huber loss, gradient norm clipped to 10, a hard target copy every 100 learner
steps, 1-step returns with gamma 0.99, epsilon 1 -> 0.05 over the first 10%
of the steps, learning after 1000 steps with one learner step of batch 64
every two environment steps (samples per insert 32), torch threads 1, no
evaluation or checkpoints while timing.

- rlkit: `DQNBuilder` built by `make_local_agent` (Reverb server, n-step
  adder, prefetching iterator, `Agent`) and run by `EnvironmentLoop`; with
  `--runner`, also through `run_experiment` (its `training_seconds`).
- bare: one function below: a gymnasium environment, a numpy ring buffer
  sampled with numpy indices, the same update in plain torch, no threads.

The vectorized pair steps `--num_envs` CartPoles with one forward pass per
vector step (rlkit: `BatchedEnvironment` + `BatchedEnvironmentLoop`; bare: a
list of gymnasium environments), at the same ratio of learner steps to
transitions. Runs alternate (rlkit, bare, rlkit, ...) for `--rounds` rounds,
since the machine is shared; the table gives each run's steps/s and the
median ratio rlkit / bare (target >= 0.85).
"""

import functools
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

from absl import flags

from benchmarks import bench_flags

FLAGS = flags.FlagValues()
flags.DEFINE_integer('num_steps', 20_000, 'Environment steps per run.', flag_values=FLAGS)
flags.DEFINE_integer('rounds', 3, 'Alternating rounds of every arm.', flag_values=FLAGS)
flags.DEFINE_list('paths', ['single', 'vectorized'], 'single and/or vectorized.', flag_values=FLAGS)
flags.DEFINE_integer('num_envs', 32, 'Copies of the vectorized path.', flag_values=FLAGS)
flags.DEFINE_integer('seed', 0, 'Seed of every run.', flag_values=FLAGS)
flags.DEFINE_bool('runner', False, 'Also time rlkit through run_experiment (single path).',
                  flag_values=FLAGS)
flags.DEFINE_bool('columns', False, "Also time rlkit with replay_layout='columns' (Acme's "
                  'five-column tables; the default packs each transition in one column).',
                  flag_values=FLAGS)
flags.DEFINE_list('fetch', [], 'Also time rlkit with these DQNConfig.batches_per_fetch '
                  'values (arms "rlkit fetch N"; the plain "rlkit" arm has the default).',
                  flag_values=FLAGS)
flags.DEFINE_bool('smoke', False, 'Seconds: 400 steps, 1 round, 4 copies; the numbers mean nothing.',
                  flag_values=FLAGS)

PATHS = ('single', 'vectorized')
ENV = 'CartPole-v1'
HIDDEN = (128, 128)
BATCH_SIZE = 64
SAMPLES_PER_INSERT = 32.0
LEARNING_RATE = 3e-3
FINAL_LR_FRACTION = 0.1
DISCOUNT = 0.99
TARGET_PERIOD = 100
MAX_GRAD_NORM = 10.0
EPS_INIT, EPS_FINAL, EPS_FRACTION = 1.0, 0.05, 0.1
REPLAY_SIZE = 100_000


def _rlkit_config(min_replay_size: int, layout: str = 'auto',
                  batches_per_fetch: Optional[int] = None):
  from rlkit.agents import dqn  # pylint: disable=g-import-not-at-top
  fetch = {} if batches_per_fetch is None else {'batches_per_fetch': batches_per_fetch}
  return dqn.DQNConfig(
      replay_layout=layout, **fetch,
      hidden_sizes=HIDDEN, batch_size=BATCH_SIZE, samples_per_insert=SAMPLES_PER_INSERT,
      learning_rate=LEARNING_RATE, learning_rate_final_fraction=FINAL_LR_FRACTION,
      discount=DISCOUNT, n_step=1, loss='huber', double_q=True,
      max_gradient_norm=MAX_GRAD_NORM, target_update_period=TARGET_PERIOD,
      min_replay_size=min_replay_size, max_replay_size=REPLAY_SIZE,
      epsilon_init=EPS_INIT, epsilon_final=EPS_FINAL, epsilon_decay_fraction=EPS_FRACTION)


def run_rlkit(num_steps: int, seed: int, num_envs: int, min_replay_size: int,
              layout: str = 'auto', batches_per_fetch: Optional[int] = None) -> Dict[str, Any]:
  """rlkit's DQN through make_local_agent and the (batched) environment loop."""
  from rlkit import batched_environment_loop  # pylint: disable=g-import-not-at-top
  from rlkit import environment_loop  # pylint: disable=g-import-not-at-top
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.agents import dqn  # pylint: disable=g-import-not-at-top
  from rlkit.environments import batched  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import local_layout  # pylint: disable=g-import-not-at-top
  from rlkit.utils import loggers  # pylint: disable=g-import-not-at-top

  make = lambda s: factory.make_environment(f'gym:{ENV}', seed=s)
  builder = dqn.DQNBuilder(_rlkit_config(min_replay_size, layout, batches_per_fetch))
  if num_envs > 1:
    environment = batched.BatchedEnvironment.from_factory(make, num_envs, seed=seed)
    spec = environment.single_environment_spec()
  else:
    environment = make(seed)
    spec = specs.make_environment_spec(environment)
  with local_layout.make_local_agent(builder, spec, seed=seed, horizon=num_steps,
                                     num_envs=num_envs if num_envs > 1 else None) as agent:
    if num_envs > 1:
      loop = batched_environment_loop.BatchedEnvironmentLoop(
          environment, agent, logger=loggers.NoOpLogger())
    else:
      loop = environment_loop.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    start, cpu_start = time.perf_counter(), time.process_time()
    steps = loop.run(num_steps=num_steps)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    learner_steps = agent.num_learner_steps
  environment.close()
  return {'steps': steps, 'seconds': seconds, 'learner_steps': learner_steps,
          'cpu_seconds': cpu_seconds}


def run_rlkit_runner(num_steps: int, seed: int, num_envs: int,
                     min_replay_size: int) -> Dict[str, Any]:
  """rlkit's DQN through run_experiment (no evaluation, checkpoints, videos or plots)."""
  import tempfile  # pylint: disable=g-import-not-at-top
  from rlkit.agents import dqn  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import config as config_lib  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import local_layout  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import run_experiment  # pylint: disable=g-import-not-at-top

  with tempfile.TemporaryDirectory() as run_dir:
    config = config_lib.ExperimentConfig(
        builder=dqn.DQNBuilder(_rlkit_config(min_replay_size)),
        environment_factory=lambda s: factory.make_environment(f'gym:{ENV}', seed=s),
        max_num_actor_steps=num_steps, seed=seed, num_envs=num_envs,
        logger_factory=local_layout.no_op_logger_factory,
        checkpointing=config_lib.CheckpointingConfig(every_steps=0, every_seconds=0),
        evaluation=config_lib.EvaluationConfig(every_steps=0, episodes=1,
                                               random_baseline=False),
        run_dir=run_dir, video=False, plots=False, verbosity=0, tensorboard=False)
    result = run_experiment.run_experiment(config)
  steps = int(result.counts.get('actor_steps', num_steps))
  return {'steps': steps, 'seconds': result.training_seconds,
          'learner_steps': int(result.counts.get('learner_steps', 0))}


def run_bare(num_steps: int, seed: int, num_envs: int, min_replay_size: int) -> Dict[str, Any]:
  """The bare DQN: gymnasium, a numpy ring buffer and plain torch in one loop."""
  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  from torch import nn  # pylint: disable=g-import-not-at-top

  class QNet(nn.Module):

    def __init__(self, sizes):
      super().__init__()
      self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
      for layer in self.layers[:-1]:
        x = F.relu(layer(x))
      return self.layers[-1](x)

  envs = [gym.make(ENV) for _ in range(num_envs)]
  obs_size = envs[0].observation_space.shape[0]
  num_actions = int(envs[0].action_space.n)
  rng = np.random.default_rng(seed)
  torch.manual_seed(seed)
  net = QNet((obs_size,) + HIDDEN + (num_actions,))
  target = QNet((obs_size,) + HIDDEN + (num_actions,))
  target.load_state_dict(net.state_dict())
  optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, fused=True)
  params = list(net.parameters())

  buf_obs = np.zeros((REPLAY_SIZE, obs_size), np.float32)
  buf_next = np.zeros((REPLAY_SIZE, obs_size), np.float32)
  buf_act = np.zeros(REPLAY_SIZE, np.int64)
  buf_rew = np.zeros(REPLAY_SIZE, np.float32)
  buf_disc = np.zeros(REPLAY_SIZE, np.float32)
  size = position = 0
  steps_per_transition = SAMPLES_PER_INSERT / BATCH_SIZE
  total_learner_steps = int((num_steps - min_replay_size + 1) * steps_per_transition)
  budget, learner_steps = 0.0, 0

  def learn():
    idx = rng.integers(0, size, BATCH_SIZE)
    o, a = torch.from_numpy(buf_obs[idx]), torch.from_numpy(buf_act[idx])
    r, d = torch.from_numpy(buf_rew[idx]), torch.from_numpy(buf_disc[idx])
    o2 = torch.from_numpy(buf_next[idx])
    q = net(o).gather(1, a[:, None])[:, 0]
    with torch.no_grad():
      best = net(o2).argmax(1, keepdim=True)
      y = r + DISCOUNT * d * target(o2).gather(1, best)[:, 0]
    loss = F.smooth_l1_loss(q, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM, foreach=True)
    optimizer.step()
    done = learner_steps + 1
    fraction = min(done / max(total_learner_steps, 1), 1.0)
    for group in optimizer.param_groups:
      group['lr'] = LEARNING_RATE * (1 - fraction * (1 - FINAL_LR_FRACTION))
    if done % TARGET_PERIOD == 0:
      target.load_state_dict(net.state_dict())

  observations = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
                          ).astype(np.float32)
  decay_steps = EPS_FRACTION * num_steps
  steps = 0
  start, cpu_start = time.perf_counter(), time.process_time()
  while steps < num_steps:
    epsilon = max(EPS_FINAL, EPS_INIT + (EPS_FINAL - EPS_INIT) * steps / decay_steps)
    with torch.inference_mode():
      actions = net(torch.from_numpy(observations)).argmax(1).numpy()
    explore = rng.random(num_envs) < epsilon
    if explore.any():
      actions = np.where(explore, rng.integers(0, num_actions, num_envs), actions)
    for i, env in enumerate(envs):
      next_obs, reward, terminated, truncated, _ = env.step(int(actions[i]))
      buf_obs[position] = observations[i]
      buf_act[position] = actions[i]
      buf_rew[position] = reward
      buf_disc[position] = 0.0 if terminated else 1.0
      buf_next[position] = next_obs
      position = (position + 1) % REPLAY_SIZE
      size = min(size + 1, REPLAY_SIZE)
      if terminated or truncated:
        next_obs, _ = env.reset()
      observations[i] = next_obs
      steps += 1
      if steps >= min_replay_size:
        budget += steps_per_transition
    while budget >= 1.0:
      learn()
      learner_steps += 1
      budget -= 1.0
  seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
  for env in envs:
    env.close()
  return {'steps': steps, 'seconds': seconds, 'learner_steps': learner_steps,
          'cpu_seconds': cpu_seconds}


ARMS: Dict[str, Callable[..., Dict[str, Any]]] = {
    'rlkit': run_rlkit, 'bare': run_bare, 'rlkit run_experiment': run_rlkit_runner,
    'rlkit columns': functools.partial(run_rlkit, layout='columns')}
FETCH_ARM = 'rlkit fetch '


def _arm(name: str) -> Callable[..., Dict[str, Any]]:
  if name.startswith(FETCH_ARM):
    return functools.partial(run_rlkit, batches_per_fetch=int(name[len(FETCH_ARM):]))
  return ARMS[name]


def measure(path: str, arms: List[str], num_steps: int, rounds: int, seed: int,
            num_envs: int, min_replay_size: int) -> List[Dict[str, Any]]:
  """Runs every arm once per round, alternating; returns one row per run."""
  rows = []
  copies = 1 if path == 'single' else num_envs
  for round_index in range(rounds):
    for arm in arms:
      result = _arm(arm)(num_steps, seed, copies, min_replay_size)
      result.update(path=path, arm=arm, round=round_index,
                    steps_per_second=result['steps'] / max(result['seconds'], 1e-9))
      rows.append(result)
      cpu = result.get('cpu_seconds')
      cpu_note = '' if cpu is None else f', {result["steps"] / max(cpu, 1e-9):.0f} per CPU s'
      print(f'  {path} {arm} round {round_index}: {result["steps_per_second"]:.0f} steps/s '
            f'({result["learner_steps"]} learner steps{cpu_note})', flush=True)
  return rows


def report(rows: List[Dict[str, Any]]) -> str:
  lines = [f'{"path":11} {"arm":22} {"round":>5} {"env steps":>9} {"learner":>8} '
           f'{"seconds":>8} {"steps/s":>8}']
  for r in rows:
    lines.append(f'{r["path"]:11} {r["arm"]:22} {r["round"]:>5} {r["steps"]:>9} '
                 f'{r["learner_steps"]:>8} {r["seconds"]:>8.2f} {r["steps_per_second"]:>8.0f}')
  for path in PATHS:
    bare = [r for r in rows if r['path'] == path and r['arm'] == 'bare']
    if not bare:
      continue
    for arm in dict.fromkeys(r['arm'] for r in rows if r['arm'] != 'bare'):
      mine = [r for r in rows if r['path'] == path and r['arm'] == arm]
      if not mine:
        continue
      ratios = [m['steps_per_second'] / b['steps_per_second'] for m, b in zip(mine, bare)]
      lines.append(
          f'{path}: {arm} median {statistics.median(r["steps_per_second"] for r in mine):.0f} '
          f'steps/s, bare median {statistics.median(r["steps_per_second"] for r in bare):.0f} '
          f'steps/s, ratio {arm} / bare {statistics.median(ratios):.2f} (target >= 0.85)')
      if all('cpu_seconds' in r for r in mine + bare):
        per_cpu = lambda r: r['steps'] / max(r['cpu_seconds'], 1e-9)
        cpu_ratios = [per_cpu(m) / per_cpu(b) for m, b in zip(mine, bare)]
        lines.append(
            f'{path}: per CPU second (all threads; steadier on a busy machine) {arm} median '
            f'{statistics.median(map(per_cpu, mine)):.0f} steps, bare '
            f'{statistics.median(map(per_cpu, bare)):.0f}, ratio {statistics.median(cpu_ratios):.2f}')
  return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.overhead')
  for name in ('num_steps', 'rounds'):
    if getattr(args, name) < 1:
      bench_flags.fail(f'--{name} must be >= 1, got {getattr(args, name)}.')
  if args.num_envs < 2:
    bench_flags.fail(f'--num_envs must be >= 2, got {args.num_envs}.')
  unknown = [p for p in args.paths if p not in PATHS]
  if unknown or not args.paths:
    bench_flags.fail(f'--paths must name some of {list(PATHS)}, got {args.paths}.')
  try:
    fetches = [int(f) for f in args.fetch]
  except ValueError:
    fetches = [0]
  if any(f < 1 for f in fetches):
    bench_flags.fail(f'--fetch must list integers >= 1, got {args.fetch}.')
  num_steps, rounds, num_envs, min_replay_size = args.num_steps, args.rounds, args.num_envs, 1000
  if args.smoke:
    num_steps, rounds, num_envs, min_replay_size = 400, 1, 4, 100
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(1)
  rows = []
  for path in args.paths:
    arms = ['rlkit', 'bare']
    if args.columns:
      arms.insert(1, 'rlkit columns')
    arms[1:1] = [f'{FETCH_ARM}{f}' for f in fetches]
    if args.runner and path == 'single':
      arms.append('rlkit run_experiment')
    rows += measure(path, arms, num_steps, rounds, args.seed, num_envs, min_replay_size)
  print(report(rows), flush=True)


if __name__ == '__main__':
  main()
