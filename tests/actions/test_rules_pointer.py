"""docs/actions.md, "Move (hover)" and "Movement features", scenario by scenario."""
import math

import pytest

from actions.scenario import backend, check, derive, kinds, tap  # noqa: F401  (backend: fixture)
from encoder.actions import Rules

# The pointer comes from (0, 0), rests at (100, 0) from 200 ms (a row 3 px off keeps the rest)
# and moves on at 1.2 s: a rest of exactly hover_us, 100 px from the first row.
HOVER = [(0, 0, 0), (100_000, 50, 0), (200_000, 100, 0), (700_000, 103, 3), (1_200_000, 200, 0)]


def hover_rows(**changes):
    rows = list(HOVER)
    for i, row in changes.items():
        rows[int(i[1:])] = row
    return [r for r in rows if r is not None]


# --- Hovers ---------------------------------------------------------------------------------------

def test_hover(backend):
    rows = derive(backend, pointer=HOVER)
    assert len(rows) == 1  # the rest at (200, 0) is still going when the recording ends
    check(rows[0], kind="move", t=200_000, t_end=1_200_000, x=100, y=0, count=1, frame=-1, app=None,
          hesitation_us=200_000, move_us=200_000, move_px=100.0, straightness=1.0, fitts_id=math.log2(6))


def test_hover_duration(backend):
    assert derive(backend, pointer=hover_rows(r4=(1_199_999, 200, 0))) == []


def test_hover_radius_is_chebyshev_3_px(backend):
    assert kinds(derive(backend, pointer=hover_rows(r3=(700_000, 97, -3)))) == ["move"]
    assert derive(backend, pointer=hover_rows(r3=(700_000, 104, 0))) == []


@pytest.mark.parametrize("first, moves", [
    ((0, 80, 0), True), ((0, 81, 0), False),     # 20 px and 19 px from the first row
    ((0, 88, 16), True), ((0, 88, 15), False),   # Euclidean: 20.0 and 19.2 px (Chebyshev 16, 15)
])
def test_hover_travel_from_the_first_row(backend, first, moves):
    rows = derive(backend, pointer=hover_rows(r0=first, r1=None))
    assert kinds(rows) == (["move"] if moves else [])


def test_hover_travel_from_the_previous_click(backend):
    # a click at (90, 0): the rest at (100, 0) is 10 px from it
    assert kinds(derive(backend, pointer=HOVER, button=[(120_000, 1, True, 90, 0), (150_000, 1, False, 90, 0)])) \
        == ["click"]
    assert kinds(derive(backend, pointer=HOVER, button=[(120_000, 1, True, 70, 0), (150_000, 1, False, 70, 0)])) \
        == ["click", "move"]


def test_hover_travel_from_a_drag_is_from_its_release_point(backend):
    drag = [(20_000, 1, True, 0, 0), (150_000, 1, False, 95, 0)]
    assert kinds(derive(backend, pointer=HOVER, button=drag)) == ["drag"]


def test_hover_travel_from_the_previous_move(backend):
    pointer = HOVER[:4] + [(1_200_000, 110, 0), (2_200_000, 111, 0), (2_300_000, 130, 0), (3_300_000, 131, 1),
                           (3_400_000, 300, 0)]
    rows = derive(backend, pointer=pointer)
    # the rest at (110, 0) is 10 px from the move at (100, 0); the one at (130, 0) is 30 px from it
    assert [(r["kind"], r["t"], r["t_end"], r["x"]) for r in rows] == [
        ("move", 200_000, 1_200_000, 100), ("move", 2_300_000, 3_400_000, 130)]


@pytest.mark.parametrize("between, moves", [
    ({"keys": tap(700_000, 0x61)}, False),
    ({"keys": tap(200_000, 0x61)}, False),          # [anchor t, ending row t] includes both ends
    ({"keys": tap(1_200_000, 0x61)}, False),
    ({"keys": tap(1_200_001, 0x61)}, True),
    ({"keys": tap(100_000, 0x61, dwell=200_000)}, True),  # a release in the rest does not interrupt
    ({"button": [(700_000, 3, True, 100, 0), (750_000, 3, False, 100, 0)]}, False),
    ({"scroll": [(700_000, 0, 1, 100, 0)]}, False),
    ({"command": [(700_000, "ls")]}, False),
    ({"focus": [(0, 1, "a", "a"), (700_000, 2, "b", "b")]}, False),
    ({"focus": [(0, 1, "a", "a"), (700_000, 1, "a", "new title")]}, True),
])
def test_hover_interruptions(backend, between, moves):
    assert ("move" in kinds(derive(backend, pointer=HOVER, **between))) == moves


def test_no_hover_while_a_button_is_held(backend):
    # pressed before the rest and released during it: a drag that pauses, not a hover
    rows = derive(backend, pointer=HOVER, button=[(50_000, 1, True, 50, 0), (700_000, 1, False, 100, 0)])
    assert kinds(rows) == ["drag"]


def test_no_hover_when_the_rest_goes_on_to_the_end(backend):
    assert derive(backend, pointer=HOVER[:4]) == []


def test_hover_rules_are_rules(backend):
    rules = Rules(hover_us=2_000_000)
    assert derive(backend, rules=rules, pointer=HOVER) == []
    rules = Rules(hover_travel_px=101)
    assert derive(backend, rules=rules, pointer=HOVER) == []


# --- Movement features ------------------------------------------------------------------------------

def press_at(t, x, y):
    return [(t, 1, True, x, y), (t + 50_000, 1, False, x, y)]


def test_movement_of_a_straight_path(backend):
    pointer = [(0, 0, 0), (100_000, 30, 0), (200_000, 60, 0), (300_000, 90, 0)]
    rows = derive(backend, pointer=pointer, button=press_at(400_000, 90, 0))
    check(rows[0], kind="click", move_us=300_000, move_px=90.0, straightness=1.0, fitts_id=math.log2(5.5),
          hesitation_us=400_000)


def test_movement_of_a_bent_path(backend):
    pointer = [(0, 0, 0), (100_000, 30, 40), (200_000, 60, 0)]
    rows = derive(backend, pointer=pointer, button=press_at(300_000, 60, 0))
    check(rows[0], kind="click", move_us=200_000, move_px=100.0, straightness=0.6, fitts_id=2.0)


def test_movement_ends_at_the_action_point(backend):
    # the press is 10 px past the last pointer row: the path ends at the press
    pointer = [(0, 0, 0), (100_000, 30, 40)]
    rows = derive(backend, pointer=pointer, button=press_at(200_000, 30, 50))
    check(rows[0], kind="click", move_us=100_000, move_px=60.0, straightness=math.hypot(30, 50) / 60,
          fitts_id=math.log2(math.hypot(30, 50) / 20 + 1))


def test_movement_starts_after_the_last_pause(backend):
    # a 400 ms pause before (20, 0): the movement is (10, 0) -> (20, 0) -> (50, 0)
    pointer = [(0, 0, 0), (100_000, 10, 0), (500_000, 20, 0), (600_000, 50, 0)]
    rows = derive(backend, pointer=pointer, button=press_at(700_000, 50, 0))
    check(rows[0], kind="click", move_us=100_000, move_px=40.0, straightness=1.0, fitts_id=math.log2(3))
    # a pause of 299 ms is not one
    pointer[2:] = [(399_000, 20, 0), (499_000, 50, 0)]
    rows = derive(backend, pointer=pointer, button=press_at(600_000, 50, 0))
    check(rows[0], kind="click", move_us=499_000, move_px=50.0, straightness=1.0)


def test_movement_is_bound_by_the_end_of_the_previous_action(backend):
    # the typed 'a' ends at 200 ms: the movement starts from the row before the next ones
    pointer = [(0, 0, 0), (100_000, 100, 0), (250_000, 110, 0), (300_000, 130, 0)]
    rows = derive(backend, pointer=pointer, keys=tap(150_000, 0x61), button=press_at(350_000, 130, 0))
    assert kinds(rows) == ["type", "click"]
    check(rows[1], kind="click", move_us=50_000, move_px=30.0, straightness=1.0, fitts_id=math.log2(2.5),
          hesitation_us=150_000)


def test_movement_with_no_row_since_the_previous_action(backend):
    # no row after the previous action: the path is the last pointer row, then the press
    pointer = [(0, 0, 0), (100_000, 50, 0)]
    rows = derive(backend, pointer=pointer, keys=tap(200_000, 0x61), button=press_at(400_000, 60, 0))
    check(rows[1], kind="click", move_us=0, move_px=10.0, straightness=1.0, fitts_id=math.log2(1.5))


def test_movement_without_pointer_rows(backend):
    rows = derive(backend, button=press_at(100_000, 60, 0), scroll=[(300_000, 0, 1, 60, 0)])
    for row in rows:
        check(row, move_us=0, move_px=0.0, straightness=1.0, fitts_id=0.0)


def test_movement_of_a_drag_leads_to_its_press(backend):
    pointer = [(0, 0, 0), (100_000, 30, 40), (250_000, 100, 40)]
    rows = derive(backend, pointer=pointer, button=[(200_000, 1, True, 30, 40), (300_000, 1, False, 100, 40)])
    check(rows[0], kind="drag", x=30, y=40, x2=100, y2=40, path_x=[30, 100, 100], path_y=[40, 40, 40],
          move_us=100_000, move_px=50.0, straightness=1.0, fitts_id=math.log2(3.5))
