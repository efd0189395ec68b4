"""Time ranges and rectangles as people type them, and where a shard's time starts.

Times are seconds from the shard's first row (:func:`origin_us`), as ``encoder cut --drop``
and ``encoder redact --rect ...@FROM-TO`` take them: ``12.5-30``, ``40-`` (to the end),
``-8`` (from the start), or minutes and seconds, ``1:30-2:05.5``. A range holds the rows
with ``FROM <= t < TO`` (the start in, the end out), so ``0-10`` and ``10-20`` never share a row.

>>> parse_range("12.5-30")
TimeRange(start_s=12.5, end_s=30.0)
>>> parse_range("1:30-")
TimeRange(start_s=90.0, end_s=None)
>>> parse_rect("10,20,300,40@5-")
Rect(x=10, y=20, width=300, height=40, during=TimeRange(start_s=5.0, end_s=None))
>>> r = parse_range("1-2")
>>> r.contains(np.array([999_999, 1_000_000, 1_999_999, 2_000_000]), origin=0).tolist()
[False, True, True, False]
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import EncoderError

#: One time: seconds (``12.5``), or ``M:SS(.s)`` / ``H:MM:SS(.s)``.
_TIME = r"(?:\d+:){0,2}\d*\.?\d+|(?:\d+:){0,2}\d+\.?"
_RANGE = re.compile(rf"^\s*({_TIME})?\s*-\s*({_TIME})?\s*$")
_RECT = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:@(.*))?$")


@dataclass(frozen=True)
class TimeRange:
    """``start_s <= t < end_s``, seconds from the shard's first row; None: open end."""
    start_s: float | None
    end_s: float | None

    def bounds_us(self, origin: int) -> tuple[int, int]:
        """(first microsecond in, first microsecond out) on the session clock."""
        lo = -(1 << 63) if self.start_s is None else origin + round(self.start_s * 1e6)
        hi = (1 << 63) - 1 if self.end_s is None else origin + round(self.end_s * 1e6)
        return lo, hi

    def contains(self, t: np.ndarray, origin: int) -> np.ndarray:
        """``bool[len(t)]``: which of the session times ``t`` (int64 us) lie in the range."""
        lo, hi = self.bounds_us(origin)
        t = np.asarray(t, np.int64)
        return (t >= lo) & (t < hi)

    def text(self) -> str:
        """The range as typed (``12.5-30``, ``40-``)."""
        def f(s):
            return "" if s is None else f"{s:g}"
        return f"{f(self.start_s)}-{f(self.end_s)}"

    def as_json(self) -> list:
        return [self.start_s, self.end_s]


@dataclass(frozen=True)
class Rect:
    """A rectangle of a frame, in pixels, and when it applies (None: every frame)."""
    x: int
    y: int
    width: int
    height: int
    during: TimeRange | None = None

    def text(self) -> str:
        return f"{self.x},{self.y},{self.width},{self.height}" + (f"@{self.during.text()}" if self.during else "")

    def as_json(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height,
                "seconds": None if self.during is None else self.during.as_json()}


def _seconds(text: str, whole: str) -> float:
    parts = text.split(":")
    value = 0.0
    for p in parts[:-1]:
        value = value * 60 + int(p)
    if len(parts) > 1 and float(parts[-1]) >= 60:
        raise EncoderError(f"bad time range {whole!r}: {text!r} has {parts[-1]} seconds (M:SS takes 0-59.99)")
    return value * 60 + float(parts[-1])


def parse_range(text: str) -> TimeRange:
    """``FROM-TO`` (seconds from the first row; either end may be left out) -> :class:`TimeRange`.

    Raises :class:`~encoder.errors.EncoderError` for anything else, for ``-`` alone and for an
    empty or reversed range.
    """
    m = _RANGE.match(text or "")
    if m is None:
        raise EncoderError(f"bad time range {text!r}: expected FROM-TO in seconds from the shard's first row, "
                           "e.g. 12.5-30, 40- (to the end), -8 (from the start) or 1:30-2:00")
    start = None if m.group(1) is None else _seconds(m.group(1), text)
    end = None if m.group(2) is None else _seconds(m.group(2), text)
    if start is None and end is None:
        raise EncoderError(f"bad time range {text!r}: give a start, an end or both (FROM-TO)")
    if start is not None and end is not None and not end > start:
        raise EncoderError(f"bad time range {text!r}: the end must come after the start")
    if any(v is not None and not math.isfinite(v) for v in (start, end)):
        raise EncoderError(f"bad time range {text!r}: not a finite number of seconds")
    return TimeRange(start, end)


def parse_rect(text: str) -> Rect:
    """``X,Y,W,H[@FROM-TO]`` (pixels; the time range as :func:`parse_range`) -> :class:`Rect`."""
    m = _RECT.match(text or "")
    if m is None:
        raise EncoderError(f"bad rectangle {text!r}: expected X,Y,W,H in pixels, optionally @FROM-TO "
                           "(seconds from the shard's first row), e.g. 0,0,400,80 or 0,0,400,80@12-30")
    x, y, w, h = (int(g) for g in m.groups()[:4])
    if w < 1 or h < 1:
        raise EncoderError(f"bad rectangle {text!r}: width and height must be at least 1 pixel")
    during = None if m.group(5) is None else parse_range(m.group(5))
    return Rect(x, y, w, h, during)


def origin_us(reader) -> int:
    """Time of the shard's first row (any stream, frames included): 0 s of the ranges."""
    firsts = [r[0] for r in (reader.time_range(s) for s in reader.streams) if r is not None]
    if not firsts:
        raise EncoderError("the shard holds no rows: there is no time to count seconds from", shard=reader.name)
    return int(min(firsts))


def any_contains(ranges, t: np.ndarray, origin: int) -> np.ndarray:
    """``bool[len(t)]``: which times lie in at least one of ``ranges``."""
    hit = np.zeros(len(t), bool)
    for r in ranges:
        hit |= r.contains(t, origin)
    return hit
