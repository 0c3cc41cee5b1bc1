"""REINFORCE: returns, the episode queue, config checks, save/restore, learning, launcher."""

import csv
import os

import numpy as np
import pytest
import torch

from rlkit import batched_environment_loop
from rlkit import environment_loop
from rlkit import specs
from rlkit.adders import base as adders_base
from rlkit.agents import builders
from rlkit.agents import pg_data
from rlkit.agents.reinforce import builder as builder_lib
from rlkit.agents.reinforce import config as config_lib
from rlkit.agents.reinforce import episode_builder
from rlkit.agents.reinforce import learning
from rlkit.agents.reinforce import networks as networks_lib
from rlkit.environments import batched
from rlkit.experiments import local_layout
from rlkit.replay import server as server_lib
from rlkit.replay import tables
from rlkit.utils import counting
from rlkit.utils import loggers
from tests import fakes
from tests import pg_helpers
from tests import forkserver


pytestmark = pytest.mark.filterwarnings('ignore:.*CartPole-v0 is out of date')

torch.set_num_threads(1)


def greedy_weights(actor):
  return actor.network.state_dict()


def _brute_force_returns(rewards, gamma):
  return [sum(gamma ** (n - t) * rewards[n] for n in range(t, len(rewards)))
          for t in range(len(rewards))]


def test_discounted_returns_match_the_definition():
  rng = np.random.default_rng(0)
  lengths = np.array([7, 4, 1, 0])
  reward = rng.normal(size=(4, 7))
  discount = np.ones((4, 7))
  discount[np.arange(3), lengths[:3] - 1] = 0.0  # Terminations.
  returns = pg_data.discounted_returns(reward, discount, lengths, 0.9)
  for b, length in enumerate(lengths):
    expected = _brute_force_returns(reward[b, :length], 0.9)
    np.testing.assert_allclose(returns[b, :length], expected, rtol=1e-12)
    assert np.all(returns[b, length:] == 0.0)  # Padding stays 0.


def test_discounted_returns_use_the_environment_discounts():
  # GridWorld-style: discount 0.9 on every step but the terminal one.
  reward = np.array([[0.0, 0.0, 10.0]])
  discount = np.array([[0.9, 0.9, 0.0]])
  returns = pg_data.discounted_returns(reward, discount, np.array([3]), 0.5)
  np.testing.assert_allclose(returns[0], [10 * 0.45 ** 2, 10 * 0.45, 10.0])


def test_seed_example_five_step_returns():
  # Seed 001: a 5-step CartPole episode gives [4.90, 3.94, 2.97, 1.99, 1].
  returns = pg_data.discounted_returns(np.ones((1, 5)), np.ones((1, 5)), np.array([5]), 0.99)
  np.testing.assert_allclose(returns[0], [4.90099501, 3.940399, 2.9701, 1.99, 1.0])


@pytest.mark.parametrize('mode', ['episode', 'batch'])
def test_standardize_gives_zero_mean_unit_std_on_valid_steps(mode):
  rng = np.random.default_rng(1)
  x = rng.normal(3.0, 5.0, size=(3, 6))
  mask = np.arange(6)[None, :] < np.array([6, 3, 2])[:, None]
  out = pg_data.standardize(x, mask, mode)
  assert np.all(out[~mask] == 0.0)
  groups = [out[b][mask[b]] for b in range(3)] if mode == 'episode' else [out[mask]]
  for values in groups:
    assert values.mean() == pytest.approx(0.0, abs=1e-9)
    assert values.std() == pytest.approx(1.0, abs=1e-6)


def test_standardize_one_step_episode_gives_zero_not_nan():
  out = pg_data.standardize(np.array([[5.0, 0.0]]), np.array([[True, False]]), 'episode')
  np.testing.assert_array_equal(out, [[0.0, 0.0]])


def test_return_functions_reject_bad_inputs():
  with pytest.raises(ValueError, match='gamma'):
    pg_data.discounted_returns(np.ones((1, 2)), np.ones((1, 2)), np.array([2]), 1.5)
  with pytest.raises(ValueError, match='reward and discount'):
    pg_data.discounted_returns(np.ones((1, 2)), np.ones((1, 3)), np.array([2]), 0.9)
  with pytest.raises(ValueError, match='lengths'):
    pg_data.discounted_returns(np.ones((1, 2)), np.ones((1, 2)), np.array([3]), 0.9)
  with pytest.raises(ValueError, match='mode'):
    pg_data.standardize(np.ones((1, 2)), np.ones((1, 2), bool), 'sometimes')


def _fixed_length_agent(episodes_per_update, **config):
  environment = fakes.FixedLengthEnvironment(episode_length=3)
  spec = specs.make_environment_spec(environment)
  builder = builder_lib.REINFORCEBuilder(
      config_lib.REINFORCEConfig(episodes_per_update=episodes_per_update, **config))
  return environment, spec, builder


def _local_agent(builder, spec, logger=None, **kwargs):
  """The single-process agent, under a run's counter (so rows get 'learner_steps')."""
  logger_fn = None if logger is None else (lambda label: logger)
  return local_layout.make_local_agent(builder, spec, logger_fn=logger_fn,
                                       counter=counting.Counter(), **kwargs)


def test_episodes_go_through_the_reverb_queue_intact():
  environment, spec, builder = _fixed_length_agent(2, max_episode_length=10)
  networks = builder.make_networks(spec, seed=0)
  policy = builder.make_policy(networks, spec)
  with server_lib.ReplayServer(builder.make_replay_tables(spec, policy)) as server:
    client = server.client()
    actor = builder.make_actor(0, policy, spec, adder=builder.make_adder(client, spec, policy))
    reader = builder.make_dataset_iterator(client)  # The client alone: specs from the server.
    loop = environment_loop.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger())
    loop.run(num_episodes=1)
    assert server.table_sizes() == {builder.table_name: 1}
    assert not reader.ready()
    with pytest.raises(RuntimeError, match='fewer than 2 episodes'):
      next(reader)  # Would block forever in one thread; raises instead.
    loop.run(num_episodes=1)
    assert reader.ready()
    batch = next(reader)
    assert server.table_sizes() == {builder.table_name: 0}  # The queue consumed them.
    reader.close()
    assert not reader.ready()
  np.testing.assert_array_equal(batch.length, [3, 3])
  np.testing.assert_array_equal(batch.observation[:, :, 0], [[0, 1, 2, 3]] * 2)
  np.testing.assert_array_equal(batch.reward, [[1, 2, 3]] * 2)
  np.testing.assert_array_equal(batch.discount, [[1, 1, 0]] * 2)  # Terminated.
  assert batch.mask.all() and batch.action.shape == (2, 3)


def test_a_full_queue_raises_naming_the_field_to_raise():
  environment, spec, builder = _fixed_length_agent(1)
  with server_lib.ReplayServer([tables.make_queue_table('q', spec, max_size=1)]) as server:
    client = server.client()
    adder = episode_builder.QueueEpisodeAdder(client, 'q', 10, spec, queue_size=1, timeout_s=0.3)
    policy = builder.make_policy(builder.make_networks(spec), spec)
    loop = environment_loop.EnvironmentLoop(
        environment, builder.make_actor(0, policy, spec, adder=adder),
        logger=loggers.NoOpLogger())
    loop.run(num_episodes=1)
    with pytest.raises(TimeoutError, match=r'max_size 1 episodes.*raise the config field '
                       r'queue_size'):
      loop.run(num_episodes=1)
    next(pg_data.EpisodeReader(client, 'q', 1))  # Frees the queue, so the adder can close.
    adder.close()


def test_default_queue_holds_the_episodes_of_64_copies_ending_at_once():
  environment = batched.BatchedEnvironment(
      [fakes.FixedLengthEnvironment(episode_length=3) for _ in range(64)])
  spec = environment.single_environment_spec()
  builder = builder_lib.REINFORCEBuilder(config_lib.REINFORCEConfig(dropout=0.0))
  assert builder.config.table_size == 1 + 64
  with _local_agent(builder, spec, seed=0, num_envs=64) as agent:
    batched_environment_loop.BatchedEnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=64)
    assert agent.num_episodes == 64 and agent.num_learner_steps == 64


def test_episode_longer_than_max_episode_length_raises():
  environment, spec, builder = _fixed_length_agent(1, max_episode_length=2)
  agent = _local_agent(builder, spec, seed=0)
  loop = environment_loop.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
  with agent, pytest.raises(ValueError, match='max_sequence_length'):
    loop.run(num_episodes=1)


def test_agent_steps_the_learner_once_per_batch_of_episodes():
  # Without dropout, whose masks (from torch's global generator) move the
  # first policy away from uniform.
  environment, spec, builder = _fixed_length_agent(2, dropout=0.0)
  logger = pg_helpers.ListLogger()
  assert builder.update_rule() == builders.ItemsPerUpdate(items=2)
  agent = _local_agent(builder, spec, logger, seed=0)
  with agent:
    environment_loop.EnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=5)
    assert agent.num_learner_steps == 2 and agent.num_episodes == 5
    assert [row['batch_episodes'] for row in logger.rows] == [2, 2]
    assert [row['batch_steps'] for row in logger.rows] == [6, 6]
    assert {'loss', 'policy_loss', 'entropy', 'learner_steps'} <= set(logger.rows[0])
    assert [row['learning_rate'] for row in logger.rows] == [0.01, 0.01]  # Constant.
    assert [row['learner_steps'] for row in logger.rows] == [1, 2]
    # Two actions, uniform at first: entropy close to log 2.
    assert logger.rows[0]['entropy'] == pytest.approx(np.log(2), abs=0.1)


def test_greedy_actor_is_a_dropout_free_copy_synced_on_update():
  environment, spec, builder = _fixed_length_agent(1, dropout=0.6, variable_update_period=3)
  torch.manual_seed(0)
  observation = np.ones(2, np.float32)
  with _local_agent(builder, spec, seed=0) as agent:
    greedy = pg_helpers.make_evaluation_actor(builder, spec, agent)
    assert greedy.greedy and not greedy.network.training
    assert greedy.network is not agent.networks.policy  # Its own networks.
    assert agent.actor.network is agent.networks.policy  # The collect actor shares them.
    # The collect actor samples with dropout: its logits change from call to call.
    assert not np.array_equal(agent.actor.logits(observation), agent.actor.logits(observation))
    np.testing.assert_array_equal(greedy.logits(observation), greedy.logits(observation))
    before = greedy.logits(observation)
    environment_loop.EnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=5)
    np.testing.assert_array_equal(greedy.logits(observation), before)  # Not synced yet.
    greedy.update()
    greedy.update()
    np.testing.assert_array_equal(greedy.logits(observation), before)  # Period 3.
    greedy.update()
    policy = agent.learner.policy_network
    policy.eval()
    with torch.no_grad():
      expected = policy(torch.as_tensor(observation)[None])[0].numpy()
    policy.train()
    np.testing.assert_allclose(greedy.logits(observation), expected, rtol=1e-6)
    assert not np.allclose(before, expected)
    greedy.update(wait=True)  # At once, whatever the period.
    np.testing.assert_allclose(greedy.logits(observation), expected, rtol=1e-6)


def test_baseline_learns_the_returns_and_logs_value_error():
  # FixedLengthEnvironment: rewards 1, 2, 3 and observations t, so V(o_t) = G_t is learnable.
  environment, spec, builder = _fixed_length_agent(
      1, use_baseline=True, dropout=0.0, baseline_cost=1.0, learning_rate=0.01)
  logger = pg_helpers.ListLogger()
  with _local_agent(builder, spec, logger, seed=0) as agent:
    environment_loop.EnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=300)
  errors = [row['value_error'] for row in logger.rows]
  assert {'value_loss', 'value_error'} <= set(logger.rows[0])
  assert errors[0] > 1.0 and np.mean(errors[-20:]) < 0.1 * errors[0]


@pytest.mark.parametrize('field, value', [
    ('learning_rate', 0.0), ('discount', 1.5), ('dropout', 1.0),
    ('standardize_returns', 'always'), ('episodes_per_update', 0),
    ('hidden_sizes', (64, 0)), ('max_gradient_norm', -1.0), ('entropy_cost', -0.1),
    ('variable_update_period', 0)])
def test_config_rejects_bad_values(field, value):
  with pytest.raises(ValueError, match=field):
    config_lib.REINFORCEConfig(**{field: value})


def test_config_rejects_a_queue_smaller_than_a_batch():
  with pytest.raises(ValueError, match='queue_size=2'):
    config_lib.REINFORCEConfig(episodes_per_update=4, queue_size=2)


def test_learner_and_builder_reject_bad_arguments():
  spec = specs.make_environment_spec(fakes.FixedLengthEnvironment())
  policy = networks_lib.make_policy_network(spec)
  with pytest.raises(TypeError, match='policy_network'):
    learning.REINFORCELearner('policy', iter([]))
  with pytest.raises(ValueError, match='discount'):
    learning.REINFORCELearner(policy, iter([]), discount=-0.1)
  with pytest.raises(ValueError, match='standardize_returns'):
    learning.REINFORCELearner(policy, iter([]), standardize_returns='yes')
  with pytest.raises(TypeError, match='REINFORCEConfig'):
    builder_lib.REINFORCEBuilder(object())
  continuous = spec._replace(actions=specs.BoundedArray((1,), np.float32, -1.0, 1.0))
  with pytest.raises(TypeError, match='DiscreteArray'):
    networks_lib.make_policy_network(continuous)
  builder = builder_lib.REINFORCEBuilder()
  assert builder.supports(spec) is None
  assert 'REINFORCE needs discrete actions' in builder.supports(continuous)
  with pytest.raises(ValueError, match='needs discrete actions'):
    local_layout.make_local_agent(builder, continuous)
  with pytest.raises(TypeError, match='make_policy'):
    builder.make_actor(0, builder.make_networks(spec), spec)
  with pytest.raises(ValueError, match='CUDA is not available' if not torch.cuda.is_available()
                     else 'torch device'):
    _make_learner(spec, 0, [], device='cuda' if not torch.cuda.is_available() else 'gpu:x')


def _random_batch(rng, num_episodes=3, max_length=6):
  lengths = rng.integers(1, max_length + 1, size=num_episodes)
  episodes = []
  for length in lengths:  # Items as the episode adder writes them: L + 1 rows.
    episodes.append(adders_base.Step(
        observation=rng.normal(size=(length + 1, 2)).astype(np.float32),
        action=rng.integers(0, 2, size=length + 1).astype(np.int32),
        reward=rng.normal(size=length + 1).astype(np.float32),
        discount=np.ones(length + 1, np.float32)))
  return pg_data.pad_episodes(episodes)


def _make_learner(spec, seed, batches, **kwargs):
  builder = builder_lib.REINFORCEBuilder(config_lib.REINFORCEConfig(
      use_baseline=True, dropout=0.0, max_gradient_norm=1.0, entropy_cost=0.01, **kwargs))
  networks = builder.make_networks(spec, seed=seed)
  return builder.make_learner(networks, iter(batches), lambda label: loggers.NoOpLogger(), spec)


def test_save_restore_gives_identical_outputs_and_optimizer_state():
  spec = specs.make_environment_spec(fakes.FixedLengthEnvironment())
  rng = np.random.default_rng(0)
  batches = [_random_batch(rng) for _ in range(4)]
  trained = _make_learner(spec, 0, batches)
  trained.run(num_steps=3)
  state = trained.save()
  fresh = _make_learner(spec, 1, batches[3:])
  probe = torch.as_tensor(rng.normal(size=(5, 2)).astype(np.float32))
  assert not torch.allclose(fresh.policy_network(probe), trained.policy_network(probe))
  fresh.restore(state)
  assert fresh.num_steps == 3
  torch.testing.assert_close(fresh.policy_network(probe), trained.policy_network(probe),
                             rtol=0, atol=0)
  torch.testing.assert_close(fresh.baseline_network(probe), trained.baseline_network(probe),
                             rtol=0, atol=0)
  pg_helpers.assert_same_optimizer_state(fresh, trained)
  # The same next update on both keeps them identical.
  trained.step()
  fresh.step()
  for a, b in zip(trained.policy_network.parameters(), fresh.policy_network.parameters()):
    torch.testing.assert_close(a, b, rtol=0, atol=0)
  # The saved state is a copy: later steps do not change it.
  assert state['num_steps'] == 3
  with pytest.raises(ValueError, match='baseline_network'):
    fresh.restore({k: v for k, v in state.items() if k != 'baseline_network'})


def test_agent_save_restore_round_trip():
  environment, spec, builder = _fixed_length_agent(1, dropout=0.0)
  agent = _local_agent(builder, spec, seed=0)
  with agent:
    environment_loop.EnvironmentLoop(
        environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=3)
    state = agent.save()
  other = _local_agent(builder, spec, seed=5, horizon=10_000)  # A horizon changes nothing.
  with other:
    other.restore(state)
    assert other.num_learner_steps == 3 and other.num_episodes == 3
    observation = np.zeros(2, np.float32)
    np.testing.assert_array_equal(other.actor.logits(observation),
                                  agent.actor.logits(observation))
    # The sampler continues where it was: the same next action.
    assert other.select_action(observation) == agent.select_action(observation)


def _make_builder(**config):
  return builder_lib.REINFORCEBuilder(config_lib.REINFORCEConfig(**config))


def test_cartpole_v0_greedy_mean_reaches_195_within_300_episodes():
  # Seed 0 needs 100 episodes (60-200 over seeds 0-4, as in benchmarks/pg_cartpole.py).
  episodes, _, _ = pg_helpers.train_until_solved(
      _make_builder, 'gym:CartPole-v0', seed=0, threshold=195.0, max_episodes=300,
      eval_every=10, num_eval_episodes=100, max_return=200.0)
  assert episodes is not None, 'no greedy evaluation reached 195 within 300 episodes'


def test_gridworld_greedy_policy_takes_the_optimal_five_step_path():
  # Seed 0 needs 10 episodes (10-20 over seeds 0-4).
  episodes, greedy, environment = pg_helpers.train_until_solved(
      _make_builder, 'gridworld:simple', seed=0, threshold=10.0, max_episodes=200,
      eval_every=10, num_eval_episodes=1, observation_type='AGENT_GOAL_POS', hidden_sizes=(64,),
      dropout=0.0)
  assert episodes is not None, 'the greedy policy did not reach the goal within 200 episodes'
  actions, timestep = pg_helpers.greedy_episode(greedy, environment)
  assert actions == [2] * 5  # Straight down from (2, 2) to the goal at (7, 2).
  assert timestep.reward == 10.0 and timestep.discount == 0.0


def _run_launcher(run_dir, num_episodes):
  return forkserver.run(
      'experiments.run_reinforce', '--env=gym:CartPole-v0', '--seed=3',
      f'--num_episodes={num_episodes}', '--eval_every=100', '--eval_episodes=3',
      f'--run_dir={run_dir}', '--novideo', '--noplots', '--learning_rate=0.005',
      '--episodes_per_update=2', timeout=120)


def test_launcher_trains_evaluates_resumes_and_writes_the_run_directory(tmp_path):
  run_dir = tmp_path / 'run'
  result = _run_launcher(run_dir, 12)
  assert result.returncode == 0, result.stderr[-3000:]
  flags_text = (run_dir / 'flags.txt').read_text()
  assert '--learning_rate=0.005' in flags_text and '--episodes_per_update=2' in flags_text
  with open(run_dir / 'logs' / 'evaluator.csv') as f:
    rows = list(csv.DictReader(f))
  assert len(rows) >= 2 and all(float(r['return_mean']) > 0 for r in rows)
  with open(run_dir / 'logs' / 'learner.csv') as f:
    learner_rows = list(csv.DictReader(f))
  assert learner_rows and {'loss', 'entropy'} <= set(learner_rows[0])
  pg_helpers.check_checkpoint_rebuilds_the_greedy_policy(run_dir, 'policy_network', greedy_weights)
  # The same command with a larger budget resumes from the checkpoint.
  resumed = _run_launcher(run_dir, 16)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert 'Resumed from' in resumed.stdout and '16 episodes' in resumed.stdout
  with open(run_dir / 'logs' / 'train.csv') as f:
    episodes = [int(row['actor_episodes']) for row in csv.DictReader(f)]
  assert episodes == list(range(1, 17))
