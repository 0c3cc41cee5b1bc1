"""TD3: config, supports, actions, delayed updates, save/restore, learning on Pendulum."""

import numpy as np
import pytest
import torch

from rlkit.agents import builders
from rlkit.agents import td3
from tests import continuous_helpers as helpers

torch.set_num_threads(1)

SMALL = dict(policy_hidden_sizes=(32, 32), critic_hidden_sizes=(32, 32), batch_size=16)


def _learner(builder, seed=0):
  torch.manual_seed(seed)
  networks = builder.make_networks(helpers.SPEC, seed)
  logger = helpers.RecordingLogger()
  learner = builder.make_learner(networks, helpers.batches(seed), helpers.logger_fn_of(logger),
                                 helpers.SPEC, counter=helpers.learner_counter())
  return networks, learner, logger


def test_config_defaults_and_checks():
  config = td3.TD3Config()
  assert (config.policy_delay, config.target_sigma, config.noise_clip, config.sigma,
          config.tau) == (2, 0.2, 0.5, 0.1, 0.005)
  assert td3.TD3Builder().update_rule() == builders.ReplayRatio(1000, 256.0, 256)
  with pytest.raises(ValueError, match='policy_delay'):
    td3.TD3Config(policy_delay=0)


def test_supports_rejects_discrete_actions():
  message = td3.TD3Builder().supports(helpers.DISCRETE_SPEC)
  assert message.startswith('td3 needs bounded continuous actions') and 'reinforce' in message
  assert td3.TD3Builder().supports(helpers.SPEC) is None


def test_actions_within_bounds_exploration_noise_and_greedy_policy():
  builder = td3.TD3Builder(td3.TD3Config(**SMALL, sigma=0.5))
  networks = builder.make_networks(helpers.SPEC, 0)
  observations = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32) * 10
  collect = builder.make_actor(3, builder.make_policy(networks, helpers.SPEC), helpers.SPEC)
  greedy = builder.make_actor(3, builder.make_policy(networks, helpers.SPEC, True), helpers.SPEC)
  helpers.check_actions(collect, helpers.SPEC, observations)
  helpers.check_actions(greedy, helpers.SPEC, observations)
  observation = observations[0]
  np.testing.assert_array_equal(greedy.select_action(observation), greedy.select_action(observation))
  with torch.no_grad():
    unit = networks.policy(torch.as_tensor(observation)[None])[0].numpy()
  np.testing.assert_allclose(greedy.select_action(observation),
                             helpers.ACTION_LOW + (unit + 1) / 2 * (helpers.ACTION_HIGH - helpers.ACTION_LOW),
                             rtol=1e-6)
  noisy = np.array([collect.select_action(observation) for _ in range(200)])
  assert noisy.std(axis=0).min() > 0.05
  state = collect.save()
  first = [collect.select_action(observation) for _ in range(3)]
  collect.restore(state)
  np.testing.assert_array_equal(first, [collect.select_action(observation) for _ in range(3)])
  batched = builder.make_actor(3, builder.make_policy(networks, helpers.SPEC), helpers.SPEC,
                               num_envs=5)
  actions = batched.select_action(observations[:5])
  assert actions.shape == (5, 2) and actions.dtype == np.float32


def test_policy_and_targets_update_every_policy_delay_steps():
  builder = td3.TD3Builder(td3.TD3Config(**SMALL, policy_delay=3))
  networks, learner, logger = _learner(builder)
  initial = {k: v.clone() for k, v in networks.policy.state_dict().items()}
  target_initial = {k: v.clone() for k, v in learner._target_critic.state_dict().items()}
  learner.run(2)
  for key, value in networks.policy.state_dict().items():
    torch.testing.assert_close(value, initial[key], rtol=0, atol=0)
  for key, value in learner._target_critic.state_dict().items():
    torch.testing.assert_close(value, target_initial[key], rtol=0, atol=0)
  assert np.isnan(logger.rows[-1]['actor_loss'])
  learner.run(1)
  assert any(not torch.equal(v, initial[k]) for k, v in networks.policy.state_dict().items())
  assert any(not torch.equal(v, target_initial[k])
             for k, v in learner._target_critic.state_dict().items())
  row = logger.rows[-1]
  assert np.isfinite(row['actor_loss']) and row['learner_steps'] == 3
  assert row['learning_rate'] == pytest.approx(3e-4)


def test_save_restore_gives_identical_losses():
  builder = td3.TD3Builder(td3.TD3Config(**SMALL))
  _, learner, logger = _learner(builder)
  learner.run(3)
  state = learner.save()
  learner.run(4)
  after = logger.rows[-4:]
  _, restored, restored_logger = _learner(builder, seed=1)
  restored._iterator = helpers.batches(0)
  for _ in range(3):
    next(restored._iterator)
  restored.restore(state)
  restored.run(4)
  for got, want in zip(restored_logger.rows, after):
    assert (got['critic_loss'], got['actor_loss']) == (want['critic_loss'], want['actor_loss'])
  actor = helpers.greedy_actor(builder, helpers.SPEC, restored)
  reference = helpers.greedy_actor(builder, helpers.SPEC, learner)
  observation = np.ones(3, np.float32)
  np.testing.assert_array_equal(actor.select_action(observation),
                                reference.select_action(observation))
  with pytest.raises(ValueError, match='lacks'):
    restored.restore({})


def test_learns_pendulum():
  """Greedy mean return > -400 within 14000 steps (evaluated from 3000 on, every 1000).

  Measured with 3-step returns: it passed at 6000 steps (seed 0), 3000 (seed 1) and
  5000 (seed 2); with 1-step returns at 7000-8000 (seed 0, 5 runs).
  """
  config = td3.TD3Config(
      policy_hidden_sizes=(64, 64), critic_hidden_sizes=(64, 64), batch_size=128,
      samples_per_insert=128.0, min_replay_size=500, policy_learning_rate=1e-3,
      critic_learning_rate=1e-3, n_step=3)
  result, seconds = helpers.train_on_pendulum(td3.TD3Builder(config), num_steps=14000,
                                               first_evaluation=3000)
  print(f'TD3 Pendulum: {result["return_mean"]:.1f} in {seconds:.0f} s')
  assert result['return_mean'] > -400, result
