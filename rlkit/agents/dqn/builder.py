"""DQN's builder: the value-based wiring with a Q-network and (double) Q-learning.

See `rlkit.agents.value_based.builder` for the tables, adders, dataset,
actor and learner every value-based agent shares.
"""

from torch import nn

from rlkit import specs
from rlkit.agents.dqn import config as config_lib
from rlkit.agents.dqn import networks
from rlkit.agents.value_based import builder
from rlkit.agents.value_based import losses

MAIN_TABLE = builder.MAIN_TABLE
ONE_STEP_TABLE = builder.ONE_STEP_TABLE


class DQNBuilder(builder.ValueBasedBuilder):
  """Builds DQN from a `DQNConfig`: double Q-learning unless `double_q=False`."""

  config_class = config_lib.DQNConfig

  def _make_network(self, environment_spec: specs.EnvironmentSpec) -> nn.Module:
    return networks.make_q_network(
        environment_spec, self.config.hidden_sizes, self.config.conv_channels)

  def _make_loss(self):
    c = self.config
    loss_class = losses.DoubleQLearning if c.double_q else losses.QLearning
    return loss_class(discount=c.discount, penalty=c.loss, huber_delta=c.huber_delta,
                      importance_sampling_exponent=self._importance_sampling_exponent())
