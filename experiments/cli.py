"""What every command-line entry point shares: one-line errors and exit statuses.

A usage error (a bad flag or value, conflicting flags, an unknown
environment, a missing or incompatible run directory) prints one line and
exits with status 2; a failure while running exits with 1.

Output: absl's own `--verbosity` (`-v`) means the same everywhere:
-1 (or lower) quiet (progress line and summary), 0 the default (also one
line per evaluation), 1 debug (also every logger's rows, and TensorFlow's,
Reverb's and SDL's own lines, which are hidden otherwise).
"""

import os
import sys
from typing import Any, Callable, List, NoReturn

from absl import app
from absl import flags

USAGE = 2
FAILURE = 1


def fail(message: str, status: int = USAGE) -> NoReturn:
  program = os.path.basename(sys.argv[0]) if sys.argv else 'rlkit'
  print(f'{program}: error: {message}', file=sys.stderr, flush=True)
  sys.exit(status)


def parse_flags(argv: List[str]) -> List[str]:
  """absl's parsing, with flag errors exiting 2 (absl's own exit with 1)."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(f'{e}\nPass --help for the flags and their defaults.')


def output_level() -> int:
  """rlkit's output level (0 quiet, 1 default, 2 debug) from absl's --verbosity."""
  value = flags.FLAGS.verbosity if flags.FLAGS.is_parsed() else 0
  return 0 if value < 0 else (1 if value == 0 else 2)


def run(main: Callable[[List[str]], Any],
        flags_parser: Callable[[List[str]], List[str]] = parse_flags) -> None:
  """absl's app.run; TensorFlow's and Reverb's chatter is configured before `main`."""

  def configured_main(argv: List[str]) -> Any:
    from rlkit.utils import verbosity  # pylint: disable=g-import-not-at-top
    verbosity.configure_output(output_level())
    return main(argv)

  app.run(configured_main, flags_parser=flags_parser)
