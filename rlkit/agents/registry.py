"""Agent names, and loading a trained policy from a run directory.

    loaded = registry.load_policy('runs/dqn/20240101-120000')
    environment = loaded.make_environment(seed=0)
    timestep = environment.reset()
    action = loaded.actor.select_action(timestep.observation)

A launcher's checkpoint (see `experiments/common.py`) records the agent's
name, its config, the environment name and options, and the agent's state.
`load_policy` rebuilds the policy network from those and returns a greedy
actor; no replay server, learner or training code is created.

Agents are found by name: `register(name, config_cls, policy_loader)` adds
one; for a name not registered, `rlkit.agents.<name>` is imported and its
`load_policy_actor(config, environment_spec, agent_state)` is used, so new
agent packages plug in without editing this file.
"""

import dataclasses
import importlib
import os
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional

from rlkit import core
from rlkit import specs

# (config as a dict, environment spec, the Agent's saved state) -> greedy Actor.
PolicyLoader = Callable[[Mapping[str, Any], specs.EnvironmentSpec, Mapping[str, Any]],
                        core.Actor]


class AgentEntry(NamedTuple):
  config_cls: Any
  policy_loader: PolicyLoader


_REGISTRY: Dict[str, AgentEntry] = {}


def register(name: str, config_cls: Any, policy_loader: PolicyLoader) -> None:
  """Makes `load_policy` able to rebuild agent `name`'s policy."""
  if not isinstance(name, str) or not name:
    raise ValueError(f'Agent names are non-empty strings, got {name!r}.')
  if not callable(policy_loader):
    raise TypeError(f'policy_loader must be callable, got {policy_loader!r}.')
  _REGISTRY[name] = AgentEntry(config_cls, policy_loader)


def config_from_dict(config_cls: Any, values: Mapping[str, Any]) -> Any:
  """A config dataclass from a checkpoint's dict (lists back to tuples, unknown keys dropped)."""
  names = {f.name for f in dataclasses.fields(config_cls)}
  return config_cls(**{k: tuple(v) if isinstance(v, list) else v
                       for k, v in values.items() if k in names})


def _value_based_loader(builder_module: str, builder_name: str, config_module: str,
                        config_name: str) -> PolicyLoader:
  def load(config: Mapping[str, Any], environment_spec: specs.EnvironmentSpec,
           agent_state: Mapping[str, Any]) -> core.Actor:
    config_cls = getattr(importlib.import_module(config_module), config_name)
    builder = getattr(importlib.import_module(builder_module), builder_name)(
        config_from_dict(config_cls, config))
    network = builder.make_network(environment_spec)
    network.load_state_dict(agent_state['learner']['network'])
    network.eval()
    return builder.make_actor(network, environment_spec)
  return load


def _register_builtins() -> None:
  _REGISTRY.setdefault('dqn', AgentEntry(
      'rlkit.agents.dqn.config:DQNConfig', _value_based_loader(
          'rlkit.agents.dqn.builder', 'DQNBuilder', 'rlkit.agents.dqn.config', 'DQNConfig')))
  _REGISTRY.setdefault('nfq', AgentEntry(
      'rlkit.agents.nfq.config:NFQConfig', _value_based_loader(
          'rlkit.agents.nfq.builder', 'NFQBuilder', 'rlkit.agents.nfq.config', 'NFQConfig')))


_register_builtins()


def names() -> list:
  """The registered agent names."""
  return sorted(_REGISTRY)


def policy_loader(name: str) -> PolicyLoader:
  """The loader of agent `name` (registered, or `rlkit.agents.<name>.load_policy_actor`)."""
  if name in _REGISTRY:
    return _REGISTRY[name].policy_loader
  try:
    module = importlib.import_module(f'rlkit.agents.{name}')
  except ImportError as e:
    raise ValueError(f'Unknown agent {name!r}: not registered ({", ".join(names())}) and '
                     f'no package rlkit.agents.{name} ({e}).') from e
  loader = getattr(module, 'load_policy_actor', None)
  if not callable(loader):
    raise ValueError(f'Agent package rlkit.agents.{name} has no load_policy_actor(config, '
                     f'environment_spec, agent_state); register it with registry.register.')
  return loader


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


def load_policy(run_dir: str, checkpoint: Optional[str] = None) -> LoadedPolicy:
  """Loads the greedy policy saved in `run_dir`'s checkpoints.

  Args:
    run_dir: a run directory written by a launcher.
    checkpoint: a checkpoint file (path, or name in <run_dir>/checkpoints);
      None for the newest loadable one.

  Raises:
    FileNotFoundError: no run directory or no checkpoint.
    ValueError: a checkpoint that is corrupt or was not written by a launcher.
  """
  from rlkit.utils import checkpointing  # pylint: disable=g-import-not-at-top
  if not isinstance(run_dir, (str, os.PathLike)) or not os.fspath(run_dir):
    raise ValueError(f'run_dir must be a path, got {run_dir!r}.')
  directory = os.path.join(os.fspath(run_dir), 'checkpoints')
  if not os.path.isdir(directory):
    raise FileNotFoundError(f'{run_dir!r} has no checkpoints/ directory: is it a run directory?')
  checkpointer = checkpointing.Checkpointer(directory)
  state = checkpointer.restore(checkpoint)
  missing = [key for key in ('agent_name', 'environment', 'config', 'agent') if key not in state]
  if missing:
    raise ValueError(f'Checkpoint {checkpointer.last_restore["path"]} lacks {missing}: it was '
                     f'not written by an rlkit launcher.')
  environment_name = state['environment']['name']
  environment_kwargs = dict(state['environment'].get('kwargs') or {})
  loader = policy_loader(state['agent_name'])
  from rlkit.environments import factory  # pylint: disable=g-import-not-at-top
  environment = factory.make_environment(environment_name, **environment_kwargs)
  try:
    environment_spec = specs.make_environment_spec(environment)
  finally:
    environment.close()
  actor = loader(state['config'], environment_spec, state['agent'])
  return LoadedPolicy(
      actor=actor, agent_name=state['agent_name'], environment_name=environment_name,
      environment_kwargs=environment_kwargs, config=dict(state['config']),
      step=int(checkpointer.last_restore.get('step', -1)),
      checkpoint_path=checkpointer.last_restore['path'])
