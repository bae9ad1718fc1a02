"""kwshost flash: flash the firmware and a model to the board, or start the emulated board (filled in by issue 5)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "flash"
HELP = "flash the firmware and a model to the board, or start the emulated board"
DESCRIPTION = HELP + " Not implemented yet: issue 5."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 5)
