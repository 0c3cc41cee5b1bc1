"""DQN: target network, double Q, n-step returns, prioritized replay."""

from rlkit.agents.dqn.actor import DQNActor
from rlkit.agents.dqn.builder import DQNBuilder
from rlkit.agents.dqn.config import DQNConfig
from rlkit.agents.dqn.learning import DQNLearner
from rlkit.agents.dqn.networks import make_q_network
