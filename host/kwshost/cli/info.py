"""kwshost info: print the firmware banner and version of a device on a serial port (filled in by issue 2)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "info"
HELP = "print the firmware banner and version of a device on a serial port"
DESCRIPTION = HELP + " Not implemented yet: issue 2."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 2)
