"""The SAC learner: twin soft Q-learning, a tanh-Gaussian policy, automatic temperature."""

from typing import Any, Dict, Iterator, Optional

import torch
from torch.nn import functional as F

from rlkit import specs
from rlkit.agents import learner_base
from rlkit.agents.continuous import learner_state
from rlkit.agents.continuous import learning_utils
from rlkit.agents.continuous import networks as networks_lib
from rlkit.agents.sac import networks as sac_networks
from rlkit.utils import counting
from rlkit.utils import loggers


class SACLearner(learner_state.ContinuousLearner):
  """Soft Actor-Critic (Haarnoja et al. 2018a/b) on replayed transitions.

  One step on a batch (o, a, r, d, o') with a in the unit box (the learner
  rescales replayed actions), alpha = exp(log_alpha) and gamma the discount
  (d the environment discount the adder accumulated; n-step adds gamma^(n-1)):

    critics:   a' ~ pi(.|o'),  y = r + gamma d (min_i Q'_i(o', a') - alpha log pi(a'|o'))
               L_Q = 1/2 sum_i mean (Q_i(o, a) - y)^2          (Q' the target critics)
    policy:    a~ ~ pi(.|o) (reparameterized),
               L_pi = mean (alpha log pi(a~|o) - min_i Q_i(o, a~))
    alpha:     L_alpha = -mean log_alpha (log pi(a~|o) + H_target),  H_target = -|A| by default
    targets:   Q' <- tau Q + (1 - tau) Q'

  Each loss has its own Adam; the policy step changes only the policy and
  the alpha step only log_alpha. The policy's samples come from the
  learner's own generator (seeded from torch's global RNG when built, saved
  and restored with the learner).

  Args:
    networks: `SACNetworks` (trained in place; a local actor may share the policy).
    iterator: yields `ReplaySample`s whose data is a `types.Transition`.
    action_spec: the environment's BoundedArray action spec.
    discount, tau: gamma and the Polyak rate.
    policy_learning_rate, critic_learning_rate, alpha_learning_rate: Adam rates.
    init_alpha: the initial temperature.
    target_entropy: H_target.
    device: where the networks and the batches live.
    counter: counts learner steps (prefixed 'learner' by the runner).
    logger: gets one row of metrics per step.
  """

  def __init__(self, networks: sac_networks.SACNetworks, iterator: Iterator[Any],
               action_spec: specs.BoundedArray, *, discount: float = 0.99,
               tau: float = 0.005, policy_learning_rate: float = 3e-4,
               critic_learning_rate: float = 3e-4, alpha_learning_rate: float = 3e-4,
               init_alpha: float = 1.0, target_entropy: Optional[float] = None,
               device: Any = 'cpu', counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None):
    if not isinstance(networks, sac_networks.SACNetworks):
      raise TypeError(f'networks must be SACNetworks, got {type(networks).__name__}.')
    self._discount = learner_base.check_real('discount', discount, 0.0, 1.0)
    self._tau = learner_base.check_real('tau', tau, 0.0, 1.0, low_inclusive=False)
    for name, value in (('policy_learning_rate', policy_learning_rate),
                        ('critic_learning_rate', critic_learning_rate),
                        ('alpha_learning_rate', alpha_learning_rate),
                        ('init_alpha', init_alpha)):
      learner_base.check_real(name, value, 0.0, low_inclusive=False)
    self._device = learning_utils.check_device(device)
    self._scaler = networks_lib.ActionScaler(action_spec)
    if target_entropy is None:
      target_entropy = -float(len(self._scaler.low))
    self._target_entropy = learner_base.check_real(
        'target_entropy', target_entropy, float('-inf'))

    self._policy = networks.policy.to(self._device)
    self._critic = networks.critic.to(self._device)
    self._target_critic = learning_utils.make_target(self._critic)
    self._log_alpha = torch.tensor(float(init_alpha), device=self._device).log().requires_grad_()
    self._policy_optimizer = learner_base.make_adam(
        list(self._policy.parameters()), policy_learning_rate)
    self._critic_optimizer = learner_base.make_adam(
        list(self._critic.parameters()), critic_learning_rate)
    self._alpha_optimizer = learner_base.make_adam([self._log_alpha], alpha_learning_rate)
    self._generator = torch.Generator(device=self._device)
    self._generator.manual_seed(int(torch.randint(2**62, ())))

    self._iterator = iterator
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._num_steps = 0

  @property
  def alpha(self) -> float:
    return float(self._log_alpha.detach().exp())

  def step(self) -> None:
    batch = learning_utils.to_device(next(self._iterator).data, self._device)
    o, r, d, o_next = batch.observation, batch.reward, batch.discount, batch.next_observation
    a = self._scaler.to_unit(batch.action)
    alpha = self._log_alpha.exp().detach()

    # Critics: soft Bellman target from the target critics.
    with torch.no_grad():
      a_next, log_prob_next = self._policy.sample(o_next, self._generator)
      q1_next, q2_next = self._target_critic(o_next, a_next)
      soft_value = torch.minimum(q1_next, q2_next) - alpha * log_prob_next
      y = r + self._discount * d * soft_value
    q1, q2 = self._critic(o, a)
    critic_loss = 0.5 * (F.mse_loss(q1, y) + F.mse_loss(q2, y))
    self._critic_optimizer.zero_grad(set_to_none=True)
    critic_loss.backward()
    self._critic_optimizer.step()

    # Policy: maximize min Q - alpha log pi on reparameterized samples.
    a_pi, log_prob = self._policy.sample(o, self._generator)
    q1_pi, q2_pi = self._critic(o, a_pi)
    actor_loss = (alpha * log_prob - torch.minimum(q1_pi, q2_pi)).mean()
    self._policy_optimizer.zero_grad(set_to_none=True)
    actor_loss.backward(inputs=list(self._policy.parameters()))
    self._policy_optimizer.step()

    # Temperature: keep the entropy near the target.
    alpha_loss = -(self._log_alpha * (log_prob.detach() + self._target_entropy)).mean()
    self._alpha_optimizer.zero_grad(set_to_none=True)
    alpha_loss.backward()
    self._alpha_optimizer.step()

    learning_utils.polyak_update(self._target_critic, self._critic, self._tau)
    self._num_steps += 1
    counts = self._counter.increment(steps=1)
    self._logger.write({
        'critic_loss': critic_loss.detach(),
        'actor_loss': actor_loss.detach(),
        'alpha_loss': alpha_loss.detach(),
        'alpha': alpha,
        'entropy': -log_prob.detach().mean(),
        'q_mean': q1.detach().mean(),
        'learning_rate': self.learning_rate,
        **counts,
    })

  def _state_objects(self) -> Dict[str, Any]:
    return {'policy': self._policy, 'critic': self._critic,
            'target_critic': self._target_critic, 'log_alpha': self._log_alpha,
            'policy_optimizer': self._policy_optimizer,
            'critic_optimizer': self._critic_optimizer,
            'alpha_optimizer': self._alpha_optimizer, 'generator': self._generator}
