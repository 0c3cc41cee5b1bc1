"""Schedules, the schedule rule (`over_training`) and how every value-based agent follows it."""

import pytest
import torch

from rlkit import environment_loop
from rlkit import specs
from rlkit.agents import dqn
from rlkit.agents import nfq
from rlkit.agents import qr_dqn
from rlkit.experiments import local_layout
from rlkit.utils import loggers
from rlkit.utils import schedules
from tests import fakes


def test_schedules_and_their_position():
  schedule = schedules.LinearSchedule(1.0, 0.1, decay_steps=10)
  assert schedule.value == 1.0
  schedule.advance(5)
  assert schedule.value == pytest.approx(0.55)
  saved = schedule.save()
  schedule.advance(100)
  assert schedule.value == pytest.approx(0.1)
  schedule.restore(saved)
  assert schedule.value == pytest.approx(0.55)
  assert schedules.ConstantSchedule(0.2).value_at(10**6) == 0.2
  with pytest.raises(ValueError, match='decay_steps'):
    schedules.LinearSchedule(1.0, 0.1, decay_steps=-1)


def test_over_training_spans_a_fraction_of_the_horizon_then_holds():
  schedule = schedules.over_training(1.0, 0.1, horizon=1000, fraction=0.1,
                                     steps_without_horizon=50)
  assert schedule.value_at(0) == 1.0
  assert schedule.value_at(50) == pytest.approx(0.55)
  assert schedule.value_at(100) == schedule.value_at(10**9) == pytest.approx(0.1)
  assert schedules.over_training(1.0, 0.1, horizon=1000, fraction=0.0).value_at(0) == 0.1


def test_over_training_without_a_horizon_never_depends_on_the_end():
  warm_up = schedules.over_training(1.0, 0.1, horizon=None, fraction=0.1,
                                    steps_without_horizon=50)
  assert warm_up.value_at(25) == pytest.approx(0.55)
  assert warm_up.value_at(50) == warm_up.value_at(10**9) == pytest.approx(0.1)
  constant = schedules.over_training(3e-3, 3e-5, horizon=None)
  assert constant.value_at(0) == constant.value_at(10**9) == 3e-3


@pytest.mark.parametrize('kwargs,message', [
    (dict(horizon=0), 'horizon'), (dict(horizon=10, fraction=1.5), 'fraction'),
    (dict(horizon=None, steps_without_horizon=-1), 'steps_without_horizon'),
])
def test_over_training_checks_its_arguments(kwargs, message):
  with pytest.raises(ValueError, match=message):
    schedules.over_training(1.0, 0.0, **kwargs)


def test_learner_steps_follow_the_update_ratio():
  # 1000 environment steps, learning from step 100 on, 2 learner steps per step.
  assert schedules.learner_steps(1000, 101, 64.0, 32) == 1800
  assert schedules.learner_steps(None, 101, 64.0, 32) is None
  assert schedules.learner_steps(10, 101, 64.0, 32) == 1
  with pytest.raises(ValueError, match='horizon'):
    schedules.learner_steps(-5, 1, 1.0, 1)


# The rule, for every value-based agent.


class RecordingLogger(loggers.Logger):

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append(data)

VALUE_BASED = [
    pytest.param(dqn.DQNBuilder, dqn.DQNConfig, id='dqn'),
    pytest.param(nfq.NFQBuilder, nfq.NFQConfig, id='nfq'),
    pytest.param(qr_dqn.QRDQNBuilder, qr_dqn.QRDQNConfig, id='qr_dqn'),
]


@pytest.mark.parametrize('builder_class,config_class', VALUE_BASED)
def test_without_a_horizon_the_default_config_builds_and_trains(builder_class, config_class):
  torch.set_num_threads(1)
  environment = fakes.FixedLengthEnvironment(episode_length=5, obs_shape=(3,))
  spec = specs.make_environment_spec(environment)
  builder = builder_class()  # The default config, as the library API gives it.
  assert isinstance(builder.config, config_class)
  logger = RecordingLogger()
  agent = local_layout.make_local_agent(
      builder, spec, seed=0, horizon=None, logger_fn=lambda label: logger)
  rows = logger.rows
  try:
    loop = environment_loop.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    loop.run(num_steps=builder.config.min_replay_size + 20)
    assert agent.num_learner_steps > 0 and rows
    assert all(row['learning_rate'] == builder.config.learning_rate for row in rows)
    epsilon = builder._epsilon_schedule(None)  # pylint: disable=protected-access
    assert agent.actor.get_metrics() == {'epsilon': pytest.approx(epsilon.value_at(agent.num_observations))}
  finally:
    agent.close()


@pytest.mark.parametrize('builder_class,config_class', VALUE_BASED)
@pytest.mark.parametrize('horizon', [5_000, 1_000_000])
def test_with_a_horizon_the_learning_rate_stays_above_zero_and_values_hold(
    builder_class, config_class, horizon):
  config = config_class()
  builder = builder_class(config)
  learner_horizon = schedules.learner_steps(
      horizon, config.min_replay_size, config.samples_per_insert, config.batch_size)
  learning_rate = builder._learning_rate_schedule(horizon)  # pylint: disable=protected-access
  final_rate = config.learning_rate * config.learning_rate_final_fraction
  for step in (0, learner_horizon // 2, learner_horizon, 10 * learner_horizon):
    assert learning_rate.value_at(step) >= final_rate > 0
  assert learning_rate.value_at(learner_horizon) == pytest.approx(final_rate)
  assert learning_rate.value_at(10 * learner_horizon) == pytest.approx(final_rate)
  epsilon = builder._epsilon_schedule(horizon)  # pylint: disable=protected-access
  held = config.epsilon if config.epsilon_decay_fraction == 0 else config.epsilon_final
  assert epsilon.value_at(horizon) == epsilon.value_at(10 * horizon) == pytest.approx(held)
  # The same horizon in the learner: rows report the scheduled rate.
  torch.set_num_threads(1)
  environment = fakes.FixedLengthEnvironment(episode_length=5, obs_shape=(3,))
  spec = specs.make_environment_spec(environment)
  learner = builder.make_learner(
      builder.make_networks(spec, 0), iter(()), lambda label: loggers.NoOpLogger(), spec,
      horizon=horizon)
  assert learner.learning_rate == config.learning_rate
  learner._num_steps = 10 * learner_horizon  # pylint: disable=protected-access
  learner._set_learning_rate()  # pylint: disable=protected-access
  assert learner.learning_rate == pytest.approx(final_rate)
