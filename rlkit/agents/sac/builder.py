"""Builds a SAC agent (see `rlkit.agents.continuous.builder_base` for the replay)."""

from typing import Any, Iterator, Optional

from rlkit import specs
from rlkit.agents import builders
from rlkit.agents.continuous import builder_base
from rlkit.agents.continuous import networks as continuous_networks
from rlkit.agents.continuous import policies
from rlkit.agents.sac import config as config_lib
from rlkit.agents.sac import learning
from rlkit.agents.sac import networks as networks_lib


class SACBuilder(builder_base.ContinuousBuilder):
  """SAC's networks, tanh-Gaussian policies and learner, from a `SACConfig`.

  The collect policy samples tanh(mean + std * eps); the evaluation policy
  is tanh(mean). Actions are rescaled from [-1, 1] to the spec's bounds.
  """

  agent_name = 'sac'
  config_cls = config_lib.SACConfig

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> networks_lib.SACNetworks:
    self._check_spec(environment_spec)
    return networks_lib.make_networks(environment_spec, self.config, seed)

  def make_policy(self, networks: networks_lib.SACNetworks,
                  environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policies.TanhGaussianPolicy:
    del environment_spec
    return policies.TanhGaussianPolicy(networks.policy, deterministic=evaluation)

  def make_learner(self, networks: networks_lib.SACNetworks, dataset: Iterator[Any],
                   logger_fn: builders.LoggerFactory, environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None, counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.SACLearner:
    """The learner; its rates are constant, so `horizon` is not used."""
    del replay_client, horizon
    self._check_spec(environment_spec)
    c = self.config
    action_size = continuous_networks.dims_of(environment_spec)[1]
    return learning.SACLearner(
        networks, dataset, environment_spec.actions, discount=c.discount, tau=c.tau,
        policy_learning_rate=c.policy_learning_rate,
        critic_learning_rate=c.critic_learning_rate,
        alpha_learning_rate=c.alpha_learning_rate, init_alpha=c.init_alpha,
        target_entropy=c.target_entropy_per_dimension * action_size, device=c.device,
        counter=counter, logger=logger_fn('learner'))
