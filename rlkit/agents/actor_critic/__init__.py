"""Advantage actor-critic (A2C): n-step or full-episode bootstrapped targets."""

from rlkit.agents.actor_critic.builder import ActorCriticBuilder
from rlkit.agents.actor_critic.config import ActorCriticConfig
from rlkit.agents.actor_critic.learning import ActorCriticLearner
from rlkit.agents.actor_critic.networks import ActorCriticNetwork
from rlkit.agents.actor_critic.networks import make_actor_critic_network
