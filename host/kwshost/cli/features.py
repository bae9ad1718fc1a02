"""kwshost features: compute the int8 spectrogram a model sees from a WAV file (filled in by issue 3)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "features"
HELP = "compute the int8 spectrogram a model sees from a WAV file"
DESCRIPTION = HELP + " Not implemented yet: issue 3."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 3)
