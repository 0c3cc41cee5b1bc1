"""Each value-based loss object against values computed by hand on a tiny batch."""

import collections

import pytest
import torch
from torch import nn

from rlkit import types
from rlkit.agents import losses
from rlkit.agents.qr_dqn import losses as qr_losses
from rlkit.agents.value_based import losses as value_losses

SampleInfo = collections.namedtuple('SampleInfo', 'key probability table_size priority')
ReplaySample = collections.namedtuple('ReplaySample', 'info data')


class TableQ(nn.Module):
  """Q-values looked up by integer observation: table [S, A]."""

  def __init__(self, rows):
    super().__init__()
    self.table = nn.Parameter(torch.tensor(rows, dtype=torch.float32))

  def forward(self, observation):
    return self.table[observation.long()]


class TableQuantiles(nn.Module):
  """Quantiles looked up by integer observation: table [S, A, N]; forward is their mean."""

  def __init__(self, rows):
    super().__init__()
    self.table = nn.Parameter(torch.tensor(rows, dtype=torch.float32))

  def quantiles(self, observation):
    return self.table[observation.long()]

  def forward(self, observation):
    return self.quantiles(observation).mean(-1)


def _sample(observation, action, reward, discount, next_observation, probability=None):
  size = len(observation)
  data = types.Transition(
      observation=torch.tensor(observation), action=torch.tensor(action, dtype=torch.int32),
      reward=torch.tensor(reward), discount=torch.tensor(discount),
      next_observation=torch.tensor(next_observation))
  probability = torch.tensor(probability if probability else [1.0 / size] * size)
  info = SampleInfo(torch.arange(size), probability, torch.full((size,), 10),
                    torch.ones(size))
  return ReplaySample(info, data)


# Two transitions: (s0, a1, r 1, d 1, s2) and (s1, a0, r 2, d 0, s3); gamma 0.5.
ONLINE = TableQ([[0.0, 3.0], [4.0, 1.0], [2.0, 5.0], [1.0, 0.0]])
TARGET = TableQ([[0.0, 0.0], [0.0, 0.0], [6.0, 4.0], [9.0, 9.0]])
SAMPLE = _sample([0, 1], [1, 0], [1.0, 2.0], [1.0, 0.0], [2, 3], probability=[0.1, 0.4])


@pytest.mark.parametrize('loss_class,penalty,expected_loss,expected_priorities', [
    # y = [1 + 0.5 * max(6, 4), 2] = [4, 2]; Q(s, a) = [3, 4]; TD errors [1, -2].
    (value_losses.QLearning, 'huber', (0.5 + 1.5) / 2, [1.0, 2.0]),
    (value_losses.QLearning, 'mse', (1.0 + 4.0) / 2, [1.0, 2.0]),
    # The online net picks a1 at s2 (5 > 2), the target evaluates it: y = [1 + 0.5 * 4, 2].
    (value_losses.DoubleQLearning, 'huber', (0.0 + 1.5) / 2, [0.0, 2.0]),
    (value_losses.DoubleQLearning, 'mse', (0.0 + 4.0) / 2, [0.0, 2.0]),
    # NFQ bootstraps from the online net: y = [1 + 0.5 * max(2, 5), 2]; TD [0.5, -2].
    (value_losses.NFQLoss, 'mse', (0.25 + 4.0) / 2, [0.5, 2.0]),
    (value_losses.NFQLoss, 'huber', (0.125 + 1.5) / 2, [0.5, 2.0]),
])
def test_td_losses_by_hand(loss_class, penalty, expected_loss, expected_priorities):
  loss_fn = loss_class(discount=0.5, penalty=penalty)
  target = TARGET if loss_fn.uses_target_network else None
  loss, extra = loss_fn(ONLINE, target, SAMPLE)
  assert loss.item() == pytest.approx(expected_loss)
  assert extra.priorities.tolist() == pytest.approx(expected_priorities)
  assert not extra.priorities.requires_grad


def test_importance_weights_scale_each_item():
  # N * P = [1, 4]; with beta 1 the weights are [1, 1/4] (normalized by their max).
  loss_fn = value_losses.QLearning(discount=0.5, importance_sampling_exponent=1.0)
  loss, _ = loss_fn(ONLINE, TARGET, SAMPLE)
  assert loss.item() == pytest.approx((0.5 * 1.0 + 1.5 * 0.25) / 2)


def test_gradients_flow_through_the_online_network_only():
  online = TableQ(ONLINE.table.tolist())
  target = TableQ(TARGET.table.tolist())
  loss, _ = value_losses.DoubleQLearning(discount=0.5, penalty='mse')(online, target, SAMPLE)
  loss.backward()
  assert target.table.grad is None
  # d/dQ(s0, a1) of mean((y - Q)^2) = -(y - Q) = 0; d/dQ(s1, a0) = -(2 - 4) = 2.
  expected = torch.zeros(4, 2)
  expected[1, 0] = 2.0
  assert torch.allclose(online.table.grad, expected)


def test_with_one_step_loss_adds_both_batches():
  inner = value_losses.QLearning(discount=0.5, penalty='mse')
  one_step = _sample([1], [0], [2.0], [0.0], [3])  # TD error -2: loss 4.
  loss, extra = value_losses.WithOneStepLoss(inner)(
      ONLINE, TARGET, value_losses.NStepAndOneStep(SAMPLE, one_step))
  assert loss.item() == pytest.approx(2.5 + 4.0)
  assert extra.metrics['n_step_loss'].item() == pytest.approx(2.5)
  assert extra.metrics['one_step_loss'].item() == pytest.approx(4.0)
  assert extra.priorities.tolist() == pytest.approx([1.0, 2.0])  # The n-step batch's.
  assert value_losses.NStepAndOneStep(SAMPLE, one_step).info is SAMPLE.info


# QR-DQN, N = 2 quantiles at tau = [0.25, 0.75], kappa 1, gamma 0.5.
# Item 0: (s0, a0, r 1, d 1, s1). theta(s0, a0) = [0, 2]; the target net's means at
#   s1 are [1, 3], so a* = a1 and T = 1 + 0.5 * [2, 4] = [2, 3].
#   u_ij = T_j - theta_i: [[2, 3], [0, 1]]; Huber: [[1.5, 2.5], [0, 0.5]];
#   rho = |tau_i - 1{u < 0}| * Huber: [[0.375, 0.625], [0, 0.375]];
#   sum_i mean_j = 0.5 + 0.1875 = 0.6875. Priority |mean T - mean theta| = 1.5.
# Item 1: (s2, a1, r 0, d 0, s3). theta(s2, a1) = [-1, 1]; T = [0, 0].
#   u = [[1, 1], [-1, -1]]; Huber 0.5 everywhere; rho = [[0.125] * 2, [0.25 * 0.5] * 2];
#   sum_i mean_j = 0.25. Priority 0.
QR_ONLINE = TableQuantiles([
    [[0.0, 2.0], [0.0, 0.0]],
    [[5.0, 5.0], [0.0, 0.0]],
    [[0.0, 0.0], [-1.0, 1.0]],
    [[0.0, 0.0], [0.0, 0.0]]])
QR_TARGET = TableQuantiles([
    [[0.0, 0.0], [0.0, 0.0]],
    [[0.0, 2.0], [2.0, 4.0]],
    [[0.0, 0.0], [0.0, 0.0]],
    [[7.0, 7.0], [7.0, 7.0]]])
QR_SAMPLE = _sample([0, 2], [0, 1], [1.0, 0.0], [1.0, 0.0], [1, 3])


def test_quantile_regression_loss_by_hand():
  loss, extra = qr_losses.QuantileRegressionLoss(discount=0.5)(QR_ONLINE, QR_TARGET, QR_SAMPLE)
  assert loss.item() == pytest.approx((0.6875 + 0.25) / 2)
  assert extra.priorities.tolist() == pytest.approx([1.5, 0.0])


def test_quantile_regression_loss_with_double_q_by_hand():
  # The online means at s1 are [5, 0]: a* = a0, T = 1 + 0.5 * [0, 2] = [1, 2];
  # u = [[1, 2], [-1, 0]]; rho = [[0.125, 0.375], [0.125, 0]]: 0.25 + 0.0625.
  loss_fn = qr_losses.QuantileRegressionLoss(discount=0.5, double_q=True)
  loss, _ = loss_fn(QR_ONLINE, QR_TARGET, QR_SAMPLE)
  assert loss.item() == pytest.approx((0.3125 + 0.25) / 2)


def test_quantile_huber_threshold_kappa():
  # kappa 4: every |u| <= 4 is quadratic, divided by kappa. Item 0:
  # Huber [[2, 4.5], [0, 0.5]] / 4, rho [[0.125, 0.28125], [0, 0.09375]]: 0.203125 + 0.046875.
  loss_fn = qr_losses.QuantileRegressionLoss(discount=0.5, huber_delta=4.0)
  loss, _ = loss_fn(QR_ONLINE, QR_TARGET, _sample([0], [0], [1.0], [1.0], [1]))
  assert loss.item() == pytest.approx(0.25)


@pytest.mark.parametrize('loss_class,kwargs,message', [
    (value_losses.QLearning, dict(discount=1.5), 'discount'),
    (value_losses.DoubleQLearning, dict(penalty='l1'), 'penalty'),
    (value_losses.NFQLoss, dict(importance_sampling_exponent=2.0), 'importance_sampling'),
    (qr_losses.QuantileRegressionLoss, dict(huber_delta=0.0), 'huber_delta'),
])
def test_losses_check_their_arguments(loss_class, kwargs, message):
  with pytest.raises(ValueError, match=message):
    loss_class(**kwargs)


def test_shared_pieces():
  td = torch.tensor([0.5, -3.0])
  assert torch.allclose(losses.elementwise_loss(td, 'mse'), torch.tensor([0.25, 9.0]))
  assert torch.allclose(losses.elementwise_loss(td, 'huber', 1.0), torch.tensor([0.125, 2.5]))
  with pytest.raises(ValueError, match='absolute'):
    losses.elementwise_loss(td, 'absolute')
  weights = losses.importance_weights(torch.tensor([0.1, 0.4]), torch.tensor(10), 1.0)
  assert torch.allclose(weights, torch.tensor([1.0, 0.25]))
  assert torch.allclose(losses.importance_weights(torch.tensor([0.1, 0.4]),
                                                  torch.tensor(10), 0.0), torch.ones(2))
  assert losses.select_q(torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
                         torch.tensor([1, 0])).tolist() == [2.0, 3.0]
