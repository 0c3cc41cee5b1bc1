"""rlkit: a PyTorch research framework for reinforcement learning with Acme's interfaces."""

from rlkit.core import Actor, Learner, Saveable, VariableSource, Worker
from rlkit.environment_loop import EnvironmentLoop
from rlkit.specs import EnvironmentSpec, make_environment_spec
from rlkit.types import Transition

__version__ = "0.1.0"
