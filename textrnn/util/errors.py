"""User-facing errors and the wrapper that turns them into clean exits.

Every command-line tool runs its `main` through `run_app`, so a problem with
the user's input (a bad line, a missing file, a flag out of range) prints one
readable message and exits non-zero instead of showing a Python traceback.
"""

import os
import sys

from absl import app


class UserError(Exception):
    """A problem the user can fix: bad input data, bad flags, a missing file."""


def where(path, line_number=None):
    """`path:line` (or just `path`) for error messages."""
    return f"{path}:{line_number}" if line_number is not None else str(path)


def run_app(main, tensorflow=True, texts=False):
    """`absl.app.run(main)`, with `UserError` and Ctrl-C turned into clean exits.

    With `tensorflow`, TensorFlow is imported first, without its start-up
    noise (see util/startup.py); tools that never need it pass False. Arguments
    that are not flags are refused unless the tool takes `texts` that way.
    """
    def guarded(argv):
        from absl import flags, logging
        if not flags.FLAGS["verbosity"].present:
            # TensorFlow logs every save and trace at INFO through absl.
            logging.set_verbosity(logging.WARNING)
        try:
            if len(argv) > 1 and not texts:
                raise UserError(f"unexpected arguments: {' '.join(argv[1:])}")
            if tensorflow:
                from textrnn.util import startup
                startup.import_tensorflow()
            return main(argv)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
        except BrokenPipeError:
            # the reader went away (`... | head`): stop quietly, as Unix tools do;
            # point stdout at /dev/null so the interpreter's final flush cannot fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)

    from textrnn.util import startup
    startup.command_environment()
    _list_flags_in_help(main.__module__)
    app.run(guarded)


def _list_flags_in_help(module):
    """Make `module`'s flags the ones `--help` lists.

    absl's --help lists the flags of the program's main module; an installed
    command (`textrnn-train`) is a wrapper script whose main module defines
    none, so --help listed nothing but "Try --helpfull".
    """
    from absl import flags
    if module != "__main__":
        for flag in flags.FLAGS.get_key_flags_for_module(module):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
