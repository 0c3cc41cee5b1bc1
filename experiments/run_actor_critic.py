"""Trains advantage actor-critic (A2C) and evaluates its greedy policy.

Writes logs, checkpoints, a video and plots to the run directory.


    python -m experiments.run_actor_critic                    # CartPole-v1
    python -m experiments.run_actor_critic --env=gym:CartPole-v0 --num_steps=20000
    python -m experiments.run_actor_critic --env=gridworld:simple --observation_type=AGENT_GOAL_POS
    python -m experiments.run_actor_critic --n_step=5 --shared_torso --episodes_per_update=4
    python -m experiments.run_actor_critic --help             # every flag with its default

Every field of `rlkit.agents.actor_critic.ActorCriticConfig` is a flag (e.g.
--learning_rate, --n_step, --value_cost, --entropy_cost, --shared_torso,
--episodes_per_update). Running the same command again with the same
--run_dir resumes from its newest checkpoint.
"""

from absl import app

from experiments import common
from rlkit.agents import actor_critic

common.define_common_flags(env='gym:CartPole-v1', num_steps=30_000, eval_every=5_000,
                           eval_episodes=10, checkpoint_every_steps=10_000)
_make_config = common.define_config_flags(actor_critic.ActorCriticConfig)


def main(argv):
  common.check_no_arguments(argv)
  config = common.build_config(_make_config)
  common.run_experiment('actor_critic', config,
                        common.BuilderAgentFactory(lambda: actor_critic.ActorCriticBuilder(config)))


if __name__ == '__main__':
  app.run(main)
