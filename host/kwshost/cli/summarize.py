"""kwshost summarize: per-operator table and totals (MACs, RAM, flash, metadata) of a .tflite model (filled in by issue 4)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "summarize"
HELP = "per-operator table and totals (MACs, RAM, flash, metadata) of a .tflite model"
DESCRIPTION = HELP + " Not implemented yet: issue 4."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 4)
