"""Argument types shared by the commands."""
from __future__ import annotations

import argparse


def positive(limit: float, *, whole_as_int: bool = False):
    """An argparse type: a number in (0, ``limit``) (an int when whole and ``whole_as_int``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value < limit:
            raise argparse.ArgumentTypeError(f"must be positive (and under {limit:,.0f}): {text!r}")
        return int(value) if whole_as_int and value.is_integer() else value
    return parse
