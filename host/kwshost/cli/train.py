"""kwshost train: train the TENet12 keyword model (filled in by issue 7)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "train"
HELP = "train the TENet12 keyword model"
DESCRIPTION = HELP + " Not implemented yet: issue 7."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 7)
