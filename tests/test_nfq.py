"""NFQ: a DQN config preset and a loss bootstrapping from the online network; it learns GridWorld 'simple' (seed 001)."""

import collections

import numpy as np
import pytest
import torch

from rlkit import environment_loop
from rlkit import specs
from rlkit import types
from rlkit.agents import dqn
from rlkit.agents import nfq
from rlkit.agents.value_based import learning
from rlkit.agents.value_based import losses
from rlkit.environments import factory
from rlkit.experiments import local_layout
from rlkit.utils import loggers

SampleInfo = collections.namedtuple('SampleInfo', 'key probability table_size priority')
ReplaySample = collections.namedtuple('ReplaySample', 'info data')

SPEC = specs.EnvironmentSpec(
    observations=specs.Array((4,), np.float32),
    actions=specs.DiscreteArray(4, dtype=np.int32),
    rewards=specs.Array((), np.float32),
    discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))


def _sample(batch_size=8):
  generator = torch.Generator().manual_seed(0)
  data = types.Transition(
      observation=torch.randn(batch_size, 4, generator=generator),
      action=torch.randint(4, (batch_size,), generator=generator),
      reward=torch.randn(batch_size, generator=generator),
      discount=torch.full((batch_size,), 0.9),
      next_observation=torch.randn(batch_size, 4, generator=generator))
  info = SampleInfo(torch.arange(batch_size), torch.full((batch_size,), 0.1),
                    torch.full((batch_size,), 10), torch.ones(batch_size))
  return ReplaySample(info, data)


def _learner(builder, seed, samples):
  return builder.make_learner(builder.make_networks(SPEC, seed), iter(samples),
                              lambda label: loggers.NoOpLogger(), SPEC)


def test_nfq_loss_is_the_squared_error_to_the_online_max():
  builder = nfq.NFQBuilder(nfq.NFQConfig(discount=0.5, hidden_sizes=(8,)))
  sample = _sample()
  learner = _learner(builder, 0, [sample])
  assert isinstance(learner, learning.ValueLearner)
  assert isinstance(learner.loss_fn, losses.NFQLoss)
  assert learner.target_network is None
  network, data = learner.network, sample.data
  with torch.no_grad():
    target = data.reward + 0.5 * data.discount * network(data.next_observation).max(-1).values
    q = network(data.observation).gather(-1, data.action.long()[:, None])[:, 0]
    expected = ((target - q) ** 2).mean()
  loss, _ = learner.loss_fn(network, None, sample)
  assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_nfq_is_a_preset_of_the_dqn_config():
  config = nfq.NFQConfig()
  assert isinstance(config, dqn.DQNConfig)
  assert (config.hidden_sizes, config.learning_rate, config.batch_size, config.epsilon,
          config.n_step, config.loss) == ((50, 50), 1e-3, 10, 0.6, 1, 'mse')
  builder = nfq.NFQBuilder()
  assert builder._epsilon_schedule(None).value_at(10**6) == 0.6  # pylint: disable=protected-access
  assert builder._learning_rate_schedule(10**6).value_at(10**7) == 1e-3  # pylint: disable=protected-access
  with pytest.raises(ValueError, match='double_q'):
    nfq.NFQConfig(double_q=True)
  with pytest.raises(ValueError, match='epsilon'):
    nfq.NFQConfig(epsilon=-0.1)
  with pytest.raises(TypeError, match='NFQConfig'):
    nfq.NFQBuilder(dqn.DQNConfig())


def test_nfq_save_restore():
  builder = nfq.NFQBuilder(nfq.NFQConfig(hidden_sizes=(8,)))
  learner = _learner(builder, 0, [_sample()] * 5)
  learner.run(num_steps=5)
  state = learner.save()
  assert 'target_network' not in state
  fresh = _learner(builder, 1, [])
  fresh.restore(state)
  x = torch.randn(3, 4)
  assert torch.equal(fresh.network(x), learner.network(x))


def test_nfq_learns_the_optimal_path_on_simple():
  """Seed 001's set-up: AGENT_GOAL_POS, MLP (50, 50), epsilon 0.6, batch 10."""
  torch.set_num_threads(1)
  env = factory.make_environment('gridworld:simple', seed=0, observation_type='AGENT_GOAL_POS')
  eval_env = factory.make_environment('gridworld:simple', seed=1,
                                      observation_type='AGENT_GOAL_POS')
  spec = specs.make_environment_spec(env)
  builder = nfq.NFQBuilder(nfq.NFQConfig())
  agent = local_layout.make_local_agent(builder, spec, seed=0)
  greedy = builder.make_actor(0, builder.make_policy(agent.networks, spec, evaluation=True), spec)
  loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
  steps, path = 0, None
  try:
    while steps < 8000:
      steps += loop.run(num_steps=1000)
      timestep, path = eval_env.reset(), 0
      while not timestep.last() and path < 50:
        timestep = eval_env.step(greedy.select_action(timestep.observation))
        path += 1
      if path == 5 and timestep.reward > 0:
        break
  finally:
    agent.close()
  assert (path, float(timestep.reward)) == (5, 10.0), f'greedy path {path} after {steps} steps'
