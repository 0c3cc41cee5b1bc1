"""The README's main job: run the EnvironmentLoop with a random actor on GridWorld.

Replaced by DQN training once the value-based agents land.
"""

from absl import app
from absl import flags

from rlkit import environment_loop
from rlkit.actors import RandomActor
from rlkit.environments import factory
from rlkit.utils import loggers

_ENV = flags.DEFINE_string('env', 'gridworld:simple', 'Environment name.')
_EPISODES = flags.DEFINE_integer('num_episodes', 5, 'Episodes to run.', lower_bound=1)
_SEED = flags.DEFINE_integer('seed', 0, 'Random seed.')


def main(argv):
  del argv
  environment = factory.make_environment(_ENV.value, seed=_SEED.value)
  actor = RandomActor(environment.action_spec(), seed=_SEED.value)
  logger = loggers.make_default_logger('environment_loop', time_delta=0)
  loop = environment_loop.EnvironmentLoop(environment, actor, logger=logger)
  loop.run(num_episodes=_EPISODES.value)


if __name__ == '__main__':
  app.run(main)
