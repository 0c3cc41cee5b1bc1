"""The README's "Writing an agent": its builder is tests/tiny_agent.py's, and it learns."""

import inspect
import os
import re

from rlkit.environments import factory
from rlkit.experiments import config as config_lib
from rlkit.experiments import run_experiment
from tests import tiny_agent

README = os.path.join(os.path.dirname(__file__), '..', 'README.md')


def _python_blocks():
  with open(README) as f:
    return re.findall(r'```python\n(.*?)```', f.read(), re.S)


def test_the_readme_shows_the_tiny_agents_builder_verbatim():
  source = inspect.getsource(tiny_agent.TinyBuilder)
  assert any(block.strip() == source.strip() for block in _python_blocks())


def test_the_tiny_agent_finds_the_optimal_gridworld_path(tmp_path):
  experiment = config_lib.ExperimentConfig(
      builder=tiny_agent.TinyBuilder(),
      environment_factory=factory.EnvironmentFactory('gridworld:simple',
                                                     observation_type='AGENT_ONEHOT'),
      # Reverb's sampling is OS-seeded: measured runs found the path after 500 to about
      # 10k steps (one CI run needed more than 10k); the run stops when it does.
      max_num_actor_steps=30_000, seed=0, run_dir=str(tmp_path / 'tiny'), video=False,
      plots=False, evaluation=config_lib.EvaluationConfig(every_steps=500, episodes=3,
                                                          stop_at_return=10.0))
  result = run_experiment.run_experiment(experiment)
  assert result.final_evaluation['return_mean'] == 10.0  # the optimal 5-step path
  assert result.counts['actor_steps'] < 30_000
  assert os.path.exists(os.path.join(result.run_dir, 'run.json'))
