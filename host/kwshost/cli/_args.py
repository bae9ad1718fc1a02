"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import math
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


def folder_here(text: str) -> str:
    """An argparse type for a folder named on the command line (--run, --dataset): relative to
    the working folder, as a shell user means it (a config file's own paths stay relative to
    the repository, so that its commands work from anywhere)."""
    from pathlib import Path

    return str(Path(text).expanduser().absolute())
