"""Builds environments by name.

    env = make_environment('gridworld:simple', observation_type='GRID')
    env = make_environment('gym:CartPole-v1', seed=0)
    env = make_environment('gym:HalfCheetah-v5', render_mode='rgb_array')
    env = make_environment('dm_control:cartpole-swingup', seed=0)
    env = make_environment('bsuite:catch/0', bsuite_results_dir='/tmp/bsuite')

The Control Suite ('dm_control:<domain>-<task>') and bsuite ('bsuite:<id>')
are imported only when such a name is made. MUJOCO_GL defaults to 'egl'
(offscreen rendering for dm_control and Gymnasium's MuJoCo tasks).

Every environment is a dm_env.Environment; by default it is wrapped in
`SinglePrecisionWrapper`, so observations, rewards and discounts (and the
action spec) are 32-bit.
"""

import difflib
from typing import Any, List, Optional

import dm_env
import gymnasium

from rlkit import wrappers
from rlkit.environments import gridworld
from rlkit.environments import gym as gym_adapter
from rlkit.environments import rendering

GRIDWORLD_PREFIX = 'gridworld'
GYM_PREFIX = 'gym'
DM_CONTROL_PREFIX = 'dm_control'
BSUITE_PREFIX = 'bsuite'
PREFIXES = (GRIDWORLD_PREFIX, GYM_PREFIX, DM_CONTROL_PREFIX, BSUITE_PREFIX)
_GRIDWORLD_KWARGS = ('discount', 'penalty_for_walls', 'randomize_goals')
# make_environment's own keyword arguments, for every environment but as noted.
_COMMON_KWARGS = ('seed', 'render_mode', 'max_episode_length', 'single_precision',
                  'one_hot_observations')
_DM_CONTROL_KWARGS = ('task_kwargs', 'environment_kwargs', 'visualize_reward',
                      'concatenate_observations', 'observation_names',
                      'render_height', 'render_width', 'camera_id')
_BSUITE_KWARGS = ('bsuite_results_dir', 'bsuite_overwrite', 'bsuite_log_by_step')

rendering.set_default_gl_backend()


def _gridworld_names() -> List[str]:
  return [f'{GRIDWORLD_PREFIX}:{task}' for task in gridworld.TASKS]


def _known_forms() -> str:
  return (f"'{GRIDWORLD_PREFIX}:<task>' with <task> one of "
          f"{', '.join(gridworld.TASKS)} (i.e. {', '.join(_gridworld_names())}), "
          f"'{GYM_PREFIX}:<gymnasium id>' such as 'gym:CartPole-v1' or 'gym:HalfCheetah-v5', "
          f"'{DM_CONTROL_PREFIX}:<domain>-<task>' such as 'dm_control:cartpole-swingup', "
          f"or '{BSUITE_PREFIX}:<id>' such as 'bsuite:catch/0'")


def known_environments(include_gym: bool = True, include_dm_control: bool = False,
                       include_bsuite: bool = False) -> List[str]:
  """Returns names `make_environment` accepts.

  Args:
    include_gym: also list 'gym:<id>' for every id currently in gymnasium's
      registry (ids registered later work too).
    include_dm_control: also list 'dm_control:<domain>-<task>' for every
      Control Suite task (imports dm_control).
    include_bsuite: also list 'bsuite:<id>' for every bsuite id (imports bsuite).

  Returns:
    The gridworld names ('gridworld:<task>'), then the sorted gymnasium names,
    the Control Suite names and the bsuite ids, as asked.
  """
  names = _gridworld_names()
  if include_gym:
    names += [f'{GYM_PREFIX}:{env_id}' for env_id in sorted(gymnasium.registry)]
  if include_dm_control:
    from rlkit.environments import control_suite  # pylint: disable=g-import-not-at-top
    names += [f'{DM_CONTROL_PREFIX}:{domain}-{task}'
              for domain, task in control_suite.all_tasks()]
  if include_bsuite:
    from rlkit.environments import behaviour_suite  # pylint: disable=g-import-not-at-top
    names += [f'{BSUITE_PREFIX}:{bsuite_id}' for bsuite_id in behaviour_suite.all_ids()]
  return names


def _check_max_episode_length(max_episode_length: Any) -> None:
  if max_episode_length is None:
    return
  if (not isinstance(max_episode_length, int) or
      isinstance(max_episode_length, bool) or max_episode_length <= 0):
    raise ValueError(
        'max_episode_length must be None or a positive int, got '
        f'{max_episode_length!r}.')


def _make_gridworld(task: str, name: str, seed: Optional[int],
                    observation_type: Any, render_mode: Optional[str],
                    max_episode_length: Optional[int],
                    kwargs: dict) -> dm_env.Environment:
  if task not in gridworld.TASKS:
    close = difflib.get_close_matches(task, gridworld.TASKS, n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(
        f'Unknown gridworld task {task!r} in {name!r}; known gridworld '
        f'environments: {", ".join(_gridworld_names())}.{hint}')
  if render_mode not in (None, 'rgb_array'):
    raise ValueError(
        f"GridWorld renders only RGB arrays: render_mode must be None or "
        f"'rgb_array', got {render_mode!r}.")
  _check_kwargs(kwargs, ('observation_type',) + _GRIDWORLD_KWARGS, name, 'gridworld')
  if observation_type is not None:
    kwargs['observation_type'] = observation_type
  if max_episode_length is not None:
    kwargs['max_episode_length'] = max_episode_length
  return gridworld.build_gridworld_task(task, seed=seed, **kwargs)


def _make_gym(env_id: str, name: str, seed: Optional[int],
              observation_type: Any, render_mode: Optional[str],
              max_episode_length: Optional[int],
              kwargs: dict) -> dm_env.Environment:
  if observation_type is not None:
    raise ValueError(
        f'observation_type is only supported by gridworld environments, got '
        f'observation_type={observation_type!r} for {name!r}.')
  if max_episode_length is not None:
    if 'max_episode_steps' in kwargs:
      raise ValueError(
          'Pass either max_episode_length or max_episode_steps, not both '
          f'(got {max_episode_length!r} and {kwargs["max_episode_steps"]!r}).')
    kwargs['max_episode_steps'] = max_episode_length
  try:
    env = gymnasium.make(env_id, render_mode=render_mode, **kwargs)
  except (gymnasium.error.Error, ImportError) as error:
    missing = gym_adapter.missing_dependency_message(env_id, error)
    if missing is not None:
      raise ValueError(f'{name!r}: {missing}') from error
    if isinstance(error, ImportError):
      raise
    close = difflib.get_close_matches(env_id, list(gymnasium.registry), n=5,
                                      cutoff=0.6)
    hint = (f' Close matches: {", ".join(GYM_PREFIX + ":" + c for c in close)}.'
            if close else '')
    raise ValueError(
        f'Unknown gymnasium environment {env_id!r} in {name!r} ({error}).'
        f'{hint} Known forms: {_known_forms()}.') from error
  try:
    return gym_adapter.GymnasiumEnvironment(env, seed=seed)
  except Exception:
    env.close()
    raise


def _check_kwargs(kwargs: dict, own: tuple, name: str, family: str) -> None:
  """TypeError naming the unknown keyword arguments and every accepted one.

  `own` are the family's keyword arguments (those in `kwargs` are the ones
  make_environment does not take itself); `_COMMON_KWARGS` apply to all.
  """
  accepted = _COMMON_KWARGS + own
  unknown = sorted(set(kwargs) - set(own))
  if unknown:
    close = sorted({c for u in unknown for c in difflib.get_close_matches(u, accepted, n=1)})
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise TypeError(f'Unexpected keyword argument{"s" if len(unknown) > 1 else ""} '
                    f'{", ".join(unknown)} for {name!r}; {family} environments accept '
                    f'{", ".join(accepted)}.{hint}')


def _make_dm_control(task: str, name: str, seed: Optional[int],
                     observation_type: Any, render_mode: Optional[str],
                     max_episode_length: Optional[int],
                     kwargs: dict) -> dm_env.Environment:
  from rlkit.environments import control_suite  # pylint: disable=g-import-not-at-top
  if observation_type is not None:
    raise ValueError(
        f'observation_type is only supported by gridworld environments, got '
        f'observation_type={observation_type!r} for {name!r}.')
  if render_mode not in (None, 'rgb_array'):
    raise ValueError(
        f"Control Suite environments render only RGB arrays: render_mode must be None or "
        f"'rgb_array', got {render_mode!r}.")
  _check_kwargs(kwargs, _DM_CONTROL_KWARGS, name, 'Control Suite')
  concatenate = kwargs.pop('concatenate_observations', True)
  observation_names = kwargs.pop('observation_names', None)
  if observation_names is not None and not concatenate:
    raise ValueError('observation_names selects the fields to concatenate; it needs '
                     'concatenate_observations=True.')
  environment = control_suite.load(task, seed=seed, **kwargs)
  try:
    if concatenate:
      environment = wrappers.ConcatObservationWrapper(environment, observation_names)
    if max_episode_length is not None:
      environment = wrappers.StepLimitWrapper(environment, max_episode_length)
  except Exception:
    environment.close()
    raise
  return environment


def _make_bsuite(bsuite_id: str, name: str, seed: Optional[int],
                 observation_type: Any, render_mode: Optional[str],
                 max_episode_length: Optional[int],
                 kwargs: dict) -> dm_env.Environment:
  from rlkit.environments import behaviour_suite  # pylint: disable=g-import-not-at-top
  if observation_type is not None:
    raise ValueError(
        f'observation_type is only supported by gridworld environments, got '
        f'observation_type={observation_type!r} for {name!r}.')
  if render_mode is not None:
    raise ValueError(f'bsuite environments cannot render: render_mode must be None, got '
                     f'{render_mode!r} for {name!r}.')
  _check_kwargs(kwargs, _BSUITE_KWARGS, name, 'bsuite')
  environment = behaviour_suite.load(
      bsuite_id, seed=seed, results_dir=kwargs.get('bsuite_results_dir'),
      overwrite=kwargs.get('bsuite_overwrite', False),
      log_by_step=kwargs.get('bsuite_log_by_step', False))
  if max_episode_length is not None:
    environment = wrappers.StepLimitWrapper(environment, max_episode_length)
  return environment


_MAKERS = {
    GRIDWORLD_PREFIX: _make_gridworld,
    GYM_PREFIX: _make_gym,
    DM_CONTROL_PREFIX: _make_dm_control,
    BSUITE_PREFIX: _make_bsuite,
}


def make_environment(name: str,
                     *,
                     seed: Optional[int] = None,
                     observation_type: Any = None,
                     render_mode: Optional[str] = None,
                     max_episode_length: Optional[int] = None,
                     single_precision: bool = True,
                     one_hot_observations: bool = False,
                     **kwargs: Any) -> dm_env.Environment:
  """Builds the environment called `name`.

  Args:
    name: 'gridworld:<task>' (a task of `gridworld.TASKS`: simple, obstacle,
      random_goal); 'gym:<id>' for any gymnasium id (e.g. 'gym:CartPole-v1',
      'gym:HalfCheetah-v5'); 'dm_control:<domain>-<task>' for a Control Suite
      task (e.g. 'dm_control:walker-walk'); or 'bsuite:<id>' (e.g.
      'bsuite:catch/0', see `behaviour_suite.subset_ids`).
    seed: for gridworlds, the goal sampler's seed; for gymnasium, the seed of
      the first reset and of the action space; for the Control Suite, the
      task's `random`; for bsuite, the experiment's seed where it takes one.
    observation_type: gridworld only: an `ObservationType` or its name
      ('STATE_INDEX', 'AGENT_ONEHOT', 'GRID', 'AGENT_GOAL_POS'); None keeps the
      gridworld default (STATE_INDEX).
    render_mode: passed to `gymnasium.make`; gridworlds and the Control Suite
      accept None or 'rgb_array' (their `render()` always returns an RGB
      array); bsuite only None.
    max_episode_length: truncate episodes after this many steps (gridworld:
      its `max_episode_length`, None keeps the default of 200; gymnasium: the
      `max_episode_steps` of `gymnasium.make`, None keeps the registered limit;
      Control Suite and bsuite: a `StepLimitWrapper`, None keeps the task's).
    single_precision: wrap in `SinglePrecisionWrapper`.
    one_hot_observations: wrap in `OneHotObservationWrapper`; needs a discrete
      observation spec (e.g. 'gym:FrozenLake-v1' or a STATE_INDEX gridworld).
    **kwargs: gridworld: discount, penalty_for_walls, randomize_goals;
      gymnasium: any keyword argument of `gymnasium.make`; Control Suite:
      task_kwargs, environment_kwargs, visualize_reward,
      concatenate_observations (default True: the dict observation becomes one
      vector, `ConcatObservationWrapper`), observation_names (the fields to
      keep), render_height, render_width, camera_id; bsuite:
      bsuite_results_dir (record bsuite's CSV logs there), bsuite_overwrite,
      bsuite_log_by_step.

  Returns:
    A dm_env.Environment.

  Raises:
    TypeError: if `name` is not a string, or a keyword argument is unknown.
    ValueError: if `name` is unknown (the message lists the known forms and
      close matches) or an option does not apply to the environment.
  """
  if not isinstance(name, str):
    raise TypeError(
        f'name must be a string such as {_known_forms()}; got '
        f'{type(name).__name__}: {name!r}.')
  _check_max_episode_length(max_episode_length)
  prefix, separator, rest = name.partition(':')
  prefix = prefix.strip().lower()
  rest = rest.strip()
  if not separator or not rest or prefix not in PREFIXES:
    close = []
    if rest or not separator:
      candidates = _close_match_candidates()
      close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
      close += [c for c in difflib.get_close_matches(
          f'{GYM_PREFIX}:{name}', candidates, n=3, cutoff=0.8)
                if c not in close]
    hint = f' Close matches: {", ".join(close)}.' if close else ''
    raise ValueError(
        f'Unknown environment name {name!r}; expected {_known_forms()}.{hint}')
  make = _MAKERS[prefix]
  environment = make(rest, name, seed, observation_type, render_mode,
                     max_episode_length, dict(kwargs))
  if one_hot_observations:
    environment = wrappers.OneHotObservationWrapper(environment)
  if single_precision:
    environment = wrappers.SinglePrecisionWrapper(environment)
  return environment


def _close_match_candidates() -> List[str]:
  """Every known name; suites that cannot be imported are left out."""
  names = known_environments(include_gym=True)
  for flag in ('include_dm_control', 'include_bsuite'):
    try:
      names += known_environments(include_gym=False, **{flag: True})[len(_gridworld_names()):]
    except ImportError:
      pass
  return names


class EnvironmentFactory:
  """A picklable `seed -> make_environment(name, seed=seed, **kwargs)`.

  What batched environments take to build their copies; being picklable, it
  also reaches the worker processes of `SubprocessBatchedEnvironment`.
  """

  def __init__(self, name: str, **kwargs: Any):
    if not isinstance(name, str) or not name:
      raise TypeError(f'name must be a non-empty string such as {_known_forms()}; '
                      f'got {name!r}.')
    self.name = name
    self.kwargs = kwargs

  def __call__(self, seed: Optional[int] = None) -> dm_env.Environment:
    return make_environment(self.name, seed=seed, **self.kwargs)

  def __repr__(self) -> str:
    options = ''.join(f', {k}={v!r}' for k, v in self.kwargs.items())
    return f'EnvironmentFactory({self.name!r}{options})'
