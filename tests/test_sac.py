"""SAC: config, supports, actions, learner (save/restore, variables), learning on Pendulum."""

import numpy as np
import pytest
import torch

from rlkit.agents import builders
from rlkit.agents import sac
from tests import continuous_helpers as helpers

torch.set_num_threads(1)

SMALL = dict(policy_hidden_sizes=(32, 32), critic_hidden_sizes=(32, 32), batch_size=16)


def _learner(builder, seed=0, logger=None):
  torch.manual_seed(seed)
  networks = builder.make_networks(helpers.SPEC, seed)
  logger = logger or helpers.RecordingLogger()
  learner = builder.make_learner(networks, helpers.batches(seed), helpers.logger_fn_of(logger),
                                 helpers.SPEC, counter=helpers.learner_counter())
  return networks, learner, logger


def test_config_defaults_and_checks():
  config = sac.SACConfig()
  assert (config.tau, config.batch_size, config.policy_learning_rate) == (0.005, 256, 3e-4)
  assert config.samples_per_insert == config.batch_size  # One gradient step per env step.
  assert sac.SACBuilder().update_rule() == builders.ReplayRatio(1000, 256.0, 256)
  with pytest.raises(ValueError, match='tau'):
    sac.SACConfig(tau=0.0)
  with pytest.raises(TypeError, match='SACConfig'):
    sac.SACBuilder(config=object())


def test_supports_rejects_discrete_actions_and_image_observations():
  builder = sac.SACBuilder()
  assert builder.supports(helpers.SPEC) is None
  message = builder.supports(helpers.DISCRETE_SPEC)
  assert 'sac needs bounded continuous actions' in message and 'DiscreteArray' in message
  assert 'dqn' in message
  image = helpers.SPEC._replace(observations=helpers.specs.Array((4, 4, 3), np.uint8))
  assert 'flat float observation' in builder.supports(image)
  with pytest.raises(ValueError, match='bounded continuous'):
    builder.make_networks(helpers.DISCRETE_SPEC, 0)


@pytest.mark.parametrize('evaluation', [False, True])
def test_actions_within_bounds_and_of_the_spec_dtype(evaluation):
  builder = sac.SACBuilder(sac.SACConfig(**SMALL))
  networks = builder.make_networks(helpers.SPEC, 0)
  with torch.no_grad():  # Push the mean far out: tanh keeps actions in bounds.
    networks.policy.head.bias.fill_(5.0)
  policy = builder.make_policy(networks, helpers.SPEC, evaluation=evaluation)
  actor = builder.make_actor(0, policy, helpers.SPEC)
  observations = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32) * 10
  helpers.check_actions(actor, helpers.SPEC, observations)
  batched = builder.make_actor(0, policy, helpers.SPEC, num_envs=4)
  actions = batched.select_action(observations[:4])
  assert actions.shape == (4, 2) and actions.dtype == np.float32
  if evaluation:  # Deterministic: tanh(mean), the same every call.
    np.testing.assert_array_equal(actor.select_action(observations[0]),
                                  actor.select_action(observations[0]))
    np.testing.assert_array_equal(actions[0], actor.select_action(observations[0]))


def test_actor_save_restore_gives_identical_actions():
  builder = sac.SACBuilder(sac.SACConfig(**SMALL))
  networks = builder.make_networks(helpers.SPEC, 0)
  actor = builder.make_actor(7, builder.make_policy(networks, helpers.SPEC), helpers.SPEC)
  observation = np.zeros(3, np.float32)
  actor.select_action(observation)
  state = actor.save()
  first = [actor.select_action(observation) for _ in range(5)]
  assert not np.array_equal(first[0], first[1])  # The collect policy samples.
  actor.restore(state)
  np.testing.assert_array_equal(first, [actor.select_action(observation) for _ in range(5)])
  other = builder.make_actor(7, builder.make_policy(networks, helpers.SPEC), helpers.SPEC)
  other.select_action(observation)
  np.testing.assert_array_equal(first[0], other.select_action(observation))  # Seeded.


def test_learner_logs_and_save_restore_gives_identical_losses():
  builder = sac.SACBuilder(sac.SACConfig(**SMALL))
  _, learner, logger = _learner(builder)
  learner.run(3)
  row = logger.rows[-1]
  for key in ('critic_loss', 'actor_loss', 'alpha', 'alpha_loss', 'learning_rate',
              'learner_steps'):
    assert key in row, key
  assert row['learning_rate'] == pytest.approx(3e-4) and row['learner_steps'] == 3
  assert row['alpha'] < 1.0  # alpha moved from init_alpha.
  state = learner.save()
  learner.run(4)
  after = [dict(r) for r in logger.rows[-4:]]
  variables = learner.get_variables(['policy'])[0]

  _, restored, restored_logger = _learner(builder, seed=1)
  restored._iterator = helpers.batches(0)  # The same batches as the original.
  for _ in range(3):
    next(restored._iterator)
  restored.restore(state)
  restored.run(4)
  for got, want in zip(restored_logger.rows, after):
    for key in ('critic_loss', 'actor_loss', 'alpha_loss', 'alpha'):
      assert got[key] == want[key], key
  for key, value in restored.get_variables(['policy'])[0].items():
    torch.testing.assert_close(value, variables[key], rtol=0, atol=0)
  with pytest.raises(ValueError, match='lacks'):
    restored.restore({'policy': {}})
  with pytest.raises(ValueError, match='Unknown variables'):
    restored.get_variables(['critic'])


def test_actor_with_a_variable_source_pulls_the_learner_policy():
  builder = sac.SACBuilder(sac.SACConfig(**SMALL, variable_update_period=3))
  networks, learner, _ = _learner(builder)
  learner.run(2)
  actor = helpers.greedy_actor(builder, helpers.SPEC, learner)
  shared = builder.make_actor(0, builder.make_policy(networks, helpers.SPEC, True), helpers.SPEC)
  observation = np.ones(3, np.float32)
  np.testing.assert_array_equal(actor.select_action(observation),
                                shared.select_action(observation))
  learner.run(5)
  stale = actor.select_action(observation)
  actor.update()
  actor.update()
  np.testing.assert_array_equal(stale, actor.select_action(observation))  # Not yet pulled.
  actor.update()
  np.testing.assert_array_equal(actor.select_action(observation),
                                shared.select_action(observation))


def test_learns_pendulum():
  """Greedy mean return > -400 within 9000 steps (evaluated from 3000 on, every 1000).

  Measured: -300 to -319 at 3000 steps in 4 runs out of 4 (about 25 s).
  """
  config = sac.SACConfig(
      policy_hidden_sizes=(64, 64), critic_hidden_sizes=(64, 64), batch_size=128,
      samples_per_insert=128.0, min_replay_size=500, policy_learning_rate=1e-3,
      critic_learning_rate=1e-3, alpha_learning_rate=1e-3)
  result, seconds = helpers.train_on_pendulum(sac.SACBuilder(config), num_steps=9000,
                                              first_evaluation=3000)
  print(f'SAC Pendulum: {result["return_mean"]:.1f} in {seconds:.0f} s')
  assert result['return_mean'] > -400, result
