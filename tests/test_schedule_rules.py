"""The schedule rules (BUILD_NOTES, "Schedules") through the runner, for every agent.

- Every agent builds with its default config and no horizon.
- An episode budget without a horizon keeps the learning rate constant and positive.
- A run resumed with a larger budget keeps its horizon, says so once, and holds the
  final (positive) learning rate past it.
"""

import csv
import os

import pytest

from rlkit import specs
from rlkit.agents import registry
from rlkit.environments import factory
from rlkit.experiments import config as config_lib
from rlkit.experiments import local_layout
from rlkit.experiments import run_experiment


def _spec(name):
  continuous = name in ('sac', 'td3', 'd4pg')
  environment = factory.make_environment('gym:Pendulum-v1' if continuous else 'gym:CartPole-v1')
  try:
    return specs.make_environment_spec(environment)
  finally:
    environment.close()


@pytest.mark.parametrize('name', registry.names())
def test_every_agent_builds_with_its_defaults_and_no_horizon(name):
  builder = registry.make_builder(name)
  assert set(builder.horizon_schedules()) <= {'epsilon', 'learning_rate'}
  agent = local_layout.make_local_agent(builder, _spec(name), seed=0, horizon=None)
  agent.close()


def _learning_rates(run_dir):
  with open(os.path.join(run_dir, 'logs', 'learner.csv'), newline='') as f:
    return [float(row['learning_rate']) for row in csv.DictReader(f)]


def _dqn_experiment(run_dir, **budget):
  builder = registry.make_builder('dqn', registry.config_class('dqn')(
      min_replay_size=100, batch_size=32, hidden_sizes=(32,), samples_per_insert=8.0))
  return config_lib.ExperimentConfig(
      builder=builder, environment_factory=factory.EnvironmentFactory('gym:CartPole-v1'),
      run_dir=str(run_dir), video=False, plots=False, tensorboard=False, verbosity=0,
      evaluation=config_lib.EvaluationConfig(every_steps=0, episodes=1, random_baseline=False),
      checkpointing=config_lib.CheckpointingConfig(every_steps=0, in_background=False),
      **budget)


def test_an_episode_budget_keeps_the_learning_rate_constant(tmp_path, capsys):
  result = run_experiment.run_experiment(_dqn_experiment(tmp_path / 'run', max_num_episodes=40))
  rates = _learning_rates(result.run_dir)
  learning_rate = registry.config_class('dqn')().learning_rate
  assert rates and all(rate == learning_rate for rate in rates)
  assert 'no step horizon' in capsys.readouterr().out


def test_a_larger_resumed_budget_holds_the_final_learning_rate(tmp_path, capsys):
  run_dir = tmp_path / 'run'
  run_experiment.run_experiment(_dqn_experiment(run_dir, max_num_actor_steps=800))
  capsys.readouterr()
  run_experiment.run_experiment(_dqn_experiment(run_dir, max_num_actor_steps=1600))
  output = capsys.readouterr().out
  assert output.count('span 800 environment steps but the budget is 1600') == 1
  config = registry.config_class('dqn')()
  final = config.learning_rate * config.learning_rate_final_fraction
  rates = _learning_rates(str(run_dir))
  assert min(rates) > 0
  assert rates[-1] == pytest.approx(final)
