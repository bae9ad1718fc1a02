"""kwshost profile: per-layer cost of a model on the PC (cycle model) or measured on a device (filled in by issue 6)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "profile"
HELP = "per-layer cost of a model on the PC (cycle model) or measured on a device"
DESCRIPTION = HELP + " Not implemented yet: issue 6."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 6)
