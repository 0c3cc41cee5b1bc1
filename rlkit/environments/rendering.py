"""Offscreen MuJoCo rendering: the default OpenGL backend and one clear error.

dm_control and Gymnasium's MuJoCo environments pick their OpenGL backend from
the `MUJOCO_GL` environment variable, read when they are imported (dm_control)
or first render (Gymnasium). `set_default_gl_backend()` sets it to 'egl'
(headless, works with Mesa's software renderer) unless it is already set.
"""

import ctypes.util
import os
from typing import Optional

MUJOCO_GL = 'MUJOCO_GL'
DEFAULT_GL_BACKEND = 'egl'

# Debian packages each backend needs.
SYSTEM_PACKAGES = {
    'egl': 'libegl1 and libegl-mesa0 (plus libgl1-mesa-dri for Mesa software rendering)',
    'osmesa': 'libosmesa6',
    'glfw': 'libglfw3 and a display (X server or Xvfb)',
}


class RenderingUnavailableError(RuntimeError):
  """Raised by `render()` when no OpenGL context can be made for MuJoCo."""


# The first failure to make a MuJoCo OpenGL context in this process: a second
# attempt, by any environment, can abort the process (seen with glfw and no
# display), so later renders raise this again instead of trying.
_failure: Optional[BaseException] = None


def previous_failure() -> Optional[BaseException]:
  """The error of the first failed MuJoCo render in this process, or None."""
  return _failure


def set_default_gl_backend() -> Optional[str]:
  """Sets MUJOCO_GL to 'egl' if it is unset and libEGL can be found.

  Returns:
    The value of MUJOCO_GL afterwards (None if still unset: then dm_control
    picks a backend itself and Gymnasium tries glfw).
  """
  if os.environ.get(MUJOCO_GL) is None and ctypes.util.find_library('EGL'):
    os.environ[MUJOCO_GL] = DEFAULT_GL_BACKEND
  return os.environ.get(MUJOCO_GL)


def _first_line(error: BaseException) -> str:
  text = str(error).strip().splitlines()
  return f'{type(error).__name__}: {text[0] if text else ""}'.rstrip(': ')


def unavailable(what: str, error: Optional[BaseException] = None) -> RenderingUnavailableError:
  """The one-line error for `what` (e.g. 'dm_control:cartpole-swingup') failing to render.

  Also remembers `error` (see `previous_failure`); without one, it reports the
  remembered error.
  """
  global _failure
  if error is None:
    error = _failure
  elif _failure is None:
    _failure = error
  backend = os.environ.get(MUJOCO_GL)
  needs = SYSTEM_PACKAGES.get(backend or '', SYSTEM_PACKAGES['egl'])
  cause = f' ({_first_line(error)})' if error is not None else ''
  return RenderingUnavailableError(
      f'Cannot render {what} with {MUJOCO_GL}={backend!r}{cause}. Offscreen MuJoCo rendering '
      f'needs the Debian packages {needs}; or set {MUJOCO_GL}=egl (libegl1) or '
      f'{MUJOCO_GL}=osmesa (libosmesa6).')


def is_rendering_error(error: BaseException) -> bool:
  """Whether `error` says that OpenGL rendering is unavailable."""
  if isinstance(error, RenderingUnavailableError):
    return True
  module = type(error).__module__ or ''
  if module.startswith(('OpenGL', 'mujoco', 'glfw')):
    return True
  text = str(error)
  return any(word in text for word in ('OpenGL', 'EGL', 'MUJOCO_GL', 'GLFW', 'OSMesa', 'mjr_'))
