"""Checks shared by the REINFORCE and actor-critic tests."""

from typing import Any, Callable, Dict, List, Optional, Tuple

import dm_env
import torch

from rlkit import core
from rlkit import environment_loop
from rlkit import evaluation
from rlkit import specs
from rlkit.agents import builders
from rlkit.agents import registry
from rlkit.environments import factory
from rlkit.experiments import local_layout
from rlkit.utils import checkpointing
from rlkit.utils import loggers


class ListLogger(loggers.Logger):

  def __init__(self):
    self.rows: List[Dict[str, Any]] = []

  def write(self, data):
    self.rows.append(dict(data))


def make_evaluation_actor(builder: builders.ActorLearnerBuilder,
                          spec: specs.EnvironmentSpec,
                          variable_source: core.VariableSource) -> core.Actor:
  """The evaluator's greedy actor: its own networks, synced from `variable_source` now."""
  networks = builder.make_networks(spec, seed=0)
  policy = builder.make_policy(networks, spec, evaluation=True)
  actor = builder.make_actor(0, policy, spec, variable_source=variable_source, adder=None)
  actor.update(wait=True)
  return actor


def mean_return_reaches(environment: dm_env.Environment, actor: core.Actor,
                        num_episodes: int, threshold: float,
                        max_return: Optional[float] = None) -> bool:
  """Whether `actor`'s mean return over `num_episodes` episodes is >= `threshold`.

  With `max_return` (the most one episode can return), it stops as soon as the
  summed shortfall of the finished episodes rules the threshold out: the same
  answer as playing them all, sooner.
  """
  total, shortfall = 0.0, 0.0
  budget = None if max_return is None else num_episodes * (max_return - threshold)
  for _ in range(num_episodes):
    episode_return = evaluation.evaluate(environment, actor, 1)['return_mean']
    total += episode_return
    if budget is not None:
      shortfall += max_return - episode_return
      if shortfall > budget:
        return False
  return total / num_episodes >= threshold


def train_until_solved(make_builder: Callable[..., Any], environment_name: str, seed: int,
                       threshold: float, max_episodes: int, eval_every: int,
                       num_eval_episodes: int, observation_type: Optional[str] = None,
                       max_return: Optional[float] = None,
                       **config) -> Tuple[Optional[int], core.Actor, dm_env.Environment]:
  """Trains until the greedy policy's mean return >= threshold.

  Args:
    make_builder: config fields -> the agent's builder.
    max_return: the most an episode returns (stops failing evaluations early).

  Returns:
    (episodes used or None, the greedy actor, the evaluation environment).
  """
  torch.manual_seed(seed)
  environment = factory.make_environment(environment_name, seed=seed,
                                         observation_type=observation_type)
  eval_environment = factory.make_environment(environment_name, seed=seed + 1000,
                                              observation_type=observation_type)
  spec = specs.make_environment_spec(environment)
  builder = make_builder(**config)
  agent = local_layout.make_local_agent(builder, spec, seed=seed)
  greedy = make_evaluation_actor(builder, spec, agent)
  loop = environment_loop.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
  with agent:
    for episodes in range(eval_every, max_episodes + 1, eval_every):
      loop.run(num_episodes=eval_every)
      greedy.update(wait=True)
      if mean_return_reaches(eval_environment, greedy, num_eval_episodes, threshold,
                             max_return):
        return episodes, greedy, eval_environment
  return None, greedy, eval_environment


def greedy_episode(actor: core.Actor,
                   environment: dm_env.Environment) -> Tuple[List[int], dm_env.TimeStep]:
  """Runs one episode with `actor`; returns its actions and last timestep."""
  timestep = environment.reset()
  actions = []
  while not timestep.last():
    actions.append(int(actor.select_action(timestep.observation)))
    timestep = environment.step(actions[-1])
  return actions, timestep


def assert_same_optimizer_state(fresh: Any, trained: Any) -> None:
  fresh_opt, trained_opt = fresh._optimizer.state_dict(), trained._optimizer.state_dict()
  assert fresh_opt['state'].keys() == trained_opt['state'].keys()
  for key, value in trained_opt['state'].items():
    for name, tensor in value.items():
      torch.testing.assert_close(fresh_opt['state'][key][name], tensor, rtol=0, atol=0)


def check_checkpoint_rebuilds_the_greedy_policy(
    run_dir, network_key: str, greedy_weights: Callable[[core.Actor], Dict[str, Any]]) -> None:
  """The run's checkpoint alone rebuilds a greedy policy with the learned weights.

  Args:
    run_dir: the launcher's run directory (a pathlib.Path).
    network_key: the key of the policy's weights in the learner's state.
    greedy_weights: the state dict of the greedy actor's network.
  """
  assert list((run_dir / 'checkpoints').glob('ckpt-*.pt'))
  state = checkpointing.Checkpointer(str(run_dir / 'checkpoints')).restore()
  environment = factory.make_environment(state['environment']['name'], seed=0)
  greedy = registry.load_policy(str(run_dir)).actor
  learned = state['agent']['learner'][network_key]
  for name, value in learned.items():
    torch.testing.assert_close(greedy_weights(greedy)[name], value, rtol=0, atol=0)
  assert evaluation.evaluate(environment, greedy, 2)['episodes'] == 2
