"""The PPO learner (Schulman et al. 2017), one batch of rollouts per step.

One `step()` reads N rollouts of T transitions (B = N * T) and, with the
networks as they were when it started (theta_old = the behaviour policy of
a single process):

  1. Values of o_t and o'_t: V_t = V(o_t), V'_t = V(o'_t).
  2. GAE, backwards over each rollout, with A_T = 0:
        delta_t = r_t + gamma * d_t * V'_t - V_t
        A_t     = delta_t + gamma * lambda * d_t * (1 - last_t) * A_{t+1}
     d_t = 0 stops the bootstrap at a termination; last_t stops the
     recursion at every episode end, and V'_t (the final observation)
     bootstraps a truncation. Returns R_t = A_t + V_t.
  3. `num_epochs` passes over the batch in random minibatches of
     `minibatch_size`; for each minibatch, with rho = pi(a|o) / mu(a|o)
     (mu: the behaviour log-prob the actor wrote) and A standardized over the
     minibatch when `normalize_advantages`:
        L_clip  = mean(max(-A rho, -A clip(rho, 1 - eps, 1 + eps)))
        L_value = 0.5 mean(max((V - R)^2, (V_old + clip(V - V_old, -eps_v, eps_v) - R)^2))
                  (0.5 mean((V - R)^2) when eps_v = 0)
        L       = L_clip - c_ent mean(H[pi(.|o)]) + c_v L_value
     one Adam step on L with the global gradient norm clipped.
     With `target_kl`, the epochs stop after a minibatch whose approximate
     KL, mean((rho - 1) - log rho) (CleanRL's), exceeds it.
  4. The observation normalizer takes in the batch's observations (after the
     update, so that the update saw the statistics the actors acted with).

Logged per step: 'learning_rate', the losses of the last epoch (means over
its minibatches), 'approx_kl', 'clip_fraction' (|rho - 1| > eps),
'explained_variance' (1 - Var[R - V] / Var[R] of the batch before the
update), the epochs run, and the counts.
"""

import copy
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import torch
from torch import nn

from rlkit import core
from rlkit.agents import learner_base
from rlkit.agents.ppo import networks as networks_lib
from rlkit.agents.ppo import rollout as rollout_lib
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import schedules


def generalized_advantage_estimation(
    reward: torch.Tensor, discount: torch.Tensor, last: torch.Tensor,
    value: torch.Tensor, next_value: torch.Tensor, gamma: float,
    lambda_: float) -> torch.Tensor:
  """GAE advantages [..., T] of rollouts that may cross episodes (step 2 above).

  Args:
    reward, discount: r_t and the environment's d_t, [..., T].
    last: whether transition t ended its episode, [..., T] (bool).
    value: V(o_t), [..., T].
    next_value: V(o'_t), the value of the observation a_t led to, [..., T].
    gamma, lambda_: the discount and GAE's lambda.
  """
  for name, x in (('discount', discount), ('last', last), ('value', value),
                  ('next_value', next_value)):
    if x.shape != reward.shape:
      raise ValueError(f'{name} has shape {tuple(x.shape)}, reward {tuple(reward.shape)}: '
                       f'expected the same [..., T].')
  discount = discount.to(value.dtype)
  deltas = reward.to(value.dtype) + gamma * discount * next_value - value
  carry = gamma * lambda_ * discount * (~last.bool()).to(value.dtype)
  advantages = torch.zeros_like(value)
  advantage = torch.zeros_like(value[..., 0])
  for t in reversed(range(reward.shape[-1])):
    advantage = deltas[..., t] + carry[..., t] * advantage
    advantages[..., t] = advantage
  return advantages


def explained_variance(prediction: torch.Tensor, target: torch.Tensor) -> float:
  """1 - Var[target - prediction] / Var[target] (nan when the target is constant)."""
  var = target.var(unbiased=False)
  if var == 0:
    return float('nan')
  return float(1.0 - (target - prediction).var(unbiased=False) / var)


def _flatten(x: torch.Tensor) -> torch.Tensor:
  """[N, T, ...] -> [N * T, ...]."""
  return x.reshape((-1,) + tuple(x.shape[2:]))


class PPOLearner(core.Learner):
  """See the module docstring for one step's equations.

  Args:
    networks: the policy (with its normalizer) and value networks; moved to
      `device`.
    iterator: yields `rollout.Rollout` batches [N, T, ...] of CPU tensors with
      extras {'log_prob': [N, T]}.
    discount, gae_lambda, num_epochs, minibatch_size, clip_epsilon,
    value_clip_epsilon, value_loss_coef, entropy_coef, max_gradient_norm,
    normalize_advantages, target_kl, adam_epsilon: see `PPOConfig`.
    learning_rate: a float, or a `schedules.Schedule` of the learner step.
    normalize_observations: update the policy's normalizer from each batch.
    device: where the networks live and the update runs.
    seed: seed of the minibatch shuffling.
    counter: counts learner steps (as `steps`; prefix it with 'learner').
    logger: gets one row of metrics per step.
  """

  def __init__(self, networks: networks_lib.PPONetworks,
               iterator: Iterator[rollout_lib.Rollout], *,
               discount: float = 0.99, gae_lambda: float = 0.95,
               learning_rate: Union[float, schedules.Schedule] = 3e-4,
               num_epochs: int = 10, minibatch_size: int = 64,
               clip_epsilon: float = 0.2, value_clip_epsilon: float = 0.2,
               value_loss_coef: float = 0.5, entropy_coef: float = 0.0,
               max_gradient_norm: float = 0.5, normalize_advantages: bool = True,
               target_kl: float = 0.0, adam_epsilon: float = 1e-5,
               normalize_observations: bool = True,
               device: Union[str, torch.device] = 'cpu', seed: Optional[int] = None,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None):
    if not isinstance(networks, networks_lib.PPONetworks):
      raise TypeError(f'networks must be PPONetworks, got {type(networks).__name__}.')
    check = learner_base.check_real
    self._discount = check('discount', discount, 0.0, 1.0)
    self._lambda = check('gae_lambda', gae_lambda, 0.0, 1.0)
    self._clip = check('clip_epsilon', clip_epsilon, 0.0, low_inclusive=False)
    self._value_clip = check('value_clip_epsilon', value_clip_epsilon, 0.0)
    self._value_coef = check('value_loss_coef', value_loss_coef, 0.0)
    self._entropy_coef = check('entropy_coef', entropy_coef, 0.0)
    self._max_gradient_norm = check('max_gradient_norm', max_gradient_norm, 0.0)
    self._target_kl = check('target_kl', target_kl, 0.0)
    for name, value in (('num_epochs', num_epochs), ('minibatch_size', minibatch_size)):
      if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}.')
    self._num_epochs = num_epochs
    self._minibatch_size = minibatch_size
    if isinstance(learning_rate, schedules.Schedule):
      self._learning_rate = learning_rate
    else:
      self._learning_rate = schedules.ConstantSchedule(
          check('learning_rate', learning_rate, 0.0, low_inclusive=False))
    self._normalize_advantages = bool(normalize_advantages)
    self._normalize_observations = bool(normalize_observations)
    if self._normalize_observations and networks.policy.normalizer is None:
      raise ValueError('normalize_observations=True, but the policy has no normalizer.')
    try:
      self._device = torch.device(device)
    except (RuntimeError, TypeError) as e:
      raise ValueError(f"device must be a torch device such as 'cpu', got {device!r}.") from e
    self._networks = networks.to(self._device)
    self._networks.train()
    self._iterator = iterator
    self._params = [p for p in self._networks.parameters() if p.requires_grad]
    self._optimizer = learner_base.make_adam(self._params, self._learning_rate.value_at(0))
    for group in self._optimizer.param_groups:
      group['eps'] = check('adam_epsilon', adam_epsilon, 0.0, low_inclusive=False)
    self._generator = torch.Generator()
    if seed is None:
      self._generator.seed()
    else:
      self._generator.manual_seed(int(seed))
    self._counter = counter or counting.Counter(prefix='learner')
    self._logger = logger or loggers.NoOpLogger()
    self._num_steps = 0

  @property
  def networks(self) -> networks_lib.PPONetworks:
    return self._networks

  @property
  def num_steps(self) -> int:
    return self._num_steps

  @property
  def learning_rate(self) -> float:
    return self._learning_rate.value_at(self._num_steps)

  def _to_device(self, batch: rollout_lib.Rollout) -> rollout_lib.Rollout:
    move = lambda x: x.to(self._device, non_blocking=True)
    return rollout_lib.Rollout(
        observation=move(batch.observation).float(), action=move(batch.action),
        reward=move(batch.reward).float(), discount=move(batch.discount).float(),
        next_observation=move(batch.next_observation).float(), last=move(batch.last),
        extras={'log_prob': move(batch.extras['log_prob']).float()})

  def step(self) -> None:
    batch = self._to_device(next(self._iterator))
    networks, policy = self._networks, self._networks.policy
    learning_rate = self.learning_rate
    for group in self._optimizer.param_groups:
      group['lr'] = learning_rate

    # 1-2: values before the update, GAE, returns.
    with torch.no_grad():
      values = networks.value(batch.observation)
      next_values = networks.value(batch.next_observation)
      advantages = generalized_advantage_estimation(
          batch.reward, batch.discount, batch.last, values, next_values,
          self._discount, self._lambda)
      returns = advantages + values

    observations = _flatten(batch.observation)
    actions = _flatten(batch.action)
    if not networks_lib.is_discrete_policy(policy):
      actions = actions.reshape(actions.shape[0], -1).float()
    old_log_probs = _flatten(batch.extras['log_prob'])
    advantages, returns, values = _flatten(advantages), _flatten(returns), _flatten(values)
    batch_size = observations.shape[0]

    # 3: epochs of minibatches.
    epochs = 0
    stop = False
    for _ in range(self._num_epochs):
      epochs += 1
      sums = {'policy_loss': 0.0, 'value_loss': 0.0, 'entropy': 0.0, 'loss': 0.0,
              'approx_kl': 0.0, 'clip_fraction': 0.0}
      num_minibatches = 0
      order = torch.randperm(batch_size, generator=self._generator).to(self._device)
      for start in range(0, batch_size, self._minibatch_size):
        index = order[start:start + self._minibatch_size]
        params = policy(observations[index])
        log_prob = policy.log_prob(params, actions[index])
        entropy = policy.entropy(params).mean()
        log_ratio = log_prob - old_log_probs[index]
        ratio = log_ratio.exp()

        advantage = advantages[index]
        if self._normalize_advantages and advantage.numel() > 1:
          advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        policy_loss = torch.max(
            -advantage * ratio,
            -advantage * ratio.clamp(1.0 - self._clip, 1.0 + self._clip)).mean()

        value = networks.value(observations[index])
        value_error = (value - returns[index]) ** 2
        if self._value_clip:
          old_value = values[index]
          clipped = old_value + (value - old_value).clamp(-self._value_clip, self._value_clip)
          value_error = torch.max(value_error, (clipped - returns[index]) ** 2)
        value_loss = 0.5 * value_error.mean()

        loss = policy_loss - self._entropy_coef * entropy + self._value_coef * value_loss
        self._optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self._max_gradient_norm:
          nn.utils.clip_grad_norm_(self._params, self._max_gradient_norm, foreach=True)
        self._optimizer.step()

        with torch.no_grad():
          approx_kl = ((ratio - 1.0) - log_ratio).mean()
          clip_fraction = ((ratio - 1.0).abs() > self._clip).float().mean()
        for key, value_ in (('policy_loss', policy_loss), ('value_loss', value_loss),
                            ('entropy', entropy), ('loss', loss), ('approx_kl', approx_kl),
                            ('clip_fraction', clip_fraction)):
          sums[key] += float(value_.detach())
        num_minibatches += 1
        if self._target_kl and float(approx_kl) > self._target_kl:
          stop = True
          break
      if stop:
        break

    # 4: the normalizer takes in the observations the batch was collected from.
    if self._normalize_observations:
      policy.normalizer.update(observations)

    self._num_steps += 1
    counts = self._counter.increment(steps=1)
    metrics: Dict[str, Any] = {k: v / num_minibatches for k, v in sums.items()}
    metrics.update(
        learning_rate=learning_rate, epochs=epochs,
        explained_variance=explained_variance(values, returns),
        batch_transitions=batch_size)
    metrics.update(counts)
    self._logger.write(metrics)

  def get_variables(self, names: Sequence[str]) -> List[Mapping[str, torch.Tensor]]:
    """'policy': a CPU copy of the policy module's state dict (with the normalizer)."""
    variables = []
    for name in names:
      if name != 'policy':
        raise ValueError(f"Unknown variables {name!r}: PPOLearner provides ['policy'].")
      variables.append({k: v.detach().to('cpu', copy=True)
                        for k, v in self._networks.policy.state_dict().items()})
    return variables

  def save(self) -> Dict[str, Any]:
    """Networks (normalizer included), optimizer, shuffling RNG, step count (copies)."""
    return {
        'networks': {k: v.detach().to('cpu', copy=True)
                     for k, v in self._networks.state_dict().items()},
        'optimizer': copy.deepcopy(self._optimizer.state_dict()),
        'generator': self._generator.get_state(),
        'num_steps': self._num_steps,
    }

  def restore(self, state: Mapping[str, Any]) -> None:
    missing = {'networks', 'optimizer', 'generator', 'num_steps'} - set(state)
    if missing:
      raise ValueError(f'PPOLearner.restore: state lacks {sorted(missing)}.')
    self._networks.load_state_dict(state['networks'])
    self._optimizer.load_state_dict(state['optimizer'])
    self._generator.set_state(state['generator'])
    self._num_steps = int(state['num_steps'])
