"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `minimum`, refused with a one-line usage
    error otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more (got {value})")
        return value
    return parse


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
