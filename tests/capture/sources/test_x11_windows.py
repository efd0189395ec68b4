"""The window source's barrier on a real X server: a recent barrier's answer is reused when the
caller allows it, never newer than what a round trip established."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("Xlib")
from Xlib import display  # noqa: E402

from encoder.capture import clock as _clock  # noqa: E402
from encoder.capture.clock import ServerClock  # noqa: E402
from encoder.capture.policy import Policy  # noqa: E402
from encoder.capture.sources.x11_focus import X11Windows  # noqa: E402


class _Recorder:
    def __init__(self):
        self.policy, self.server_clock, self.focus, self.excluded = Policy(), ServerClock(), [], []

    def focus_changed(self, t_us, info):
        self.focus.append((t_us, info))

    def excluded_changed(self, t_us, rects):
        self.excluded.append((t_us, rects))


def test_barrier_reuses_a_recent_answer_only(xsession):
    windows = X11Windows(xsession.display)
    windows.open(_Recorder())
    windows.start()
    try:
        first = windows.barrier()
        assert 0 < first <= _clock.now_us()
        assert windows.barrier(recent_us=60_000_000) == first          # reused: no round trip
        assert windows.counters["barriers"] == 1 and windows.counters["barriers_reused"] == 1
        painter = display.Display(xsession.display)
        win = painter.screen().root.create_window(0, 0, 50, 50, 0, painter.screen().root_depth)
        win.map()
        painter.sync()
        time.sleep(0.01)
        fresh = windows.barrier(recent_us=5_000)                        # too old to reuse: a round trip
        assert fresh > first and windows.counters["barriers"] == 2
        assert windows.barrier() > fresh                                # no recent_us: always a round trip
        assert windows.counters["barriers"] == 3 and windows.counters["barriers_reused"] == 1
        painter.close()
    finally:
        windows.stop()
