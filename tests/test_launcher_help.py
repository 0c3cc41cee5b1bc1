"""`python -m experiments.<launcher> --help` lists every field of the agent's config."""

import dataclasses
import os
import subprocess
import sys

import pytest

from rlkit.agents.actor_critic import config as actor_critic_config
from rlkit.agents.dqn import config as dqn_config
from rlkit.agents.nfq import config as nfq_config
from rlkit.agents.reinforce import config as reinforce_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('module,config_class', [
    ('experiments.run_dqn', dqn_config.DQNConfig),
    ('experiments.run_nfq', nfq_config.NFQConfig),
    ('experiments.run_reinforce', reinforce_config.REINFORCEConfig),
    ('experiments.run_actor_critic', actor_critic_config.ActorCriticConfig),
])
def test_help_lists_every_config_field(module, config_class):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  result = subprocess.run([sys.executable, '-m', module, '--help'], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
  output = result.stdout + result.stderr
  missing = [field.name for field in dataclasses.fields(config_class)
             if f'--{field.name}' not in output]
  assert not missing, f'{module} --help does not list {missing}:\n{output[-2000:]}'
