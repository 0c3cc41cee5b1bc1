"""Advantage actor-critic (A2C): n-step or full-episode bootstrapped targets."""

from rlkit.agents.actor_critic.builder import ActorCriticBuilder
from rlkit.agents.actor_critic.config import ActorCriticConfig
from rlkit.agents.actor_critic.learning import ActorCriticLearner
from rlkit.agents.actor_critic.networks import ActorCriticNetwork
from rlkit.agents.actor_critic.networks import make_actor_critic_network


def load_policy_actor(config, environment_spec, agent_state):
  """The greedy policy of a checkpointed agent (used by `registry.load_policy`)."""
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  builder = ActorCriticBuilder(registry.config_from_dict(ActorCriticConfig, config))
  return builder.load_greedy_actor(agent_state['learner'], environment_spec)
