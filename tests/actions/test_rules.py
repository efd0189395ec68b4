"""docs/actions.md, "The rules", scenario by scenario: buttons, scroll, focus, commands, the
table's order and the columns every action gets (frame, app, hesitation). Keys are in
test_rules_keys.py, hovers and movement features in test_rules_pointer.py.

Every expected row is worked out by hand from the docs; both derivations must give it.
"""
import pytest

import encoder
import encoder.actions
from actions.scenario import backend, check, derive, key, kinds, tap  # noqa: F401  (backend: fixture)
from actions.scenario import streams as streams_of
from encoder.actions import SCHEMA, Rules


def click(t, x=10, y=10, button=1, hold=50_000, rx=None, ry=None):
    """A press at (x, y) and its release ``hold`` later (at (rx, ry), default the press point)."""
    return [(t, button, True, x, y), (t + hold, button, False, x if rx is None else rx, y if ry is None else ry)]


def presses(*times, x=10, y=10):
    return [row for t in times for row in click(t, x, y)]


# --- Buttons: click or drag ------------------------------------------------------------------

def test_click_when_pointer_stays_within_click_max_px(backend):
    rows = derive(backend, pointer=[(50_000, 100, 100), (150_000, 106, 94)],
                  button=click(100_000, 100, 100, hold=100_000, rx=106, ry=100))
    assert len(rows) == 1
    check(rows[0], kind="click", t=100_000, t_end=200_000, x=100, y=100, button=1, count=1, frame=-1,
          app=None, hesitation_us=50_000, move_us=0, move_px=0.0, straightness=1.0, fitts_id=0.0)


def test_drag_when_a_pointer_row_of_the_hold_is_7_px_away(backend):
    rows = derive(backend, pointer=[(50_000, 100, 100), (150_000, 107, 100), (200_000, 120, 130)],
                  button=click(100_000, 100, 100, hold=100_000, rx=120, ry=130))
    assert len(rows) == 1
    # path: the press, the pointer rows of the hold (the one at the release's t included), the release
    check(rows[0], kind="drag", t=100_000, t_end=200_000, x=100, y=100, x2=120, y2=130, button=1, count=1,
          path_x=[100, 107, 120, 120], path_y=[100, 100, 130, 130], hesitation_us=50_000,
          move_us=0, move_px=0.0, straightness=1.0, fitts_id=0.0)


def test_drag_from_the_release_position_alone(backend):
    rows = derive(backend, button=click(0, 100, 100, rx=107, ry=100))
    check(rows[0], kind="drag", x=100, y=100, x2=107, y2=100, path_x=[100, 107], path_y=[100, 100], button=1)
    rows = derive(backend, button=click(0, 100, 100, rx=94, ry=106))
    check(rows[0], kind="click", x=100, y=100, button=1)


def test_pointer_rows_at_the_press_time_are_not_part_of_the_hold(backend):
    # merged order puts the pointer row before the press: "strictly after the press"
    rows = derive(backend, pointer=[(100_000, 300, 300)], button=click(100_000, 100, 100))
    check(rows[0], kind="click", t=100_000, x=100, y=100)


def test_right_middle_and_other_buttons(backend):
    rows = derive(backend, button=click(0, button=3) + click(100_000, button=3) + click(200_000, button=2)
                  + click(300_000, button=8) + click(400_000, button=9))
    assert kinds(rows) == ["right_click", "right_click", "middle_click", "click", "click"]
    assert [(r["button"], r["count"]) for r in rows] == [(3, 1), (3, 1), (2, 1), (8, 1), (9, 1)]
    check(rows[0], kind="right_click", t=0, t_end=50_000, x=10, y=10, button=3, count=1)


def test_right_drag(backend):
    rows = derive(backend, button=click(0, 10, 10, button=3, rx=50, ry=10))
    check(rows[0], kind="drag", button=3, x=10, y=10, x2=50, y2=10, path_x=[10, 50], path_y=[10, 10])


def test_press_without_release_ends_at_the_last_row_of_the_recording(backend):
    rows = derive(backend, pointer=[(0, 10, 10), (500_000, 12, 12), (1_000_000, 10, 10)],
                  button=[(100_000, 1, True, 10, 10)])
    check(rows[0], kind="click", t=100_000, t_end=1_000_000, x=10, y=10, button=1, count=1)


def test_release_without_press_is_ignored(backend):
    assert derive(backend, button=[(100_000, 1, False, 10, 10)]) == []
    rows = derive(backend, button=[(0, 1, False, 10, 10)] + click(100_000))
    check(rows[0], kind="click", t=100_000, t_end=150_000)


def test_wheel_buttons_in_the_button_stream_make_nothing(backend):
    assert derive(backend, button=click(0, button=4) + click(100_000, button=5)) == []


# --- Multi-clicks --------------------------------------------------------------------------------

def test_double_triple_and_a_fourth_click_starts_anew(backend):
    rows = derive(backend, button=presses(0, 100_000))
    check(rows[0], kind="double_click", t=0, t_end=150_000, x=10, y=10, button=1, count=2)
    rows = derive(backend, button=presses(0, 100_000, 200_000))
    check(rows[0], kind="triple_click", t=0, t_end=250_000, x=10, y=10, button=1, count=3)
    rows = derive(backend, button=presses(0, 100_000, 200_000, 300_000))
    assert kinds(rows) == ["triple_click", "click"]
    check(rows[1], kind="click", t=300_000, t_end=350_000, count=1, button=1, hesitation_us=50_000)
    rows = derive(backend, button=presses(0, 100_000, 200_000, 300_000, 400_000))
    assert kinds(rows) == ["triple_click", "double_click"]
    check(rows[1], t=300_000, t_end=450_000, count=2)


def test_multi_click_time_limit_is_press_to_press(backend):
    assert kinds(derive(backend, button=presses(0, 400_000))) == ["double_click"]
    assert kinds(derive(backend, button=presses(0, 400_001))) == ["click", "click"]


def test_multi_click_distance_from_the_previous_press(backend):
    assert kinds(derive(backend, button=click(0, 10, 10) + click(100_000, 15, 5))) == ["double_click"]
    assert kinds(derive(backend, button=click(0, 10, 10) + click(100_000, 16, 10))) == ["click", "click"]
    # each press 5 px from the one before (10 from the first) still continues it
    rows = derive(backend, button=click(0, 10, 10) + click(100_000, 15, 10) + click(200_000, 20, 10))
    check(rows[0], kind="triple_click", x=10, y=10, count=3)


def test_multi_click_platform_setting(backend):
    rules = Rules.for_metadata({"platform": {"double_click_ms": 250, "double_click_px": 2}})
    assert (rules.multi_click_us, rules.multi_click_px) == (250_000, 2)
    assert kinds(derive(backend, button=presses(0, 300_000))) == ["double_click"]
    assert kinds(derive(backend, rules=rules, button=presses(0, 300_000))) == ["click", "click"]
    assert kinds(derive(backend, rules=rules, button=presses(0, 250_000))) == ["double_click"]
    assert kinds(derive(backend, rules=rules, button=click(0, 10, 10) + click(100_000, 13, 10))) == ["click", "click"]


def test_multi_click_setting_of_the_shard(backend, tmp_path):
    path = str(tmp_path / "s.enc")
    with encoder.ShardWriter(path, metadata={"platform": {"double_click_ms": 250}}) as writer:
        writer.write("button", streams_of(button=presses(0, 300_000))["button"])
    assert kinds(encoder.actions.derive(path, backend=backend).to_pylist()) == ["click", "click"]
    assert kinds(encoder.actions.derive(path, backend=backend, rules=Rules()).to_pylist()) == ["double_click"]


@pytest.mark.parametrize("between, expected", [
    ({"keys": tap(60_000, 0x61)}, ["click", "type", "click"]),
    ({"keys": [key(60_000, 0x61, False)]}, ["double_click"]),             # a release never interrupts
    ({"keys": tap(60_000, 0xffe1)}, ["double_click"]),                    # shift: a modifier key
    ({"pointer": [(60_000, 12, 12), (70_000, 11, 10)]}, ["double_click"]),  # pointer rows never interrupt
    ({"scroll": [(60_000, 0, 1, 10, 10)]}, ["click", "scroll", "click"]),
    ({"command": [(60_000, "ls")]}, ["click", "command", "click"]),
    ({"focus": [(0, 1, "xterm", "a"), (60_000, 1, "xterm", "b")]}, ["double_click"]),  # not a focus action
    ({"focus": [(0, 1, "xterm", "a"), (60_000, 2, "gimp", "b")]}, ["click", "focus", "click"]),
])
def test_multi_click_interruptions(backend, between, expected):
    assert kinds(derive(backend, button=presses(0, 100_000), **between)) == expected


def test_other_button_or_a_drag_interrupts_a_multi_click(backend):
    rows = derive(backend, button=click(0) + click(60_000, button=3, hold=10_000) + click(100_000))
    assert kinds(rows) == ["click", "right_click", "click"]
    rows = derive(backend, button=click(0) + click(100_000, rx=40) + click(200_000))
    assert kinds(rows) == ["click", "drag", "click"]


# --- Scroll -------------------------------------------------------------------------------------

def ticks(*rows):
    """Scroll rows from (t, dx, dy) or (t, dx, dy, x, y)."""
    return [r if len(r) == 5 else (*r, 50, 50) for r in rows]


def test_scroll_burst(backend):
    rows = derive(backend, scroll=ticks((0, 0, 1), (100_000, 0, 1), (200_000, 0, 2, 55, 45)))
    assert len(rows) == 1
    check(rows[0], kind="scroll", t=0, t_end=200_000, x=50, y=50, dx=0, dy=4, count=3, hesitation_us=0,
          move_us=0, move_px=0.0, straightness=1.0, fitts_id=0.0)


def test_scroll_gap(backend):
    assert [r["count"] for r in derive(backend, scroll=ticks((0, 0, 1), (300_000, 0, 1)))] == [2]
    rows = derive(backend, scroll=ticks((0, 0, 1), (300_001, 0, 1)))
    assert [(r["t"], r["t_end"], r["count"]) for r in rows] == [(0, 0, 1), (300_001, 300_001, 1)]


def test_scroll_sign_reversal_against_the_totals(backend):
    rows = derive(backend, scroll=ticks((0, 0, 1), (100_000, 0, 1), (200_000, 0, -1)))
    assert [(r["dy"], r["count"]) for r in rows] == [(2, 2), (-1, 1)]
    rows = derive(backend, scroll=ticks((0, 2, 0), (100_000, -1, 0)))
    assert [(r["dx"], r["count"]) for r in rows] == [(2, 1), (-1, 1)]
    # a new axis does not reverse anything: the burst's dx total is 0
    rows = derive(backend, scroll=ticks((0, 0, 1), (100_000, -1, 0), (200_000, -1, 1)))
    assert [(r["dx"], r["dy"], r["count"]) for r in rows] == [(-2, 2, 3)]


def test_scroll_distance_from_the_first_tick(backend):
    rows = derive(backend, scroll=ticks((0, 0, 1, 0, 0), (100_000, 0, 1, 20, -20)))
    assert [r["count"] for r in rows] == [2]
    rows = derive(backend, scroll=ticks((0, 0, 1, 0, 0), (100_000, 0, 1, 15, 0), (200_000, 0, 1, 21, 0)))
    assert [(r["x"], r["count"]) for r in rows] == [(0, 2), (21, 1)]


@pytest.mark.parametrize("between, expected", [
    ({"keys": tap(50_000, 0x61)}, ["scroll", "type", "scroll"]),
    ({"keys": tap(50_000, 0xffe3)}, ["scroll"]),                       # ctrl held for zooming
    ({"pointer": [(50_000, 60, 60)]}, ["scroll"]),
    ({"button": click(50_000, 50, 50, hold=10_000)}, ["scroll", "click", "scroll"]),
    ({"command": [(50_000, "ls")]}, ["scroll", "command", "scroll"]),
])
def test_scroll_interruptions(backend, between, expected):
    assert kinds(derive(backend, scroll=ticks((0, 0, 1), (100_000, 0, 1)), **between)) == expected


# --- Focus and commands ---------------------------------------------------------------------------

FOCUS = [(0, 1, "xterm", "bash"), (100_000, 1, "xterm", "vim"), (200_000, 2, "firefox", "Mozilla"),
         (300_000, 2, "firefox", "Other tab"), (400_000, 1, "xterm", None)]


def test_focus_actions_only_on_window_change(backend):
    rows = derive(backend, focus=FOCUS)
    assert kinds(rows) == ["focus", "focus"]
    check(rows[0], kind="focus", t=200_000, t_end=200_000, text="Mozilla", app="firefox", count=1,
          frame=-1, hesitation_us=200_000)
    check(rows[1], kind="focus", t=400_000, t_end=400_000, text=None, app="xterm", count=1,
          hesitation_us=200_000)


def test_app_is_the_focus_at_t(backend):
    rows = derive(backend, focus=FOCUS[1:], button=click(50_000) + click(250_000) + click(350_000, button=3))
    assert [(r["kind"], r["app"]) for r in rows] == [
        ("click", None), ("focus", "firefox"), ("click", "firefox"), ("right_click", "firefox"),
        ("focus", "xterm")]


def test_commands(backend):
    rows = derive(backend, command=[(100_000, "make test"), (200_000, None)])
    check(rows[0], kind="command", t=100_000, t_end=100_000, text="make test", count=1, hesitation_us=0)
    check(rows[1], kind="command", t=200_000, t_end=200_000, text=None, count=1, hesitation_us=100_000)


# --- Observation, hesitation, order --------------------------------------------------------------

def test_frame_is_the_last_at_or_before_t(backend):
    rows = derive(backend, command=[(50_000, "a"), (200_000, "b"), (250_000, "c"), (400_000, "d")],
                  frames=[100_000, 200_000, 300_000])
    assert [r["frame"] for r in rows] == [-1, 1, 1, 2]


def test_frame_of_the_chosen_screen(backend):
    frames = [(100_000, 0), (150_000, 1), (200_000, 0), (300_000, 1)]
    command = [(120_000, "a"), (160_000, "b"), (210_000, "c")]
    assert [r["frame"] for r in derive(backend, command=command, frames=frames)] == [0, 0, 1]
    assert [r["frame"] for r in derive(backend, command=command, frames=frames, screen=1)] == [-1, 0, 0]


def test_hesitation_of_the_first_action_counts_from_the_first_row_of_any_stream(backend):
    rows = derive(backend, focus=[(20_000, 1, "xterm", "a")], command=[(300_000, "ls")])
    check(rows[0], kind="command", hesitation_us=280_000, app="xterm")
    rows = derive(backend, command=[(300_000, "ls")], frames=[10_000])
    check(rows[0], kind="command", hesitation_us=290_000, frame=0)


def test_hesitation_from_the_previous_action_clamped_at_zero(backend):
    rows = derive(backend, keys=tap(0, 0x61, dwell=1_000_000), command=[(500_000, "a"), (1_500_000, "b")])
    assert [(r["kind"], r["t_end"], r["hesitation_us"]) for r in rows] == [
        ("type", 1_000_000, 0), ("command", 500_000, 0), ("command", 1_500_000, 1_000_000)]


def test_ties_follow_the_kind_order(backend):
    rows = derive(backend, focus=[(0, 1, "a", "a"), (100_000, 2, "b", "b")], command=[(100_000, "ls")],
                  button=click(100_000), scroll=ticks((100_000, 0, 1)),
                  keys=tap(100_000, 0x61) + tap(100_000, 0xff54) + tap(100_000, 0x63, modifiers=0x4))
    assert kinds(rows) == ["focus", "command", "click", "scroll", "key", "hotkey", "type"]


def test_unsorted_rows_are_sorted_stably(backend):
    ordered = derive(backend, pointer=[(0, 0, 0), (100_000, 50, 0)], button=click(200_000, 50, 0),
                     keys=tap(300_000, 0x61) + tap(400_000, 0x62))
    shuffled = derive(backend, pointer=[(100_000, 50, 0), (0, 0, 0)], button=click(200_000, 50, 0)[::-1],
                      keys=(tap(400_000, 0x62) + tap(300_000, 0x61))[::-1])
    assert shuffled == ordered
    # equal times keep the order they were given in
    rows = derive(backend, keys=[key(0, 0x78), key(0, 0x79)])
    check(rows[0], kind="type", text="xy", count=2)
    rows = derive(backend, keys=[key(0, 0x79), key(0, 0x78)])
    check(rows[0], kind="type", text="yx", count=2)


def test_empty_recording(backend):
    table = encoder.actions.derive({}, backend=backend)
    assert table.schema == SCHEMA and table.num_rows == 0
    assert derive(backend) == []
    assert derive(backend, frames=[0, 100]) == []
