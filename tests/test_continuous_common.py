"""The shared continuous-control pieces: spec checks, action scaling, tanh-Gaussian, critics."""

import numpy as np
import pytest
import torch

from rlkit import specs
from rlkit.agents.continuous import actor as actor_lib
from rlkit.agents.continuous import learning_utils
from rlkit.agents.continuous import networks
from rlkit.agents.continuous import spec_checks
from tests import continuous_helpers as helpers

torch.set_num_threads(1)


def test_unsupported_reason_names_the_spec_and_the_alternatives():
  assert spec_checks.unsupported_reason(helpers.SPEC, 'sac') is None
  message = spec_checks.unsupported_reason(helpers.DISCRETE_SPEC, 'td3')
  assert 'DiscreteArray' in message and 'dqn, nfq, qr_dqn, reinforce, actor_critic' in message
  unbounded = helpers.SPEC._replace(actions=specs.Array((2,), np.float32))
  assert 'bounded continuous' in spec_checks.unsupported_reason(unbounded, 'sac')
  infinite = helpers.SPEC._replace(actions=specs.BoundedArray((1,), np.float32, -np.inf, 1.0))
  assert 'finite action bounds' in spec_checks.unsupported_reason(infinite, 'sac')
  with pytest.raises(ValueError, match='d4pg needs'):
    spec_checks.check_supported(helpers.DISCRETE_SPEC, 'd4pg')
  with pytest.raises(TypeError, match='EnvironmentSpec'):
    spec_checks.check_supported(object(), 'sac')


def test_action_scaler_maps_the_unit_box_to_the_bounds_and_back():
  scaler = networks.ActionScaler(helpers.SPEC.actions)
  np.testing.assert_array_equal(scaler.from_unit(np.array([-1.0, -1.0])), helpers.ACTION_LOW)
  np.testing.assert_array_equal(scaler.from_unit(np.array([1.0, 1.0])), helpers.ACTION_HIGH)
  np.testing.assert_allclose(scaler.from_unit(np.array([0.0, 0.5])), [0.0, 0.75])
  assert scaler.from_unit(np.array([3.0, -3.0])).tolist() == [2.0, 0.0]  # Clipped.
  assert scaler.from_unit(np.zeros(2)).dtype == np.float32
  unit = torch.tensor([[-0.3, 0.9], [1.0, -1.0]])
  back = scaler.to_unit(torch.as_tensor(scaler.from_unit(unit.numpy())))
  torch.testing.assert_close(back, unit)


def test_tanh_gaussian_log_prob_matches_the_change_of_variables():
  torch.manual_seed(0)
  policy = networks.TanhGaussianPolicyNetwork(3, 2, (16, 16))
  observation = torch.randn(64, 3)
  generator = torch.Generator().manual_seed(1)
  action, log_prob = policy.sample(observation, generator)
  mean, log_std = policy(observation)
  base = torch.distributions.Normal(mean, log_std.exp())
  pre_tanh = torch.atanh(action.clamp(-1 + 1e-6, 1 - 1e-6))
  expected = (base.log_prob(pre_tanh) - torch.log1p(-action.pow(2) + 1e-12)).sum(-1)
  torch.testing.assert_close(log_prob, expected, rtol=1e-3, atol=1e-3)
  assert action.abs().max() < 1.0
  log_prob.sum().backward()  # Differentiable (reparameterized).
  assert policy.head.weight.grad is not None


def test_tanh_gaussian_log_prob_epsilon_bounds_the_saturation_term():
  torch.manual_seed(0)
  exact = networks.TanhGaussianPolicyNetwork(3, 2, (16, 16))
  capped = networks.TanhGaussianPolicyNetwork(3, 2, (16, 16), log_prob_epsilon=1e-6)
  capped.load_state_dict(exact.state_dict())
  with torch.no_grad():
    exact.head.bias[:2] = 20.0  # Saturated means: tanh(x) rounds to 1 in float32.
    capped.head.bias[:2] = 20.0
  observation = torch.randn(64, 3)
  action, exact_log_prob = exact.sample(observation, torch.Generator().manual_seed(1))
  same_action, capped_log_prob = capped.sample(observation, torch.Generator().manual_seed(1))
  torch.testing.assert_close(action, same_action)
  mean, log_std = exact(observation)
  pre_tanh = mean + log_std.exp() * torch.randn(mean.shape, generator=torch.Generator().manual_seed(1))
  gaussian = torch.distributions.Normal(mean, log_std.exp()).log_prob(pre_tanh).sum(-1)
  expected = gaussian - torch.log(1.0 - action.pow(2) + 1e-6).sum(-1)
  torch.testing.assert_close(capped_log_prob, expected)
  # Each saturated dimension costs at most -log(1e-6) = 13.8 nats with epsilon,
  # and 2 (|x| - log 2) exactly (about 39 at x = 20).
  assert (capped_log_prob - gaussian).max() <= 2 * 13.82
  assert (exact_log_prob - capped_log_prob).min() > 10.0


def test_twin_critic_members_are_independent_linear_mlps():
  torch.manual_seed(0)
  critic = networks.TwinCritic(3, 2, (8,))
  observation, action = torch.randn(5, 3), torch.randn(5, 2)
  q1, q2 = critic(observation, action)
  assert q1.shape == q2.shape == (5,) and not torch.allclose(q1, q2)
  first, last = critic.layers
  x = torch.cat([observation, action], -1)
  manual = torch.relu(x @ first.weight[1] + first.bias[1]) @ last.weight[1] + last.bias[1]
  torch.testing.assert_close(q2, manual[:, 0])
  torch.testing.assert_close(critic.first(observation, action), q1)


def test_polyak_update_and_device_check():
  online, target = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
  before = target.weight.detach().clone()
  learning_utils.polyak_update(target, online, 0.25)
  torch.testing.assert_close(target.weight, 0.75 * before + 0.25 * online.weight.detach())
  with pytest.raises(ValueError, match='device'):
    learning_utils.check_device('nonsense')


def test_actor_checks_its_arguments():
  with pytest.raises(TypeError, match='BoundedArray'):
    actor_lib.ContinuousActor(lambda o, rng: o, specs.DiscreteArray(3))
  with pytest.raises(TypeError, match='callable'):
    actor_lib.ContinuousActor(None, helpers.SPEC.actions)
  with pytest.raises(ValueError, match=r"lacks \['rng', 'steps_observed'\]"):
    actor_lib.ContinuousActor(lambda o, rng: o, helpers.SPEC.actions).restore({})


class _CountingAdder:

  def __init__(self):
    self.added = 0

  def add_first(self, timestep):
    del timestep

  def add(self, action, next_timestep):
    del action, next_timestep
    self.added += 1


def test_random_start_acts_uniformly_in_the_bounds_then_with_the_policy():
  import dm_env  # pylint: disable=g-import-not-at-top
  policy_action = np.array([[0.25, -0.5]], np.float32)
  actor = actor_lib.ContinuousActor(lambda o, rng: policy_action, helpers.SPEC.actions,
                                    adder=_CountingAdder(), seed=0, random_steps=200)
  observation = np.zeros(3, np.float32)
  policy_in_bounds = networks.ActionScaler(helpers.SPEC.actions).from_unit(policy_action[0])
  timestep = dm_env.transition(0.0, observation)
  random_actions = []
  for _ in range(200):
    action = actor.select_action(observation)
    random_actions.append(action)
    actor.observe(action, timestep)
  random_actions = np.stack(random_actions)
  assert random_actions.dtype == np.float32
  assert (random_actions >= helpers.ACTION_LOW).all() and (random_actions <= helpers.ACTION_HIGH).all()
  # Uniform over the box: spread over most of each dimension, not the policy's action.
  spread = random_actions.max(0) - random_actions.min(0)
  assert (spread > 0.9 * (helpers.ACTION_HIGH - helpers.ACTION_LOW)).all(), spread
  assert not (random_actions == policy_in_bounds).all(axis=1).any()
  assert actor.steps_observed == 200
  np.testing.assert_array_equal(actor.select_action(observation), policy_in_bounds)

  # The count is part of the saved state: a restored actor does not start over.
  fresh = actor_lib.ContinuousActor(lambda o, rng: policy_action, helpers.SPEC.actions,
                                    seed=0, random_steps=200)
  fresh.restore(actor.save())
  np.testing.assert_array_equal(fresh.select_action(observation), policy_in_bounds)


def test_random_start_counts_every_copy_of_a_batched_actor():
  import dm_env  # pylint: disable=g-import-not-at-top
  policy = lambda o, rng: np.zeros((len(o), 2), np.float32)
  actor = actor_lib.ContinuousActor(policy, helpers.SPEC.actions, seed=0, batched=True,
                                    random_steps=8)
  observations = np.zeros((4, 3), np.float32)
  first = actor.select_action(observations)
  assert first.shape == (4, 2) and len({tuple(a) for a in first}) == 4
  actor.observe(first, dm_env.transition(np.zeros(4), observations))
  assert actor.select_action(observations).shape == (4, 2)
  actor.observe(first, dm_env.transition(np.zeros(4), observations))
  assert actor.steps_observed == 8
  zero_in_bounds = networks.ActionScaler(helpers.SPEC.actions).from_unit(np.zeros((4, 2)))
  np.testing.assert_array_equal(actor.select_action(observations), zero_in_bounds)
  with pytest.raises(ValueError, match='random_steps must be an int >= 0, got -1'):
    actor_lib.ContinuousActor(policy, helpers.SPEC.actions, random_steps=-1)


@pytest.mark.parametrize('agent', ['sac', 'td3', 'd4pg'])
def test_builders_give_the_random_start_to_writing_actors_only(agent):
  import dm_env  # pylint: disable=g-import-not-at-top
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  assert registry.config_class(agent)().random_start_steps == 0
  builder = registry.make_builder(agent, registry.config_class(agent)(
      random_start_steps=5, policy_hidden_sizes=(8,), critic_hidden_sizes=(8,)))
  greedy = builder.make_policy(builder.make_networks(helpers.SPEC, 0), helpers.SPEC,
                               evaluation=True)
  writing = builder.make_actor(0, greedy, helpers.SPEC, adder=_CountingAdder())
  evaluating = builder.make_actor(0, greedy, helpers.SPEC)
  observation = np.zeros(3, np.float32)
  greedy_action = evaluating.select_action(observation)
  timestep = dm_env.transition(0.0, observation)
  first = []
  for _ in range(5):
    first.append(writing.select_action(observation))
    writing.observe(first[-1], timestep)
    np.testing.assert_array_equal(evaluating.select_action(observation), greedy_action)
  assert len({tuple(a) for a in first}) == 5  # Random, not the greedy policy's one action.
  np.testing.assert_array_equal(writing.select_action(observation), greedy_action)
