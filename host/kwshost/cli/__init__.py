"""`kwshost` command line: one module per subcommand, one place that turns errors into exit codes.

Each command module defines NAME, HELP (one line), DESCRIPTION (the --help text that teaches),
`add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from kwshost import __version__
from kwshost.errors import KwsError

# Order is the order shown in --help: the device workflow first, then the model workflow.
COMMANDS = (
    "info", "flash", "listen", "profile",
    "features", "infer", "summarize", "params",
    "dataset", "train", "average", "convert", "evaluate",
)

EPILOG = """\
typical session on the emulated board:
  kwshost flash --target qemu            # boots the firmware in QEMU, prints its port URL
  kwshost info --port socket://127.0.0.1:PORT
  kwshost listen --device --port socket://127.0.0.1:PORT --wav speech.wav

run `kwshost COMMAND --help` for the details of each command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kwshost",
        description="Train, convert, evaluate, flash and talk to the EFR32xG24 wake-word system.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kwshost {__version__}")
    parser.add_argument("-v", "--verbose-log", dest="log_level", action="store_const",
                        const=logging.DEBUG, default=logging.WARNING,
                        help="show debug logging")
    parser.add_argument("--debug", action="store_true",
                        help="show a full traceback when a command fails")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"kwshost.cli.{name}")
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    try:
        return int(args._run(args) or 0)
    except KwsError as e:
        if args.debug:
            raise
        print(f"kwshost {args.command}: error: {e}", file=sys.stderr)
        if e.hint:
            print(f"  hint: {e.hint}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # The reader went away (`kwshost profile | head`): stop quietly, as `yes | head` does;
        # stdout goes to /dev/null so that Python's flush at exit does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141   # 128 + SIGPIPE, what a shell shows for a writer stopped by the pipe
    except OSError as e:
        # A file system refusal the command did not foresee (a folder that cannot be made, a
        # full disk, no permission): one line, as for the errors it names itself.
        if args.debug:
            raise
        where = f": {e.filename}" if e.filename else ""
        print(f"kwshost {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kwshost {args.command}: interrupted", file=sys.stderr)
        return 130
