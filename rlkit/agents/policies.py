"""Action selection from Q-values: greedy and epsilon-greedy.

Two forms: batched torch functions (`greedy`, `epsilon_greedy`) for learners,
evaluation of many states and plots, and `EpsilonGreedySampler`, the cheap
per-step path actors use (numpy random numbers drawn in blocks, and no network
call at all when the step explores).
"""

import numbers
from typing import NamedTuple, Optional

import numpy as np
import torch
from torch import nn


class QPolicy(NamedTuple):
  """A value-based agent's policy: its Q-network, greedy with `evaluation`."""
  network: nn.Module
  evaluation: bool = False


def greedy(q_values: torch.Tensor) -> torch.Tensor:
  """Returns the argmax over the last axis (the first action on ties)."""
  if not isinstance(q_values, torch.Tensor):
    raise TypeError(f'q_values must be a torch.Tensor, got {type(q_values).__name__}.')
  return q_values.argmax(dim=-1)


def epsilon_greedy(q_values: torch.Tensor, epsilon: float,
                   generator: Optional[torch.Generator] = None) -> torch.Tensor:
  """Samples epsilon-greedy actions for a batch of Q-values [..., num_actions].

  With probability `epsilon` an action is uniform over all actions (which may
  be the greedy one), otherwise greedy.
  """
  check_epsilon(epsilon)
  actions = greedy(q_values)
  if epsilon == 0.0:
    return actions
  num_actions = q_values.shape[-1]
  explore = torch.rand(actions.shape, generator=generator) < epsilon
  random_actions = torch.randint(
      num_actions, actions.shape, generator=generator, device=q_values.device)
  return torch.where(explore, random_actions, actions)


def check_epsilon(epsilon: float) -> float:
  if (not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or
      not 0.0 <= epsilon <= 1.0):
    raise ValueError(f'epsilon must be a number in [0, 1], got {epsilon!r}.')
  return float(epsilon)


class EpsilonGreedySampler:
  """Per-step epsilon-greedy choice for one observation.

  Uniform numbers and random actions are drawn from numpy in blocks, so a step
  costs a few array reads; the caller runs its network only when
  `maybe_explore` returns None.

  Args:
    num_actions: number of discrete actions.
    seed: seed of the sampler's own generator.
    block_size: how many random numbers to draw at once.
  """

  def __init__(self, num_actions: int, seed: Optional[int] = None,
               block_size: int = 4096):
    if not isinstance(num_actions, numbers.Integral) or num_actions < 1:
      raise ValueError(f'num_actions must be a positive integer, got {num_actions!r}.')
    self._num_actions = int(num_actions)
    self._rng = np.random.default_rng(seed)
    self._block_size = block_size
    self._uniform = np.empty(0)
    self._actions = np.empty(0, dtype=np.int64)
    self._index = 0

  def maybe_explore(self, epsilon: float) -> Optional[int]:
    """Returns a uniformly random action with probability `epsilon`, else None.

    None means: take the greedy action (the caller runs its network).
    """
    if self._index >= len(self._uniform):
      self._uniform = self._rng.random(self._block_size)
      self._actions = self._rng.integers(0, self._num_actions, self._block_size)
      self._index = 0
    index = self._index
    self._index += 1
    if self._uniform[index] < epsilon:
      return int(self._actions[index])
    return None

  def get_state(self) -> dict:
    return {'bit_generator': self._rng.bit_generator.state,
            'uniform': self._uniform.copy(), 'actions': self._actions.copy(),
            'index': self._index}

  def set_state(self, state: dict) -> None:
    self._rng.bit_generator.state = state['bit_generator']
    self._uniform = np.array(state['uniform'])
    self._actions = np.array(state['actions'], dtype=np.int64)
    self._index = int(state['index'])
