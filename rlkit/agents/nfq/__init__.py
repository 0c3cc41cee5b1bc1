"""Neural Fitted Q (seed 001): DQN's pieces with an online-network target."""

from rlkit.agents.nfq.builder import NFQBuilder
from rlkit.agents.nfq.config import NFQConfig
from rlkit.agents.nfq.learning import NFQLearner
