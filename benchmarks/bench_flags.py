"""absl flags for the benchmarks, parsed by each benchmark's `main(argv)`.

    FLAGS = flags.FlagValues()   # the benchmark's own, so benchmarks import side by side
    flags.DEFINE_integer('steps', 50_000, 'Environment steps.', flag_values=FLAGS)

    def main(argv=None):
      args = bench_flags.parse(FLAGS, argv, __doc__, 'benchmarks.environments')
      if args.steps < 1:
        bench_flags.fail(f'--steps must be >= 1, got {args.steps}.')

`main([...])` takes the flags without the program name (`['--steps', '300']`
or `['--steps=300']`); run as a module it reads `sys.argv`. `--help` prints the
usage and exits 0; a bad flag or value prints one line and exits 2, as the
launchers do (experiments/cli.py).
"""

import sys
import types
from typing import List, NoReturn, Optional

from absl import flags

from experiments import cli

HELP_ARGUMENTS = ('--help', '-help', '-h', '--helpshort', '-helpshort', '--helpfull')


def fail(message: str) -> NoReturn:
  cli.fail(message)


def usage(flag_values: flags.FlagValues, doc: str, module: str) -> str:
  listing = '\n'.join(line for line in flag_values.get_help().splitlines()
                      if not line.rstrip().endswith(':') or line.startswith(' '))
  return f'usage: python -m {module} [--flag=value ...]\n\n{doc.strip()}\n\nflags:\n{listing}'


def parse(flag_values: flags.FlagValues, argv: Optional[List[str]], doc: str,
          module: str) -> types.SimpleNamespace:
  """Parses `argv` (default sys.argv[1:]) into the flags' values (a '-' in a name becomes '_')."""
  argv = sys.argv[1:] if argv is None else list(argv)
  if any(arg in HELP_ARGUMENTS for arg in argv):
    print(usage(flag_values, doc, module))
    sys.exit(0)
  flag_values.unparse_flags()
  try:
    rest = flag_values([module] + argv)
  except flags.Error as e:
    fail(str(e))
  if len(rest) > 1:
    fail(f'unexpected arguments {rest[1:]}; flags are --name=value.')
  return types.SimpleNamespace(**{name.replace('-', '_'): flag_values[name].value
                                  for name in flag_values})


def app_flags_parser(flag_values: flags.FlagValues, doc: str, module: str):
  """A `flags_parser` for `absl.app.run` over the benchmark's own `flag_values`."""

  def parse_argv(argv: List[str]) -> List[str]:
    if any(arg in HELP_ARGUMENTS for arg in argv[1:]):
      print(usage(flag_values, doc, module))
      sys.exit(0)
    flags.FLAGS(argv[:1])
    try:
      return flag_values(argv)
    except flags.Error as e:
      fail(str(e))

  return parse_argv
