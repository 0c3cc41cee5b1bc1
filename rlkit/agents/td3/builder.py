"""Builds a TD3 agent (see `rlkit.agents.continuous.builder_base` for the replay)."""

from typing import Any, Iterator, Optional

from rlkit import specs
from rlkit.agents import builders
from rlkit.agents.continuous import builder_base
from rlkit.agents.continuous import policies
from rlkit.agents.td3 import config as config_lib
from rlkit.agents.td3 import learning
from rlkit.agents.td3 import networks as networks_lib


class TD3Builder(builder_base.ContinuousBuilder):
  """TD3's networks, policies and learner, from a `TD3Config`.

  The collect policy is pi(o) plus Gaussian noise of `sigma` (clipped to
  [-1, 1]); the evaluation policy is pi(o). Actions are rescaled from
  [-1, 1] to the spec's bounds.
  """

  agent_name = 'td3'
  config_cls = config_lib.TD3Config

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> networks_lib.TD3Networks:
    self._check_spec(environment_spec)
    return networks_lib.make_networks(environment_spec, self.config, seed)

  def make_policy(self, networks: networks_lib.TD3Networks,
                  environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policies.DeterministicPolicy:
    del environment_spec
    return policies.DeterministicPolicy(
        networks.policy, sigma=0.0 if evaluation else self.config.sigma)

  def make_learner(self, networks: networks_lib.TD3Networks, dataset: Iterator[Any],
                   logger_fn: builders.LoggerFactory, environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None, counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.TD3Learner:
    """The learner; its rates are constant, so `horizon` is not used."""
    del replay_client, horizon
    self._check_spec(environment_spec)
    c = self.config
    return learning.TD3Learner(
        networks, dataset, environment_spec.actions, discount=c.discount, tau=c.tau,
        policy_learning_rate=c.policy_learning_rate,
        critic_learning_rate=c.critic_learning_rate, policy_delay=c.policy_delay,
        target_sigma=c.target_sigma, noise_clip=c.noise_clip, device=c.device,
        counter=counter, logger=logger_fn('learner'))
