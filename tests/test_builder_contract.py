"""The builder contract, checked on every agent: one line in AGENTS per agent.

Each agent is built from a spec through the single-process layout, acts,
takes learner steps, saves and restores to identical outputs, resumes a run
that crashed after a checkpoint, loads its policy from the run directory,
and its launcher's --help lists every field of its config.
"""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

import rlkit
from rlkit import specs
from rlkit.agents import registry
from rlkit.environments import factory
from rlkit.experiments import config as config_lib
from rlkit.experiments import local_layout
from rlkit.experiments import run_experiment
from rlkit.utils import counting
from rlkit.utils import loggers
from tests import tiny_agent

# name -> (environment, config overrides that make a few hundred steps enough to learn from).
AGENTS = {
    'dqn': ('gym:CartPole-v1', dict(min_replay_size=64, batch_size=32, hidden_sizes=(32,))),
    'nfq': ('gridworld:simple', dict(min_replay_size=10)),
    'qr_dqn': ('gym:CartPole-v1', dict(min_replay_size=64, batch_size=32, hidden_sizes=(32,))),
    'reinforce': ('gym:CartPole-v1', dict()),
    'actor_critic': ('gym:CartPole-v1', dict()),
    'sac': ('gym:Pendulum-v1', dict(min_replay_size=64, batch_size=32, policy_hidden_sizes=(32,),
                                    critic_hidden_sizes=(32,), samples_per_insert=8.0)),
    'td3': ('gym:Pendulum-v1', dict(min_replay_size=64, batch_size=32, policy_hidden_sizes=(32,),
                                    critic_hidden_sizes=(32,), samples_per_insert=8.0)),
    'd4pg': ('gym:Pendulum-v1', dict(min_replay_size=64, batch_size=32, policy_hidden_sizes=(32,),
                                     critic_hidden_sizes=(32,), samples_per_insert=8.0)),
    'ppo': ('gym:CartPole-v1', dict(unroll_length=32, rollouts_per_update=2, num_epochs=2,
                                    minibatch_size=32)),
}
TINY = 'tiny'
STEPS = 400


def _builder(name):
  if name == TINY:
    return tiny_agent.TinyBuilder()
  environment, overrides = AGENTS[name]
  config_cls = registry.config_class(name)
  fields = {f.name for f in dataclasses.fields(config_cls)}
  return registry.make_builder(name, config_cls(**{k: v for k, v in overrides.items()
                                                   if k in fields}))


def _environment_name(name):
  return 'gridworld:simple' if name == TINY else AGENTS[name][0]


def _environment_factory(name):
  kwargs = {'observation_type': 'AGENT_ONEHOT'} if _environment_name(name).startswith(
      'gridworld') else {}
  return factory.EnvironmentFactory(_environment_name(name), **kwargs)


def _present(name):
  return name == TINY or name in registry.names()


NAMES = [pytest.param(name, marks=pytest.mark.skipif(not _present(name), reason=f'{name} '
                                                     f'is not built yet'))
         for name in [TINY] + list(AGENTS)]


def _observations(environment, count=16):
  observations, timestep = [], environment.reset()
  rng = np.random.default_rng(0)
  spec = environment.action_spec()
  while len(observations) < count:
    observations.append(timestep.observation)
    if isinstance(spec, specs.DiscreteArray):
      action = np.asarray(rng.integers(spec.num_values), spec.dtype)
    else:
      action = rng.uniform(spec.minimum, spec.maximum, spec.shape).astype(spec.dtype)
    timestep = environment.step(action)
    if timestep.last():
      timestep = environment.reset()
  return observations


def _greedy_actions(builder, spec, source, observations):
  actor = registry.greedy_actor(builder, spec, source)
  return np.stack([np.asarray(actor.select_action(o)) for o in observations])


@pytest.mark.parametrize('name', NAMES)
def test_builds_acts_learns_and_restores_identically(name):
  torch.set_num_threads(1)
  builder = _builder(name)
  environment = _environment_factory(name)(0)
  spec = specs.make_environment_spec(environment)
  assert builder.supports(spec) is None
  counter = counting.Counter()
  agent = local_layout.make_local_agent(builder, spec, seed=1, counter=counter)
  try:
    loop = rlkit.EnvironmentLoop(environment, agent, counter=counting.Counter(
        counter, prefix='actor'), logger=loggers.NoOpLogger())
    loop.run(num_steps=STEPS)
    assert counter.get_counts().get('learner_steps', 0) > 0, counter.get_counts()
    observations = _observations(environment)
    before = _greedy_actions(builder, spec, agent.learner, observations)
    for action in before:
      assert action.shape == spec.actions.shape and action.dtype == spec.actions.dtype
    state = agent.save()
  finally:
    agent.close()
  restored = local_layout.make_local_agent(_builder(name), spec, seed=2)
  try:
    restored.restore(state)
    after = _greedy_actions(builder, spec, restored.learner, observations)
  finally:
    restored.close()
  np.testing.assert_array_equal(before, after)
  environment.close()


class _CrashAfter:
  """An observer that raises after `steps` environment steps (a run killed mid-way)."""

  def __init__(self, steps):
    self._left = steps

  def observe_first(self, env, timestep):
    del env, timestep

  def observe(self, env, timestep, action):
    del env, timestep, action
    self._left -= 1
    if self._left == 0:
      raise KeyboardInterrupt('simulated crash')

  def get_metrics(self):
    return {}


def _experiment(name, run_dir, steps, observers=()):
  return config_lib.ExperimentConfig(
      builder=_builder(name), environment_factory=_environment_factory(name),
      max_num_actor_steps=steps, agent_name=name, run_dir=str(run_dir),
      observers=observers, video=False, plots=False,
      checkpointing=config_lib.CheckpointingConfig(every_steps=200, in_background=False),
      evaluation=config_lib.EvaluationConfig(every_steps=0, episodes=2,
                                             random_baseline=False))


@pytest.mark.parametrize('name', NAMES)
def test_a_crashed_run_resumes_and_its_policy_loads(name, tmp_path):
  run_dir = tmp_path / name
  with pytest.raises(KeyboardInterrupt):
    run_experiment.run_experiment(_experiment(name, run_dir, 2 * STEPS, [_CrashAfter(STEPS)]))
  result = run_experiment.run_experiment(_experiment(name, run_dir, 2 * STEPS))
  assert result.counts['actor_steps'] >= 2 * STEPS
  assert result.final_evaluation is not None
  loaded = registry.load_policy(str(run_dir), builder=_builder(name) if name == TINY else None)
  assert loaded.agent_name == name and loaded.step >= 2 * STEPS
  environment = loaded.make_environment(seed=0)
  timestep = environment.reset()
  action = loaded.actor.select_action(timestep.observation)
  assert np.shape(action) == environment.action_spec().shape
  environment.close()


@pytest.mark.parametrize('name', [p for p in NAMES if p.values[0] != TINY])
def test_launcher_help_lists_every_config_field(name):
  output = subprocess.run([sys.executable, '-m', f'experiments.run_{name}', '--help'],
                          capture_output=True, text=True, timeout=60, check=True).stdout
  for field in dataclasses.fields(registry.config_class(name)):
    assert f'--{field.name}:' in output or f'--[no]{field.name}:' in output, field.name
  for group in ('experiment flags:', 'checkpointing flags:', 'agent config flags:'):
    assert group in output
