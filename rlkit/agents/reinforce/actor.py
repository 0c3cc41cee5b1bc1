"""Actors of a categorical policy: sampling (collect) and mode (greedy evaluation)."""

import numbers
from typing import Any, Mapping, Optional

import dm_env
import numpy as np
import torch
from torch import nn

from rlkit import core
from rlkit import types
from rlkit.agents import variable_client as variable_client_lib


class GumbelSampler:
  """Samples from categorical logits with the Gumbel-max trick.

  argmax(logits + g) with g ~ Gumbel(0, 1) is a sample of softmax(logits);
  the noise is drawn from numpy in blocks, so a step costs an add and an
  argmax.
  """

  def __init__(self, num_actions: int, seed: Optional[int] = None,
               block_size: int = 4096):
    self._num_actions = int(num_actions)
    self._rng = np.random.default_rng(seed)
    self._block_size = int(block_size)
    self._noise = np.empty((0, self._num_actions))
    self._index = 0

  def sample(self, logits: np.ndarray) -> int:
    if self._index >= len(self._noise):
      self._noise = self._rng.gumbel(size=(self._block_size, self._num_actions))
      self._index = 0
    noise = self._noise[self._index]
    self._index += 1
    return int(np.argmax(logits + noise))

  def sample_batch(self, logits: np.ndarray) -> np.ndarray:
    """One sample per row of `logits` [N, A]."""
    n = logits.shape[0]
    if self._index + n > len(self._noise):
      self._noise = self._rng.gumbel(size=(max(self._block_size, n), self._num_actions))
      self._index = 0
    noise = self._noise[self._index:self._index + n]
    self._index += n
    return np.argmax(logits + noise, axis=-1)

  def get_state(self) -> dict:
    return {'bit_generator': self._rng.bit_generator.state,
            'noise': self._noise.copy(), 'index': self._index}

  def set_state(self, state: Mapping[str, Any]) -> None:
    self._rng.bit_generator.state = state['bit_generator']
    self._noise = np.array(state['noise'], np.float64)
    self._index = int(state['index'])


class CategoricalActor(core.Actor):
  """Acts with a network that maps observations [B, ...] to logits [B, A].

  The collect actor samples an action from softmax(logits) and writes its
  experience to `adder`; the greedy actor (`greedy=True`) takes the mode
  (argmax, the first action on ties) and is the evaluation policy.

  Parameters: in a single process the collect actor evaluates the learner's
  own network, so it always acts with the newest weights (and with the
  network's dropout, when it has any, as seed 001's policy does). An
  evaluation actor owns its network in eval mode and follows the learner
  through a `variable_client` (`update(wait=True)` pulls at once). It acts on
  the device of the network's parameters (observations go there, actions
  come back to numpy).

  With `batched=True` it acts for the N copies of a `BatchedEnvironment`:
  observations [N, ...] in, N actions out, one forward pass per step (use a
  `adders.batched.BatchedAdder`, and `BatchedEnvironmentLoop`).

  Args:
    network: maps observations [B, ...] to logits [B, num_actions].
    num_actions: number of discrete actions.
    greedy: take the mode instead of sampling.
    batched: observations carry a leading batch dimension.
    adder: receives `add_first`/`add` calls; None to only act.
    variable_client: pulls weights into `network`; None when it is shared.
    action_dtype: dtype of the returned actions (the action spec's).
    seed: seed of the sampling noise.
  """

  def __init__(self, network: nn.Module, num_actions: int, *,
               greedy: bool = False, batched: bool = False,
               adder: Optional[Any] = None,
               variable_client: Optional[variable_client_lib.VariableClient] = None,
               action_dtype: Any = np.int32, seed: Optional[int] = None):
    if not isinstance(network, nn.Module):
      raise TypeError(f'network must be a torch.nn.Module, got {type(network).__name__}.')
    if (not isinstance(num_actions, numbers.Integral) or isinstance(num_actions, bool)
        or num_actions < 1):
      raise ValueError(f'num_actions must be a positive integer, got {num_actions!r}.')
    if adder is not None and not (callable(getattr(adder, 'add_first', None)) and
                                  callable(getattr(adder, 'add', None))):
      raise TypeError(f'adder must have add_first() and add(), got {type(adder).__name__}.')
    self._network = network
    self._greedy = bool(greedy)
    self._batched = bool(batched)
    self._adder = adder
    self._client = variable_client
    self._sampler = GumbelSampler(num_actions, seed=seed)
    self._action_values = np.arange(num_actions, dtype=action_dtype)
    parameter = next(network.parameters(), None)
    self._device = None
    if parameter is not None and parameter.device.type != 'cpu':
      self._device = parameter.device

  @property
  def network(self) -> nn.Module:
    return self._network

  @property
  def greedy(self) -> bool:
    return self._greedy

  def _forward(self, observation: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
      if self._device is None:
        return self._network(observation).numpy()
      return self._network(observation.to(self._device, non_blocking=True)).cpu().numpy()

  def logits(self, observation: types.NestedArray) -> np.ndarray:
    """The logits [num_actions] of one observation, as numpy."""
    return self._forward(torch.as_tensor(observation).unsqueeze(0))[0]

  @property
  def batched(self) -> bool:
    return self._batched

  def select_action(self, observation: types.NestedArray) -> np.ndarray:
    if self._batched:
      logits = self._forward(torch.as_tensor(observation))
      if self._greedy:
        return self._action_values[np.argmax(logits, axis=-1)]
      return self._action_values[self._sampler.sample_batch(logits)]
    logits = self.logits(observation)
    if self._greedy:
      return self._action_values[int(np.argmax(logits))]
    return self._action_values[self._sampler.sample(logits)]

  def observe_first(self, timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add(action, next_timestep)

  def update(self, wait: bool = False) -> None:
    if self._client is not None:
      self._client.update(wait)

  def save(self) -> Mapping[str, Any]:
    """The sampling noise generator's state."""
    return {'sampler': self._sampler.get_state()}

  def restore(self, state: Mapping[str, Any]) -> None:
    self._sampler.set_state(state['sampler'])
