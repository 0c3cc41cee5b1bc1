"""Trains DQN, evaluates its greedy policy, writes logs, checkpoints, a video and plots.

    python -m experiments.run_dqn                         # GridWorld 'simple', GRID observations
    python -m experiments.run_dqn --env=gym:CartPole-v1 --num_steps=50000
    python -m experiments.run_dqn --env=gridworld:obstacle --observation_type=AGENT_GOAL_POS
    python -m experiments.run_dqn --help                  # every flag with its default

Every field of `rlkit.agents.dqn.DQNConfig` is a flag (e.g. --learning_rate,
--n_step, --double_q, --prioritized, --epsilon_decay_fraction). Running the
same command again with the same --run_dir resumes from its newest checkpoint.
"""

from absl import app
from absl import flags

from experiments import common
from rlkit.agents.dqn import config as dqn_config

common.define_common_flags(env='gridworld:simple', observation_type='GRID',
                           num_steps=10_000, eval_every=2_000, eval_episodes=10,
                           checkpoint_every_steps=5_000)
_make_config = common.define_config_flags(dqn_config.DQNConfig)
flags.adopt_module_key_flags(common)


def main(argv):
  common.check_no_arguments(argv)
  config = common.build_config(_make_config)
  common.run_experiment('dqn', config, common.BuilderAgentFactory(lambda: _builder(config)))


def _builder(config):
  from rlkit.agents.dqn import builder  # pylint: disable=g-import-not-at-top
  return builder.DQNBuilder(config)


if __name__ == '__main__':
  app.run(main)
