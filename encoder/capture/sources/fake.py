"""Scripted sources: drive a :class:`~encoder.capture.Recorder` without an X server.

Tests (and anyone writing a new source) push events, window changes and frames by hand:

>>> import tempfile, numpy as np, encoder
>>> from encoder.capture import KEY, Policy, Recorder, WindowInfo
>>> inp, win, scr = FakeInput(), FakeWindows(), FakeScreen(width=64, height=48)
>>> rec = Recorder(tempfile.mkdtemp(), sources=[win, inp, scr], policy=Policy(keys="full"))
>>> rec.start()
>>> win.focus(1_000, WindowInfo(7, "XTerm", "xterm", "bob@box: ~", (0, 0, 64, 48)))
>>> inp.emit([(KEY, 2_000, 0x61, True, 0, "a")])
1
>>> scr.frame(3_000, np.zeros((48, 64, 4), np.uint8))
True
>>> rec.stop()
>>> r = encoder.ShardReader(rec.shards[0])
>>> r.read("focus")["title"].to_pylist(), r.read("key")["text"].to_pylist(), r.frame_count()
(['bob@box: ~'], ['a'], 1)
"""
from __future__ import annotations

import threading

from . import Source


class FakeInput(Source):
    """Input events pushed by the caller (``emit``); a pause-hotkey press goes to ``hotkey``."""

    name = "fake-input"

    def __init__(self):
        self.sent = 0
        self.accepted = 0

    def emit(self, events) -> int:
        events = list(events)
        self.sent += len(events)
        n = self.recorder.put(events)
        self.accepted += n
        return n

    def hotkey(self, t_us: int) -> None:
        self.recorder.hotkey(t_us)

    def stats(self) -> dict:
        return {"sent": self.sent, "accepted": self.accepted}


class FakeWindows(Source):
    """Window state pushed by the caller; ``barrier`` answers at once (or waits on ``hold``)."""

    name = "fake-windows"
    is_window_source = True

    def __init__(self):
        self.hold = threading.Event()
        self.hold.set()
        self.barriers = 0
        self.recent_allowed = 0   # barriers asked with recent_us (may be answered by an older one)

    def focus(self, t_us: int, info) -> None:
        self.recorder.focus_changed(t_us, info)

    def excluded(self, t_us: int, rects) -> None:
        self.recorder.excluded_changed(t_us, rects)

    def barrier(self, recent_us: int = 0) -> int:
        self.hold.wait(10)
        self.barriers += 1
        self.recent_allowed += bool(recent_us)
        return self.recorder.clock()

    def stats(self) -> dict:
        return {"barriers": self.barriers}


class FakeScreen(Source):
    """Frames pushed by the caller; excluded areas are blacked out as the X11 source does."""

    name = "fake-screen"

    def __init__(self, width: int = 64, height: int = 48):
        self.width, self.height = width, height

    def describe(self) -> dict:
        return {"screens": [{"id": 0, "x": 0, "y": 0, "width": self.width, "height": self.height}]}

    def frame(self, t_us: int, image, changed=None) -> bool:
        from ..screen import blackout
        rects = self.recorder.timeline.excluded_rects(t_us - self.recorder.guard_us, self.recorder.clock())
        blackout(image, rects, 0, 0)
        return self.recorder.add_frame(t_us, image, 0, changed)
