"""Small pieces the continuous-control learners share."""

import copy
from typing import Any

import torch
from torch import nn

from rlkit import types


def make_target(module: nn.Module) -> nn.Module:
  """A frozen copy of `module` (a target network)."""
  target = copy.deepcopy(module)
  for p in target.parameters():
    p.requires_grad_(False)
  return target


@torch.no_grad()
def polyak_update(target: nn.Module, online: nn.Module, tau: float) -> None:
  """target <- tau * online + (1 - tau) * target (tau 1: a copy)."""
  torch._foreach_lerp_(list(target.parameters()), list(online.parameters()), float(tau))
  for t, o in zip(target.buffers(), online.buffers()):
    t.copy_(o)


def to_device(transition: types.Transition, device: torch.device) -> types.Transition:
  """The batch's tensors on `device`, as float32 (the dataset delivers CPU tensors)."""
  return types.Transition(*(
      x.to(device, non_blocking=True).float() if isinstance(x, torch.Tensor) else x
      for x in transition))


def cpu_state_dict(module: nn.Module) -> Any:
  """A CPU copy of `module`'s state dict (what `get_variables` serves)."""
  return {k: v.detach().to('cpu', copy=True) for k, v in module.state_dict().items()}


def check_device(device: Any) -> torch.device:
  """`device` as a torch.device; ValueError when it is not one (or has no backend here)."""
  try:
    device = torch.device(device)
  except (RuntimeError, TypeError) as e:
    raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda', got "
                     f'{device!r}.') from e
  if device.type == 'cuda' and not torch.cuda.is_available():
    raise ValueError(f'device={str(device)!r}, but CUDA is not available here.')
  return device
