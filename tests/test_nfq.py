"""NFQ: its target uses the online network; it learns GridWorld 'simple' (seed 001)."""

import collections

import numpy as np
import pytest
import torch

from rlkit import environment_loop
from rlkit import specs
from rlkit import types
from rlkit.agents import nfq
from rlkit.agents.dqn import networks
from rlkit.environments import factory
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


def test_nfq_loss_is_the_squared_error_to_the_online_max():
  torch.manual_seed(0)
  network = networks.make_q_network(SPEC, (8,))
  sample = _sample()
  learner = nfq.NFQLearner(network, iter([sample]), discount=0.5, learning_rate=1e-3)
  assert learner.target_network is None
  data = sample.data
  with torch.no_grad():
    target = data.reward + 0.5 * data.discount * network(data.next_observation).max(-1).values
    q = network(data.observation).gather(-1, data.action.long()[:, None])[:, 0]
    expected = ((target - q) ** 2).mean()
  loss, _ = learner._batch_loss(sample, weighted=False)
  assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_nfq_save_restore_and_config_validation():
  torch.manual_seed(0)
  learner = nfq.NFQLearner(networks.make_q_network(SPEC, (8,)), iter([_sample()] * 5))
  learner.run(num_steps=5)
  state = learner.save()
  assert 'target_network' not in state
  torch.manual_seed(1)
  fresh = nfq.NFQLearner(networks.make_q_network(SPEC, (8,)), iter([]))
  fresh.restore(state)
  x = torch.randn(3, 4)
  assert torch.equal(fresh.network(x), learner.network(x))
  with pytest.raises(ValueError, match='epsilon'):
    nfq.NFQConfig(epsilon=-0.1)


def test_nfq_learns_the_optimal_path_on_simple():
  """Seed 001's set-up: AGENT_GOAL_POS, MLP (50, 50), epsilon 0.6, batch 10."""
  torch.set_num_threads(1)
  env = factory.make_environment('gridworld:simple', seed=0, observation_type='AGENT_GOAL_POS')
  eval_env = factory.make_environment('gridworld:simple', seed=1,
                                      observation_type='AGENT_GOAL_POS')
  spec = specs.make_environment_spec(env)
  builder = nfq.NFQBuilder(nfq.NFQConfig())
  agent = builder.make_agent(spec, seed=0)
  greedy = builder.make_actor(agent.learner.network, spec)
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
