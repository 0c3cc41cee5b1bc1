"""Actor-critic (A2C): n-step bootstrapping, truncation vs termination, save/restore, learning."""

import csv
import os

import numpy as np
import pytest
import torch

from rlkit import batched_environment_loop
from rlkit import environment_loop
from rlkit import specs
from rlkit.adders import base as adders_base
from rlkit.agents import pg_data
from rlkit.agents.actor_critic import builder as builder_lib
from rlkit.agents.actor_critic import config as config_lib
from rlkit.agents.actor_critic import learning
from rlkit.agents.actor_critic import networks as networks_lib
from rlkit.environments import batched
from rlkit.environments import factory
from rlkit.experiments import local_layout
from rlkit.replay import server as server_lib
from rlkit.utils import counting
from rlkit.utils import loggers
from tests import fakes
from tests import pg_helpers
from tests import forkserver


pytestmark = pytest.mark.filterwarnings('ignore:.*CartPole-v0 is out of date')

torch.set_num_threads(1)


def greedy_weights(actor):
  return actor.network.network.state_dict()  # PolicyLogits wraps the whole network.


def _brute_force_n_step(reward, discount, values, length, gamma, n):
  """G_t from the definition, one step at a time."""
  returns = []
  for t in range(length):
    g, scale = 0.0, 1.0
    m = length - t if n is None else min(n, length - t)
    for k in range(m):
      g += scale * reward[t + k]
      scale *= gamma * discount[t + k]
    returns.append(g + scale * values[t + m])
  return returns


@pytest.mark.parametrize('n_step', [1, 2, 3, 5, None])
def test_n_step_returns_match_the_definition(n_step):
  rng = np.random.default_rng(n_step or 0)
  lengths = np.array([6, 3, 1, 4])
  reward = rng.normal(size=(4, 6))
  discount = rng.uniform(0.5, 1.0, size=(4, 6))  # Any environment discounts.
  discount[0, 5] = 0.0  # Episode 0 terminates; episode 1 is truncated (d = 1).
  discount[1, 2] = 1.0
  values = rng.normal(size=(4, 7))
  returns = pg_data.n_step_returns(reward, discount, lengths, values, 0.9, n_step)
  for b, length in enumerate(lengths):
    expected = _brute_force_n_step(reward[b], discount[b], values[b], length, 0.9, n_step)
    np.testing.assert_allclose(returns[b, :length], expected, rtol=1e-12)
    assert np.all(returns[b, length:] == 0.0)


def _one_episode(truncate, episode_length=3):
  """Runs one FixedLengthEnvironment episode through the adder and the Reverb queue."""
  environment = fakes.FixedLengthEnvironment(episode_length=episode_length, truncate=truncate)
  spec = specs.make_environment_spec(environment)
  builder = builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig())
  network = builder.make_networks(spec, seed=0)
  policy = builder.make_policy(network, spec)
  with server_lib.ReplayServer(builder.make_replay_tables(spec, policy)) as server:
    client = server.client()
    actor = builder.make_actor(0, policy, spec, adder=builder.make_adder(client, spec, policy))
    environment_loop.EnvironmentLoop(
        environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=1)
    batch = next(builder.make_dataset_iterator(client))
  return spec, builder, network, batch


def _local_agent(builder, spec, logger=None, **kwargs):
  """The single-process agent, under a run's counter (so rows get 'learner_steps')."""
  logger_fn = None if logger is None else (lambda label: logger)
  return local_layout.make_local_agent(builder, spec, logger_fn=logger_fn,
                                       counter=counting.Counter(), **kwargs)


@pytest.mark.parametrize('truncate', [False, True])
def test_final_observation_and_discount_reach_the_learner(truncate):
  _, _, _, batch = _one_episode(truncate)
  np.testing.assert_array_equal(batch.length, [3])
  np.testing.assert_array_equal(batch.observation[0, :, 0], [0, 1, 2, 3])  # o_3 kept.
  np.testing.assert_array_equal(batch.reward, [[1, 2, 3]])
  np.testing.assert_array_equal(batch.discount, [[1, 1, 1 if truncate else 0]])


@pytest.mark.parametrize('truncate, n_step, expected', [
    # FixedLengthEnvironment rewards 1, 2, 3; gamma 0.5; V = 10 everywhere.
    (False, None, [2.75, 3.5, 3.0]),   # Termination: no bootstrap at the end.
    (True, None, [4.0, 6.0, 8.0]),     # Truncation: G_2 = 3 + 0.5 * V(o_3).
    (False, 1, [6.0, 7.0, 3.0]),       # r_t + 0.5 * V(o_{t+1}), none after the end.
    (True, 1, [6.0, 7.0, 8.0]),
    (True, 2, [1 + 1 + 2.5, 2 + 1.5 + 2.5, 8.0]),
])
def test_learner_bootstraps_on_truncation_but_not_on_termination(truncate, n_step, expected):
  spec, _, network, batch = _one_episode(truncate)
  with torch.no_grad():  # A critic that says V(o) = 10 for every observation.
    last = network.critic.head.layers[-1]
    last.weight.zero_()
    last.bias.fill_(10.0)
  learner = learning.ActorCriticLearner(network, iter([batch]), discount=0.5, n_step=n_step)
  metrics = learner.loss(batch)
  expected = np.array(expected)
  assert float(metrics['value_loss']) == pytest.approx(0.5 * np.mean((expected - 10.0) ** 2))
  assert metrics['value_error'] == pytest.approx(np.mean(np.abs(expected - 10.0)))


def test_shared_torso_network_shapes_and_policy_view():
  spec = specs.make_environment_spec(fakes.FixedLengthEnvironment(obs_shape=(3,), num_actions=4))
  for shared in (False, True):
    network = networks_lib.make_actor_critic_network(spec, (16, 8), shared_torso=shared)
    logits, values = network(torch.zeros(5, 3))
    assert logits.shape == (5, 4) and values.shape == (5,)
    torch.testing.assert_close(networks_lib.PolicyLogits(network)(torch.zeros(5, 3)), logits)
  shared_params = sum(p.numel() for p in networks_lib.make_actor_critic_network(
      spec, (16, 8), shared_torso=True).parameters())
  separate_params = sum(p.numel() for p in networks_lib.make_actor_critic_network(
      spec, (16, 8), shared_torso=False).parameters())
  assert shared_params < separate_params


def test_entropy_is_the_policy_distributions_entropy():
  spec, _, network, batch = _one_episode(False)
  learner = learning.ActorCriticLearner(network, iter([]), discount=0.5)
  with torch.no_grad():
    logits, _ = network(torch.as_tensor(batch.observation[0, :3]))
    expected = torch.distributions.Categorical(logits=logits).entropy().mean()
  assert float(learner.loss(batch)['entropy']) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize('field, value', [
    ('learning_rate', -1.0), ('discount', 2.0), ('n_step', -1), ('value_cost', -0.5),
    ('entropy_cost', -0.01), ('standardize_advantages', 'sometimes'),
    ('episodes_per_update', 0), ('hidden_sizes', (0,)), ('variable_update_period', 0)])
def test_config_rejects_bad_values(field, value):
  with pytest.raises(ValueError, match=field):
    config_lib.ActorCriticConfig(**{field: value})


def test_learner_rejects_bad_arguments():
  spec = specs.make_environment_spec(fakes.FixedLengthEnvironment())
  network = networks_lib.make_actor_critic_network(spec)
  with pytest.raises(TypeError, match='network'):
    learning.ActorCriticLearner(None, iter([]))
  with pytest.raises(ValueError, match='n_step'):
    learning.ActorCriticLearner(network, iter([]), n_step=0)
  with pytest.raises(ValueError, match='max_gradient_norm'):
    learning.ActorCriticLearner(network, iter([]), max_gradient_norm=-1.0)
  with pytest.raises(ValueError, match='shared_torso'):
    networks_lib.make_actor_critic_network(spec, (), shared_torso=True)


def _random_batch(rng, num_episodes=3, max_length=6):
  items = []
  for length in rng.integers(1, max_length + 1, size=num_episodes):
    discount = np.ones(length + 1, np.float32)
    discount[length - 1] = rng.integers(0, 2)  # Terminated or truncated.
    items.append(adders_base.Step(
        observation=rng.normal(size=(length + 1, 2)).astype(np.float32),
        action=rng.integers(0, 2, size=length + 1).astype(np.int32),
        reward=rng.normal(size=length + 1).astype(np.float32), discount=discount))
  return pg_data.pad_episodes(items)


@pytest.mark.parametrize('shared_torso', [False, True])
def test_save_restore_gives_identical_outputs_and_optimizer_state(shared_torso):
  spec = specs.make_environment_spec(fakes.FixedLengthEnvironment())
  rng = np.random.default_rng(0)
  batches = [_random_batch(rng) for _ in range(4)]
  builder = builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig(
      shared_torso=shared_torso, n_step=2, max_gradient_norm=0.5,
      standardize_advantages='batch'))
  no_logger = lambda label: loggers.NoOpLogger()
  trained = builder.make_learner(builder.make_networks(spec, seed=0), iter(batches),
                                 no_logger, spec)
  trained.run(num_steps=3)
  state = trained.save()
  fresh = builder.make_learner(builder.make_networks(spec, seed=1), iter(batches[3:]),
                               no_logger, spec)
  probe = torch.as_tensor(rng.normal(size=(5, 2)).astype(np.float32))
  fresh.restore(state)
  assert fresh.num_steps == 3
  for a, b in zip(fresh.network(probe), trained.network(probe)):
    torch.testing.assert_close(a, b, rtol=0, atol=0)
  pg_helpers.assert_same_optimizer_state(fresh, trained)
  trained.step()
  fresh.step()
  for a, b in zip(trained.network.parameters(), fresh.network.parameters()):
    torch.testing.assert_close(a, b, rtol=0, atol=0)
  with pytest.raises(ValueError, match='optimizer'):
    fresh.restore({'network': state['network'], 'num_steps': 3})


def test_learner_logs_loss_entropy_and_value_error():
  environment = fakes.FixedLengthEnvironment(episode_length=4, truncate=True)
  spec = specs.make_environment_spec(environment)
  builder = builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig(episodes_per_update=2))
  logger = pg_helpers.ListLogger()
  with _local_agent(builder, spec, logger, seed=0) as agent:
    environment_loop.EnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=4)
  assert len(logger.rows) == 2
  assert {'loss', 'policy_loss', 'value_loss', 'value_error', 'entropy',
          'learner_steps', 'learning_rate'} <= set(logger.rows[0])
  assert [row['learning_rate'] for row in logger.rows] == [3e-3, 3e-3]  # Constant.
  assert all(np.isfinite(float(v)) for row in logger.rows for v in row.values())


def test_batched_agent_collects_whole_episodes_from_every_copy():
  # Copies with 2- and 3-step episodes; learner steps every 2 finished episodes.
  environment = batched.BatchedEnvironment(
      [fakes.FixedLengthEnvironment(episode_length=n, truncate=n == 3) for n in (2, 3)])
  spec = environment.single_environment_spec()
  builder = builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig(episodes_per_update=2))
  logger = pg_helpers.ListLogger()
  batches = []
  with _local_agent(builder, spec, logger, seed=0, num_envs=2) as agent:
    original_loss = agent.learner.loss
    agent.learner.loss = lambda batch: (batches.append(batch), original_loss(batch))[1]
    batched_environment_loop.BatchedEnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=6)
    # Both copies may finish in one step: then one episode waits for the next update.
    assert agent.num_episodes >= 6
    assert agent.num_learner_steps == agent.num_episodes // 2 == len(batches)
  lengths = sorted(int(n) for b in batches for n in b.length)
  assert set(lengths) == {2, 3} and len(lengths) == 2 * len(batches)
  for batch in batches:
    for length, reward, discount in zip(batch.length, batch.reward, batch.discount):
      np.testing.assert_array_equal(reward[:length], np.arange(1, length + 1))
      assert discount[length - 1] == (1.0 if length == 3 else 0.0)  # Truncated vs terminated.


def test_evaluation_actor_pulls_its_own_network_and_the_collect_actor_shares_the_learners():
  environment = fakes.FixedLengthEnvironment(episode_length=3)
  spec = specs.make_environment_spec(environment)
  builder = builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig(shared_torso=True))
  assert builder.supports(spec) is None
  continuous = spec._replace(actions=specs.BoundedArray((1,), np.float32, -1.0, 1.0))
  assert 'ActorCritic needs discrete actions' in builder.supports(continuous)
  observation = np.ones(2, np.float32)
  with _local_agent(builder, spec, seed=0) as agent:
    assert agent.actor.network.network is agent.networks  # Shared: PolicyLogits of it.
    environment_loop.EnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=3)
    greedy = pg_helpers.make_evaluation_actor(builder, spec, agent)
    assert greedy.greedy and greedy.network.network is not agent.networks
    assert not greedy.network.network.training
    np.testing.assert_array_equal(greedy.logits(observation), agent.actor.logits(observation))
    assert greedy.select_action(observation) == int(np.argmax(greedy.logits(observation)))


def _make_builder(**config):
  return builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig(**config))


def test_cartpole_v0_greedy_mean_reaches_195_within_300_episodes():
  # Seed 0 needs 120 episodes (80-120 over seeds 0-4, as in benchmarks/pg_cartpole.py).
  episodes, _, _ = pg_helpers.train_until_solved(
      _make_builder, 'gym:CartPole-v0', seed=0, threshold=195.0, max_episodes=300,
      eval_every=10, num_eval_episodes=100, max_return=200.0)
  assert episodes is not None, 'no greedy evaluation reached 195 within 300 episodes'


def test_batched_a2c_on_four_cartpoles_reaches_195_within_400_episodes():
  # Seed 1 needs 80 episodes; one update per finished episode of any copy.
  torch.manual_seed(1)
  environment = batched.BatchedEnvironment.from_factory(
      lambda s: factory.make_environment('gym:CartPole-v0', seed=s), 4, seed=1)
  spec = environment.single_environment_spec()
  eval_environment = factory.make_environment('gym:CartPole-v0', seed=1001)
  builder = builder_lib.ActorCriticBuilder(config_lib.ActorCriticConfig())
  with _local_agent(builder, spec, seed=1, num_envs=4) as agent:
    greedy = pg_helpers.make_evaluation_actor(builder, spec, agent)
    loop = batched_environment_loop.BatchedEnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger())
    for _ in range(40):
      loop.run(num_episodes=10)
      greedy.update(wait=True)
      if pg_helpers.mean_return_reaches(eval_environment, greedy, 100, 195.0, 200.0):
        break
    else:
      pytest.fail('no greedy evaluation reached 195 within 400 episodes')


def test_gridworld_greedy_policy_takes_the_optimal_five_step_path():
  # Seed 0 needs 30 episodes (10-50 over seeds 0-4).
  episodes, greedy, environment = pg_helpers.train_until_solved(
      _make_builder, 'gridworld:simple', seed=0, threshold=10.0, max_episodes=300,
      eval_every=10, num_eval_episodes=1, observation_type='AGENT_GOAL_POS', hidden_sizes=(64,))
  assert episodes is not None, 'the greedy policy did not reach the goal within 300 episodes'
  actions, timestep = pg_helpers.greedy_episode(greedy, environment)
  assert actions == [2] * 5  # Straight down from (2, 2) to the goal at (7, 2).
  assert timestep.reward == 10.0


def test_launcher_trains_evaluates_and_writes_the_run_directory(tmp_path):
  run_dir = tmp_path / 'run'
  result = forkserver.run(
      'experiments.run_actor_critic', '--env=gym:CartPole-v0', '--seed=3',
      '--num_episodes=12', '--eval_every=100', '--eval_episodes=3', f'--run_dir={run_dir}',
      '--novideo', '--noplots', '--n_step=5', '--shared_torso', timeout=120)
  assert result.returncode == 0, result.stderr[-3000:]
  flags_text = (run_dir / 'flags.txt').read_text()
  assert '--n_step=5' in flags_text and '--shared_torso' in flags_text
  with open(run_dir / 'logs' / 'evaluator.csv') as f:
    rows = list(csv.DictReader(f))
  assert len(rows) >= 2
  with open(run_dir / 'logs' / 'learner.csv') as f:
    learner_rows = list(csv.DictReader(f))
  assert learner_rows and {'loss', 'entropy', 'value_error'} <= set(learner_rows[0])
  pg_helpers.check_checkpoint_rebuilds_the_greedy_policy(run_dir, 'network', greedy_weights)
