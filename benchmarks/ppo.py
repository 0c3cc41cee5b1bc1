"""rlkit PPO against Stable-Baselines3 PPO on CartPole-v1 and Pendulum-v1.

Both run the same budget of environment steps with the same hyper-parameters
(the `SETTINGS` below: rl-zoo's CartPole-v1 and, without gSDE, its
Pendulum-v1, with 8 copies), the same network (separate 64-64 tanh MLPs,
orthogonal init), Adam eps 1e-5, the learning rate decaying linearly to 1%
of its start over the budget, and the same greedy evaluation: every
`--eval_every` steps, `--eval_episodes` episodes with the mode of the
policy on a separately seeded environment.

Differences that remain: SB3's VecNormalize updates the observation
statistics at every environment step, rlkit's learner after every batch;
SB3 writes values from the actor, rlkit recomputes them in the learner.

Reported per framework, env and seed (all seeds, failures included):
training seconds (the clock excludes evaluations) and steps at which the
greedy mean first reached the threshold, the final greedy mean, training
steps/s; then medians and rlkit / SB3 ratios.

Measured (stop 27: 3 seeds, one script run on a quiet 2-core machine; time
to threshold = training seconds at the first passing evaluation, every 10k
steps):

  CartPole-v1 (>= 475)  rlkit: 3/3 at 30k/30k/30k steps, 6.3/6.3/6.2 s, final
                        500/500/332, 4753-4764 steps/s
                        SB3:   3/3 at 40k/20k/30k steps, 9.1/4.5/6.7 s, final
                        500/500/500, 4407-4469 steps/s
  Pendulum-v1 (>= -200) rlkit: 2/3 at 80k/50k/- steps, 20.9/12.8/- s, final
                        -161.6/-162.3/-215.2, 3838-3907 steps/s
                        SB3:   2/3 at 40k/50k/- steps, 12.8/15.9/- s, final
                        -146.7/-160.9/-229.0, 3108-3147 steps/s

  python -m benchmarks.ppo [--envs CartPole-v1,Pendulum-v1] [--seeds 3]
      [--frameworks rlkit,sb3] [--smoke]
"""

import statistics
import time
from typing import Any, Callable, Dict, List, Optional

from absl import flags
import numpy as np
import torch

from benchmarks import bench_flags
from benchmarks import sb3_peer
from rlkit import batched_environment_loop
from rlkit.agents.ppo import builder as builder_lib
from rlkit.agents.ppo import config as config_lib
from rlkit.environments import batched
from rlkit.environments import factory
from rlkit.experiments import local_layout
from rlkit.utils import loggers

FLAGS = flags.FlagValues()
flags.DEFINE_list('envs', ['CartPole-v1', 'Pendulum-v1'], 'Gymnasium ids (keys of SETTINGS).',
                  flag_values=FLAGS)
flags.DEFINE_list('frameworks', ['rlkit', 'sb3'], 'Which of rlkit, sb3 to run.', flag_values=FLAGS)
flags.DEFINE_integer('seeds', 3, 'Seeds 0 .. seeds - 1.', lower_bound=1, flag_values=FLAGS)
flags.DEFINE_integer('eval_episodes', 10, 'Greedy episodes per evaluation.', lower_bound=1,
                     flag_values=FLAGS)
flags.DEFINE_bool('smoke', False, 'Tiny budgets (seconds): checks that everything runs.',
                  flag_values=FLAGS)

# Shared hyper-parameters: (rlkit PPOConfig fields, SB3 PPO arguments) follow from these.
SETTINGS = {
    'CartPole-v1': dict(
        budget=100_000, eval_every=10_000, threshold=475.0, num_envs=8, unroll_length=32,
        minibatch_size=256, num_epochs=20, discount=0.98, gae_lambda=0.8,
        learning_rate=1e-3, entropy_coef=0.0, normalize_observations=False),
    'Pendulum-v1': dict(
        budget=100_000, eval_every=10_000, threshold=-200.0, num_envs=8, unroll_length=256,
        minibatch_size=64, num_epochs=10, discount=0.9, gae_lambda=0.95,
        learning_rate=1e-3, entropy_coef=0.0, normalize_observations=True),
}
FINAL_FRACTION = 0.01
SMOKE = dict(budget=1_024, eval_every=512, num_envs=2, unroll_length=64, num_epochs=1)


def rlkit_config(s: Dict[str, Any]) -> config_lib.PPOConfig:
  return config_lib.PPOConfig(
      unroll_length=s['unroll_length'], rollouts_per_update=s['num_envs'],
      minibatch_size=s['minibatch_size'], num_epochs=s['num_epochs'],
      discount=s['discount'], gae_lambda=s['gae_lambda'], learning_rate=s['learning_rate'],
      learning_rate_final_fraction=FINAL_FRACTION, entropy_coef=s['entropy_coef'],
      value_clip_epsilon=0.0, normalize_observations=s['normalize_observations'])


def greedy_mean(act: Callable[[np.ndarray], Any], env_name: str, seed: int,
                episodes: int) -> float:
  """Mean return of `act` (observation -> action) on a gymnasium environment."""
  import gymnasium  # pylint: disable=g-import-not-at-top
  env = gymnasium.make(env_name)
  returns = []
  for i in range(episodes):
    observation, _ = env.reset(seed=seed + i)
    total, done = 0.0, False
    while not done:
      observation, reward, terminated, truncated, _ = env.step(act(observation))
      total += float(reward)
      done = terminated or truncated
    returns.append(total)
  env.close()
  return float(np.mean(returns))


class Run:
  """Training time excluding evaluations, and the evaluations' results."""

  def __init__(self, threshold: float):
    self.threshold = threshold
    self.train_s = 0.0
    self.solved_s: Optional[float] = None
    self.solved_steps: Optional[int] = None
    self.final = float('nan')

  def record(self, steps: int, mean: float) -> None:
    self.final = mean
    if self.solved_s is None and mean >= self.threshold:
      self.solved_s, self.solved_steps = self.train_s, steps


def run_rlkit(env_name: str, s: Dict[str, Any], seed: int, episodes: int) -> Run:
  builder = builder_lib.PPOBuilder(rlkit_config(s))
  run = Run(s['threshold'])
  start = time.perf_counter()
  environment = batched.BatchedEnvironment.from_factory(
      factory.EnvironmentFactory(f'gym:{env_name}'), s['num_envs'], seed)
  spec = environment.single_environment_spec()
  agent = local_layout.make_local_agent(builder, spec, seed=seed, num_envs=s['num_envs'],
                                        horizon=s['budget'])
  loop = batched_environment_loop.BatchedEnvironmentLoop(
      environment, agent, logger=loggers.NoOpLogger())
  steps = 0
  with agent:
    while steps < s['budget']:
      steps += loop.run(num_steps=min(s['eval_every'], s['budget'] - steps))
      run.train_s += time.perf_counter() - start
      networks = builder.make_networks(spec, seed)
      actor = builder.make_actor(seed, builder.make_policy(networks, spec, evaluation=True),
                                 spec, variable_source=agent)
      actor.update(wait=True)
      act = lambda o: actor.select_action(np.asarray(o, np.float32))
      run.record(steps, greedy_mean(act, env_name, 10_000 + seed * 100, episodes))
      start = time.perf_counter()
  return run


def run_sb3(env_name: str, s: Dict[str, Any], seed: int, episodes: int) -> Run:
  import stable_baselines3 as sb3  # pylint: disable=g-import-not-at-top
  from stable_baselines3.common import callbacks  # pylint: disable=g-import-not-at-top
  from stable_baselines3.common import env_util  # pylint: disable=g-import-not-at-top
  from stable_baselines3.common import vec_env  # pylint: disable=g-import-not-at-top
  run = Run(s['threshold'])
  lr = s['learning_rate']
  start = [time.perf_counter()]
  env = env_util.make_vec_env(env_name, n_envs=s['num_envs'], seed=seed)
  if s['normalize_observations']:
    env = vec_env.VecNormalize(env, norm_obs=True, norm_reward=False, clip_obs=10.0,
                               gamma=s['discount'])
  model = sb3.PPO(
      'MlpPolicy', env, n_steps=s['unroll_length'], batch_size=s['minibatch_size'],
      n_epochs=s['num_epochs'], gamma=s['discount'], gae_lambda=s['gae_lambda'],
      learning_rate=lambda remaining: lr * (FINAL_FRACTION + (1 - FINAL_FRACTION) * remaining),
      clip_range=0.2, clip_range_vf=None, ent_coef=s['entropy_coef'], vf_coef=0.5,
      max_grad_norm=0.5, policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64])),
      seed=seed, device='cpu', verbose=0)
  sb3_peer.without_log_folder(model)

  def act(observation):
    if s['normalize_observations']:
      observation = env.normalize_obs(observation)
    return model.predict(observation, deterministic=True)[0]

  class Evaluate(callbacks.BaseCallback):

    def __init__(self):
      super().__init__()
      self.next_eval = s['eval_every']

    def _on_step(self) -> bool:
      if self.num_timesteps >= self.next_eval:
        run.train_s += time.perf_counter() - start[0]
        run.record(self.num_timesteps, greedy_mean(act, env_name, 10_000 + seed * 100,
                                                   episodes))
        self.next_eval += s['eval_every']
        start[0] = time.perf_counter()
      return True

  model.learn(total_timesteps=s['budget'], callback=Evaluate())
  env.close()
  return run


RUNNERS = {'rlkit': run_rlkit, 'sb3': run_sb3}


def _median(values: List[Optional[float]]) -> float:
  return statistics.median([float('inf') if v is None else v for v in values])


def main(argv: Optional[List[str]] = None) -> None:
  args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.ppo')
  for name in args.frameworks:
    if name not in RUNNERS:
      bench_flags.fail(f'--frameworks: unknown {name!r}; expected some of {sorted(RUNNERS)}.')
  for env_name in args.envs:
    if env_name not in SETTINGS:
      bench_flags.fail(f'--envs: unknown {env_name!r}; expected some of {sorted(SETTINGS)}.')
  torch.set_num_threads(1)
  # Untimed warm-up of first-use costs (Reverb start-up, lazy imports in torch.optim).
  run_rlkit('CartPole-v1', dict(SETTINGS['CartPole-v1'], **dict(SMOKE, budget=256, eval_every=256)),
            12345, 1)
  print(f'{"framework":<9} {"env":<12} {"seed":>4} {"solved s":>8} {"solved at":>9} '
        f'{"final":>8} {"steps/s":>8}')
  for env_name in args.envs:
    s = dict(SETTINGS[env_name], **(SMOKE if args.smoke else {}))
    seeds = 1 if args.smoke else args.seeds
    episodes = 1 if args.smoke else args.eval_episodes
    summary = {}
    for framework in args.frameworks:
      runs = []
      for seed in range(seeds):
        r = RUNNERS[framework](env_name, s, seed, episodes)
        runs.append(r)
        solved_s = '-' if r.solved_s is None else f'{r.solved_s:.1f}'
        solved_at = '-' if r.solved_steps is None else str(r.solved_steps)
        print(f'{framework:<9} {env_name:<12} {seed:>4} {solved_s:>8} {solved_at:>9} '
              f'{r.final:>8.1f} {s["budget"] / r.train_s:>8.0f}', flush=True)
      summary[framework] = dict(
          solved=sum(r.solved_s is not None for r in runs), seeds=len(runs),
          solved_s=_median([r.solved_s for r in runs]),
          final=statistics.median([r.final for r in runs]),
          steps_per_s=statistics.median([s['budget'] / r.train_s for r in runs]))
    for framework, m in summary.items():
      print(f'{env_name} {framework}: solved (>= {s["threshold"]:g}) {m["solved"]}/{m["seeds"]}, '
            f'median time to threshold {m["solved_s"]:.1f} s, median final greedy '
            f'{m["final"]:.1f}, median {m["steps_per_s"]:.0f} steps/s')
    if 'rlkit' in summary and 'sb3' in summary:
      a, b = summary['rlkit'], summary['sb3']
      time_ratio = a['solved_s'] / b['solved_s'] if np.isfinite(b['solved_s']) else float('nan')
      print(f'{env_name} rlkit / sb3: time to threshold x{time_ratio:.2f}, steps/s '
            f'x{a["steps_per_s"] / b["steps_per_s"]:.2f}')
    print()


if __name__ == '__main__':
  main()
