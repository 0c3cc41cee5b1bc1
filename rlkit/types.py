"""Common types shared by environments, adders, replay and agents."""

from typing import Any, NamedTuple, Union

import numpy as np

# A (possibly nested) structure of arrays; the leaves are numpy arrays,
# scalars or, inside learners, torch tensors.
NestedArray = Any
NestedSpec = Any
Number = Union[int, float, np.number]


class Transition(NamedTuple):
  """One (possibly n-step) transition, as written by transition adders.

  `discount` is the environment's (possibly accumulated) discount, without the
  agent's final factor: learners compute `reward + gamma * discount * V(next)`.
  """
  observation: NestedArray
  action: NestedArray
  reward: NestedArray
  discount: NestedArray
  next_observation: NestedArray
  extras: NestedArray = ()
