"""Trains DQN, evaluates its greedy policy, writes logs, checkpoints, a video and plots.

    python -m experiments.run_dqn                         # GridWorld 'simple', GRID observations
    python -m experiments.run_dqn --env=gym:CartPole-v1 --num_steps=50000
    python -m experiments.run_dqn --help                  # every flag with its default

Every field of `rlkit.agents.dqn.DQNConfig` is a flag. Running the same
command again with the same --run_dir resumes from its newest checkpoint.
"""

from experiments import launcher

launcher.define_flags('dqn', env='gridworld:simple', observation_type='GRID',
                      num_steps=10_000, eval_every=2_000, checkpoint_every_steps=5_000)

if __name__ == '__main__':
  launcher.run()
