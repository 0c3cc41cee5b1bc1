"""Episode videos: mp4 files from `environment.render()` frames.

Frames are written one at a time with imageio's ffmpeg plugin (the binary
ships with imageio-ffmpeg; no system ffmpeg is needed), H.264 in yuv420p, so
long episodes are never held in memory. Each frame is padded at the bottom
and right (repeating its edge pixels) to a multiple of 16 pixels, which every H.264 player accepts
and which keeps imageio from resizing (and warning). Files are written under a
temporary name and renamed when complete.

`environment.render()` must return an (H, W, 3) uint8 frame: GridWorld and
the Control Suite do, and Gymnasium environments do when made with
`render_mode='rgb_array'`. Wrappers that do not define `render` are looked
through. When MuJoCo cannot make an OpenGL context, `render()` raises
`RenderingUnavailableError` with one line naming MUJOCO_GL and the system
packages needed; `VideoRecorder` then logs that line once and records no more.
"""

import contextlib
import os
from typing import Any, Callable, Dict, Optional, Tuple, Union

from absl import logging
import dm_env
import numpy as np

from rlkit import core
from rlkit import types
from rlkit.environments import rendering
from rlkit.utils import atomic
from rlkit.utils import observers

MACRO_BLOCK_SIZE = 16
_WRAPPED_ATTRIBUTES = ('environment', '_environment', 'env', '_env')

Policy = Callable[[types.NestedArray], types.NestedArray]


def padded_size(height: int, width: int, block: int = MACRO_BLOCK_SIZE) -> Tuple[int, int]:
  """The (height, width) of a frame after `pad_frame`."""
  return -(-height // block) * block, -(-width // block) * block


def as_rgb_frame(frame: Any) -> np.ndarray:
  """Checks and converts a rendered frame to (H, W, 3) uint8.

  Accepts uint8 RGB or RGBA (alpha dropped), grayscale (H, W), and floats in
  [0, 1].
  """
  if frame is None:
    raise ValueError(
        'render() returned None: make Gymnasium environments with '
        "render_mode='rgb_array' so they return RGB frames.")
  frame = np.asarray(frame)
  if frame.ndim == 2:
    frame = np.repeat(frame[..., None], 3, axis=-1)
  if frame.ndim != 3 or frame.shape[-1] not in (3, 4) or 0 in frame.shape:
    raise ValueError(f'A video frame must be (H, W, 3) RGB, got shape {frame.shape}.')
  frame = frame[..., :3]
  if np.issubdtype(frame.dtype, np.floating):
    frame = (np.clip(frame, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
  elif frame.dtype != np.uint8:
    raise TypeError(f'A video frame must be uint8 (or float in [0, 1]), got {frame.dtype}.')
  return frame


def pad_frame(frame: np.ndarray, block: int = MACRO_BLOCK_SIZE) -> np.ndarray:
  """Pads an (H, W, 3) frame to multiples of `block` pixels, repeating its
  bottom row and right column (no visible bars on uniform backgrounds)."""
  height, width = frame.shape[:2]
  new_height, new_width = padded_size(height, width, block)
  if (new_height, new_width) == (height, width):
    return frame
  return np.pad(frame, ((0, new_height - height), (0, new_width - width), (0, 0)),
                mode='edge')


def _uses_mujoco(environment: Any) -> bool:
  """Whether `environment` renders through MuJoCo (Control Suite or Gymnasium MuJoCo)."""
  if hasattr(environment, 'physics'):
    return True
  inner = getattr(environment, 'environment', None)
  unwrapped = getattr(inner, 'unwrapped', None)
  return type(unwrapped).__module__.startswith('gymnasium.envs.mujoco')


def render(environment: Any) -> np.ndarray:
  """`environment.render()` as an (H, W, 3) uint8 frame, looking through wrappers."""
  current = environment
  for _ in range(32):
    render_fn = getattr(current, 'render', None)
    if callable(render_fn):
      if rendering.previous_failure() is not None and _uses_mujoco(current):
        raise rendering.unavailable(repr(environment))
      try:
        frame = render_fn()
      except rendering.RenderingUnavailableError:
        raise
      except Exception as error:  # pylint: disable=broad-except
        if rendering.is_rendering_error(error):
          raise rendering.unavailable(repr(environment), error) from error
        raise
      return as_rgb_frame(frame)
    inner = next((getattr(current, name) for name in _WRAPPED_ATTRIBUTES
                  if getattr(current, name, None) is not None), None)
    if inner is None or inner is current:
      break
    current = inner
  raise TypeError(f'{type(environment).__name__} cannot render: neither it nor the '
                  f'environments it wraps has a render() method.')


class VideoWriter:
  """Streams frames to an mp4 file, atomically: `path` appears only on `close()`.

  Usable as a context manager; an exception inside the block (or `abort()`)
  discards the partial file and leaves any previous `path` untouched.

  Args:
    path: destination .mp4; its directory must exist.
    fps: frames per second, > 0.
  """

  def __init__(self, path: str, fps: float = 30):
    import imageio  # pylint: disable=g-import-not-at-top
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or fps <= 0:
      raise ValueError(f'fps must be a positive number, got {fps!r}.')
    path = os.fspath(path)
    if not path.lower().endswith('.mp4'):
      raise ValueError(f'Video path must end in .mp4, got {path!r}.')
    self._path = path
    self._temp = atomic.temp_path_for(path)
    self._writer = imageio.v2.get_writer(
        self._temp, format='FFMPEG', mode='I', fps=fps, codec='libx264',
        pixelformat='yuv420p', macro_block_size=MACRO_BLOCK_SIZE,
        ffmpeg_log_level='error')
    self._shape: Optional[Tuple[int, int]] = None
    self._frames = 0
    self._closed = False

  @property
  def path(self) -> str:
    return self._path

  @property
  def num_frames(self) -> int:
    return self._frames

  @property
  def frame_size(self) -> Optional[Tuple[int, int]]:
    """(height, width) of the written (padded) frames, once one is written."""
    return self._shape

  def append(self, frame: Any) -> None:
    if self._closed:
      raise RuntimeError(f'VideoWriter for {self._path!r} is already closed.')
    frame = pad_frame(as_rgb_frame(frame))
    if self._shape is None:
      self._shape = frame.shape[:2]
    elif frame.shape[:2] != self._shape:
      raise ValueError(f'Frame {self._frames} of {self._path!r} is {frame.shape[:2]} after '
                       f'padding; earlier frames are {self._shape}.')
    self._writer.append_data(frame)
    self._frames += 1

  def close(self) -> str:
    """Finishes the file and moves it to `path`; returns `path`."""
    if self._closed:
      return self._path
    self._closed = True
    if self._frames == 0:
      self._discard()
      raise ValueError(f'No frame was written to {self._path!r}.')
    try:
      self._writer.close()
      atomic.commit(self._temp, self._path)
    except BaseException:
      atomic.discard(self._temp)
      raise
    return self._path

  def abort(self) -> None:
    """Discards the partial file."""
    if not self._closed:
      self._closed = True
      self._discard()

  def _discard(self) -> None:
    with contextlib.suppress(Exception):
      self._writer.close()
    atomic.discard(self._temp)

  def __enter__(self) -> 'VideoWriter':
    return self

  def __exit__(self, exc_type, exc, tb) -> None:
    if exc_type is None:
      self.close()
    else:
      self.abort()


def write_video(path: str, frames, fps: float = 30) -> Dict[str, Any]:
  """Writes a sequence of frames to `path`; returns dict(path, frames, size)."""
  with VideoWriter(path, fps=fps) as writer:
    for frame in frames:
      writer.append(frame)
  return {'path': path, 'frames': writer.num_frames, 'size': writer.frame_size}


def _as_policy(actor_or_policy: Union[core.Actor, Policy]):
  if isinstance(actor_or_policy, core.Actor):
    return actor_or_policy
  if callable(actor_or_policy):
    return None
  raise TypeError(f'Expected an rlkit Actor or a callable observation -> action, got '
                  f'{type(actor_or_policy).__name__}.')


def record_episode(environment: dm_env.Environment,
                   actor_or_policy: Union[core.Actor, Policy],
                   path: str,
                   fps: float = 30,
                   max_steps: Optional[int] = None) -> Dict[str, Any]:
  """Runs one episode and records it to `path` (the reset frame, then one per step).

  An Actor sees `observe_first`/`observe` as in the EnvironmentLoop but is
  never updated; a plain callable is called with each observation.

  Args:
    environment: a dm_env environment whose `render()` returns RGB frames.
    actor_or_policy: an `rlkit.core.Actor` or a callable observation -> action.
    path: destination .mp4.
    fps: frames per second of the video.
    max_steps: stop after this many steps even if the episode continues.

  Returns:
    dict(path, frames, size=(height, width) of the video, length, return).
  """
  if not isinstance(environment, dm_env.Environment):
    raise TypeError(f'environment must be a dm_env.Environment, got '
                    f'{type(environment).__name__}.')
  actor = _as_policy(actor_or_policy)
  if max_steps is not None and (isinstance(max_steps, bool) or
                                not isinstance(max_steps, int) or max_steps < 0):
    raise ValueError(f'max_steps must be a non-negative integer or None, got {max_steps!r}.')
  episode_return, length = 0.0, 0
  with VideoWriter(path, fps=fps) as writer:
    timestep = environment.reset()
    if actor is not None:
      actor.observe_first(timestep)
    writer.append(render(environment))
    while not timestep.last() and (max_steps is None or length < max_steps):
      if actor is not None:
        action = actor.select_action(timestep.observation)
      else:
        action = actor_or_policy(timestep.observation)
      timestep = environment.step(action)
      if actor is not None:
        actor.observe(action, next_timestep=timestep)
      writer.append(render(environment))
      length += 1
      episode_return += float(np.sum(timestep.reward))
  return {'path': path, 'frames': writer.num_frames, 'size': writer.frame_size,
          'length': length, 'return': episode_return}


class VideoRecorder(observers.EnvLoopObserver):
  """Records every `record_every`-th episode of an EnvironmentLoop to mp4.

  Episode i (counted from `first_episode`) is recorded when
  `i % record_every == 0`, to `<directory>/<prefix>-<i>.mp4`, with the reset
  frame and one frame per step. The file appears when the episode ends (at
  `get_metrics`), complete. It adds no metrics to the loop's rows. If the
  environment cannot render (`RenderingUnavailableError`), it logs why once
  and records nothing more; the loop goes on.

  Args:
    directory: where videos go (created if missing).
    record_every: record one episode in this many, >= 1.
    prefix: file name prefix.
    fps: frames per second.
    first_episode: index of the next episode (e.g. after resuming a run).
  """

  def __init__(self, directory: str, record_every: int = 1, prefix: str = 'episode',
               fps: float = 30, first_episode: int = 0):
    if isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1:
      raise ValueError(f'record_every must be a positive integer, got {record_every!r}.')
    if not isinstance(prefix, str) or not prefix or os.sep in prefix:
      raise ValueError(f'prefix must be a plain file name, got {prefix!r}.')
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or fps <= 0:
      raise ValueError(f'fps must be a positive number, got {fps!r}.')
    if isinstance(first_episode, bool) or not isinstance(first_episode, int) or first_episode < 0:
      raise ValueError(f'first_episode must be a non-negative integer, got {first_episode!r}.')
    os.makedirs(directory, exist_ok=True)
    self._directory = directory
    self._record_every = record_every
    self._prefix = prefix
    self._fps = fps
    self._episode = first_episode - 1
    self._writer: Optional[VideoWriter] = None
    self._unavailable: Optional[str] = None
    self.paths = []

  @property
  def unavailable(self) -> Optional[str]:
    """Why recording stopped (rendering is unavailable), or None."""
    return self._unavailable

  def video_path(self, episode: int) -> str:
    return os.path.join(self._directory, f'{self._prefix}-{episode}.mp4')

  def observe_first(self, env: dm_env.Environment, timestep: dm_env.TimeStep) -> None:
    self._finish()
    self._episode += 1
    if self._episode % self._record_every == 0 and self._unavailable is None:
      self._writer = VideoWriter(self.video_path(self._episode), fps=self._fps)
      self._append(env)

  def observe(self, env: dm_env.Environment, timestep: dm_env.TimeStep,
              action: types.NestedArray) -> None:
    if self._writer is not None:
      self._append(env)

  def get_metrics(self) -> Dict[str, types.Number]:
    self._finish()
    return {}

  def close(self) -> None:
    """Discards an episode still being recorded (e.g. the loop was interrupted)."""
    if self._writer is not None:
      self._writer.abort()
      self._writer = None

  def _append(self, env: dm_env.Environment) -> None:
    try:
      self._writer.append(render(env))
    except rendering.RenderingUnavailableError as error:
      self.close()
      self._unavailable = str(error)
      logging.warning('No more videos are recorded: %s', error)
    except BaseException:
      self.close()
      raise

  def _finish(self) -> None:
    if self._writer is not None:
      writer, self._writer = self._writer, None
      self.paths.append(writer.close())
