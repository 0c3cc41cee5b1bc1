"""Trains REINFORCE, evaluates its greedy policy, writes logs, checkpoints, a video and plots.

    python -m experiments.run_reinforce                    # CartPole-v1
    python -m experiments.run_reinforce --env=gym:CartPole-v0 --num_steps=20000
    python -m experiments.run_reinforce --env=gridworld:simple --observation_type=AGENT_GOAL_POS
    python -m experiments.run_reinforce --use_baseline --episodes_per_update=4
    python -m experiments.run_reinforce --help             # every flag with its default

Every field of `rlkit.agents.reinforce.REINFORCEConfig` is a flag (e.g.
--learning_rate, --dropout, --standardize_returns, --use_baseline,
--episodes_per_update). Running the same command again with the same
--run_dir resumes from its newest checkpoint.
"""

from absl import app

from experiments import common
from rlkit.agents import reinforce

common.define_common_flags(env='gym:CartPole-v1', num_steps=30_000, eval_every=5_000,
                           eval_episodes=10, checkpoint_every_steps=10_000)
_make_config = common.define_config_flags(reinforce.REINFORCEConfig)


def main(argv):
  common.check_no_arguments(argv)
  config = common.build_config(_make_config)
  common.run_experiment('reinforce', config,
                        common.BuilderAgentFactory(lambda: reinforce.REINFORCEBuilder(config)))


if __name__ == '__main__':
  app.run(main)
