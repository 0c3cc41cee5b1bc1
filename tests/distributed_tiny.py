"""A small distributed launcher over tests/tiny_agent.py, for tests/test_distributed.py.

    python -m tests.distributed_tiny RUN_DIR NUM_STEPS [NUM_ACTORS]

It starts (and at the end shuts down) its own local Ray cluster.
"""

import sys

import torch

from rlkit.environments import factory
from rlkit.experiments import config as config_lib
from rlkit.experiments import distributed
from tests import tiny_agent


def make_config(run_dir: str, num_steps: int) -> config_lib.ExperimentConfig:
  return config_lib.ExperimentConfig(
      builder=tiny_agent.TinyBuilder(),
      environment_factory=factory.EnvironmentFactory('gridworld:simple',
                                                     observation_type='AGENT_ONEHOT'),
      max_num_actor_steps=num_steps, run_dir=run_dir, video=False, plots=False,
      log_every_seconds=1.0,
      evaluation=config_lib.EvaluationConfig(every_steps=0, episodes=5, random_baseline=False),
      checkpointing=config_lib.CheckpointingConfig(every_steps=0, every_seconds=0))


def main(argv):
  torch.set_num_threads(1)
  run_dir, num_steps = argv[1], int(argv[2])
  num_actors = int(argv[3]) if len(argv) > 3 else 2
  result = distributed.run_distributed_experiment(make_config(run_dir, num_steps), num_actors,
                                                  actor_cpus=0.5, learner_cpus=0.5)
  print(f'result interrupted={result.interrupted} actor_steps={result.counts["actor_steps"]}',
        flush=True)


if __name__ == '__main__':
  main(sys.argv)
