"""What a finished run leaves besides logs and checkpoints: a video and plots."""

import sys
from typing import Any, Dict, Optional

from rlkit import core
from rlkit.utils import run_dir as run_dir_lib


def _first_line(error: BaseException) -> str:
  text = str(error).strip().splitlines()
  return f'{type(error).__name__}: {text[0] if text else ""}'


def record_video(environment: Any, actor: core.Actor, run: run_dir_lib.RunDirectory,
                 fps: int, name: str = 'greedy') -> Optional[str]:
  """Records one greedy episode to videos/<name>.mp4; None (and one line why) if it cannot."""
  from rlkit.utils import video  # pylint: disable=g-import-not-at-top
  try:
    return video.record_episode(environment, actor, run.video_path(name), fps=fps)['path']
  except Exception as e:  # pylint: disable=broad-except
    print(f'warning: no video recorded ({_first_line(e)}).', file=sys.stderr, flush=True)
    return None


def value_maps(environment: Any, actor: core.Actor, directory: str) -> Dict[str, str]:
  """The environment's own value plots of a value-based actor (GridWorld maps), if any."""
  from rlkit.utils import plotting  # pylint: disable=g-import-not-at-top
  q_values = getattr(actor, 'q_values', None)
  # GridWorld (and wrappers, which forward its attributes) has a layout to plot on.
  if not callable(q_values) or getattr(environment, 'layout', None) is None:
    return {}
  return plotting.plot_gridworld_values(environment, q_values, directory)


def write_plots(run: run_dir_lib.RunDirectory, actor: core.Actor,
                environment: Any) -> Dict[str, str]:
  """Learning curves, and the environment's value maps; problems are one line each."""
  from rlkit.utils import plotting  # pylint: disable=g-import-not-at-top
  paths: Dict[str, str] = {}
  try:
    paths['learning_curves'] = plotting.plot_learning_curves(run.path)
  except (ValueError, FileNotFoundError) as e:
    print(f'warning: no learning curves ({_first_line(e)}).', file=sys.stderr, flush=True)
  try:
    paths.update(value_maps(environment, actor, run.plots_dir))
  except (TypeError, ValueError) as e:
    print(f'warning: no value maps ({_first_line(e)}).', file=sys.stderr, flush=True)
  return paths
