"""Actor-critic actors: the categorical actor on the policy half of the network.

Acting evaluates only the policy head (`PolicyLogits`); sampling and the
greedy mode are `rlkit.agents.reinforce.actor.CategoricalActor`'s.
"""

from typing import Any, Optional

from rlkit import specs
from rlkit.agents import variable_client as variable_client_lib
from rlkit.agents.actor_critic import networks as ac_networks
from rlkit.agents.reinforce import actor as reinforce_actor
from rlkit.agents.reinforce import networks as pg_networks

CategoricalActor = reinforce_actor.CategoricalActor


def make_actor(network: ac_networks.ActorCriticNetwork,
               environment_spec: specs.EnvironmentSpec, *,
               greedy: bool = False, batched: bool = False,
               adder: Optional[Any] = None,
               variable_client: Optional[variable_client_lib.VariableClient] = None,
               seed: Optional[int] = None) -> reinforce_actor.CategoricalActor:
  """A sampling (collect) or greedy (evaluation) actor on `network`'s policy.

  Args:
    network: the actor-critic network (shared with the learner, or a copy
      that `variable_client` keeps up to date).
    environment_spec: gives the number of actions and their dtype.
    greedy: take the mode instead of sampling.
    batched: act for the N copies of a `BatchedEnvironment` at once.
    adder: where the collect actor writes its experience.
    variable_client: pulls the learner's weights into `network`.
    seed: seed of the sampling noise.
  """
  return reinforce_actor.CategoricalActor(
      ac_networks.PolicyLogits(network),
      pg_networks.num_actions_of(environment_spec.actions), greedy=greedy,
      batched=batched, adder=adder, variable_client=variable_client,
      action_dtype=environment_spec.actions.dtype, seed=seed)
