"""The DQN actor for a BatchedEnvironment: N observations, one forward pass."""

import dm_env
import numpy as np
import torch

from rlkit import types
from rlkit.agents.dqn import actor as actor_lib

_FIRST = np.int8(dm_env.StepType.FIRST)


class BatchedDQNActor(actor_lib.DQNActor):
  """Acts epsilon-greedily on every copy of a batched environment at once.

  `select_action` takes observations [N, ...] and returns N actions from one
  forward pass; each copy explores independently with the current epsilon.
  `observe` takes batched timesteps (see `rlkit.environments.batched`) and
  writes them through a `rlkit.adders.batched.BatchedAdder`; the epsilon
  schedule advances by the number of transitions (copies that were reset
  took no step). Arguments as `DQNActor`.
  """

  def select_action(self, observation: types.NestedArray) -> np.ndarray:
    with torch.inference_mode():
      actions = self._network(self._as_input(observation)).argmax(dim=1).cpu().numpy()
    epsilon = self._epsilon.value
    if epsilon > 0:
      for i in range(len(actions)):
        random_action = self._sampler.maybe_explore(epsilon)
        if random_action is not None:
          actions[i] = random_action
    return self._action_values[actions]

  def observe(self, action: types.NestedArray, next_timestep: dm_env.TimeStep) -> None:
    if self._adder is not None:
      self._adder.add(action, next_timestep)
    self._epsilon.advance(int(np.count_nonzero(next_timestep.step_type != _FIRST)))
