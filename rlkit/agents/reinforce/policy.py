"""The categorical policy the on-policy builders hand to their actors."""

from typing import Any, NamedTuple

from torch import nn


class CategoricalPolicy(NamedTuple):
  """What `make_actor` needs to act with a categorical policy.

  Attributes:
    logits: observations [B, ...] -> logits [B, num_actions] (shares its
      parameters with `variables`).
    variables: the module whose state dict is the learner's 'policy'
      variables; an actor made with a `variable_source` loads them into it.
    num_actions: number of discrete actions.
    action_dtype: dtype of the actions (the action spec's).
    evaluation: take the mode (greedy) instead of sampling.
  """
  logits: nn.Module
  variables: nn.Module
  num_actions: int
  action_dtype: Any
  evaluation: bool
