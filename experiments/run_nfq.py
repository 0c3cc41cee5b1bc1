"""Trains Neural Fitted Q (seed 001) and evaluates its greedy policy.

    python -m experiments.run_nfq                 # GridWorld 'simple', AGENT_GOAL_POS observations
    python -m experiments.run_nfq --env=gridworld:obstacle --num_steps=20000
    python -m experiments.run_nfq --help          # every flag with its default

Every field of `rlkit.agents.nfq.NFQConfig` is a flag. Running the same
command again with the same --run_dir resumes from its newest checkpoint.
"""

from absl import app
from absl import flags

from experiments import common
from rlkit.agents.nfq import config as nfq_config

common.define_common_flags(env='gridworld:simple', observation_type='AGENT_GOAL_POS',
                           num_steps=5_000, eval_every=1_000, eval_episodes=5,
                           checkpoint_every_steps=5_000)
_make_config = common.define_config_flags(nfq_config.NFQConfig)
flags.adopt_module_key_flags(common)


def main(argv):
  common.check_no_arguments(argv)
  config = common.build_config(_make_config)
  common.run_experiment('nfq', config, common.BuilderAgentFactory(lambda: _builder(config)))


def _builder(config):
  from rlkit.agents.nfq import builder  # pylint: disable=g-import-not-at-top
  return builder.NFQBuilder(config)


if __name__ == '__main__':
  app.run(main)
