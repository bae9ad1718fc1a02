"""Argument types and option groups shared by the commands."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable


def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `minimum` (and at most `maximum`, if
    given), refused with a one-line usage error otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more (got {value})")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be {maximum} or less (got {value})")
        return value
    return parse


# A serial port's rate: the kernel takes a custom one as a C int (pyserial overflows beyond).
baud_rate = int_at_least(1, 2**31 - 1)


def positive_number(unit: str = "") -> Callable[[str], float]:
    """An argparse type: a finite number above 0 (of `unit`, named in the errors), refused
    with a one-line usage error otherwise."""
    of, space = (f" of {unit}", f" {unit}") if unit else ("", "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number{of}: {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0{space}, not {text}")
        return value
    return parse


seconds = positive_number("seconds")  # a --timeout


def cores() -> int:
    """The cores this process may run on: its CPU affinity where the system has one."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # macOS, Windows
        return os.cpu_count() or 1


def jobs(text: str) -> int:
    """An argparse type for --jobs: a whole number of 1 or more, capped at the cores here
    (more worker processes than cores give the same results with more memory), with a notice
    on stderr when it caps."""
    value = int_at_least(1)(text)
    here = cores()
    if value > here:
        print(f"kwshost: --jobs {value} capped at {here} (the cores here)", file=sys.stderr)
        return here
    return value


def default_jobs() -> int:
    """--jobs' default: 2, or the cores here where there are fewer."""
    return min(2, cores())


def folder_here(text: str) -> str:
    """An argparse type for a folder named on the command line (--run, --dataset): relative to
    the working folder, as a shell user means it (a config file's own paths stay relative to
    the repository, so that its commands work from anywhere)."""
    from pathlib import Path

    return str(Path(text).expanduser().absolute())


def add_board_or_pc(parser: argparse.ArgumentParser, on_pc: str, on_board: str) -> None:
    """--pc | --device, and --port: how `listen` and `profile` say where they run."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--pc", action="store_true",
                       help=f"{on_pc} on this computer (the default without --port)")
    where.add_argument("--device", action="store_true",
                       help=f"{on_board} on a board (needs --port; implied by --port)")
    parser.add_argument("--port", "-p", metavar="URL",
                        help="the board's serial port or pyserial URL (socket://127.0.0.1:PORT "
                             "for the emulated board)")


def on_board(args: argparse.Namespace, accelerator_chosen: bool) -> bool:
    """Whether the command runs on the board: --device, or a --port without --pc (a port
    given means the board). --pc with a port, and a kernel choice for a board (which runs the
    kernels its firmware was built with), are refused."""
    from kwshost.errors import KwsError

    if args.port and args.pc:
        raise KwsError("--port is for --device; --pc runs on this computer",
                       hint="drop --port, or use --device --port URL")
    board = bool(args.device or args.port)
    if board and accelerator_chosen:
        raise KwsError("--accelerator is for the PC (--pc): a board runs the kernels its "
                       "firmware was built with", hint="the BRD2601B's firmware uses the MVP, "
                       "the emulated board the reference kernels; drop --accelerator")
    return board
