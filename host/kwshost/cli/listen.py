"""kwshost listen: run the wake-word detector on a WAV or microphone, on the PC or on a device (filled in by issue 5)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "listen"
HELP = "run the wake-word detector on a WAV or microphone, on the PC or on a device"
DESCRIPTION = HELP + " Not implemented yet: issue 5."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 5)
