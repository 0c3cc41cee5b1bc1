"""DQN: networks, losses, learner (targets, save/restore), actor, replay wiring, learning."""

import collections
import dataclasses
import time

import numpy as np
import pytest
import torch

from rlkit import environment_loop
from rlkit import evaluation
from rlkit import specs
from rlkit import types
from rlkit.agents import losses
from rlkit.agents import policies
from rlkit.agents import variable_client
from rlkit.agents import dqn
from rlkit.agents.dqn import networks
from rlkit.environments import factory
from rlkit.utils import loggers
from rlkit.utils import schedules

SampleInfo = collections.namedtuple('SampleInfo', 'key probability table_size priority')
ReplaySample = collections.namedtuple('ReplaySample', 'info data')


def _spec(observation_spec, num_actions=3):
  return specs.EnvironmentSpec(
      observations=observation_spec,
      actions=specs.DiscreteArray(num_actions, dtype=np.int32),
      rewards=specs.Array((), np.float32),
      discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))


VECTOR_SPEC = _spec(specs.Array((4,), np.float32))


def _batches(seed=0, batch_size=16, obs_dim=4, num_actions=3):
  """An endless, reproducible stream of random transition batches."""
  generator = torch.Generator().manual_seed(seed)
  key = 0
  while True:
    data = types.Transition(
        observation=torch.randn(batch_size, obs_dim, generator=generator),
        action=torch.randint(num_actions, (batch_size,), generator=generator).to(torch.int32),
        reward=torch.randn(batch_size, generator=generator),
        discount=(torch.rand(batch_size, generator=generator) > 0.2).float() * 0.99,
        next_observation=torch.randn(batch_size, obs_dim, generator=generator))
    info = SampleInfo(
        key=torch.arange(key, key + batch_size, dtype=torch.int64),
        probability=torch.rand(batch_size, generator=generator) * 0.01 + 0.001,
        table_size=torch.full((batch_size,), 1000, dtype=torch.int64),
        priority=torch.ones(batch_size, dtype=torch.float64))
    key += batch_size
    yield ReplaySample(info, data)


def _learner(seed, **kwargs):
  torch.manual_seed(seed)
  network = networks.make_q_network(VECTOR_SPEC, (16, 16))
  return dqn.DQNLearner(network, _batches(), **kwargs)


# Networks.

@pytest.mark.parametrize('observation_spec,observation', [
    (specs.Array((4,), np.float32), np.zeros(4, np.float32)),                    # CartPole
    (specs.Array((9, 10, 3), np.float32), np.zeros((9, 10, 3), np.float32)),     # GRID
    (specs.DiscreteArray(90, dtype=np.int32), np.int32(17)),                      # STATE_INDEX
    (specs.Array((9, 10), np.float32), np.zeros((9, 10), np.float32)),           # AGENT_ONEHOT
])
def test_q_network_maps_each_observation_type_to_action_values(observation_spec, observation):
  network = networks.make_q_network(_spec(observation_spec, num_actions=4), (8,))
  batch = torch.as_tensor(np.stack([observation, observation]))
  assert network(batch).shape == (2, 4)
  assert network(torch.as_tensor(observation).unsqueeze(0)).shape == (1, 4)


def test_state_index_is_one_hot_encoded_inside_the_network():
  network = networks.make_q_network(_spec(specs.DiscreteArray(5, dtype=np.int32)), ())
  assert isinstance(network.torso, networks.OneHot)
  encoded = network.torso(torch.tensor([0, 4]))
  assert torch.equal(encoded, torch.eye(5)[[0, 4]])


def test_grid_network_is_convolutional():
  network = networks.make_q_network(_spec(specs.Array((9, 10, 3), np.float32)), (8,))
  assert isinstance(network.torso, networks.GridConvTorso)


def test_q_network_rejects_continuous_actions():
  spec = VECTOR_SPEC._replace(actions=specs.BoundedArray((1,), np.float32, -1.0, 1.0))
  with pytest.raises(TypeError, match='DiscreteArray'):
    networks.make_q_network(spec)


# Losses and policies.

def test_td_target_max_and_double_q():
  reward = torch.tensor([1.0, 2.0])
  discount = torch.tensor([1.0, 0.0])
  q_target = torch.tensor([[1.0, 5.0], [3.0, 4.0]])
  q_online = torch.tensor([[2.0, 1.0], [0.0, 1.0]])
  assert torch.allclose(losses.td_target(reward, discount, 0.5, q_target),
                        torch.tensor([1.0 + 0.5 * 5.0, 2.0]))
  # Double Q: the online net picks action 0 in the first row, evaluated by the target net.
  assert torch.allclose(losses.td_target(reward, discount, 0.5, q_target, q_online),
                        torch.tensor([1.0 + 0.5 * 1.0, 2.0]))


def test_elementwise_losses():
  td = torch.tensor([0.5, -3.0])
  assert torch.allclose(losses.elementwise_loss(td, 'mse'), torch.tensor([0.25, 9.0]))
  assert torch.allclose(losses.elementwise_loss(td, 'huber', 1.0), torch.tensor([0.125, 2.5]))
  with pytest.raises(ValueError, match='absolute'):
    losses.elementwise_loss(td, 'absolute')


def test_importance_weights_are_normalized_by_their_max():
  weights = losses.importance_weights(torch.tensor([0.1, 0.4]), torch.tensor(10), 1.0)
  assert torch.allclose(weights, torch.tensor([1.0, 0.25]))
  assert torch.allclose(losses.importance_weights(torch.tensor([0.1, 0.4]),
                                                  torch.tensor(10), 0.0), torch.ones(2))


def test_epsilon_greedy_policies():
  q = torch.tensor([[0.0, 3.0, 1.0]] * 2000)
  assert torch.all(policies.greedy(q) == 1)
  generator = torch.Generator().manual_seed(0)
  actions = policies.epsilon_greedy(q, 0.3, generator)
  non_greedy = (actions != 1).float().mean().item()
  assert abs(non_greedy - 0.3 * 2 / 3) < 0.04
  with pytest.raises(ValueError, match='epsilon'):
    policies.epsilon_greedy(q, 1.5)


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


# Learner.

def _params(module):
  return [p.detach().clone() for p in module.parameters()]


def test_learner_reduces_td_loss_on_a_fixed_batch():
  learner = _learner(0, learning_rate=1e-2, target_update_period=1000)
  sample = next(_batches(1))
  learner._iterator = iter([sample] * 200)
  first, _ = learner._batch_loss(sample, weighted=False)
  learner.run(num_steps=200)
  last, _ = learner._batch_loss(sample, weighted=False)
  assert last.item() < 0.5 * first.item()
  assert learner.num_steps == 200


def test_hard_target_update_every_period():
  learner = _learner(0, target_update_period=3)
  target_before = _params(learner.target_network)
  learner.run(num_steps=2)
  assert all(torch.equal(a, b) for a, b in zip(target_before, _params(learner.target_network)))
  learner.step()
  assert all(torch.equal(a, b) for a, b in zip(_params(learner.network),
                                               _params(learner.target_network)))


def test_polyak_target_update():
  learner = _learner(0, target_update_period=1, tau=0.1)
  target_before = _params(learner.target_network)
  learner.step()
  online = _params(learner.network)
  for old, new, o in zip(target_before, _params(learner.target_network), online):
    assert torch.allclose(new, 0.9 * old + 0.1 * o, atol=1e-6)


def test_gradient_clipping_bounds_the_update():
  learner = _learner(0, max_gradient_norm=1e-3, learning_rate=1e-3)
  rows = []
  learner._logger = type('L', (loggers.Logger,), {'write': lambda self, d: rows.append(d)})()
  learner.step()
  assert 'gradient_norm' in rows[0] and 'loss' in rows[0]


def test_save_then_restore_into_a_fresh_learner_is_identical():
  learner = _learner(0, target_update_period=5)
  learner.run(num_steps=12)  # Adam moments and a target update happened.
  state = learner.save()
  fresh = _learner(1, target_update_period=5)  # Different initial weights.
  fresh.restore(state)
  observation = torch.randn(8, 4)
  assert torch.equal(learner.network(observation), fresh.network(observation))
  assert torch.equal(learner.target_network(observation), fresh.target_network(observation))
  saved_opt, restored_opt = learner._optimizer.state_dict(), fresh._optimizer.state_dict()
  assert saved_opt['param_groups'] == restored_opt['param_groups']
  for index, slots in saved_opt['state'].items():
    for name, value in slots.items():
      assert torch.equal(value, restored_opt['state'][index][name])
  assert fresh.num_steps == 12
  # Both continue identically on the same data.
  same = next(_batches(7))
  learner._iterator, fresh._iterator = iter([same] * 3), iter([same] * 3)
  learner.run(num_steps=3)
  fresh.run(num_steps=3)
  assert all(torch.equal(a, b) for a, b in zip(_params(learner.network), _params(fresh.network)))
  # save() returns copies: later steps do not change a saved state.
  assert not torch.equal(state['network']['head.layers.0.weight'],
                         learner.network.state_dict()['head.layers.0.weight'])


def test_learning_rate_decays_linearly_and_follows_the_step_count_on_restore():
  learner = _learner(0, learning_rate=1e-2, learning_rate_decay_steps=10,
                     learning_rate_final_fraction=0.0)
  learner.run(num_steps=4)
  assert learner.learning_rate == pytest.approx(1e-2 * 0.6)
  state = learner.save()
  longer = _learner(1, learning_rate=1e-2, learning_rate_decay_steps=20,
                    learning_rate_final_fraction=0.0)
  longer.restore(state)  # A resumed run with a longer training: its own schedule.
  assert longer.learning_rate == pytest.approx(1e-2 * 0.8)
  learner.run(num_steps=10)
  assert learner.learning_rate == 0.0


def test_restore_names_what_is_missing():
  with pytest.raises(ValueError, match='target_network'):
    _learner(0).restore({'network': {}, 'optimizer': {}, 'num_steps': 0})


def test_get_variables_returns_copies_and_the_actor_can_pull_them():
  learner = _learner(0)
  (variables,) = learner.get_variables(['policy'])
  learner.run(num_steps=3)
  assert not torch.equal(variables['head.layers.0.weight'],
                         learner.network.state_dict()['head.layers.0.weight'])
  with pytest.raises(ValueError, match='policy'):
    learner.get_variables(['critic'])
  torch.manual_seed(5)
  local = networks.make_q_network(VECTOR_SPEC, (16, 16))
  client = variable_client.VariableClient(learner, local, update_period=2)
  actor = dqn.DQNActor(local, 3, epsilon=0.0, variable_client=client)
  observation = np.ones(4, np.float32)
  actor.update()
  assert not np.allclose(actor.q_values(observation),
                         learner.network(torch.ones(1, 4)).detach().numpy()[0])
  actor.update()  # Second call: the period is reached.
  np.testing.assert_allclose(actor.q_values(observation),
                             learner.network(torch.ones(1, 4)).detach().numpy()[0], rtol=1e-6)


def test_importance_weights_and_priority_updates_in_the_learner():
  updates = []
  learner = _learner(0, importance_sampling_exponent=0.5,
                     priority_update_fn=lambda k, p: updates.append((k, p)))
  learner.step()
  keys, priorities = updates[0]
  assert keys.shape == priorities.shape == (16,)
  assert np.all(priorities >= 0)


# Actor.

def test_actor_is_greedy_with_epsilon_zero_and_explores_otherwise():
  torch.manual_seed(0)
  network = networks.make_q_network(VECTOR_SPEC, (8,))
  observation = np.ones(4, np.float32)
  best = int(np.argmax(network(torch.ones(1, 4)).detach().numpy()))
  greedy = dqn.DQNActor(network, 3, epsilon=0.0, seed=0)
  assert all(int(greedy.select_action(observation)) == best for _ in range(50))
  assert greedy.select_action(observation).dtype == np.int32
  explorer = dqn.DQNActor(network, 3, epsilon=schedules.LinearSchedule(1.0, 0.0, 1000), seed=0)
  actions = [int(explorer.select_action(observation)) for _ in range(300)]
  assert len(set(actions)) == 3
  with pytest.raises(ValueError, match='epsilon'):
    dqn.DQNActor(network, 3, epsilon=1.5)


def test_actor_epsilon_schedule_advances_per_observed_step_and_is_saved():
  env = factory.make_environment('gym:CartPole-v1', seed=0)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(dqn.DQNConfig(epsilon_decay_fraction=0.5, epsilon_init=1.0,
                                         epsilon_final=0.0))
  actor = builder.make_actor(builder.make_network(spec, 0), spec,
                             epsilon=builder.make_epsilon_schedule(total_steps=100), seed=0)
  loop = environment_loop.EnvironmentLoop(env, actor, logger=loggers.NoOpLogger())
  steps = loop.run(num_steps=25)
  assert actor.epsilon == pytest.approx(max(0.0, 1.0 - steps / 50))
  state = actor.save()
  loop.run(num_steps=10)
  actor.restore(state)
  assert actor.epsilon == pytest.approx(max(0.0, 1.0 - steps / 50))


def test_linear_epsilon_needs_the_training_length():
  builder = dqn.DQNBuilder(dqn.DQNConfig(epsilon_decay_fraction=0.1))
  with pytest.raises(ValueError, match='epsilon_decay_fraction'):
    builder.make_epsilon_schedule(None)


# Config.

@pytest.mark.parametrize('field,value', [
    ('learning_rate', -1.0), ('epsilon', 1.5), ('discount', 1.2), ('loss', 'l1'),
    ('batch_size', 0), ('tau', 0.0), ('hidden_sizes', (64, 0)),
])
def test_config_rejects_out_of_range_values(field, value):
  with pytest.raises(ValueError, match=field):
    dqn.DQNConfig(**{field: value})


# Replay wiring (real Reverb).

def _run_agent(config, env_name='gym:CartPole-v1', steps=400, **env_kwargs):
  env = factory.make_environment(env_name, seed=0, **env_kwargs)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(config)
  agent = builder.make_agent(spec, total_steps=steps, seed=0)
  rows = []
  agent.learner._logger = type('L', (loggers.Logger,), {'write': lambda self, d: rows.append(d)})()
  loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
  loop.run(num_steps=steps)
  return agent, rows


def test_prioritized_replay_updates_priorities_in_the_table():
  torch.set_num_threads(1)
  config = dqn.DQNConfig(prioritized=True, min_replay_size=50, batch_size=16,
                         samples_per_insert=16.0, hidden_sizes=(16,))
  agent, rows = _run_agent(config, steps=300)
  try:
    assert agent.num_learner_steps > 200
    table = agent.replay_server.tables[dqn.builder.MAIN_TABLE]
    sample = next(agent._iterators[0])
    # New items enter at the running max; sampled ones were set to |TD error|.
    assert len(set(sample.info.priority.tolist())) > 1
  finally:
    agent.close()


def test_one_step_and_n_step_losses_are_added():
  torch.set_num_threads(1)
  config = dqn.DQNConfig(n_step=3, add_one_step_loss=True, min_replay_size=50,
                         batch_size=16, samples_per_insert=16.0, hidden_sizes=(16,))
  agent, rows = _run_agent(config, steps=200)
  try:
    assert set(agent.replay_server.table_sizes()) == {'priority_table', 'one_step_table'}
    assert agent.num_learner_steps > 100
    row = rows[-1]
    assert row['loss'].item() == pytest.approx(
        row['n_step_loss'].item() + row['one_step_loss'].item(), rel=1e-5)
  finally:
    agent.close()


# Learning.

def _greedy_path_length(env, actor, limit=50):
  timestep = env.reset()
  steps = 0
  while not timestep.last() and steps < limit:
    timestep = env.step(actor.select_action(timestep.observation))
    steps += 1
  return steps, float(timestep.reward)


def _bfs_path_length(grid) -> int:
  layout = grid.layout
  start, goal = tuple(grid.start_state), tuple(grid.goal_state)
  frontier, seen, distance = collections.deque([start]), {start}, {start: 0}
  while frontier:
    y, x = frontier.popleft()
    if (y, x) == goal:
      return distance[(y, x)]
    for dy, dx in ((-1, 0), (0, 1), (1, 0), (0, -1)):
      cell = (y + dy, x + dx)
      if layout[cell] >= 0 and cell not in seen:
        seen.add(cell)
        distance[cell] = distance[(y, x)] + 1
        frontier.append(cell)
  raise AssertionError('goal unreachable')


def _train_until_optimal(env_name, observation_type, config, max_steps, chunk):
  """Trains in chunks; returns (steps, greedy path length, optimal length)."""
  torch.set_num_threads(1)
  env = factory.make_environment(env_name, seed=0, observation_type=observation_type)
  eval_env = factory.make_environment(env_name, seed=1, observation_type=observation_type)
  optimal = _bfs_path_length(eval_env)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(config) if isinstance(config, dqn.DQNConfig) else config
  agent = builder.make_agent(spec, total_steps=max_steps, seed=0)
  greedy = builder.make_actor(agent.learner.network, spec)
  loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
  steps, length, reward = 0, None, None
  try:
    while steps < max_steps:
      steps += loop.run(num_steps=chunk)
      length, reward = _greedy_path_length(eval_env, greedy)
      if length == optimal and reward > 0:
        break
  finally:
    agent.close()
  return steps, length, reward, optimal


def test_dqn_learns_the_optimal_path_on_simple_from_grid_observations():
  config = dqn.DQNConfig(min_replay_size=200, epsilon_decay_fraction=0.2)
  steps, length, reward, optimal = _train_until_optimal(
      'gridworld:simple', 'GRID', config, max_steps=5000, chunk=500)
  assert optimal == 5
  assert (length, reward) == (5, 10.0), f'greedy path {length} steps after {steps} steps'


def test_dqn_learns_the_optimal_path_on_obstacle_from_positions():
  # 1-step MSE targets propagate the +10 of the goal fastest here; exploration
  # decays to 0.1 over half of the budget (the upper corridor is the short way).
  config = dqn.DQNConfig(min_replay_size=200, n_step=1, loss='mse',
                         epsilon_decay_fraction=0.5, epsilon_final=0.1)
  steps, length, reward, optimal = _train_until_optimal(
      'gridworld:obstacle', 'AGENT_GOAL_POS', config, max_steps=12000, chunk=1000)
  assert optimal == 8
  assert (length, reward) == (optimal, 10.0), f'greedy path {length} steps after {steps} steps'


@pytest.mark.parametrize('overrides,threshold', [
    # 1-step targets: a smaller step size and one update per step (seeds 002/003).
    (dict(n_step=1, learning_rate=1e-3, samples_per_insert=64.0), 150.0),
    (dict(n_step=3), 400.0),  # The defaults.
])
def test_dqn_and_n_step_dqn_balance_cartpole(overrides, threshold):
  """A greedy evaluation (10 episodes, every 2500 steps) reaches `threshold`
  within 20000 steps (a random policy scores about 22). The schedules (epsilon
  and learning-rate decay) are those of a 30000-step run, as in the benchmark."""
  torch.set_num_threads(1)
  env = factory.make_environment('gym:CartPole-v1', seed=0)
  eval_env = factory.make_environment('gym:CartPole-v1', seed=100)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(dqn.DQNConfig(**overrides))
  agent = builder.make_agent(spec, total_steps=30000, seed=0)
  greedy = builder.make_actor(agent.learner.network, spec)
  loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
  steps, history = 0, []
  try:
    while steps < 20000:
      steps += loop.run(num_steps=2500)
      history.append(evaluation.evaluate(eval_env, greedy, 10)['return_mean'])
      if history[-1] >= threshold:
        break
  finally:
    agent.close()
  assert history[-1] >= threshold, f'greedy returns every 2500 steps: {history}'
