"""Builds a single-process agent from any builder (Acme's local layout).

    agent = make_local_agent(builder, environment_spec, seed=0)
    loop = rlkit.EnvironmentLoop(environment, agent)

Everything lives in this process: an in-process Reverb server holding the
builder's tables, the adder writing to it, the learner sampling from it, and
the collect actor sharing the learner's networks (no weight copies). The
builder's `update_rule()` picks the agent: `Agent` (a replay ratio, never
blocking) or `OnPolicyAgent` (one learner step per batch of new items).
"""

from typing import Any, Callable, List, Optional

from rlkit import specs
from rlkit.adders import batched as batched_adder
from rlkit.agents import agent as agent_lib
from rlkit.agents import builders
from rlkit.agents import on_policy_agent
from rlkit.replay import server as server_lib
from rlkit.utils import counting
from rlkit.utils import loggers


def no_op_logger_factory(label: str, steps_key: Optional[str] = None,
                         instance: Optional[int] = None) -> loggers.Logger:
  del label, steps_key, instance
  return loggers.NoOpLogger()


def check_builder(builder: Any) -> builders.ActorLearnerBuilder:
  if not isinstance(builder, builders.ActorLearnerBuilder):
    raise TypeError(
        f'builder must be an rlkit.agents.builders.ActorLearnerBuilder, got '
        f'{type(builder).__name__}.')
  return builder


def make_local_agent(builder: builders.ActorLearnerBuilder,
                     environment_spec: specs.EnvironmentSpec, *,
                     seed: int = 0,
                     counter: Optional[counting.Counter] = None,
                     logger_fn: Optional[Callable[..., loggers.Logger]] = None,
                     num_envs: Optional[int] = None,
                     horizon: Optional[int] = None,
                     replay_checkpoint_dir: Optional[str] = None,
                     networks: Any = None) -> agent_lib.AgentBase:
  """The builder's agent in this process; `agent.close()` stops its server.

  Args:
    builder: any `ActorLearnerBuilder`.
    environment_spec: one environment copy's spec.
    seed: seeds the network initialization and the actor's randomness.
    counter: the run's counter; the learner counts under prefix 'learner'.
    logger_fn: label -> logger; the learner asks for 'learner'.
    num_envs: act on batches of this many copies (a `BatchedEnvironment`);
      None for one environment.
    horizon: environment steps the schedules span (None: unknown).
    replay_checkpoint_dir: where the server checkpoints its tables (and
      restores them from), when the builder checkpoints its replay.
    networks: networks to train instead of fresh `make_networks(spec, seed)`.

  Returns:
    An `Agent` or `OnPolicyAgent` (with `networks` and `replay_server`).
  """
  check_builder(builder)
  if not isinstance(environment_spec, specs.EnvironmentSpec):
    raise TypeError(
        f'environment_spec must be an EnvironmentSpec, got {type(environment_spec).__name__}.')
  if num_envs is not None and (not isinstance(num_envs, int) or isinstance(num_envs, bool)
                               or num_envs < 1):
    raise ValueError(f'num_envs must be None or a positive integer, got {num_envs!r}.')
  unsupported = builder.supports(environment_spec)
  if unsupported:
    raise builders.UnsupportedSpecError(unsupported)
  logger_fn = logger_fn or no_op_logger_factory
  if networks is None:
    networks = builder.make_networks(environment_spec, seed)
  policy = builder.make_policy(networks, environment_spec, evaluation=False)
  rule = builder.update_rule()
  tables = builder.make_replay_tables(environment_spec, policy)
  server = server_lib.ReplayServer(
      tables, checkpoint_dir=replay_checkpoint_dir if builder.checkpoint_replay() else None)
  resources: List[Any] = [server]
  try:
    client = server.client()
    dataset = builder.make_dataset_iterator(client)
    resources.append(dataset)
    if num_envs is None:
      adder = builder.make_adder(client, environment_spec, policy)
    else:
      adder = batched_adder.BatchedAdder.from_factory(
          lambda: builder.make_adder(client, environment_spec, policy), num_envs)
    if adder is not None:
      resources.append(adder)
    learner = builder.make_learner(
        networks, dataset, logger_fn, environment_spec, client,
        counting.Counter(counter or counting.Counter(), prefix='learner'), horizon=horizon)
    actor = builder.make_actor(seed, policy, environment_spec, None, adder,
                               horizon=horizon, num_envs=num_envs)
  except BaseException:
    agent_lib.close_resources(resources)
    raise

  if isinstance(rule, builders.ReplayRatio):
    table_names = list(server.tables)
    batch_size = rule.batch_size

    def can_sample() -> bool:
      return all(server.can_sample(table, batch_size) for table in table_names)

    iterators = [dataset] if callable(getattr(dataset, 'ready', None)) else []
    agent = agent_lib.Agent(
        actor, learner, min_observations=rule.min_observations,
        samples_per_insert=rule.samples_per_insert, batch_size=batch_size,
        iterators=iterators, can_sample=can_sample, resources=resources,
        replay_server=server, networks=networks)
  elif isinstance(rule, builders.ItemsPerUpdate):
    agent = on_policy_agent.OnPolicyAgent(
        actor, learner, episodes_per_update=rule.items,
        item_every_steps=rule.item_every_steps, resources=resources,
        replay_server=server, networks=networks)
  else:
    agent_lib.close_resources(resources)
    raise TypeError(f'{type(builder).__name__}.update_rule() returned {rule!r}; expected '
                    f'a builders.ReplayRatio or builders.ItemsPerUpdate.')
  return agent
