"""kwshost dataset: synthesize an offline keyword dataset (filled in by issue 7)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "dataset"
HELP = "synthesize an offline keyword dataset"
DESCRIPTION = HELP + " Not implemented yet: issue 7."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 7)
