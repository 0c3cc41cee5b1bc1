"""What every command-line entry point shares: one-line errors and exit statuses.

A usage error (a bad flag or value, conflicting flags, an unknown
environment, a missing or incompatible run directory) prints one line and
exits with status 2; a failure while running exits with 1.
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


def run(main: Callable[[List[str]], Any],
        flags_parser: Callable[[List[str]], List[str]] = parse_flags) -> None:
  app.run(main, flags_parser=flags_parser)
