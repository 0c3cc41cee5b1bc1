"""REINFORCE: Monte-Carlo policy gradient on whole episodes from a Reverb queue."""

from rlkit.agents.reinforce.actor import CategoricalActor
from rlkit.agents.reinforce.builder import REINFORCEBuilder
from rlkit.agents.reinforce.config import REINFORCEConfig
from rlkit.agents.reinforce.learning import REINFORCELearner
from rlkit.agents.reinforce.networks import make_policy_network
from rlkit.agents.reinforce.networks import make_value_network
