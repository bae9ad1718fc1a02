"""kwshost evaluate: accuracy, ROC and wake-word figures (FRR at FA/h) of a .tflite model (filled in by issue 7)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "evaluate"
HELP = "accuracy, ROC and wake-word figures (FRR at FA/h) of a .tflite model"
DESCRIPTION = HELP + " Not implemented yet: issue 7."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 7)
