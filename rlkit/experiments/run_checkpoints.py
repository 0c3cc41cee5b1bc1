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
directory), newer snapshots are moved aside to `checkpoints/replay-stale/`
and the replay is refilled from scratch, with a warning saying so: Reverb
restores only the newest snapshot of a directory, and keeps one.
"""

import os
import shutil
import warnings
from typing import Any, Dict, Mapping, Optional

from rlkit.utils import checkpointing

CHECKPOINT_FORMAT = 2
REPLAY_DIR = 'replay'
STALE_REPLAY_DIR = 'replay-stale'


class ReplayWarning(RuntimeWarning):
  """The replay could not be restored with the agent's checkpoint."""


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
  wanted = snapshot_name((metadata or {}).get('replay_checkpoint'))
  step = (metadata or {}).get('actor_steps')
  if wanted is None:
    return None
  if not os.path.isdir(directory):
    return (f'{directory} is missing: the checkpoint at {step} actor steps had a replay '
            f'snapshot ({wanted}); the replay starts empty and refills before learning resumes.')
  snapshots = replay_snapshots(directory)
  if snapshots and snapshots[-1] == wanted:
    return None
  stale = os.path.join(checkpoints_dir, STALE_REPLAY_DIR)
  os.makedirs(stale, exist_ok=True)
  for name in os.listdir(directory):
    if name != wanted:
      target = os.path.join(stale, name)
      if os.path.exists(target):
        shutil.rmtree(target, ignore_errors=True)
      shutil.move(os.path.join(directory, name), target)
  if wanted in snapshots:
    return None
  return (f'the replay snapshot of the checkpoint at {step} actor steps ({wanted}) is gone '
          f'(Reverb keeps only its newest); newer snapshots were moved to {stale}. The replay '
          f'starts empty and refills before learning resumes.')


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
    metadata['replay_checkpoint'] = (
        replay_server.checkpoint() if replay_server is not None else None)
    return self._checkpointer.save(state, step, metadata=metadata)
