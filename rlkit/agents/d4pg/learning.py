"""The D4PG learner: a categorical distributional critic and a deterministic policy."""

import numbers
from typing import Any, Dict, Iterator, Optional

import torch
from torch import nn
from torch.nn import functional as F

from rlkit import specs
from rlkit.agents import learner_base
from rlkit.agents.continuous import learner_state
from rlkit.agents.continuous import learning_utils
from rlkit.agents.continuous import networks as networks_lib
from rlkit.agents.d4pg import networks as d4pg_networks
from rlkit.utils import counting
from rlkit.utils import loggers


def categorical_projection(atoms: torch.Tensor, probabilities: torch.Tensor,
                           support: torch.Tensor) -> torch.Tensor:
  """Projects the distribution sum_j p_j delta(atoms_j) onto `support` (C51's projection).

  Each atom is clipped to [support[0], support[-1]] and its mass split between
  the two nearest support points in proportion to closeness:
  m_i = sum_j p_j max(0, 1 - |clip(atoms_j) - z_i| / dz), dz the spacing.

  Args:
    atoms: [B, K] locations of the distribution to project (e.g. r + gamma d z).
    probabilities: [B, K] their probabilities.
    support: [N] evenly spaced, increasing support points z, N >= 2.

  Returns:
    [B, N] probabilities on `support`.
  """
  if support.ndim != 1 or support.shape[0] < 2:
    raise ValueError(f'support must be 1-D with at least 2 points, got shape '
                     f'{tuple(support.shape)}.')
  if atoms.shape != probabilities.shape or atoms.ndim != 2:
    raise ValueError(f'atoms and probabilities must both be [B, K], got '
                     f'{tuple(atoms.shape)} and {tuple(probabilities.shape)}.')
  delta_z = support[1] - support[0]
  clipped = atoms.clamp(support[0], support[-1])
  weights = (1.0 - (clipped[:, :, None] - support[None, None, :]).abs() / delta_z).clamp(min=0)
  return (probabilities[:, :, None] * weights).sum(dim=1)


class D4PGLearner(learner_state.ContinuousLearner):
  """Distributed Distributional DDPG (Barth-Maron et al. 2018), in one learner.

  The critic Z(o, a) is a categorical distribution on the fixed support
  z_1..z_N (logits [B, N]). One step on a batch (o, a, R, D, o') of n-step
  transitions (R the n-step return, D the accumulated discount gamma^(n-1)
  d_1..d_n the adder wrote; a rescaled to the unit box):

    critic:  p' = softmax Z'(o', pi'(o'))
             m = Proj_z(R + gamma D z, p')               (`categorical_projection`)
             L_Z = -mean sum_i m_i log softmax(Z(o, a))_i
    policy:  L_pi = -mean sum_i z_i softmax(Z(o, pi(o)))_i
    targets: pi' <- tau pi + (1 - tau) pi',  Z' <- tau Z + (1 - tau) Z'

  Each network has its own Adam with global-norm gradient clipping; the
  policy step changes only the policy.

  Args:
    networks: `D4PGNetworks` (trained in place; a local actor may share the policy).
    iterator: yields `ReplaySample`s whose data is a `types.Transition`.
    action_spec: the environment's BoundedArray action spec.
    v_min, v_max, num_atoms: the support, num_atoms evenly spaced points.
    discount, tau: gamma and the Polyak rate.
    policy_learning_rate, critic_learning_rate: Adam rates.
    max_gradient_norm: clip each network's gradient norm; 0 disables.
    device: where the networks and the batches live.
    counter: counts learner steps (prefixed 'learner' by the runner).
    logger: gets one row of metrics per step.
  """

  def __init__(self, networks: d4pg_networks.D4PGNetworks, iterator: Iterator[Any],
               action_spec: specs.BoundedArray, *, v_min: float = -150.0,
               v_max: float = 150.0, num_atoms: int = 51, discount: float = 0.99,
               tau: float = 0.005, policy_learning_rate: float = 1e-4,
               critic_learning_rate: float = 1e-4, max_gradient_norm: float = 40.0,
               device: Any = 'cpu', counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None):
    if not isinstance(networks, d4pg_networks.D4PGNetworks):
      raise TypeError(f'networks must be D4PGNetworks, got {type(networks).__name__}.')
    if isinstance(num_atoms, bool) or not isinstance(num_atoms, numbers.Integral) or num_atoms < 2:
      raise ValueError(f'num_atoms must be an integer >= 2, got {num_atoms!r}.')
    if not (isinstance(v_min, numbers.Real) and isinstance(v_max, numbers.Real)
            and v_min < v_max):
      raise ValueError(f'v_min < v_max needed, got v_min={v_min!r}, v_max={v_max!r}.')
    self._discount = learner_base.check_real('discount', discount, 0.0, 1.0)
    self._tau = learner_base.check_real('tau', tau, 0.0, 1.0, low_inclusive=False)
    learner_base.check_real('policy_learning_rate', policy_learning_rate, 0.0,
                            low_inclusive=False)
    learner_base.check_real('critic_learning_rate', critic_learning_rate, 0.0,
                            low_inclusive=False)
    self._max_gradient_norm = learner_base.check_real(
        'max_gradient_norm', max_gradient_norm, 0.0)
    self._device = learning_utils.check_device(device)
    self._scaler = networks_lib.ActionScaler(action_spec)
    self._support = torch.linspace(float(v_min), float(v_max), int(num_atoms),
                                   device=self._device)

    self._policy = networks.policy.to(self._device)
    self._critic = networks.critic.to(self._device)
    self._target_policy = learning_utils.make_target(self._policy)
    self._target_critic = learning_utils.make_target(self._critic)
    self._policy_optimizer = learner_base.make_adam(
        list(self._policy.parameters()), policy_learning_rate)
    self._critic_optimizer = learner_base.make_adam(
        list(self._critic.parameters()), critic_learning_rate)

    self._iterator = iterator
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._num_steps = 0

  @property
  def support(self) -> torch.Tensor:
    return self._support

  def _clip(self, module: nn.Module) -> None:
    if self._max_gradient_norm > 0:
      nn.utils.clip_grad_norm_(module.parameters(), self._max_gradient_norm, foreach=True)

  def step(self) -> None:
    batch = learning_utils.to_device(next(self._iterator).data, self._device)
    o, r, d, o_next = batch.observation, batch.reward, batch.discount, batch.next_observation
    a = self._scaler.to_unit(batch.action)
    z = self._support

    # Critic: cross-entropy to the projected distributional Bellman target.
    with torch.no_grad():
      p_next = F.softmax(self._target_critic(o_next, self._target_policy(o_next)), dim=-1)
      target_atoms = r[:, None] + self._discount * d[:, None] * z[None, :]
      target = categorical_projection(target_atoms, p_next, z)
    log_p = F.log_softmax(self._critic(o, a), dim=-1)
    critic_loss = -(target * log_p).sum(-1).mean()
    self._critic_optimizer.zero_grad(set_to_none=True)
    critic_loss.backward()
    self._clip(self._critic)
    self._critic_optimizer.step()

    # Policy: ascend the critic's mean value.
    q_pi = (F.softmax(self._critic(o, self._policy(o)), dim=-1) * z).sum(-1)
    actor_loss = -q_pi.mean()
    self._policy_optimizer.zero_grad(set_to_none=True)
    actor_loss.backward(inputs=list(self._policy.parameters()))
    self._clip(self._policy)
    self._policy_optimizer.step()

    learning_utils.polyak_update(self._target_policy, self._policy, self._tau)
    learning_utils.polyak_update(self._target_critic, self._critic, self._tau)
    self._num_steps += 1
    counts = self._counter.increment(steps=1)
    self._logger.write({
        'critic_loss': critic_loss.detach(),
        'actor_loss': actor_loss.detach(),
        'q_mean': (log_p.detach().exp() * z).sum(-1).mean(),
        'learning_rate': self.learning_rate,
        **counts,
    })

  def _state_objects(self) -> Dict[str, Any]:
    return {'policy': self._policy, 'critic': self._critic,
            'target_policy': self._target_policy, 'target_critic': self._target_critic,
            'policy_optimizer': self._policy_optimizer,
            'critic_optimizer': self._critic_optimizer}
