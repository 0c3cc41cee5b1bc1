"""NFQ's builder: the value-based wiring with a Q-network and the NFQ loss (no target network)."""

from torch import nn

from rlkit import specs
from rlkit.agents.dqn import networks
from rlkit.agents.nfq import config as config_lib
from rlkit.agents.value_based import builder
from rlkit.agents.value_based import losses


class NFQBuilder(builder.ValueBasedBuilder):
  """Builds NFQ from an `NFQConfig` (seed 001's preset of the DQN fields)."""

  config_class = config_lib.NFQConfig

  def _make_network(self, environment_spec: specs.EnvironmentSpec) -> nn.Module:
    return networks.make_q_network(
        environment_spec, self.config.hidden_sizes, self.config.conv_channels)

  def _make_loss(self) -> losses.NFQLoss:
    c = self.config
    return losses.NFQLoss(discount=c.discount, penalty=c.loss, huber_delta=c.huber_delta,
                          importance_sampling_exponent=self._importance_sampling_exponent())
