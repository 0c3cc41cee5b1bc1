"""REINFORCE: Monte-Carlo policy gradient on whole episodes from a Reverb queue."""

from rlkit.agents.reinforce.actor import CategoricalActor
from rlkit.agents.reinforce.builder import REINFORCEBuilder
from rlkit.agents.reinforce.config import REINFORCEConfig
from rlkit.agents.reinforce.learning import REINFORCELearner
from rlkit.agents.reinforce.networks import make_policy_network
from rlkit.agents.reinforce.networks import make_value_network


def load_policy_actor(config, environment_spec, agent_state):
  """The greedy policy of a checkpointed agent (used by `registry.load_policy`)."""
  from rlkit.agents import registry  # pylint: disable=g-import-not-at-top
  builder = REINFORCEBuilder(registry.config_from_dict(REINFORCEConfig, config))
  return builder.load_greedy_actor(agent_state['learner'], environment_spec)
