"""DQN: networks, losses, learner (targets, save/restore), actor, replay wiring, learning."""

import collections

import dm_env
import numpy as np
import pytest
import torch

from rlkit import environment_loop
from rlkit import evaluation
from rlkit import specs
from rlkit import types
from rlkit.agents import policies
from rlkit.agents import variable_client
from rlkit.agents import dqn
from rlkit.agents.dqn import networks
from rlkit.agents.value_based import learning
from rlkit.agents.value_based import losses
from rlkit.environments import factory
from rlkit.environments import batched
from rlkit import batched_environment_loop
from rlkit.experiments import local_layout
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


class RecordingLogger(loggers.Logger):

  def __init__(self):
    self.rows = []

  def write(self, data):
    self.rows.append(data)


def _learner(seed, importance_sampling_exponent=None, **kwargs):
  torch.set_num_threads(1)
  torch.manual_seed(seed)
  network = networks.make_q_network(VECTOR_SPEC, (16, 16))
  loss_fn = losses.DoubleQLearning(importance_sampling_exponent=importance_sampling_exponent)
  return learning.ValueLearner(network, _batches(), loss_fn, **kwargs)


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


# Policies.

def test_epsilon_greedy_policies():
  q = torch.tensor([[0.0, 3.0, 1.0]] * 2000)
  assert torch.all(policies.greedy(q) == 1)
  generator = torch.Generator().manual_seed(0)
  actions = policies.epsilon_greedy(q, 0.3, generator)
  non_greedy = (actions != 1).float().mean().item()
  assert abs(non_greedy - 0.3 * 2 / 3) < 0.04
  with pytest.raises(ValueError, match='epsilon'):
    policies.epsilon_greedy(q, 1.5)


# Learner.

def _params(module):
  return [p.detach().clone() for p in module.parameters()]


def test_learner_reduces_td_loss_on_a_fixed_batch():
  learner = _learner(0, learning_rate=1e-2, target_update_period=1000)
  sample = next(_batches(1))
  learner._iterator = iter([sample] * 200)
  first, _ = learner.loss_fn(learner.network, learner.target_network, sample)
  learner.run(num_steps=200)
  last, _ = learner.loss_fn(learner.network, learner.target_network, sample)
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
  logger = RecordingLogger()
  learner = _learner(0, max_gradient_norm=1e-3, learning_rate=1e-3, logger=logger)
  before = _params(learner.network)
  learner.step()
  row = logger.rows[0]
  assert {'gradient_norm', 'loss', 'learning_rate', 'steps'} <= set(row)
  assert row['learning_rate'] == 1e-3
  # Adam's first step moves each weight by about lr whatever the gradient scale.
  assert all(torch.all((a - b).abs() <= 1.1e-3) for a, b in zip(before, _params(learner.network)))


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
  learner = _learner(0, learning_rate=schedules.LinearSchedule(1e-2, 1e-4, 10))
  learner.run(num_steps=4)
  assert learner.learning_rate == pytest.approx(1e-2 - 0.4 * (1e-2 - 1e-4))
  state = learner.save()
  longer = _learner(1, learning_rate=schedules.LinearSchedule(1e-2, 1e-4, 20))
  longer.restore(state)  # A resumed run with a longer training: its own schedule.
  assert longer.learning_rate == pytest.approx(1e-2 - 0.2 * (1e-2 - 1e-4))
  learner.run(num_steps=10)
  assert learner.learning_rate == pytest.approx(1e-4)
  with pytest.raises(ValueError, match='start > 0'):
    _learner(0, learning_rate=schedules.LinearSchedule(0.0, 1e-2, 10))


def test_builder_learning_rate_spans_the_horizon_in_learner_steps():
  config = dqn.DQNConfig(min_replay_size=11, samples_per_insert=4.0, batch_size=2,
                         hidden_sizes=(8,))
  builder = dqn.DQNBuilder(config)
  learner = builder.make_learner(builder.make_networks(VECTOR_SPEC, 0), _batches(),
                                 lambda label: loggers.NoOpLogger(), VECTOR_SPEC, horizon=60)
  learner.run(num_steps=50)  # Half of the 100 learner steps of 60 environment steps.
  assert learner.learning_rate == pytest.approx(
      config.learning_rate * (1 + config.learning_rate_final_fraction) / 2)


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
  sample = next(_batches())
  _, extra = learner.loss_fn(learner.network, learner.target_network, sample)
  learner.step()
  keys, priorities = updates[0]
  assert keys.tolist() == sample.info.key.tolist()
  np.testing.assert_allclose(priorities, extra.priorities.numpy(), rtol=1e-6)
  assert priorities.dtype == np.float64 and np.all(priorities >= 0)


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


def _builder_actor(builder, spec, **kwargs):
  policy = builder.make_policy(builder.make_networks(spec, 0), spec, evaluation=False)
  return builder.make_actor(0, policy, spec, **kwargs)


def test_actor_epsilon_schedule_advances_per_observed_step_and_is_saved():
  env = factory.make_environment('gym:CartPole-v1', seed=0)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(dqn.DQNConfig(epsilon_decay_fraction=0.5, epsilon_init=1.0,
                                         epsilon_final=0.0))
  actor = _builder_actor(builder, spec, horizon=100)
  loop = environment_loop.EnvironmentLoop(env, actor, logger=loggers.NoOpLogger())
  steps = loop.run(num_steps=25)
  assert actor.get_metrics() == {'epsilon': pytest.approx(max(0.0, 1.0 - steps / 50))}
  state = actor.save()
  loop.run(num_steps=10)
  actor.restore(state)
  assert actor.epsilon == pytest.approx(max(0.0, 1.0 - steps / 50))


def test_without_a_horizon_epsilon_decays_over_its_fixed_warm_up():
  builder = dqn.DQNBuilder(dqn.DQNConfig(epsilon_decay_steps=40, epsilon_final=0.1))
  actor = _builder_actor(builder, VECTOR_SPEC, horizon=None)
  assert actor.epsilon == 1.0
  step = dm_env.transition(0.0, np.zeros(4, np.float32))
  for _ in range(20):
    actor.observe(np.int32(0), step)
  assert actor.epsilon == pytest.approx(0.55)
  for _ in range(100):
    actor.observe(np.int32(0), step)
  assert actor.get_metrics() == {'epsilon': pytest.approx(0.1)}


def test_evaluation_policy_is_greedy_and_pulls_the_learners_weights():
  builder = dqn.DQNBuilder(dqn.DQNConfig(hidden_sizes=(8,), variable_update_period=3))
  learner = builder.make_learner(builder.make_networks(VECTOR_SPEC, 0), _batches(),
                                 lambda label: loggers.NoOpLogger(), VECTOR_SPEC)
  learner.run(num_steps=2)
  policy = builder.make_policy(builder.make_networks(VECTOR_SPEC, 1), VECTOR_SPEC,
                               evaluation=True)
  actor = builder.make_actor(0, policy, VECTOR_SPEC, variable_source=learner)
  assert actor.get_metrics() == {'epsilon': 0.0}
  observation = np.ones(4, np.float32)
  expected = learner.network(torch.ones(1, 4)).detach().numpy()[0]
  actor.update()
  assert not np.allclose(actor.q_values(observation), expected)
  actor.update(wait=True)
  np.testing.assert_allclose(actor.q_values(observation), expected, rtol=1e-6)
  learner.run(num_steps=1)
  actor.update()
  actor.update()
  assert not np.allclose(actor.q_values(observation), learner.network(torch.ones(1, 4)).detach().numpy()[0])
  actor.update()  # The third call since the last pull.
  np.testing.assert_allclose(actor.q_values(observation),
                             learner.network(torch.ones(1, 4)).detach().numpy()[0], rtol=1e-6)


def test_builder_checks_its_config_and_the_spec():
  with pytest.raises(TypeError, match='DQNConfig'):
    dqn.DQNBuilder(object())
  continuous = VECTOR_SPEC._replace(actions=specs.BoundedArray((1,), np.float32, -1.0, 1.0))
  assert 'DiscreteArray' in dqn.DQNBuilder().supports(continuous)
  assert dqn.DQNBuilder().supports(VECTOR_SPEC) is None
  with pytest.raises(ValueError, match='DiscreteArray'):
    local_layout.make_local_agent(dqn.DQNBuilder(), continuous)


# Config.

@pytest.mark.parametrize('field,value', [
    ('learning_rate', -1.0), ('epsilon', 1.5), ('discount', 1.2), ('loss', 'l1'),
    ('batch_size', 0), ('tau', 0.0), ('hidden_sizes', (64, 0)), ('device', 'gpu'),
    ('learning_rate_final_fraction', -0.1),
])
def test_config_rejects_out_of_range_values(field, value):
  with pytest.raises(ValueError, match=field):
    dqn.DQNConfig(**{field: value})


# Replay wiring (real Reverb).

def _run_agent(config, env_name='gym:CartPole-v1', steps=400, **env_kwargs):
  env = factory.make_environment(env_name, seed=0, **env_kwargs)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(config)
  logger = RecordingLogger()
  agent = local_layout.make_local_agent(builder, spec, seed=0, horizon=steps,
                                        logger_fn=lambda label: logger)
  loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
  loop.run(num_steps=steps)
  return agent, logger.rows


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


def test_batched_actor_acts_on_every_copy_and_the_agent_learns():
  torch.set_num_threads(1)
  env = batched.BatchedEnvironment.from_factory(
      lambda seed: factory.make_environment('gym:CartPole-v1', seed=seed), 3, seed=0)
  spec = env.single_environment_spec()
  builder = dqn.DQNBuilder(dqn.DQNConfig(hidden_sizes=(16,), min_replay_size=50,
                                         epsilon_decay_steps=100))
  agent = local_layout.make_local_agent(builder, spec, seed=0, num_envs=3)
  try:
    assert isinstance(agent.actor, dqn.BatchedDQNActor)
    actions = agent.actor.select_action(np.zeros((3, 4), np.float32))
    assert actions.shape == (3,) and actions.dtype == np.int32
    loop = batched_environment_loop.BatchedEnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
    taken = loop.run(num_steps=150)
    assert agent.num_observations >= 150 and taken >= 150
    assert agent.num_learner_steps > 0
    # Epsilon advanced once per transition of any copy: it reached its final value.
    assert agent.actor.get_metrics() == {'epsilon': pytest.approx(0.05)}
  finally:
    agent.close()
    env.close()


# Learning.

def _greedy(builder, agent, spec):
  """The evaluation actor over the agent's own (shared) networks."""
  return builder.make_actor(0, builder.make_policy(agent.networks, spec, evaluation=True), spec)


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
  builder = dqn.DQNBuilder(config)
  agent = local_layout.make_local_agent(builder, spec, seed=0, horizon=max_steps)
  greedy = _greedy(builder, agent, spec)
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
  # The learning rate decays to 0 over the budget (the default before issue 19):
  # with a final rate > 0 the greedy path leaves the short way now and then.
  config = dqn.DQNConfig(min_replay_size=200, n_step=1, loss='mse',
                         epsilon_decay_fraction=0.5, epsilon_final=0.1,
                         learning_rate_final_fraction=0.0)
  steps, length, reward, optimal = _train_until_optimal(
      'gridworld:obstacle', 'AGENT_GOAL_POS', config, max_steps=20000, chunk=500)
  assert optimal == 8
  assert (length, reward) == (optimal, 10.0), f'greedy path {length} steps after {steps} steps'


@pytest.mark.parametrize('overrides,threshold', [
    # 1-step targets: a smaller step size and one update per step (seeds 002/003).
    (dict(n_step=1, learning_rate=1e-3, samples_per_insert=64.0), 150.0),
    (dict(n_step=3), 400.0),  # The defaults.
])
def test_dqn_and_n_step_dqn_balance_cartpole(overrides, threshold):
  """A greedy evaluation (10 episodes, every 1000 steps) reaches `threshold`
  within 30000 steps (a random policy scores about 22). The schedules (epsilon
  and learning-rate decay) are those of a 30000-step run, as in the benchmark.

  Measured (Reverb's sampling is OS-seeded): n-step reached 400 after 3k to 19k
  steps in 10 runs, 1-step 150 after 1k to 2.2k in 4."""
  torch.set_num_threads(1)
  env = factory.make_environment('gym:CartPole-v1', seed=0)
  eval_env = factory.make_environment('gym:CartPole-v1', seed=100)
  spec = specs.make_environment_spec(env)
  builder = dqn.DQNBuilder(dqn.DQNConfig(**overrides))
  agent = local_layout.make_local_agent(builder, spec, seed=0, horizon=30000)
  greedy = _greedy(builder, agent, spec)
  loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
  steps, history = 0, []
  try:
    while steps < 30000:
      steps += loop.run(num_steps=1000)
      history.append(evaluation.evaluate(eval_env, greedy, 10)['return_mean'])
      if history[-1] >= threshold:
        break
  finally:
    agent.close()
  assert history[-1] >= threshold, f'greedy returns every 1000 steps: {history}'


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_learner_and_shared_actor_on_cuda():
  builder = dqn.DQNBuilder(dqn.DQNConfig(hidden_sizes=(8,), device='cuda'))
  network = builder.make_networks(VECTOR_SPEC, 0)
  learner = builder.make_learner(network, _batches(), lambda label: loggers.NoOpLogger(),
                                 VECTOR_SPEC)
  learner.run(num_steps=3)
  assert next(learner.network.parameters()).is_cuda
  (variables,) = learner.get_variables(['policy'])
  assert all(v.device.type == 'cpu' for v in variables.values())
  actor = builder.make_actor(0, builder.make_policy(network, VECTOR_SPEC), VECTOR_SPEC)
  assert actor.select_action(np.ones(4, np.float32)).dtype == np.int32
  assert actor.q_values(np.ones(4, np.float32)).shape == (3,)


def test_batches_per_fetch_is_used_only_where_the_rate_limiter_allows_it():
  # Default slack 0.1 * 1000 * 32 = 3200 samples covers 2 * 64 * 4 * (2 + 2) = 2048.
  roomy = dqn.DQNBuilder(dqn.DQNConfig(batches_per_fetch=4))
  assert roomy._batches_per_fetch() == 4
  tight = dqn.DQNBuilder(dqn.DQNConfig(batches_per_fetch=4, min_replay_size=200))
  assert tight._batches_per_fetch() == 1
  assert dqn.DQNBuilder()._batches_per_fetch() == 4  # the default, within the default slack
  with pytest.raises(ValueError, match='batches_per_fetch'):
    dqn.DQNConfig(batches_per_fetch=0)


def test_dqn_learns_with_batches_fetched_four_at_a_time():
  """Views cut from one Reverb fetch feed the learner like single batches."""
  torch.set_num_threads(1)
  env = factory.make_environment('gym:CartPole-v1', seed=0)
  spec = specs.make_environment_spec(env)
  config = dqn.DQNConfig(batches_per_fetch=4, batch_size=16, min_replay_size=400,
                         hidden_sizes=(16,))
  builder = dqn.DQNBuilder(config)
  assert builder._batches_per_fetch() == 4
  with local_layout.make_local_agent(builder, spec, seed=0, horizon=1500) as agent:
    loop = environment_loop.EnvironmentLoop(env, agent, logger=loggers.NoOpLogger())
    steps = loop.run(num_steps=1500)
    expected = (steps - config.min_replay_size + 1) * config.samples_per_insert / 16
    assert agent.num_learner_steps >= 0.9 * expected - 1
    assert all(torch.isfinite(p).all() for p in agent.networks.parameters())
