"""The one place a run's schedules get their horizon (see BUILD_NOTES, "Schedules").

The horizon is the environment steps over which schedules defined as a
fraction of training (epsilon decay, learning-rate decay) run: the step
budget, or `schedule_horizon` when set (needed for an episode budget), or
None (unknown: such schedules then hold constant after a fixed warm-up).
It is fixed when a run starts and kept on resume; a run whose budget goes
past its horizon (a resumed run with a larger budget, a horizon guessed low)
says so once and its schedules hold their final values.
"""

from typing import Any, Callable, Mapping, Optional

from rlkit.experiments import config as config_lib


def resolve(config: config_lib.ExperimentConfig, resume_state: Optional[Mapping[str, Any]],
            say: Callable[[str], None] = print) -> Optional[int]:
  """The horizon of this run; says once when the budget goes past it, or it is unknown."""
  horizon = config.horizon
  schedules = ', '.join(config.builder.horizon_schedules())
  if resume_state is not None and 'schedule_horizon' in resume_state:
    saved = resume_state['schedule_horizon']
    if saved != horizon:
      say(f'schedules keep the horizon this run started with ({saved} steps), not '
          f'{horizon} steps.')
    horizon = saved
  budget = config.max_num_actor_steps
  if not schedules:
    return horizon
  if horizon is not None and budget is not None and budget > horizon:
    say(f'the schedules ({schedules}) span {horizon} environment steps but the budget is '
        f'{budget}: from {horizon} steps on they hold their final values.')
  elif horizon is None and config.max_num_episodes is not None:
    say(f'an episode budget ({config.max_num_episodes}) gives the schedules ({schedules}) no '
        f'step horizon: learning rates stay constant and exploration decays over its '
        f'warm-up; set schedule_horizon (--schedule_horizon) to decay over a number of steps.')
  return horizon
