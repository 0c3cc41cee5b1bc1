"""A run's checkpoints: the agent's state and its replay, written and restored as a pair.

`checkpoints/ckpt-<actor steps>.pt` holds the agent's state (learner, actor
exploration, counts), the counters, the global random generators, the
environments' generators, the policy's variables (so `load_policy` needs no
learner) and the facts that rebuild the policy (agent name, config,
environment). The replay is checkpointed by Reverb in `checkpoints/replay/`,
first; the agent checkpoint then records which replay snapshot belongs to it.

On resume the newest loadable agent checkpoint is used, and the replay only
if Reverb's snapshot is that checkpoint's own. When it is not (a kill between
the two writes, a damaged newest agent checkpoint, a deleted replay
directory, an agent checkpoint without its sidecar), the other snapshots are
moved aside to `checkpoints/replay-stale/` and the replay is refilled from
scratch, with a warning saying so: Reverb restores only the newest snapshot
of a directory, and keeps one.

Test hook: with the environment variable
`RLKIT_TEST_PAUSE_BETWEEN_CHECKPOINT_WRITES=<seconds>` set, `save` sleeps that
long after the replay is written and before the agent checkpoint is, so that
a test can kill a run in that gap (benchmarks/soak_resume.py does). Unset (the
default) it costs nothing; never set it outside tests.
"""

import math
import os
import shutil
import time
import warnings
from typing import Any, Dict, Mapping, Optional

from rlkit.utils import checkpointing

CHECKPOINT_FORMAT = 2
REPLAY_DIR = 'replay'
STALE_REPLAY_DIR = 'replay-stale'
PAUSE_ENV = 'RLKIT_TEST_PAUSE_BETWEEN_CHECKPOINT_WRITES'


class ReplayWarning(RuntimeWarning):
  """The replay could not be restored with the agent's checkpoint."""


def pause_between_writes() -> float:
  """Seconds of the test hook's pause (see the module docstring); 0 when unset."""
  text = os.environ.get(PAUSE_ENV, '').strip()
  if not text:
    return 0.0
  try:
    seconds = float(text)
  except ValueError:
    seconds = float('nan')
  if not (math.isfinite(seconds) and seconds >= 0):
    raise ValueError(f'{PAUSE_ENV}={text!r}: expected a number of seconds >= 0.')
  return seconds


def replay_dir(checkpoints_dir: str) -> str:
  return os.path.join(checkpoints_dir, REPLAY_DIR)


def replay_snapshots(directory: str):
  """Reverb's complete snapshots in `directory` (names of subdirectories with DONE), oldest first."""
  if not os.path.isdir(directory):
    return []
  return sorted(name for name in os.listdir(directory)
                if os.path.exists(os.path.join(directory, name, 'DONE')))


def snapshot_name(path: Optional[str]) -> Optional[str]:
  return os.path.basename(os.path.normpath(path)) if path else None


def align_replay(checkpoints_dir: str, metadata: Optional[Mapping[str, Any]],
                 checkpoint_replay: bool) -> Optional[str]:
  """Leaves in `replay/` only the snapshot that belongs to the restored agent checkpoint.

  Returns a warning message when the replay starts empty although the run
  had one, else None. Snapshots that do not match are moved to
  `replay-stale/` (not deleted).
  """
  if not checkpoint_replay:
    return None
  directory = replay_dir(checkpoints_dir)
  if metadata is None:
    # No sidecar (a kill between the agent file and its sidecar): which
    # snapshot is this checkpoint's own cannot be told, so none is used.
    if not os.path.isdir(directory) or not os.listdir(directory):
      return None
    stale = _move_aside(checkpoints_dir, keep=None)
    return (f'the restored checkpoint has no sidecar naming its replay snapshot; the '
            f'snapshots were moved to {stale}. The replay starts empty and refills before '
            f'learning resumes.')
  wanted = snapshot_name(metadata.get('replay_checkpoint'))
  step = metadata.get('actor_steps')
  if wanted is None:
    return None
  if not os.path.isdir(directory):
    return (f'{directory} is missing: the checkpoint at {step} actor steps had a replay '
            f'snapshot ({wanted}); the replay starts empty and refills before learning resumes.')
  snapshots = replay_snapshots(directory)
  if snapshots and snapshots[-1] == wanted:
    return None
  stale = _move_aside(checkpoints_dir, keep=wanted)
  if wanted in snapshots:
    return None
  return (f'the replay snapshot of the checkpoint at {step} actor steps ({wanted}) is gone '
          f'(Reverb keeps only its newest); newer snapshots were moved to {stale}. The replay '
          f'starts empty and refills before learning resumes.')


def _move_aside(checkpoints_dir: str, keep: Optional[str]) -> str:
  """Moves every entry of `replay/` but `keep` to `replay-stale/`; returns that directory."""
  directory = replay_dir(checkpoints_dir)
  stale = os.path.join(checkpoints_dir, STALE_REPLAY_DIR)
  os.makedirs(stale, exist_ok=True)
  for name in os.listdir(directory):
    if name != keep:
      target = os.path.join(stale, name)
      if os.path.exists(target):
        shutil.rmtree(target, ignore_errors=True)
      shutil.move(os.path.join(directory, name), target)
  return stale


class RunCheckpointer:
  """Writes and reads a run's checkpoints (see the module docstring)."""

  def __init__(self, checkpoints_dir: str, keep: int):
    self._checkpointer = checkpointing.Checkpointer(checkpoints_dir, keep=keep)
    self._directory = checkpoints_dir

  @property
  def directory(self) -> str:
    return self._directory

  @property
  def last_restore(self) -> Optional[Dict[str, Any]]:
    return self._checkpointer.last_restore

  def has_checkpoint(self) -> bool:
    return bool(self._checkpointer.checkpoints())

  def restore(self, checkpoint_replay: bool) -> Dict[str, Any]:
    """The newest loadable state; aligns the replay directory with it first."""
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always', checkpointing.CheckpointWarning)
      state = self._checkpointer.restore()
    for warning in caught:
      print(f'warning: {warning.message}', flush=True)
    message = align_replay(self._directory, self.last_restore.get('metadata'), checkpoint_replay)
    if message:
      warnings.warn(message, ReplayWarning, stacklevel=2)
      print(f'warning: {message}', flush=True)
    return state

  def save(self, state: Mapping[str, Any], step: int, metadata: Mapping[str, Any],
           replay_server: Any = None) -> str:
    """Checkpoints the replay (when given), then the state naming that snapshot."""
    metadata = dict(metadata)
    pause = pause_between_writes()
    metadata['replay_checkpoint'] = None
    if replay_server is not None:
      metadata['replay_checkpoint'] = replay_server.checkpoint()
      if pause:
        time.sleep(pause)
    return self._checkpointer.save(state, step, metadata=metadata)
