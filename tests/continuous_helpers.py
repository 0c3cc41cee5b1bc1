"""Shared pieces of the SAC/TD3/D4PG tests: specs, batch streams, a recording logger, Pendulum runs."""

import collections
import time

import numpy as np
import torch

import rlkit
from rlkit import evaluation
from rlkit import specs
from rlkit import types
from rlkit.environments import factory
from rlkit.experiments import local_layout
from rlkit.utils import counting
from rlkit.utils import loggers

ReplaySample = collections.namedtuple('ReplaySample', 'info data')

ACTION_LOW = np.array([-2.0, 0.0], np.float32)
ACTION_HIGH = np.array([2.0, 1.0], np.float32)

SPEC = specs.EnvironmentSpec(
    observations=specs.Array((3,), np.float32),
    actions=specs.BoundedArray((2,), np.float32, ACTION_LOW, ACTION_HIGH),
    rewards=specs.Array((), np.float32),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))

DISCRETE_SPEC = SPEC._replace(actions=specs.DiscreteArray(3, dtype=np.int32))


def batches(seed=0, batch_size=16, spec=SPEC):
  """An endless, reproducible stream of random transition batches within the spec's bounds."""
  generator = torch.Generator().manual_seed(seed)
  obs_dim = spec.observations.shape[0]
  low = torch.tensor(spec.actions.minimum)
  high = torch.tensor(spec.actions.maximum)
  while True:
    action = low + (high - low) * torch.rand(batch_size, spec.actions.shape[0],
                                             generator=generator)
    data = types.Transition(
        observation=torch.randn(batch_size, obs_dim, generator=generator),
        action=action,
        reward=torch.randn(batch_size, generator=generator),
        discount=(torch.rand(batch_size, generator=generator) > 0.2).float(),
        next_observation=torch.randn(batch_size, obs_dim, generator=generator))
    yield ReplaySample(None, data)


class RecordingLogger(loggers.Logger):
  """Keeps every row written (values as floats)."""

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append({k: float(v) for k, v in data.items()})

  def close(self):
    pass


def logger_fn_of(logger):
  def logger_fn(label, steps_key=None, instance=None):
    del steps_key, instance
    assert label == 'learner'
    return logger
  return logger_fn


def learner_counter():
  """A counter as the runner hands it over (rows get 'learner_steps')."""
  return counting.Counter(counting.Counter(), prefix='learner')


def greedy_actor(builder, spec, variable_source, seed=0):
  """The evaluator's actor, built the contract's way."""
  networks = builder.make_networks(spec, seed + 1000)
  policy = builder.make_policy(networks, spec, evaluation=True)
  actor = builder.make_actor(seed, policy, spec, variable_source=variable_source)
  actor.update(wait=True)
  return actor


def train_on_pendulum(builder, num_steps, seed=0, eval_episodes=5, threshold=-400.0,
                      first_evaluation=None, eval_every=1000):
  """Trains through make_local_agent + EnvironmentLoop; returns (greedy evaluation, seconds).

  From `first_evaluation` steps on (default: `num_steps`), the greedy policy is
  evaluated every `eval_every` steps and training stops at the first evaluation
  above `threshold` (Reverb's sampling is OS-seeded, so runs differ a little).
  """
  torch.manual_seed(seed)
  environment = factory.make_environment('gym:Pendulum-v1', seed=seed)
  eval_environment = factory.make_environment('gym:Pendulum-v1', seed=seed + 100)
  spec = specs.make_environment_spec(environment)
  start = time.time()
  steps = first_evaluation or num_steps
  with local_layout.make_local_agent(builder, spec, seed=seed) as agent:
    loop = rlkit.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    done = loop.run(num_steps=steps)
    while True:
      actor = greedy_actor(builder, spec, agent.learner, seed)
      result = evaluation.evaluate(eval_environment, actor, eval_episodes)
      if result['return_mean'] > threshold or done >= num_steps:
        break
      done += loop.run(num_steps=eval_every)
  return result, time.time() - start


def check_actions(actor, spec, observations):
  """Actions of `actor` are within the spec's bounds, of its dtype and shape."""
  for observation in observations:
    action = actor.select_action(observation)
    assert action.dtype == spec.actions.dtype
    assert action.shape == spec.actions.shape
    assert np.all(action >= spec.actions.minimum) and np.all(action <= spec.actions.maximum)
