"""Where docs/actions.md leaves a case open, the reading both derivations follow, one test each.

Each test quotes the line it reads. Change a reading here and in the docs together.
"""
from actions.scenario import backend, check, derive, key, kinds, tap  # noqa: F401
from encoder.streams.keys import CONTROL

SUPER_L, DEAD_CIRCUMFLEX = 0xffeb, 0xfe52


def test_a_second_press_before_the_release_takes_it(backend):
    """"A press of button b is paired with the next release of b; a press without a release
    (the recording ended, or a release was lost) ends at the last row": a press followed by
    another press of its button lost its release."""
    rows = derive(backend, button=[(0, 1, True, 0, 0), (100_000, 1, True, 0, 0), (150_000, 1, False, 0, 0)],
                  pointer=[(500_000, 50, 50)])
    assert [(r["kind"], r["t"], r["t_end"]) for r in rows] == [("drag", 0, 500_000), ("click", 100_000, 150_000)]
    # keys alike: the release is the second press's; the first has none (no dwell, no flight)
    rows = derive(backend, keys=[key(0, 0x61), key(100_000, 0x61), key(200_000, 0x61, False)])
    check(rows[0], kind="type", text="aa", count=2, t_end=200_000, dwell_us=100_000, flight_us=None)
    rows = derive(backend, keys=[key(0, 0x61), key(100_000, 0x61), key(100_000, 0x61, False)])
    check(rows[0], kind="type", text="aa", count=2, t_end=100_000, dwell_us=0, flight_us=None)


def test_a_drag_without_release_ends_at_the_last_pointer_row(backend):
    """"x2, y2 = release position", "path ... press, the pointer rows of the hold, release":
    with no release, the last pointer row of the hold stands for it, once."""
    rows = derive(backend, button=[(0, 1, True, 0, 0)], pointer=[(50_000, 0, 7)])
    check(rows[0], kind="drag", t=0, t_end=50_000, x=0, y=0, x2=0, y2=7, path_x=[0, 0], path_y=[0, 7])


def test_the_last_row_of_the_recording_counts_frames(backend):
    """"ends at the last row of the recording", like the first row of any stream (frames too)."""
    rows = derive(backend, button=[(0, 1, True, 0, 0)], frames=[1_000_000])
    check(rows[0], kind="click", t=0, t_end=1_000_000)


def test_wheel_buttons_in_the_button_stream_are_ignored(backend):
    """"Buttons 4-7 are the wheel and live in the scroll stream": their button rows make
    nothing and interrupt nothing."""
    rows = derive(backend, button=[(0, 1, True, 0, 0), (50_000, 1, False, 0, 0), (60_000, 4, True, 0, 0),
                                   (70_000, 4, False, 0, 0), (100_000, 1, True, 0, 0), (150_000, 1, False, 0, 0)])
    assert kinds(rows) == ["double_click"]


def test_keys_without_a_name_never_repeat(backend):
    """"the same text as the previous key or hotkey action": null is no text, so two presses
    of unnamed keys are two actions (they may be different keys)."""
    rows = derive(backend, keys=tap(0, DEAD_CIRCUMFLEX) + tap(100_000, DEAD_CIRCUMFLEX))
    assert [(r["kind"], r["text"], r["count"]) for r in rows] == [("key", None, 1), ("key", None, 1)]
    rows = derive(backend, keys=tap(0, DEAD_CIRCUMFLEX, CONTROL))
    assert [(r["kind"], r["text"]) for r in rows] == [("hotkey", None)]  # no name, no hotkey name


def test_frames_out_of_time_order(backend):
    """"the same index as ShardReader.frame(_at)": the latest frame time at or before t (the
    last written of equal times), not the largest index."""
    rows = derive(backend, command=[(50_000, "a")], frames=[50_000, 0])
    check(rows[0], kind="command", frame=0)


def test_timing_only_rows_have_no_text_even_when_empty(backend):
    """"text ... null under timing-only": an empty text column is no text (rule 4 skips it)."""
    rows = derive(backend, keys=tap(0, 12, text=""))
    check(rows[0], kind="type", text=None, count=1)
    # a timing-only press in a burst makes the whole burst's text unknown
    rows = derive(backend, keys=tap(0, 0x61) + tap(100_000, 1))
    check(rows[0], kind="type", text=None, count=2)


def test_flight_may_be_negative(backend):
    """"flight_us = the median of each press minus the previous press's release": with
    rollover the next press comes before that release."""
    rows = derive(backend, keys=[key(0, 0x61), key(50_000, 0x62), key(80_000, 0x61, False),
                                 key(120_000, 0x62, False)])
    check(rows[0], kind="type", flight_us=-30_000, dwell_us=70_000)


def test_no_keys_per_s_over_zero_time(backend):
    """"keys_per_s = (presses - 1) / (last press - first press)": null when that is 0 s."""
    rows = derive(backend, keys=[key(0, 0x61), key(0, 0x62)])
    check(rows[0], kind="type", text="ab", keys_per_s=None)


def test_modifier_presses_interrupt_nothing(backend):
    """"key presses other than modifier keys" interrupt: shift during a rest leaves a hover,
    and a lone win tap inside a typing burst leaves the burst whole."""
    pointer = [(0, 0, 0), (200_000, 100, 0), (1_200_000, 200, 0)]
    assert kinds(derive(backend, pointer=pointer, keys=tap(700_000, 0xffe1))) == ["move"]
    rows = derive(backend, keys=tap(0, 0x61) + tap(100_000, SUPER_L) + tap(200_000, 0x62))
    assert [(r["kind"], r["text"]) for r in rows] == [("type", "ab"), ("key", "win")]


def test_app_is_the_focus_row_at_or_before_t_in_time(backend):
    """"the application in focus at t": a focus row at the same microsecond as a click counts,
    though the merged order puts it after the click."""
    rows = derive(backend, focus=[(0, 1, "xterm", "a"), (100_000, 2, "gimp", "b")],
                  button=[(100_000, 1, True, 0, 0), (150_000, 1, False, 0, 0)])
    assert [(r["kind"], r["app"]) for r in rows] == [("focus", "gimp"), ("click", "gimp")]
