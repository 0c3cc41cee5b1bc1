"""A small complete agent on `ActorLearnerBuilder`: linear Q-learning from replay.

The README's "Writing an agent" shows this file; tests/test_writing_an_agent.py
runs it through `run_experiment`, so the README stays true.
"""

import dataclasses

import numpy as np
import torch

import rlkit
from rlkit.adders import transition
from rlkit.agents import builders
from rlkit.agents import variable_client
from rlkit.replay import dataset as dataset_lib
from rlkit.replay import tables


@dataclasses.dataclass
class TinyConfig:
  learning_rate: float = 0.05
  discount: float = 0.9
  epsilon: float = 0.2
  batch_size: int = 16


class TinyActor(rlkit.Actor):
  """Epsilon-greedy on a linear Q-function; pulls weights when it has a variable source."""

  def __init__(self, q, epsilon, adder, source, seed):
    self._q, self._epsilon, self._adder = q, epsilon, adder
    self._client = source and variable_client.VariableClient(source, q, update_period=100)
    self._rng = np.random.default_rng(seed)

  def select_action(self, observation):
    if self._rng.random() < self._epsilon:
      return np.int32(self._rng.integers(self._q.out_features))
    with torch.no_grad():
      return np.int32(self._q(torch.as_tensor(observation).reshape(1, -1)).argmax())

  def observe_first(self, timestep):
    if self._adder:
      self._adder.add_first(timestep)

  def observe(self, action, next_timestep):
    if self._adder:
      self._adder.add(action, next_timestep)

  def update(self, wait=False):
    if self._client:
      self._client.update(wait)


class TinyLearner(rlkit.Learner):
  """One SGD step on (r + gamma * d * max_a' Q(s', a') - Q(s, a))^2 per batch."""

  def __init__(self, q, dataset, discount, learning_rate, counter, logger):
    self._q, self._dataset, self._discount = q, dataset, discount
    self._optimizer = torch.optim.SGD(q.parameters(), lr=learning_rate)
    self._counter, self._logger = counter, logger

  def step(self):
    batch = next(self._dataset).data
    q_tm1 = self._q(batch.observation.flatten(1))
    with torch.no_grad():
      target = batch.reward + self._discount * batch.discount * self._q(
          batch.next_observation.flatten(1)).max(-1).values
    q_taken = q_tm1.gather(-1, batch.action.long().unsqueeze(-1)).squeeze(-1)
    loss = (target - q_taken).square().mean()
    self._optimizer.zero_grad()
    loss.backward()
    self._optimizer.step()
    self._logger.write({'loss': loss.item(), **self._counter.increment(steps=1)})

  def get_variables(self, names):
    return [{k: v.clone() for k, v in self._q.state_dict().items()} for _ in names]

  def save(self):
    return {'q': self.get_variables(['policy'])[0], 'optimizer': self._optimizer.state_dict()}

  def restore(self, state):
    self._q.load_state_dict(state['q'])
    self._optimizer.load_state_dict(state['optimizer'])


class TinyBuilder(builders.ActorLearnerBuilder):
  """Replay of 1-step transitions, a linear Q-function, one learner step per batch inserted."""

  def __init__(self, config=None):
    self.config = config or TinyConfig()

  def make_networks(self, environment_spec, seed=None):
    torch.manual_seed(seed or 0)
    size = int(np.prod(environment_spec.observations.shape))
    return torch.nn.Linear(size, environment_spec.actions.num_values)

  def make_policy(self, networks, environment_spec, evaluation=False):
    return networks, 0.0 if evaluation else self.config.epsilon

  def make_replay_tables(self, environment_spec, policy):
    return [tables.make_transition_table('replay', environment_spec, max_size=10_000,
                                         min_size_to_sample=self.config.batch_size)]

  def make_dataset_iterator(self, replay_client):
    return dataset_lib.make_transition_iterator(
        replay_client.server_address, 'replay', self.config.batch_size)

  def make_adder(self, replay_client, environment_spec, policy):
    return transition.NStepTransitionAdder(replay_client, 1, self.config.discount,
                                           priority_fns={'replay': None})

  def make_actor(self, seed, policy, environment_spec, variable_source=None, adder=None, *,
                 horizon=None, num_envs=None):
    q, epsilon = policy
    return TinyActor(q, epsilon, adder, variable_source, seed)

  def make_learner(self, networks, dataset, logger_fn, environment_spec, replay_client=None,
                   counter=None, *, horizon=None):
    return TinyLearner(networks, dataset, self.config.discount, self.config.learning_rate,
                       counter, logger_fn('learner'))

  def update_rule(self):
    return builders.ReplayRatio(min_observations=self.config.batch_size,
                                samples_per_insert=self.config.batch_size,
                                batch_size=self.config.batch_size)

  def supports(self, environment_spec):
    if not hasattr(environment_spec.actions, 'num_values'):
      return f'TinyBuilder needs discrete actions, got {environment_spec.actions}.'
    return None
