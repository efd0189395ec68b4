"""What was on screen and in focus, over time: the facts the privacy policy is applied to.

A window source (the X11 tracker, or a test's fake) reports two things as they change:
which window has the focus, and where the excluded windows are. Both are kept as short
histories, because events reach the recorder late (XRecord buffers them) and must be judged
by the window state *at the time they happened*, not when they arrived.

Near a change the state is uncertain, and always in the same direction: a change is
recorded *after* it really happened (a window manager publishes the new active window a
little after the keyboard focus moved; map and focus events carry no timestamp and are
stamped on arrival; a prompt is drawn before its title says "password"). So every question
about an event at ``t`` is asked about the interval ``[t - tail, t + guard]`` and answered
with the strictest state that held anywhere in it: a key typed up to ``guard`` (250 ms by
default) before focus is *recorded* entering a password prompt is treated as typed into
it. Leaving is recorded late too, which already errs on the safe side, so the tail after a
change is short (5 ms: the millisecond granularity of server timestamps, not latency).
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

from .policy import NORMAL, worst

Rect = tuple  # (x, y, width, height), virtual-desktop pixels


@dataclass(frozen=True)
class WindowInfo:
    """One top-level window, as the focus stream records it."""
    window: int                 # X window id (the client window, not the WM frame)
    app: str                    # WM_CLASS class name ("XTerm"), "" when unknown
    instance: str               # WM_CLASS instance name ("xterm")
    title: str | None           # _NET_WM_NAME, else WM_NAME
    rect: Rect                  # (x, y, width, height) on the root window, frame included
    verdict: str = NORMAL       # policy verdict: normal, secret or excluded


NO_WINDOW = WindowInfo(0, "", "", None, (0, 0, 0, 0))


def contains(rect: Rect, x: int, y: int) -> bool:
    rx, ry, rw, rh = rect
    return rx <= x < rx + rw and ry <= y < ry + rh


class _History:
    """Values that each held from their start time until the next one's (thread-safe)."""

    def __init__(self, initial, horizon_us: int):
        self.times = [-(1 << 62)]
        self.values = [initial]
        self.horizon_us = horizon_us

    def set(self, t_us: int, value) -> None:
        t_us = max(int(t_us), self.times[-1])
        if t_us == self.times[-1] and len(self.times) > 1:
            self.values[-1] = value
        else:
            self.times.append(t_us)
            self.values.append(value)
        cut = bisect.bisect_right(self.times, t_us - self.horizon_us) - 1
        if cut > 0:
            del self.times[:cut], self.values[:cut]

    def during(self, start: int, end: int) -> list:
        """Every value that held at some moment of ``[start, end]``."""
        lo = max(bisect.bisect_right(self.times, start) - 1, 0)
        hi = bisect.bisect_right(self.times, end)
        return self.values[lo:max(hi, lo + 1)]

    @property
    def last(self):
        return self.values[-1]


class WindowTimeline:
    """Focus and excluded areas over time, fed by a window source, read by the recorder.

    Examples
    --------
    >>> tl = WindowTimeline(guard_us=100, tail_us=10)
    >>> tl.set_focus(1_000, WindowInfo(7, "XTerm", "xterm", "[sudo] password", (0, 0, 9, 9), "secret"))
    >>> tl.focus_verdict(850), tl.focus_verdict(950), tl.focus_verdict(5_000)
    ('normal', 'secret', 'secret')
    >>> tl.set_focus(6_000, WindowInfo(8, "XTerm", "xterm", "~", (0, 0, 9, 9), "normal"))
    >>> tl.focus_verdict(6_005), tl.focus_verdict(6_050)
    ('secret', 'normal')
    >>> tl.set_excluded(2_000, [(10, 10, 5, 5)])
    >>> tl.excluded_at(12, 12, 1_950), tl.excluded_at(12, 12, 1_800), tl.excluded_at(30, 12, 2_500)
    (True, False, False)
    """

    def __init__(self, guard_us: int = 250_000, tail_us: int | None = None, horizon_us: int = 120_000_000):
        self.guard_us = int(guard_us)
        self.tail_us = min(self.guard_us, 5_000) if tail_us is None else int(tail_us)
        self._lock = threading.Lock()
        self._focus = _History(NO_WINDOW, horizon_us)
        self._excluded = _History((), horizon_us)
        self.generation = 0   # bumped on every change (the screen source polls it for free)
        self.focus_listeners: list = []   # called with (t_us, info) on each focus change (must not block)

    def set_focus(self, t_us: int, info: WindowInfo) -> None:
        with self._lock:
            self._focus.set(t_us, info)
            self.generation += 1
        for listener in self.focus_listeners:
            listener(t_us, info)

    def set_excluded(self, t_us: int, rects) -> None:
        rects = tuple(tuple(int(v) for v in r) for r in rects if r[2] > 0 and r[3] > 0)
        with self._lock:
            if rects != self._excluded.last:
                self._excluded.set(t_us, rects)
                self.generation += 1

    @property
    def focus(self) -> WindowInfo:
        with self._lock:
            return self._focus.last

    def focus_verdict(self, t_us: int) -> str:
        """The strictest verdict of the windows focused during ``[t - tail, t + guard]``."""
        with self._lock:
            infos = self._focus.during(t_us - self.tail_us, t_us + self.guard_us)
        return worst(i.verdict for i in infos)

    def excluded_at(self, x: int, y: int, t_us: int) -> bool:
        """Whether ``(x, y)`` lay in an excluded window at some moment of ``[t - tail, t + guard]``."""
        with self._lock:
            sets = self._excluded.during(t_us - self.tail_us, t_us + self.guard_us)
        return any(contains(r, x, y) for rects in sets for r in rects)

    def excluded_rects(self, start_us: int, end_us: int) -> list[Rect]:
        """Every excluded area that existed at some moment of ``[start, end]`` (deduplicated)."""
        with self._lock:
            sets = self._excluded.during(start_us, end_us)
        seen: dict = {}
        for rects in sets:
            for r in rects:
                seen[r] = None
        return list(seen)
