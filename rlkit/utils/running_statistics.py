"""Running mean and variance of observations, and normalizing by them.

    normalizer = RunningMeanStd(shape=(4,))
    normalizer.update(observations)          # [..., 4]
    normalized = normalizer(observations)    # (x - mean) / sqrt(var + eps), clipped

The statistics are buffers of a torch module, so they are part of the
module's `state_dict`: a policy that contains the normalizer carries them to
actors (through `get_variables`) and into checkpoints, and every copy of the
policy normalizes the same way. Updates use the parallel (Chan et al.)
combination of the batch's moments with the running ones, in float64, as
gymnasium's `NormalizeObservation` (CleanRL's continuous PPO) does; unlike it,
the count starts at 0, so the first update sets the statistics to the batch's.
"""

import numbers
from typing import Sequence, Union

import numpy as np
import torch
from torch import nn


class RunningMeanStd(nn.Module):
  """Tracks the mean and variance of `shape`-shaped values; normalizes with them.

  Args:
    shape: the shape of one value (e.g. an observation).
    epsilon: added to the variance before the square root.
    clip: normalized values are clipped to [-clip, clip]; 0 disables.
  """

  def __init__(self, shape: Sequence[int], epsilon: float = 1e-8, clip: float = 10.0):
    super().__init__()
    shape = tuple(int(d) for d in shape)
    if any(d < 1 for d in shape):
      raise ValueError(f'shape must have positive dimensions, got {shape}.')
    for name, value in (('epsilon', epsilon), ('clip', clip)):
      if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f'{name} must be a number >= 0, got {value!r}.')
    self.shape = shape
    self.epsilon = float(epsilon)
    self.clip = float(clip)
    self.register_buffer('mean', torch.zeros(shape, dtype=torch.float64))
    self.register_buffer('var', torch.ones(shape, dtype=torch.float64))
    self.register_buffer('count', torch.zeros((), dtype=torch.float64))

  def _check(self, x: torch.Tensor, what: str) -> None:
    n = len(self.shape)
    if tuple(x.shape[x.dim() - n:]) != self.shape or x.dim() < n:
      raise ValueError(
          f'{what} expects values of shape [..., {", ".join(map(str, self.shape))}], '
          f'got a tensor of shape {tuple(x.shape)}.')

  @torch.no_grad()
  def update(self, x: Union[torch.Tensor, np.ndarray]) -> None:
    """Adds the values `x` ([..., *shape]) to the statistics."""
    x = torch.as_tensor(x)
    self._check(x, 'RunningMeanStd.update')
    x = x.reshape((-1,) + self.shape).to(device=self.mean.device, dtype=torch.float64)
    batch_count = x.shape[0]
    if batch_count == 0:
      return
    if not torch.isfinite(x).all():
      raise ValueError('RunningMeanStd.update got non-finite values (nan or inf).')
    batch_mean = x.mean(dim=0)
    batch_var = x.var(dim=0, unbiased=False)
    total = self.count + batch_count
    delta = batch_mean - self.mean
    m2 = self.var * self.count + batch_var * batch_count + delta ** 2 * self.count * batch_count / total
    self.mean += delta * batch_count / total
    self.var.copy_(m2 / total)
    self.count.copy_(total)

  def normalize(self, x: torch.Tensor) -> torch.Tensor:
    """(x - mean) / sqrt(var + epsilon), clipped to [-clip, clip], in x's dtype."""
    self._check(x, 'RunningMeanStd.normalize')
    mean = self.mean.to(x.dtype)
    std = torch.sqrt(self.var + self.epsilon).to(x.dtype)
    y = (x - mean) / std
    if self.clip:
      y = y.clamp(-self.clip, self.clip)
    return y

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return self.normalize(x)

  def extra_repr(self) -> str:
    return f'shape={self.shape}, epsilon={self.epsilon}, clip={self.clip}'
