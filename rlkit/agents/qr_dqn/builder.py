"""QR-DQN's builder: the value-based wiring with a quantile network and loss."""

from rlkit import specs
from rlkit.agents.qr_dqn import config as config_lib
from rlkit.agents.qr_dqn import losses
from rlkit.agents.qr_dqn import networks
from rlkit.agents.value_based import builder


class QRDQNBuilder(builder.ValueBasedBuilder):
  """Builds QR-DQN from a `QRDQNConfig`."""

  config_class = config_lib.QRDQNConfig

  def _make_network(self, environment_spec: specs.EnvironmentSpec) -> networks.QuantileNetwork:
    c = self.config
    return networks.make_quantile_network(
        environment_spec, c.hidden_sizes, c.num_quantiles, c.conv_channels)

  def _make_loss(self) -> losses.QuantileRegressionLoss:
    c = self.config
    return losses.QuantileRegressionLoss(
        discount=c.discount, huber_delta=c.huber_delta, double_q=c.double_q,
        importance_sampling_exponent=self._importance_sampling_exponent())
