"""The policies `make_policy` returns: a network and how the actor acts with it.

Each maps observations [B, O] to unit-box actions [B, A] in [-1, 1] (numpy)
and draws its exploration noise from the actor's numpy Generator, so the
actor alone owns (and saves) the randomness.
"""

import numbers

import numpy as np
import torch
from torch import nn

from rlkit.agents.continuous import networks


def _device_of(module: nn.Module) -> torch.device:
  return next(module.parameters()).device


class DeterministicPolicy:
  """u = clip(pi(obs) + sigma * N(0, 1), -1, 1); sigma 0 is the greedy policy (TD3, D4PG).

  Args:
    module: a `DeterministicPolicyNetwork` (the variables the actor pulls).
    sigma: standard deviation of the Gaussian exploration noise, in unit-box
      units (half the action range).
  """

  def __init__(self, module: networks.DeterministicPolicyNetwork, sigma: float = 0.0):
    if not isinstance(module, nn.Module):
      raise TypeError(f'module must be a torch.nn.Module, got {type(module).__name__}.')
    if not isinstance(sigma, numbers.Real) or isinstance(sigma, bool) or sigma < 0:
      raise ValueError(f'sigma must be a number >= 0, got {sigma!r}.')
    self.module = module
    self.sigma = float(sigma)

  def __call__(self, observation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    with torch.inference_mode():
      obs = torch.as_tensor(observation, device=_device_of(self.module))
      action = self.module(obs).cpu().numpy().astype(np.float64)
    if self.sigma > 0:
      action = np.clip(action + self.sigma * rng.standard_normal(action.shape), -1.0, 1.0)
    return action


class TanhGaussianPolicy:
  """u = tanh(mean + std * N(0, 1)), or tanh(mean) when `deterministic` (SAC).

  Args:
    module: a `TanhGaussianPolicyNetwork`.
    deterministic: act with tanh(mean) (the evaluation policy).
  """

  def __init__(self, module: networks.TanhGaussianPolicyNetwork, deterministic: bool = False):
    if not isinstance(module, nn.Module):
      raise TypeError(f'module must be a torch.nn.Module, got {type(module).__name__}.')
    self.module = module
    self.deterministic = bool(deterministic)

  def __call__(self, observation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    with torch.inference_mode():
      obs = torch.as_tensor(observation, device=_device_of(self.module))
      mean, log_std = self.module(obs)
      mean = mean.cpu().numpy().astype(np.float64)
      std = log_std.exp().cpu().numpy().astype(np.float64)
    if self.deterministic:
      return np.tanh(mean)
    return np.tanh(mean + std * rng.standard_normal(mean.shape))
