"""The TD3 learner: twin critics, delayed policy updates, target-policy smoothing."""

from typing import Any, Dict, Iterator, Optional

import torch
from torch.nn import functional as F

from rlkit import specs
from rlkit.agents import learner_base
from rlkit.agents.continuous import learner_state
from rlkit.agents.continuous import learning_utils
from rlkit.agents.continuous import networks as networks_lib
from rlkit.agents.td3 import networks as td3_networks
from rlkit.utils import counting
from rlkit.utils import loggers


class TD3Learner(learner_state.ContinuousLearner):
  """Twin Delayed DDPG (Fujimoto et al. 2018) on replayed transitions.

  One step on a batch (o, a, r, d, o') with a in the unit box (the learner
  rescales replayed actions), gamma the discount and d the environment
  discount the adder accumulated:

    critics:  eps = clip(N(0, target_sigma^2), -noise_clip, noise_clip)
              a' = clip(pi'(o') + eps, -1, 1)
              y = r + gamma d min_i Q'_i(o', a')
              L_Q = sum_i mean (Q_i(o, a) - y)^2
    every `policy_delay` steps:
      policy:  L_pi = -mean Q_1(o, pi(o))
      targets: pi' <- tau pi + (1 - tau) pi',  Q' <- tau Q + (1 - tau) Q'

  The policy step changes only the policy. The smoothing noise comes from
  the learner's own generator (seeded from torch's global RNG when built,
  saved and restored with the learner).

  Args:
    networks: `TD3Networks` (trained in place; a local actor may share the policy).
    iterator: yields `ReplaySample`s whose data is a `types.Transition`.
    action_spec: the environment's BoundedArray action spec.
    discount, tau: gamma and the Polyak rate.
    policy_learning_rate, critic_learning_rate: Adam rates.
    policy_delay: critic steps per policy and target update.
    target_sigma, noise_clip: the target-policy smoothing noise.
    device: where the networks and the batches live.
    counter: counts learner steps (prefixed 'learner' by the runner).
    logger: gets one row of metrics per step ('actor_loss' is the latest one).
  """

  def __init__(self, networks: td3_networks.TD3Networks, iterator: Iterator[Any],
               action_spec: specs.BoundedArray, *, discount: float = 0.99,
               tau: float = 0.005, policy_learning_rate: float = 3e-4,
               critic_learning_rate: float = 3e-4, policy_delay: int = 2,
               target_sigma: float = 0.2, noise_clip: float = 0.5,
               device: Any = 'cpu', counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None):
    if not isinstance(networks, td3_networks.TD3Networks):
      raise TypeError(f'networks must be TD3Networks, got {type(networks).__name__}.')
    self._discount = learner_base.check_real('discount', discount, 0.0, 1.0)
    self._tau = learner_base.check_real('tau', tau, 0.0, 1.0, low_inclusive=False)
    learner_base.check_real('policy_learning_rate', policy_learning_rate, 0.0,
                            low_inclusive=False)
    learner_base.check_real('critic_learning_rate', critic_learning_rate, 0.0,
                            low_inclusive=False)
    if isinstance(policy_delay, bool) or not isinstance(policy_delay, int) or policy_delay < 1:
      raise ValueError(f'policy_delay must be a positive integer, got {policy_delay!r}.')
    self._policy_delay = policy_delay
    self._target_sigma = learner_base.check_real('target_sigma', target_sigma, 0.0)
    self._noise_clip = learner_base.check_real('noise_clip', noise_clip, 0.0)
    self._device = learning_utils.check_device(device)
    self._scaler = networks_lib.ActionScaler(action_spec)

    self._policy = networks.policy.to(self._device)
    self._critic = networks.critic.to(self._device)
    self._target_policy = learning_utils.make_target(self._policy)
    self._target_critic = learning_utils.make_target(self._critic)
    self._policy_optimizer = learner_base.make_adam(
        list(self._policy.parameters()), policy_learning_rate)
    self._critic_optimizer = learner_base.make_adam(
        list(self._critic.parameters()), critic_learning_rate)
    self._generator = torch.Generator(device=self._device)
    self._generator.manual_seed(int(torch.randint(2**62, ())))

    self._iterator = iterator
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._num_steps = 0
    self._actor_loss = torch.tensor(float('nan'))

  def step(self) -> None:
    batch = learning_utils.to_device(next(self._iterator).data, self._device)
    o, r, d, o_next = batch.observation, batch.reward, batch.discount, batch.next_observation
    a = self._scaler.to_unit(batch.action)

    # Critics: clipped double-Q target with a smoothed target policy.
    with torch.no_grad():
      noise = torch.randn(a.shape, generator=self._generator, device=a.device)
      noise = (self._target_sigma * noise).clamp(-self._noise_clip, self._noise_clip)
      a_next = (self._target_policy(o_next) + noise).clamp(-1.0, 1.0)
      q1_next, q2_next = self._target_critic(o_next, a_next)
      y = r + self._discount * d * torch.minimum(q1_next, q2_next)
    q1, q2 = self._critic(o, a)
    critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
    self._critic_optimizer.zero_grad(set_to_none=True)
    critic_loss.backward()
    self._critic_optimizer.step()
    self._num_steps += 1

    # Delayed policy and target updates.
    if self._num_steps % self._policy_delay == 0:
      actor_loss = -self._critic.first(o, self._policy(o)).mean()
      self._policy_optimizer.zero_grad(set_to_none=True)
      actor_loss.backward(inputs=list(self._policy.parameters()))
      self._policy_optimizer.step()
      learning_utils.polyak_update(self._target_policy, self._policy, self._tau)
      learning_utils.polyak_update(self._target_critic, self._critic, self._tau)
      self._actor_loss = actor_loss.detach()

    counts = self._counter.increment(steps=1)
    self._logger.write({
        'critic_loss': critic_loss.detach(),
        'actor_loss': self._actor_loss,
        'q_mean': q1.detach().mean(),
        'learning_rate': self.learning_rate,
        **counts,
    })

  def _state_objects(self) -> Dict[str, Any]:
    return {'policy': self._policy, 'critic': self._critic,
            'target_policy': self._target_policy, 'target_critic': self._target_critic,
            'policy_optimizer': self._policy_optimizer,
            'critic_optimizer': self._critic_optimizer, 'generator': self._generator,
            'actor_loss': self._actor_loss}
