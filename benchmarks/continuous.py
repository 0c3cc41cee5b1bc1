"""Continuous control: rlkit SAC/TD3 against Stable-Baselines3 SAC/TD3, same budget; D4PG.

    python -m benchmarks.continuous                   # Pendulum, 20k steps, 3 seeds (~1 h on 2 cores)
    python -m benchmarks.continuous --smoke           # seconds: a tiny budget, one seed
    python -m benchmarks.continuous --rows=sac:pendulum --seeds=0
    python -m benchmarks.continuous --rows=sac:halfcheetah,sac:cartpole-swingup --seeds=0

Both frameworks run the same hyper-parameters (rl-baselines3-zoo's Pendulum-v1
settings: learning rate 1e-3, 20k steps; otherwise the papers' / SB3's
defaults: MLPs 256x256, batch 256, replay 1e6, tau 0.005, gamma 0.99, one
gradient step per environment step after 1000 steps, acting uniformly at
random until then (SB3's `learning_starts`; rlkit's `random_start_steps`); SAC: automatic
temperature with target entropy -|A| and SB3's log(1 - u^2 + 1e-6) in the
tanh log-density (rlkit's `log_prob_epsilon`); TD3: exploration noise 0.1, policy
delay 2, smoothing noise 0.2 clipped at 0.5). rlkit trains through
`make_local_agent` and the EnvironmentLoop (the Reverb replay included), SB3
through `model.learn`. Every `--eval_every` steps, `--eval_episodes` greedy
episodes on a separate environment give the return; a clock that runs during
training only gives the time to the first evaluation with mean return >=
`--threshold`, and steps/s. Printed: per row, both frameworks' medians over
seeds and the ratio rlkit / SB3.

SB3 has no D4PG: the `d4pg:pendulum` row (not run by default) runs rlkit
only, with the same shared settings, 5-step returns and a value support
[-1600, 0] covering Pendulum's discounted returns (Acme's defaults otherwise:
51 atoms, exploration sigma 0.3).

Rows are (agent, environment) pairs in `ROWS`, each with its budget; add one
by adding an entry. Pendulum rows use rl-baselines3-zoo's settings; the
HalfCheetah-v5 rows (50k steps) use the zoo's learning rate 3e-4 and 10k
random-start steps; the Control Suite rows (cartpole-swingup, 100k steps) SB3's
defaults with 1000 starting steps. SB3 gets a Control Suite task through a
small Gymnasium adapter over the same rlkit environment (observations
concatenated, actions in [-1, 1]), so both frameworks step the same dm_env.
"""

import dataclasses
import json
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

from absl import app
from absl import flags

from benchmarks import bench_flags
from benchmarks import sb3_peer

# The benchmark's own flags, so that benchmarks import side by side in one process.
FLAGS = flags.FlagValues()
_ROWS = flags.DEFINE_list('rows', ['sac:pendulum', 'td3:pendulum'],
                          'agent:environment rows to run (see ROWS).', flag_values=FLAGS)
_SEEDS = flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds.', flag_values=FLAGS)
_FRAMEWORKS = flags.DEFINE_list('frameworks', ['rlkit', 'sb3'], 'rlkit and/or sb3.', flag_values=FLAGS)
_STEPS = flags.DEFINE_integer('steps', 0, "Environment steps per run (0: each row's budget).",
                               flag_values=FLAGS)
_EVAL_EVERY = flags.DEFINE_integer('eval_every', 2000, 'Steps between evaluations.', flag_values=FLAGS)
_EVAL_EPISODES = flags.DEFINE_integer('eval_episodes', 5, 'Greedy episodes per evaluation.', flag_values=FLAGS)
_THRESHOLD = flags.DEFINE_float('threshold', None, 'Return for "time to threshold" (default: '
                                 "each row's; the Pendulum rows' is -200).", flag_values=FLAGS)
_TORCH_THREADS = flags.DEFINE_integer('torch_threads', 1, 'torch.set_num_threads.', flag_values=FLAGS)
_SMOKE = flags.DEFINE_bool('smoke', False, 'Tiny budget (seconds): checks the script runs.', flag_values=FLAGS)
_OUTPUT = flags.DEFINE_string('output', '', 'Append one JSON line per run to this file.', flag_values=FLAGS)

EVAL_SEED_OFFSET = 10_000
# SB3's SquashedDiagGaussianDistribution adds this inside log(1 - tanh(x)^2 + epsilon).
SB3_LOG_PROB_EPSILON = 1e-6
# Pendulum's rewards lie in [-16.3, 0]: discounted returns at gamma 0.99 in [-1630, 0].
D4PG_V_MIN = -1600.0


@dataclasses.dataclass(frozen=True)
class Row:
  """One benchmark row: an environment and the agent's shared hyper-parameters."""
  agent: str  # 'sac', 'td3' or 'd4pg' (rlkit only).
  env: str  # An rlkit environment name: 'gym:<id>' or 'dm_control:<domain>-<task>'.
  steps: int = 20_000
  threshold: Optional[float] = None  # For the time to threshold; None: final return only.
  learning_rate: float = 1e-3
  hidden_sizes: tuple = (256, 256)
  batch_size: int = 256
  learning_starts: int = 1000
  gamma: float = 0.99
  tau: float = 0.005


  @property
  def gym_id(self) -> Optional[str]:
    """The Gymnasium id of a 'gym:' row (SB3 makes it itself); None for other suites."""
    return self.env[len('gym:'):] if self.env.startswith('gym:') else None

  @property
  def frameworks(self) -> tuple:
    """Which frameworks have this agent: SB3 has SAC and TD3, not D4PG."""
    return ('rlkit', 'sb3') if self.agent in ('sac', 'td3') else ('rlkit',)


_HALFCHEETAH = dict(steps=50_000, learning_rate=3e-4, learning_starts=10_000)
_CARTPOLE_SWINGUP = dict(steps=100_000, learning_rate=3e-4)
ROWS: Dict[str, Row] = {
    'sac:pendulum': Row('sac', 'gym:Pendulum-v1', threshold=-200.0),
    'td3:pendulum': Row('td3', 'gym:Pendulum-v1', threshold=-200.0),
    'd4pg:pendulum': Row('d4pg', 'gym:Pendulum-v1', threshold=-200.0),
    'sac:halfcheetah': Row('sac', 'gym:HalfCheetah-v5', **_HALFCHEETAH),
    'td3:halfcheetah': Row('td3', 'gym:HalfCheetah-v5', **_HALFCHEETAH),
    'sac:cartpole-swingup': Row('sac', 'dm_control:cartpole-swingup', **_CARTPOLE_SWINGUP),
    'td3:cartpole-swingup': Row('td3', 'dm_control:cartpole-swingup', **_CARTPOLE_SWINGUP),
}


class _Clock:
  """Training wall time: runs except while paused for evaluation."""

  def __init__(self):
    self._start = time.perf_counter()
    self._paused = 0.0

  def elapsed(self) -> float:
    return time.perf_counter() - self._start - self._paused

  def pause(self) -> float:
    return time.perf_counter()

  def resume(self, paused_at: float) -> None:
    self._paused += time.perf_counter() - paused_at


def _rlkit_builder(row: Row, smoke: bool):
  from rlkit.agents import d4pg, sac, td3  # pylint: disable=g-import-not-at-top
  common = dict(policy_hidden_sizes=row.hidden_sizes, critic_hidden_sizes=row.hidden_sizes,
                policy_learning_rate=row.learning_rate, critic_learning_rate=row.learning_rate,
                batch_size=row.batch_size, samples_per_insert=float(row.batch_size),
                min_replay_size=row.learning_starts, random_start_steps=row.learning_starts,
                discount=row.gamma, tau=row.tau)
  if row.agent == 'sac':
    return sac.SACBuilder(sac.SACConfig(alpha_learning_rate=row.learning_rate,
                                        log_prob_epsilon=SB3_LOG_PROB_EPSILON, **common))
  if row.agent == 'td3':
    return td3.TD3Builder(td3.TD3Config(**common))
  if row.agent == 'd4pg':
    return d4pg.D4PGBuilder(d4pg.D4PGConfig(v_min=D4PG_V_MIN, v_max=0.0, **common))
  raise ValueError(f'No rlkit agent for row agent {row.agent!r}; expected sac, td3 or d4pg.')


def _train_rlkit(row: Row, seed: int, steps: int, eval_every: int,
                 evaluate: Callable[[Callable], float], smoke: bool) -> List[Dict[str, Any]]:
  import torch  # pylint: disable=g-import-not-at-top
  import rlkit  # pylint: disable=g-import-not-at-top
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.experiments import local_layout  # pylint: disable=g-import-not-at-top
  from rlkit.utils import loggers  # pylint: disable=g-import-not-at-top
  torch.manual_seed(seed)
  builder = _rlkit_builder(row, smoke)
  environment = factory.make_environment(row.env, seed=seed)
  spec = specs.make_environment_spec(environment)
  history = []
  with local_layout.make_local_agent(builder, spec, seed=seed) as agent:
    loop = rlkit.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    networks = builder.make_networks(spec, seed)
    actor = builder.make_actor(seed, builder.make_policy(networks, spec, evaluation=True), spec,
                               variable_source=agent.learner)
    clock = _Clock()
    done = 0
    while done < steps:
      # The loop finishes its episode: `done` counts the steps it really ran.
      done += loop.run(num_steps=min(eval_every, steps - done))
      paused = clock.pause()
      actor.update(wait=True)
      history.append(_point(done, clock, evaluate(actor.select_action)))
      clock.resume(paused)
  return history


def _train_sb3(row: Row, seed: int, steps: int, eval_every: int,
               evaluate: Callable[[Callable], float], smoke: bool) -> List[Dict[str, Any]]:
  del smoke
  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import stable_baselines3 as sb3  # pylint: disable=g-import-not-at-top
  from stable_baselines3.common import noise  # pylint: disable=g-import-not-at-top
  environment = gym.make(row.gym_id) if row.gym_id else _dm_env_as_gym(row.env, seed)
  common = dict(learning_rate=row.learning_rate, buffer_size=1_000_000,
                learning_starts=row.learning_starts, batch_size=row.batch_size, tau=row.tau,
                gamma=row.gamma, train_freq=1, gradient_steps=1, seed=seed, device='cpu',
                policy_kwargs=dict(net_arch=list(row.hidden_sizes)), verbose=0)
  if row.agent == 'sac':
    model = sb3.SAC('MlpPolicy', environment, ent_coef='auto', target_entropy='auto', **common)
  elif row.agent == 'td3':
    size = environment.action_space.shape[0]
    model = sb3.TD3('MlpPolicy', environment, policy_delay=2, target_policy_noise=0.2,
                    target_noise_clip=0.5, action_noise=noise.NormalActionNoise(
                        np.zeros(size), 0.1 * np.ones(size)), **common)
  else:
    raise ValueError(f'No SB3 agent for row agent {row.agent!r}; expected sac or td3.')
  sb3_peer.without_log_folder(model)
  history = []
  clock = _Clock()
  done = 0
  while done < steps:
    chunk = min(eval_every, steps - done)
    model.learn(total_timesteps=chunk, reset_num_timesteps=done == 0)
    done += chunk
    paused = clock.pause()
    history.append(_point(done, clock, evaluate(
        lambda obs: model.predict(obs, deterministic=True)[0])))
    clock.resume(paused)
  return history


def _point(steps: int, clock: _Clock, return_mean: float) -> Dict[str, Any]:
  """One evaluation of the history (and a progress line)."""
  point = {'steps': steps, 'train_seconds': round(clock.elapsed(), 3),
           'return_mean': round(return_mean, 2)}
  print(f'  {steps} steps: greedy return {return_mean:.1f} after {point["train_seconds"]:.0f} s '
        'of training', flush=True)
  return point


def _dm_env_as_gym(name: str, seed: int) -> Any:
  """The rlkit environment `name` behind Gymnasium's interface (imports only when a row needs it)."""
  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from rlkit import specs  # pylint: disable=g-import-not-at-top
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top

  class DmEnvAsGym(gym.Env):
    """A Gymnasium view of an rlkit dm_env (vector observations, bounded actions), for SB3.

    dm_env cannot be reseeded: `reset(seed=...)` continues the stream of the
    seed the environment was made with. An episode that ends with discount 0
    is terminated; one that ends otherwise (a time limit) is truncated.
    """

    def __init__(self, name: str, seed: int):
      self._environment = factory.make_environment(name, seed=seed)
      spec = specs.make_environment_spec(self._environment)
      self.observation_space = gym.spaces.Box(-np.inf, np.inf, spec.observations.shape,
                                              np.float32)
      self.action_space = gym.spaces.Box(spec.actions.minimum.astype(np.float32),
                                         spec.actions.maximum.astype(np.float32),
                                         spec.actions.shape, np.float32)

    def reset(self, *, seed=None, options=None):
      del seed, options
      return np.asarray(self._environment.reset().observation, np.float32), {}

    def step(self, action):
      timestep = self._environment.step(np.asarray(action, np.float32))
      last = timestep.last()
      terminated = bool(last and timestep.discount == 0)
      return (np.asarray(timestep.observation, np.float32), float(timestep.reward),
              terminated, bool(last and not terminated), {})

    def close(self):
      self._environment.close()

  return DmEnvAsGym(name, seed)


def _evaluator(row: Row, seed: int, episodes: int) -> Callable[[Callable], float]:
  """Mean greedy return of `act` (observation -> action) on a separate environment."""
  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  environment = (gym.make(row.gym_id) if row.gym_id else
                 _dm_env_as_gym(row.env, seed + EVAL_SEED_OFFSET))

  def evaluate(act: Callable) -> float:
    returns = []
    for episode in range(episodes):
      observation, _ = environment.reset(seed=seed + EVAL_SEED_OFFSET + episode)
      total, finished = 0.0, False
      while not finished:
        action = np.asarray(act(observation.astype(np.float32)), environment.action_space.dtype)
        observation, reward, terminated, truncated, _ = environment.step(action)
        total += float(reward)
        finished = terminated or truncated
      returns.append(total)
    return float(np.mean(returns))

  return evaluate


def summarize(history: List[Dict[str, Any]], threshold: Optional[float]) -> Dict[str, Any]:
  """Time and steps to the first evaluation >= threshold (None: not asked), final return, steps/s."""
  reached = None if threshold is None else next(
      (p for p in history if p['return_mean'] >= threshold), None)
  last = history[-1]
  return {
      'seconds_to_threshold': reached['train_seconds'] if reached else None,
      'steps_to_threshold': reached['steps'] if reached else None,
      'final_return': last['return_mean'],
      'steps_per_second': round(last['steps'] / max(last['train_seconds'], 1e-9), 1),
  }


def _median(values: List[Optional[float]]) -> Optional[float]:
  values = [v for v in values if v is not None]
  return statistics.median(values) if values else None


def _fmt(value: Optional[float]) -> str:
  return 'never' if value is None else f'{value:.1f}'


def main(argv):
  del argv
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(_TORCH_THREADS.value)
  unknown = [r for r in _ROWS.value if r not in ROWS]
  if unknown:
    raise app.UsageError(f'--rows has unknown rows {unknown}; known: {sorted(ROWS)}.')
  bad = [f for f in _FRAMEWORKS.value if f not in ('rlkit', 'sb3')]
  if bad:
    raise app.UsageError(f'--frameworks has {bad}; expected rlkit and/or sb3.')
  eval_every, episodes = _EVAL_EVERY.value, _EVAL_EPISODES.value
  if _STEPS.value < 0 or eval_every < 1 or episodes < 1:
    raise app.UsageError(f'--steps must be >= 0 (0: the row\'s budget), --eval_every and '
                         f'--eval_episodes >= 1; got {_STEPS.value}, {eval_every}, {episodes}.')
  seeds = [int(s) for s in _SEEDS.value]
  rows = {name: ROWS[name] for name in _ROWS.value}
  if _STEPS.value:
    rows = {name: dataclasses.replace(row, steps=_STEPS.value) for name, row in rows.items()}
  if _THRESHOLD.value is not None:
    rows = {name: dataclasses.replace(row, threshold=_THRESHOLD.value)
            for name, row in rows.items()}
  if _SMOKE.value:
    eval_every, episodes, seeds = 200, 1, seeds[:1]
    rows = {name: dataclasses.replace(row, steps=400, hidden_sizes=(16, 16), batch_size=32,
                                      learning_starts=100) for name, row in rows.items()}
  trainers = {'rlkit': _train_rlkit, 'sb3': _train_sb3}
  results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
  for name, row in rows.items():
    for framework in _FRAMEWORKS.value:
      if framework not in row.frameworks:
        print(f'{name}: {framework} has no {row.agent}; rlkit only.', flush=True)
        continue
      for seed in seeds:
        evaluate = _evaluator(row, seed, episodes)
        print(f'{name} {framework} seed {seed}: {row.steps} steps', flush=True)
        history = trainers[framework](row, seed, row.steps, eval_every, evaluate, _SMOKE.value)
        summary = summarize(history, row.threshold)
        record = {'row': name, 'framework': framework, 'seed': seed, 'steps': row.steps,
                  **summary, 'history': history}
        print(json.dumps({k: v for k, v in record.items() if k != 'history'}), flush=True)
        if _OUTPUT.value:
          with open(_OUTPUT.value, 'a') as f:
            f.write(json.dumps(record) + '\n')
        results.setdefault(name, {}).setdefault(framework, []).append(summary)

  print(f'\n{"row":<22} {"framework":<9} {"t->thr (s)":>11} '
        f'{"final return":>13} {"steps/s":>9}   (medians over seeds {seeds}; thresholds: '
        + ', '.join(f'{n} {"-" if r.threshold is None else r.threshold}'
                    for n, r in rows.items()) + ')')
  for name, by_framework in results.items():
    medians = {}
    for framework, summaries in by_framework.items():
      medians[framework] = {key: _median([s[key] for s in summaries])
                            for key in ('seconds_to_threshold', 'final_return',
                                        'steps_per_second')}
      m = medians[framework]
      to_threshold = '-' if rows[name].threshold is None else _fmt(m['seconds_to_threshold'])
      print(f'{name:<22} {framework:<9} {to_threshold:>11} '
            f'{_fmt(m["final_return"]):>13} {_fmt(m["steps_per_second"]):>9}')
    if {'rlkit', 'sb3'} <= set(medians):
      ratio = {key: (medians['rlkit'][key] / medians['sb3'][key]
                     if medians['rlkit'][key] and medians['sb3'][key] else None)
               for key in ('seconds_to_threshold', 'steps_per_second')}
      to_threshold = ('-' if rows[name].threshold is None
                      else _fmt(ratio['seconds_to_threshold']))
      print(f'{name:<22} {"ratio":<9} {to_threshold:>11} '
            f'{"":>13} {_fmt(ratio["steps_per_second"]):>9}   (rlkit / sb3)')


if __name__ == '__main__':
  app.run(main, flags_parser=bench_flags.app_flags_parser(FLAGS, __doc__, 'benchmarks.continuous'))
