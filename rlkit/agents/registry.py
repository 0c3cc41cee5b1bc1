"""The one registry of agents (name -> builder and config class), and loading a trained policy.

    builder = registry.make_builder('dqn', DQNConfig(n_step=1))
    loaded = registry.load_policy('runs/dqn/20240101-120000')
    action = loaded.actor.select_action(timestep.observation)

`AGENTS` is a constant table (import paths, so nothing is imported until an
agent is asked for). A run records its agent's name; `load_policy` rebuilds
that agent's networks from the recorded config, loads the policy variables
saved in the checkpoint and returns the greedy actor, with no replay or
learner. A builder not in the table (your own agent) loads with
`load_policy(run_dir, builder=MyBuilder(config))`.
"""

import dataclasses
import importlib
import importlib.util
import os
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

from rlkit import core
from rlkit import specs


class AgentEntry(NamedTuple):
  builder: str  # 'module:Class'
  config: str   # 'module:Class'


AGENTS: Mapping[str, AgentEntry] = {
    'dqn': AgentEntry('rlkit.agents.dqn.builder:DQNBuilder', 'rlkit.agents.dqn.config:DQNConfig'),
    'nfq': AgentEntry('rlkit.agents.nfq.builder:NFQBuilder', 'rlkit.agents.nfq.config:NFQConfig'),
    'qr_dqn': AgentEntry('rlkit.agents.qr_dqn.builder:QRDQNBuilder',
                         'rlkit.agents.qr_dqn.config:QRDQNConfig'),
    'reinforce': AgentEntry('rlkit.agents.reinforce.builder:REINFORCEBuilder',
                            'rlkit.agents.reinforce.config:REINFORCEConfig'),
    'actor_critic': AgentEntry('rlkit.agents.actor_critic.builder:ActorCriticBuilder',
                               'rlkit.agents.actor_critic.config:ActorCriticConfig'),
    'sac': AgentEntry('rlkit.agents.sac.builder:SACBuilder', 'rlkit.agents.sac.config:SACConfig'),
    'td3': AgentEntry('rlkit.agents.td3.builder:TD3Builder', 'rlkit.agents.td3.config:TD3Config'),
    'd4pg': AgentEntry('rlkit.agents.d4pg.builder:D4PGBuilder',
                       'rlkit.agents.d4pg.config:D4PGConfig'),
    'ppo': AgentEntry('rlkit.agents.ppo.builder:PPOBuilder', 'rlkit.agents.ppo.config:PPOConfig'),
}


def _load(path: str) -> Any:
  module, _, name = path.partition(':')
  return getattr(importlib.import_module(module), name)


def names() -> List[str]:
  """The agents rlkit ships whose package is present."""
  present = []
  for name, entry in AGENTS.items():
    module = entry.builder.partition(':')[0]
    if importlib.util.find_spec(module.rsplit('.', 1)[0]) is not None:
      present.append(name)
  return present


def _entry(name: str) -> AgentEntry:
  if name not in AGENTS:
    raise ValueError(f'Unknown agent {name!r}; rlkit has {", ".join(names())}. For your own '
                     f'agent, pass its builder (e.g. load_policy(run_dir, builder=...)).')
  return AGENTS[name]


def builder_class(name: str) -> type:
  return _load(_entry(name).builder)


def config_class(name: str) -> type:
  return _load(_entry(name).config)


def make_builder(name: str, config: Any = None) -> Any:
  """Agent `name`'s builder with `config` (its defaults when None)."""
  return builder_class(name)(config if config is not None else config_class(name)())


def name_of(builder: Any) -> str:
  """The registered name of `builder`'s class, else its class name in snake case."""
  cls = type(builder)
  for name, entry in AGENTS.items():
    module, _, class_name = entry.builder.partition(':')
    if cls.__module__ == module and cls.__name__ == class_name:
      return name
  base = cls.__name__[:-len('Builder')] if cls.__name__.endswith('Builder') else cls.__name__
  return ''.join(f'_{c.lower()}' if c.isupper() and i else c.lower()
                 for i, c in enumerate(base)) or 'agent'


def agents_supporting(environment_spec: specs.EnvironmentSpec,
                      candidates: Optional[Sequence[str]] = None) -> List[str]:
  """The rlkit agents (default configs) that can act in `environment_spec`."""
  supported = []
  for name in candidates or names():
    try:
      if make_builder(name).supports(environment_spec) is None:
        supported.append(name)
    except ImportError:
      continue
  return supported


def config_from_dict(config_cls: Any, values: Mapping[str, Any]) -> Any:
  """A config dataclass from a checkpoint's dict (lists back to tuples, unknown keys dropped)."""
  names_ = {f.name for f in dataclasses.fields(config_cls)}
  return config_cls(**{k: tuple(v) if isinstance(v, list) else v
                       for k, v in values.items() if k in names_})


class SavedVariables(core.VariableSource):
  """A VariableSource serving variables saved in a checkpoint."""

  def __init__(self, variables: Mapping[str, Any]):
    self._variables = dict(variables)

  def get_variables(self, names_: Sequence[str]) -> List[Any]:
    missing = [n for n in names_ if n not in self._variables]
    if missing:
      raise ValueError(f'No saved variables {missing}; saved: {sorted(self._variables)}.')
    return [self._variables[n] for n in names_]


def greedy_actor(builder: Any, environment_spec: specs.EnvironmentSpec,
                 variable_source: core.VariableSource, seed: int = 0) -> core.Actor:
  """The builder's greedy policy on fresh networks loaded from `variable_source`."""
  networks = builder.make_networks(environment_spec, seed)
  policy = builder.make_policy(networks, environment_spec, evaluation=True)
  actor = builder.make_actor(seed, policy, environment_spec, variable_source, None)
  actor.update(wait=True)
  return actor


@dataclasses.dataclass
class LoadedPolicy:
  """A greedy policy restored from a checkpoint, and how to make its environment."""
  actor: core.Actor
  agent_name: str
  environment_name: str
  environment_kwargs: Dict[str, Any]
  config: Dict[str, Any]
  step: int
  checkpoint_path: str

  def make_environment(self, seed: Optional[int] = None, render_mode: Optional[str] = None):
    """A fresh instance of the environment the policy was trained on."""
    from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
    return factory.make_environment(self.environment_name, seed=seed, render_mode=render_mode,
                                    **self.environment_kwargs)


def load_policy(run_dir: str, checkpoint: Optional[str] = None,
                builder: Any = None) -> LoadedPolicy:
  """Loads the greedy policy saved in `run_dir`'s checkpoints.

  Args:
    run_dir: a run directory written by `run_experiment`.
    checkpoint: a checkpoint file (path, or name in <run_dir>/checkpoints);
      None for the newest loadable one.
    builder: the agent's builder, for agents not in `AGENTS`.

  Raises:
    FileNotFoundError: no run directory or no checkpoint.
    ValueError: a checkpoint that is corrupt or was not written by a runner.
  """
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  from rlkit.utils import checkpointing  # pylint: disable=g-import-not-at-top
  if not isinstance(run_dir, (str, os.PathLike)) or not os.fspath(run_dir):
    raise ValueError(f'run_dir must be a path, got {run_dir!r}.')
  directory = os.path.join(os.fspath(run_dir), 'checkpoints')
  if not os.path.isdir(directory):
    raise FileNotFoundError(f'{run_dir!r} has no checkpoints/ directory: is it a run directory?')
  checkpointer = checkpointing.Checkpointer(directory)
  state = checkpointer.restore(checkpoint)
  missing = [key for key in ('agent_name', 'environment', 'config', 'policy_variables')
             if key not in state]
  if missing:
    raise ValueError(f'Checkpoint {checkpointer.last_restore["path"]} lacks {missing}: it was '
                     f'not written by this version of rlkit\'s runner.')
  if state['environment'] is None:
    raise ValueError(f'Checkpoint {checkpointer.last_restore["path"]} does not name its '
                     f'environment (the run used an unnamed environment factory).')
  name = state['agent_name']
  if builder is None:
    builder = builder_class(name)(config_from_dict(config_class(name), state['config']))
  environment_name = state['environment']['name']
  environment_kwargs = dict(state['environment'].get('kwargs') or {})
  environment = factory.make_environment(environment_name, **environment_kwargs)
  try:
    environment_spec = specs.make_environment_spec(environment)
  finally:
    environment.close()
  actor = greedy_actor(builder, environment_spec,
                       SavedVariables({'policy': state['policy_variables']}))
  return LoadedPolicy(
      actor=actor, agent_name=name, environment_name=environment_name,
      environment_kwargs=environment_kwargs, config=dict(state['config']),
      step=int(checkpointer.last_restore.get('step', -1)),
      checkpoint_path=checkpointer.last_restore['path'])
