"""Builds PPO's pieces (the builder contract, `rlkit.agents.builders`).

Data path: each environment copy's `RolloutAdder` writes a rollout of
`unroll_length` transitions (crossing episodes) with the behaviour log-probs
as extras into a Reverb queue; one learner step reads `rollouts_per_update`
of them (`ItemsPerUpdate(rollouts_per_update, item_every_steps=unroll_length)`).
Values are not written by the actor: the learner recomputes V(o_t) and
V(o'_t) with the critic as it is at the start of the step (the values GAE
needs at truncations, V of an episode's final observation, are never
computed by an actor; and a distributed actor's critic may be stale).

The queue must hold the rollouts written between two learner steps: in one
process up to num_envs at one vector step on top of fewer than
rollouts_per_update waiting, so `make_actor` checks
num_envs + rollouts_per_update - 1 <= queue capacity (config `queue_size`,
0: 2 * rollouts_per_update) and says which field to change.
"""

from typing import Any, List, Optional, Tuple

import numpy as np
import reverb
import torch
import tree

from rlkit import core
from rlkit import specs
from rlkit.agents import builders
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.ppo import actor as actor_lib
from rlkit.agents.ppo import config as config_lib
from rlkit.agents.ppo import learning
from rlkit.agents.ppo import networks as networks_lib
from rlkit.agents.ppo import rollout as rollout_lib
from rlkit.utils import schedules

QUEUE_TABLE = 'ppo_rollouts'
EXTRAS_SPEC = {'log_prob': specs.Array((), np.float32, 'log_prob')}
_OTHER_DISCRETE = 'dqn, reinforce, actor_critic'
_OTHER_CONTINUOUS = 'sac, td3, d4pg'


class PPOBuilder(builders.ActorLearnerBuilder):
  """Builds the PPO agent from a `PPOConfig` (defaults when None)."""

  def __init__(self, config: Optional[config_lib.PPOConfig] = None):
    if config is None:
      config = config_lib.PPOConfig()
    if not isinstance(config, config_lib.PPOConfig):
      raise TypeError(f'config must be a PPOConfig, got {type(config).__name__}.')
    self.config = config

  def supports(self, environment_spec: specs.EnvironmentSpec) -> Optional[str]:
    observations, actions = environment_spec.observations, environment_spec.actions
    if (tree.is_nested(observations) or not isinstance(observations, specs.Array) or
        len(observations.shape) != 1 or np.dtype(observations.dtype).kind != 'f'):
      return (f'PPO needs flat float observations (an Array of shape (d,) and a float '
              f'dtype); got {observations!r}. Flatten or one-hot encode them first '
              f'(rlkit.wrappers), or use dqn for images.')
    if isinstance(actions, specs.DiscreteArray):
      return None
    if (tree.is_nested(actions) or not isinstance(actions, specs.BoundedArray) or
        len(actions.shape) != 1 or np.dtype(actions.dtype).kind != 'f' or
        not (np.all(np.isfinite(actions.minimum)) and np.all(np.isfinite(actions.maximum)))):
      return (f'PPO needs discrete actions (a DiscreteArray) or bounded continuous '
              f'actions (a float BoundedArray of shape (k,) with finite bounds); got '
              f'{actions!r}.')
    return None

  def _check_spec(self, environment_spec: specs.EnvironmentSpec) -> None:
    if not isinstance(environment_spec, specs.EnvironmentSpec):
      raise TypeError(
          f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
    unsupported = self.supports(environment_spec)
    if unsupported:
      raise ValueError(unsupported)

  def make_networks(self, environment_spec: specs.EnvironmentSpec,
                    seed: Optional[int] = None) -> networks_lib.PPONetworks:
    self._check_spec(environment_spec)
    c = self.config
    with torch.random.fork_rng(devices=[]):
      if seed is not None:
        torch.manual_seed(seed)
      return networks_lib.make_networks(
          environment_spec, c.hidden_sizes, normalize_observations=c.normalize_observations,
          observation_clip=c.observation_clip, initial_log_std=c.initial_log_std, seed=seed)

  def make_policy(self, networks: networks_lib.PPONetworks,
                  environment_spec: specs.EnvironmentSpec,
                  evaluation: bool = False) -> actor_lib.PPOPolicy:
    if not isinstance(networks, networks_lib.PPONetworks):
      raise TypeError(f'networks must be PPONetworks, got {type(networks).__name__}.')
    return actor_lib.PPOPolicy(networks.policy, bool(evaluation))

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec,
                         policy: actor_lib.PPOPolicy) -> List[reverb.Table]:
    del policy
    self._check_spec(environment_spec)
    return [reverb.Table.queue(
        name=QUEUE_TABLE, max_size=self.config.table_size,
        signature=rollout_lib.signature(environment_spec, self.config.unroll_length,
                                        EXTRAS_SPEC))]

  def make_dataset_iterator(self, replay_client: reverb.Client) -> rollout_lib.RolloutReader:
    return rollout_lib.RolloutReader(replay_client, QUEUE_TABLE, self.config.rollouts_per_update)

  def make_adder(self, replay_client: reverb.Client, environment_spec: specs.EnvironmentSpec,
                 policy: actor_lib.PPOPolicy) -> rollout_lib.RolloutAdder:
    del policy
    return rollout_lib.RolloutAdder(replay_client, QUEUE_TABLE, self.config.unroll_length,
                                    environment_spec)

  def make_actor(self, seed: int, policy: actor_lib.PPOPolicy,
                 environment_spec: specs.EnvironmentSpec,
                 variable_source: Optional[core.VariableSource] = None,
                 adder: Optional[Any] = None, *, horizon: Optional[int] = None,
                 num_envs: Optional[int] = None) -> actor_lib.PPOActor:
    del horizon  # No actor schedule.
    c = self.config
    if adder is not None and num_envs is not None:
      needed = num_envs + c.rollouts_per_update - 1
      if needed > c.table_size:
        raise ValueError(
            f'num_envs={num_envs} copies can write {num_envs} rollouts at one step on top '
            f'of up to rollouts_per_update - 1 = {c.rollouts_per_update - 1} waiting: the '
            f'queue needs {needed} slots but holds {c.table_size} (queue_size='
            f'{c.queue_size}); set queue_size >= {needed}, or rollouts_per_update to '
            f'num_envs.')
    client = None
    if variable_source is not None:
      client = variable_client_lib.VariableClient(
          variable_source, policy.network, 'policy', c.variable_update_period)
    return actor_lib.PPOActor(policy, environment_spec.actions,
                              batched=num_envs is not None, adder=adder,
                              variable_client=client, seed=seed)

  def learner_steps(self, horizon: Optional[int]) -> Optional[int]:
    """Learner steps in a run of `horizon` environment steps (None if unknown)."""
    if horizon is None:
      return None
    return max(1, int(horizon) // self.config.batch_size)

  def learning_rate_schedule(self, horizon: Optional[int]) -> schedules.Schedule:
    """Linear decay over the horizon's learner steps; constant without a horizon."""
    c = self.config
    return schedules.over_training(c.learning_rate,
                                   c.learning_rate * c.learning_rate_final_fraction,
                                   horizon=self.learner_steps(horizon))

  def horizon_schedules(self) -> Tuple[str, ...]:
    return ('learning_rate',) if self.config.learning_rate_final_fraction != 1.0 else ()

  def make_learner(self, networks: networks_lib.PPONetworks, dataset: Any,
                   logger_fn: builders.LoggerFactory,
                   environment_spec: specs.EnvironmentSpec,
                   replay_client: Optional[Any] = None, counter: Optional[Any] = None, *,
                   horizon: Optional[int] = None) -> learning.PPOLearner:
    del environment_spec, replay_client
    if horizon is not None and (not isinstance(horizon, int) or horizon < 1):
      raise ValueError(f'horizon must be None or a positive integer, got {horizon!r}.')
    c = self.config
    seed = None if networks.seed is None else networks.seed + 1
    return learning.PPOLearner(
        networks, dataset, discount=c.discount, gae_lambda=c.gae_lambda,
        learning_rate=self.learning_rate_schedule(horizon), num_epochs=c.num_epochs,
        minibatch_size=c.minibatch_size, clip_epsilon=c.clip_epsilon,
        value_clip_epsilon=c.value_clip_epsilon, value_loss_coef=c.value_loss_coef,
        entropy_coef=c.entropy_coef, max_gradient_norm=c.max_gradient_norm,
        normalize_advantages=c.normalize_advantages, target_kl=c.target_kl,
        adam_epsilon=c.adam_epsilon, normalize_observations=c.normalize_observations,
        device=c.device, seed=seed, counter=counter, logger=logger_fn('learner'))

  def update_rule(self) -> builders.ItemsPerUpdate:
    return builders.ItemsPerUpdate(items=self.config.rollouts_per_update,
                                   item_every_steps=self.config.unroll_length)

  def checkpoint_replay(self) -> bool:
    return False
