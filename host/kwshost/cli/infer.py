"""kwshost infer: run a .tflite model on an input tensor (.npy) with the firmware's runtime (filled in by issue 4)."""

import argparse

from kwshost.cli._stub import not_yet

NAME = "infer"
HELP = "run a .tflite model on an input tensor (.npy) with the firmware's runtime"
DESCRIPTION = HELP + " Not implemented yet: issue 4."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    return not_yet(NAME, 4)
