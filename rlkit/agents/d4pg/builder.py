"""Builds a D4PG agent (see `rlkit.agents.continuous.builder_base` for the replay)."""

from typing import Any, Iterator, Optional

from rlkit import specs
from rlkit.agents import builders
from rlkit.agents.continuous import builder_base
from rlkit.agents.continuous import policies
from rlkit.agents.d4pg import config as config_lib
from rlkit.agents.d4pg import learning
from rlkit.agents.d4pg import networks as networks_lib


class D4PGBuilder(builder_base.ContinuousBuilder):
  """D4PG's networks, policies and learner, from a `D4PGConfig`.

  The adder writes `n_step` transitions (5 by default, Acme's).

  The collect policy is pi(o) plus Gaussian noise of `sigma` (clipped to
  [-1, 1]); the evaluation policy is pi(o). Actions are rescaled from
  [-1, 1] to the spec's bounds.
  """

  agent_name = 'd4pg'
  config_cls = config_lib.D4PGConfig

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> networks_lib.D4PGNetworks:
    self._check_spec(environment_spec)
    return networks_lib.make_networks(environment_spec, self.config, seed)

  def make_policy(self, networks: networks_lib.D4PGNetworks,
                  environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> policies.DeterministicPolicy:
    del environment_spec
    return policies.DeterministicPolicy(
        networks.policy, sigma=0.0 if evaluation else self.config.sigma)

  def make_learner(self, networks: networks_lib.D4PGNetworks, dataset: Iterator[Any],
                   logger_fn: builders.LoggerFactory, environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None, counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.D4PGLearner:
    """The learner; its rates are constant, so `horizon` is not used."""
    del replay_client, horizon
    self._check_spec(environment_spec)
    c = self.config
    return learning.D4PGLearner(
        networks, dataset, environment_spec.actions, v_min=c.v_min, v_max=c.v_max,
        num_atoms=c.num_atoms, discount=c.discount, tau=c.tau,
        policy_learning_rate=c.policy_learning_rate,
        critic_learning_rate=c.critic_learning_rate, max_gradient_norm=c.max_gradient_norm,
        device=c.device, counter=counter, logger=logger_fn('learner'))
