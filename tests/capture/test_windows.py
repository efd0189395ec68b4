"""The window timeline the policy is applied against: the guard around focus changes, excluded areas."""
from __future__ import annotations

from encoder.capture.policy import NORMAL, SECRET
from encoder.capture.windows import WindowInfo, WindowTimeline


def _win(verdict, title="t", window=1, rect=(0, 0, 100, 100)):
    return WindowInfo(window, "App", "app", title, rect, verdict)


def test_focus_guard_is_conservative():
    tl = WindowTimeline(guard_us=200, tail_us=20)
    tl.set_focus(1_000, _win(NORMAL))
    tl.set_focus(2_000, _win(SECRET, window=2))
    tl.set_focus(3_000, _win(NORMAL, window=3))
    assert tl.focus_verdict(1_500) == NORMAL
    assert tl.focus_verdict(1_850) == SECRET        # just before the prompt was *recorded* taking the focus
    assert tl.focus_verdict(2_500) == SECRET
    assert tl.focus_verdict(3_010) == SECRET        # within the tail after it lost it
    assert tl.focus_verdict(3_050) == NORMAL        # leaving is recorded late: no long guard needed
    assert tl.focus.window == 3
    assert WindowTimeline(guard_us=250_000).tail_us == 5_000


def test_excluded_areas_over_time():
    tl = WindowTimeline(guard_us=100, tail_us=100)
    tl.set_excluded(1_000, [(10, 10, 20, 20)])
    gen = tl.generation
    tl.set_excluded(1_500, [(10, 10, 20, 20)])   # unchanged: no new generation
    assert tl.generation == gen
    tl.set_excluded(2_000, [(50, 50, 5, 5)])
    assert tl.excluded_at(15, 15, 1_500) and not tl.excluded_at(15, 15, 2_500)
    assert tl.excluded_at(15, 15, 2_050)            # within the guard of the move
    assert tl.excluded_at(52, 52, 1_950) and not tl.excluded_at(52, 52, 1_800)
    assert set(tl.excluded_rects(1_500, 2_500)) == {(10, 10, 20, 20), (50, 50, 5, 5)}
    assert tl.excluded_rects(3_000, 3_000) == [(50, 50, 5, 5)]
    tl.set_excluded(4_000, [(0, 0, 0, 5)])          # empty rectangles are ignored
    assert tl.excluded_rects(4_000, 4_000) == []
