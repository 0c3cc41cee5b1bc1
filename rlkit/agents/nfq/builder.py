"""NFQ's builder: DQN's replay, adder, iterator, network and actor, NFQ's learner."""

from typing import Any, List, Optional

import reverb
from torch import nn

from rlkit.agents.dqn import builder as dqn_builder
from rlkit.agents.nfq import config as config_lib
from rlkit.agents.nfq import learning
from rlkit.utils import counting
from rlkit.utils import loggers
from rlkit.utils import schedules


class NFQBuilder(dqn_builder.DQNBuilder):
  """Builds NFQ from an `NFQConfig`: 1-step uniform replay, constant epsilon."""

  def __init__(self, config: Optional[config_lib.NFQConfig] = None):
    super().__init__(config if config is not None else config_lib.NFQConfig())

  @property
  def n_step(self) -> int:
    return 1

  @property
  def prioritized(self) -> bool:
    return False

  @property
  def one_step_table(self) -> bool:
    return False

  def make_learner(self, network: nn.Module, iterators: List[Any],
                   client: Optional[reverb.Client] = None,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers.Logger] = None,
                   total_steps: Optional[int] = None) -> learning.NFQLearner:
    del total_steps
    c = self.config
    return learning.NFQLearner(
        network, iterators[0], discount=c.discount, learning_rate=c.learning_rate,
        max_gradient_norm=c.max_gradient_norm, counter=counter, logger=logger)

  def make_epsilon_schedule(self, total_steps: Optional[int] = None) -> schedules.Schedule:
    del total_steps
    return schedules.ConstantSchedule(self.config.epsilon)
