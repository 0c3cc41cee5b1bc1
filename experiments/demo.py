"""The README's main job: train DQN on GridWorld with GRID observations.

Runs `experiments.run_dqn` with its defaults (gridworld:simple, GRID
observations, an in-process Reverb server): trains with progress on the
terminal, evaluates the greedy policy beside a random one, and writes the
run directory with logs, a checkpoint, an episode video and plots, whose
paths it prints at the end. Any run_dqn flag may be passed through.
"""

from experiments import launcher
from experiments import run_dqn  # pylint: disable=unused-import  (defines the flags)

if __name__ == '__main__':
  launcher.run()
