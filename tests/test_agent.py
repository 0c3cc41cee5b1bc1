"""The single-process Agent: learner-step ratio, readiness, no deadlock, save/restore."""

import threading

import numpy as np
import pytest
import torch

from rlkit import core
from rlkit import environment_loop
from rlkit import specs
from rlkit.agents import agent as agent_lib
from rlkit.agents import dqn
from rlkit.experiments import local_layout
from rlkit.utils import loggers
from tests import fakes


class CountingLearner(core.Learner):

  def __init__(self):
    self.steps = 0
    self.restored = None

  def step(self):
    self.steps += 1

  def get_variables(self, names):
    return [{'steps': self.steps} for _ in names]

  def save(self):
    return {'steps': self.steps}

  def restore(self, state):
    self.restored = state
    self.steps = state['steps']


class SwitchIterator:

  def __init__(self, ready=True):
    self.is_ready = ready

  def ready(self):
    return self.is_ready


def _observe(agent, num_steps):
  env = fakes.FixedLengthEnvironment(episode_length=10**9)
  agent.observe_first(env.reset())
  for _ in range(num_steps):
    agent.observe(np.int32(0), env.step(0))
    agent.update()


@pytest.mark.parametrize('samples_per_insert,batch_size', [
    (8.0, 32),    # one learner step every 4 observations
    (32.0, 32),   # one per observation
    (64.0, 16),   # four per observation
    (10.0, 3),    # 3.33 per observation: fractions accumulate
])
def test_learner_steps_follow_the_ratio(samples_per_insert, batch_size):
  learner = CountingLearner()
  actor = fakes.RecordingActor()
  agent = agent_lib.Agent(actor, learner, min_observations=100,
                          samples_per_insert=samples_per_insert, batch_size=batch_size)
  _observe(agent, 99)
  assert learner.steps == 0
  _observe(agent, 401)
  ratio = samples_per_insert / batch_size
  # Observations 100..500 each add `ratio` steps: 401 of them.
  assert learner.steps == int(np.floor(401 * ratio + 1e-9))
  assert agent.num_learner_steps == learner.steps
  assert agent.learner_steps_per_observation == pytest.approx(ratio)
  # The actor's parameters are refreshed after learner steps.
  assert ('update',) in actor.calls


def test_no_learner_step_until_data_is_ready_then_catch_up():
  learner = CountingLearner()
  iterator = SwitchIterator(ready=False)
  agent = agent_lib.Agent(fakes.RecordingActor(), learner, min_observations=1,
                          samples_per_insert=2.0, batch_size=1, iterators=[iterator])
  _observe(agent, 50)
  assert learner.steps == 0
  iterator.is_ready = True
  agent.update()
  assert learner.steps == 100


def test_can_sample_lets_the_learner_step_without_a_prefetched_batch():
  learner = CountingLearner()
  allowed = {'value': False}
  agent = agent_lib.Agent(fakes.RecordingActor(), learner, min_observations=1,
                          samples_per_insert=1.0, batch_size=1,
                          iterators=[SwitchIterator(ready=False)],
                          can_sample=lambda: allowed['value'])
  _observe(agent, 10)
  assert learner.steps == 0
  allowed['value'] = True
  _observe(agent, 1)
  assert learner.steps == 11


def test_agent_save_and_restore_round_trip():
  learner = CountingLearner()
  agent = agent_lib.Agent(fakes.RecordingActor(), learner, min_observations=2,
                          samples_per_insert=3.0, batch_size=2)
  _observe(agent, 7)
  state = agent.save()
  other_learner = CountingLearner()
  other = agent_lib.Agent(fakes.RecordingActor(), other_learner, min_observations=2,
                          samples_per_insert=3.0, batch_size=2)
  other.restore(state)
  assert other_learner.steps == learner.steps
  assert other.num_observations == 7
  _observe(agent, 5)
  _observe(other, 5)
  assert other_learner.steps == learner.steps


@pytest.mark.parametrize('kwargs,message', [
    (dict(min_observations=-1, samples_per_insert=1.0, batch_size=1), 'min_observations'),
    (dict(min_observations=1, samples_per_insert=0.0, batch_size=1), 'samples_per_insert'),
    (dict(min_observations=1, samples_per_insert=1.0, batch_size=0), 'batch_size'),
])
def test_agent_rejects_bad_arguments(kwargs, message):
  with pytest.raises(ValueError, match=message):
    agent_lib.Agent(fakes.RecordingActor(), CountingLearner(), **kwargs)


def test_rate_limited_replay_never_deadlocks_and_keeps_the_ratio():
  """Real Reverb table with a samples-per-insert limiter, acting and learning in one thread."""
  torch.set_num_threads(1)
  environment = fakes.FixedLengthEnvironment(episode_length=7, obs_shape=(3,))
  spec = specs.make_environment_spec(environment)
  # 4 learner steps of 8 per observation: the table allows 32 samples per insert.
  config = dqn.DQNConfig(hidden_sizes=(8,), batch_size=8, samples_per_insert=32.0,
                         min_replay_size=20, samples_per_insert_tolerance_rate=0.0,
                         n_step=2, prefetch_size=1, epsilon_decay_fraction=0.0)
  agent = local_layout.make_local_agent(dqn.DQNBuilder(config), spec, seed=0, horizon=300)
  result = {}

  def train():
    loop = environment_loop.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    result['steps'] = loop.run(num_steps=300)

  thread = threading.Thread(target=train, daemon=True)
  thread.start()
  thread.join(timeout=60)
  try:
    assert not thread.is_alive(), 'acting and learning deadlocked on the rate limiter'
    expected = (result['steps'] - config.min_replay_size + 1) * 4
    # Steps the table did not allow yet stay in the budget; nearly all ran.
    assert 0.9 * expected <= agent.num_learner_steps <= expected
  finally:
    agent.close()
