"""rlkit's SAC and TD3 updates equal Stable-Baselines3's, step for step.

Both frameworks start from the same weights, train on the same batches and
draw the same noise (each framework's Gaussian draws are replaced by one
shared list, in the order each framework makes them). After several steps
every network, target network and SAC's temperature must agree to float
round-off. SB3's replay holds actions in [-1, 1]; rlkit's holds the
environment's, so the batches also check rlkit's action rescaling.
"""

import collections

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlkit.agents import sac
from rlkit.agents import td3
from rlkit.agents.continuous import networks as networks_lib
from tests import continuous_helpers as helpers

stable_baselines3 = pytest.importorskip('stable_baselines3')
from stable_baselines3.common import logger as sb3_logger  # pylint: disable=g-import-not-at-top
from stable_baselines3.common import type_aliases  # pylint: disable=g-import-not-at-top

torch.set_num_threads(1)

BATCH = 32
HIDDEN = (16, 16)
STEPS = 6
SPEC = helpers.SPEC  # Actions in [-2, 2] x [0, 1]: rlkit must rescale what it replays.


class _BoxEnv(gym.Env):
  """Only the spaces of `SPEC`, for building SB3's model (it never steps)."""
  observation_space = gym.spaces.Box(-np.inf, np.inf, SPEC.observations.shape, np.float32)
  action_space = gym.spaces.Box(-1.0, 1.0, SPEC.actions.shape, np.float32)

  def reset(self, *, seed=None, options=None):
    return np.zeros(SPEC.observations.shape, np.float32), {}

  def step(self, action):
    return np.zeros(SPEC.observations.shape, np.float32), 0.0, False, False, {}


class _SharedNoise:
  """Standard-normal draws handed out from a list, for either framework."""

  def __init__(self, monkeypatch):
    self.queue = collections.deque()
    real_randn = torch.randn

    def randn(*args, generator=None, **kwargs):  # rlkit's learners pass their generator.
      if generator is not None:
        return self.queue.popleft().clone()
      return real_randn(*args, **kwargs)

    def rsample(distribution, sample_shape=torch.Size()):  # SB3's SAC.
      del sample_shape
      return distribution.loc + distribution.scale * self.queue.popleft()

    def normal_(tensor, mean=0.0, std=1.0, *, generator=None):  # SB3's TD3 smoothing noise.
      del generator
      return tensor.copy_(mean + std * self.queue.popleft())

    monkeypatch.setattr(torch, 'randn', randn)
    monkeypatch.setattr(torch.distributions.Normal, 'rsample', rsample)
    monkeypatch.setattr(torch.Tensor, 'normal_', normal_)

  def feed(self, *draws):
    assert not self.queue, 'the previous step left draws unused'
    self.queue.extend(draws)


def _copy_mlp(source_linears, target_linears):
  for source, target in zip(source_linears, target_linears):
    target.weight.copy_(source.weight)
    target.bias.copy_(source.bias)


def _copy_twin_critic(sb3_critic, critic: networks_lib.TwinCritic):
  for member, q_network in enumerate(sb3_critic.q_networks):
    for layer, linear in zip(critic.layers, _linears(q_network)):
      layer.weight[member].copy_(linear.weight.T)
      layer.bias[member, 0].copy_(linear.bias)


def _twin_critic_gap(sb3_critic, critic: networks_lib.TwinCritic) -> float:
  return max(
      (layer.weight[member] - linear.weight.T).abs().max().item()
      for member, q_network in enumerate(sb3_critic.q_networks)
      for layer, linear in zip(critic.layers, _linears(q_network)))


def _linears(module):
  return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


def _gap(a_modules, b_modules) -> float:
  return max((a.weight - b.weight).abs().max().item() for a, b in zip(a_modules, b_modules))


def _batches(count):
  """(rlkit ReplaySample, SB3 ReplayBufferSamples) pairs of the same transitions."""
  scaler = networks_lib.ActionScaler(SPEC.actions)
  stream = helpers.batches(seed=3, batch_size=BATCH)
  pairs = []
  for _ in range(count):
    sample = next(stream)
    t = sample.data
    pairs.append((sample, type_aliases.ReplayBufferSamples(
        observations=t.observation, actions=scaler.to_unit(t.action),
        next_observations=t.next_observation, dones=(1.0 - t.discount)[:, None],
        rewards=t.reward[:, None])))
  return pairs


def _sb3_model(algorithm, **kwargs):
  model = algorithm('MlpPolicy', _BoxEnv(), learning_rate=3e-4, batch_size=BATCH,
                    learning_starts=0, tau=0.005, gamma=0.99, seed=0, device='cpu',
                    policy_kwargs=dict(net_arch=list(HIDDEN)), **kwargs)
  model.set_logger(sb3_logger.Logger(folder=None, output_formats=[]))
  return model


def _feed_sb3(model, pairs):
  samples = iter(p[1] for p in pairs)
  model.replay_buffer.sample = lambda batch_size, env=None: next(samples)


def _run_sac_pair(monkeypatch, steps, mean_bias=None, **config):
  """rlkit's SAC learner and SB3's SAC after `steps` updates from the same start."""
  pairs = _batches(steps)
  noise = _SharedNoise(monkeypatch)
  model = _sb3_model(stable_baselines3.SAC)
  _feed_sb3(model, pairs)
  builder = sac.SACBuilder(sac.SACConfig(
      policy_hidden_sizes=HIDDEN, critic_hidden_sizes=HIDDEN, batch_size=BATCH, **config))
  networks = builder.make_networks(SPEC, 0)
  sb3_actor = model.policy.actor
  with torch.no_grad():
    if mean_bias is not None:  # Saturates tanh: where the two log-densities differ most.
      sb3_actor.mu.bias.fill_(mean_bias)
    _copy_mlp(_linears(sb3_actor.latent_pi), _linears(networks.policy.torso))
    networks.policy.head.weight.copy_(torch.cat([sb3_actor.mu.weight, sb3_actor.log_std.weight]))
    networks.policy.head.bias.copy_(torch.cat([sb3_actor.mu.bias, sb3_actor.log_std.bias]))
    _copy_twin_critic(model.policy.critic, networks.critic)
  learner = builder.make_learner(networks, iter(p[0] for p in pairs),
                                 helpers.logger_fn_of(helpers.RecordingLogger()), SPEC)
  for _ in range(steps):
    for_actor_loss, for_target = torch.randn(BATCH, 2), torch.randn(BATCH, 2)
    noise.feed(for_target, for_actor_loss)  # rlkit samples the target's action first,
    learner.step()
    noise.feed(for_actor_loss, for_target)  # SB3 the actor loss's first.
    model.train(gradient_steps=1, batch_size=BATCH)
    noise.feed()
  return learner, networks, model


def test_sac_update_equals_stable_baselines3(monkeypatch):
  learner, networks, model = _run_sac_pair(monkeypatch, STEPS, log_prob_epsilon=1e-6)
  sb3_actor = model.policy.actor
  assert learner.alpha != 1.0  # The temperature moved: its update is compared too.
  assert abs(learner.alpha - model.log_ent_coef.exp().item()) < 1e-6
  sb3_head = torch.cat([sb3_actor.mu.weight, sb3_actor.log_std.weight])
  assert (networks.policy.head.weight - sb3_head).abs().max().item() < 1e-5
  assert _gap(_linears(sb3_actor.latent_pi), _linears(networks.policy.torso)) < 1e-5
  assert _twin_critic_gap(model.policy.critic, networks.critic) < 1e-5
  assert _twin_critic_gap(model.policy.critic_target, learner._target_critic) < 1e-5  # pylint: disable=protected-access


@pytest.mark.parametrize('log_prob_epsilon', [0.0, 1e-6])
def test_sac_exact_log_density_differs_from_stable_baselines3s_when_saturated(
    monkeypatch, log_prob_epsilon):
  learner, networks, model = _run_sac_pair(monkeypatch, 3, mean_bias=10.0,
                                           log_prob_epsilon=log_prob_epsilon)
  sb3_actor = model.policy.actor
  sb3_head = torch.cat([sb3_actor.mu.weight, sb3_actor.log_std.weight])
  head_gap = (networks.policy.head.weight - sb3_head).abs().max().item()
  alpha_gap = abs(learner.alpha - model.log_ent_coef.exp().item())
  if log_prob_epsilon:
    assert max(head_gap, alpha_gap) < 1e-5
  else:  # The exact density charges saturated actions more entropy: other updates.
    assert max(head_gap, alpha_gap) > 1e-4


def test_td3_update_equals_stable_baselines3(monkeypatch):
  pairs = _batches(STEPS)
  noise = _SharedNoise(monkeypatch)
  model = _sb3_model(stable_baselines3.TD3, policy_delay=2, target_policy_noise=0.2,
                     target_noise_clip=0.5)
  _feed_sb3(model, pairs)
  builder = td3.TD3Builder(td3.TD3Config(
      policy_hidden_sizes=HIDDEN, critic_hidden_sizes=HIDDEN, batch_size=BATCH,
      policy_delay=2, target_sigma=0.2, noise_clip=0.5))
  networks = builder.make_networks(SPEC, 0)
  with torch.no_grad():
    _copy_mlp(_linears(model.policy.actor), _linears(networks.policy))
    _copy_twin_critic(model.policy.critic, networks.critic)
  learner = builder.make_learner(networks, iter(p[0] for p in pairs), helpers.logger_fn_of(helpers.RecordingLogger()),
                                 SPEC)
  with torch.no_grad():  # Targets start as copies on both sides; rlkit's were made above.
    _copy_mlp(_linears(model.policy.actor_target), _linears(learner._target_policy))  # pylint: disable=protected-access
  for _ in range(STEPS):
    smoothing = torch.randn(BATCH, 2)
    noise.feed(smoothing)
    learner.step()
    noise.feed(smoothing)
    model.train(gradient_steps=1, batch_size=BATCH)
    noise.feed()

  assert _gap(_linears(model.policy.actor), _linears(networks.policy)) < 1e-5
  assert _gap(_linears(model.policy.actor_target), _linears(learner._target_policy)) < 1e-5  # pylint: disable=protected-access
  assert _twin_critic_gap(model.policy.critic, networks.critic) < 1e-5
  assert _twin_critic_gap(model.policy.critic_target, learner._target_critic) < 1e-5  # pylint: disable=protected-access
