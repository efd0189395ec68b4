"""The pointer for the reference derivation: button holds, hovers and movement features.

docs/actions.md, "Buttons", "Move (hover)" and "Movement features". Pointer columns arrive
as Python lists ``t``, ``x``, ``y`` in time order.
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .reference_action import Action

#: X buttons 4-7 are the wheel: their rows live in the scroll stream, not here.
WHEEL_BUTTONS = frozenset((4, 5, 6, 7))


def chebyshev(ax: int, ay: int, bx: int, by: int) -> int:
    return max(abs(ax - bx), abs(ay - by))


def euclid(ax: int, ay: int, bx: int, by: int) -> float:
    dx, dy = float(ax) - float(bx), float(ay) - float(by)
    return math.sqrt(dx * dx + dy * dy)


@dataclass(eq=False)
class Hold:
    """A button press, its release (if any) and whether the pointer made it a drag."""

    button: int
    t: int
    x: int
    y: int
    release_t: int | None = None
    release_x: int | None = None
    release_y: int | None = None
    drag: bool = False
    path_x: list | None = None
    path_y: list | None = None


def button_holds(button: dict, pointer: dict, click_max_px: int) -> dict[int, Hold]:
    """Button row index of each press -> its :class:`Hold`.

    A press is paired with the next release of its button unless another press of that
    button comes first (then its release was lost and it has none).
    """
    holds, latest = {}, {}
    for i, (b, pressed) in enumerate(zip(button["button"], button["pressed"])):
        if b in WHEEL_BUTTONS:
            continue
        if pressed:
            holds[i] = latest[b] = Hold(b, button["t"][i], button["x"][i], button["y"][i])
        elif b in latest:
            hold = latest.pop(b)
            hold.release_t, hold.release_x, hold.release_y = button["t"][i], button["x"][i], button["y"][i]
        # else: a release without a press is ignored
    for hold in holds.values():
        _classify(hold, pointer, click_max_px)
    return holds


def _classify(hold: Hold, pointer: dict, click_max_px: int) -> None:
    """Click or drag: does any pointer row of the hold, or the release, leave the click radius?"""
    pt = pointer["t"]
    lo = bisect_right(pt, hold.t)  # strictly after the press
    hi = len(pt) if hold.release_t is None else bisect_right(pt, hold.release_t)  # at or before the release
    xs, ys = [hold.x], [hold.y]
    xs += pointer["x"][lo:hi]
    ys += pointer["y"][lo:hi]
    if hold.release_t is not None:
        xs.append(hold.release_x)
        ys.append(hold.release_y)
    hold.drag = any(chebyshev(x, y, hold.x, hold.y) > click_max_px for x, y in zip(xs, ys))
    if hold.drag:
        hold.path_x, hold.path_y = xs, ys
        if hold.release_t is None:  # no release point: the drag ends where the pointer last was
            hold.release_x, hold.release_y = xs[-1], ys[-1]


def held_intervals(button: dict) -> list[tuple[int, float]]:
    """``(first press, release)`` of each time some button was down (``inf``: never released)."""
    since, out = {}, []
    for t, b, pressed in zip(button["t"], button["button"], button["pressed"]):
        if b in WHEEL_BUTTONS:
            continue
        if pressed:
            since.setdefault(b, t)
        elif b in since:
            out.append((since.pop(b), t))
    out.extend((t, math.inf) for t in since.values())
    return out


class _References:
    """Where the pointer was last known to rest for the hover's travel rule: the first pointer
    row, the previous move, the previous pointer action at or before a time."""

    def __init__(self, pointer: dict, pointer_actions: list):
        self.first = (pointer["t"][0], -1, -1), (pointer["x"][0], pointer["y"][0])
        self.actions = sorted(pointer_actions, key=lambda a: a.order)
        self.times = [a.t for a in self.actions]
        self.last_move = None

    def point(self, t: int) -> tuple[int, int]:
        candidates = [self.first]
        i = bisect_right(self.times, t) - 1
        if i >= 0:
            action = self.actions[i]
            where = (action.x2, action.y2) if action.kind == "drag" else (action.x, action.y)
            candidates.append((action.order, where))
        if self.last_move is not None:
            candidates.append((self.last_move.order, (self.last_move.x, self.last_move.y)))
        return max(candidates, key=lambda c: c[0])[1]


def hovers(pointer: dict, interrupt_t: list, held: list, pointer_actions: list, rules, seq_of) -> list:
    """The move actions: rests of the pointer ended by moving on (docs, "Move (hover)").

    ``interrupt_t``: times of the interrupting rows, sorted; ``held``: :func:`held_intervals`;
    ``seq_of(i)``: the merged position of pointer row ``i``.
    """
    pt, px, py = pointer["t"], pointer["x"], pointer["y"]
    if not pt:
        return []
    refs, moves, anchor = _References(pointer, pointer_actions), [], 0
    for i in range(1, len(pt)):
        if chebyshev(px[i], py[i], px[anchor], py[anchor]) <= rules.hover_radius_px:
            continue  # the rest goes on
        if _is_hover(anchor, i, pointer, interrupt_t, held, refs, rules):
            move = Action("move", pt[anchor], pt[i], seq_of(anchor), x=px[anchor], y=py[anchor], anchor=anchor)
            moves.append(move)
            refs.last_move = move
        anchor = i
    return moves


def _is_hover(anchor: int, end: int, pointer: dict, interrupt_t: list, held: list, refs, rules) -> bool:
    """Whether the rest from row ``anchor`` ended by row ``end`` is a move action."""
    ta, te = pointer["t"][anchor], pointer["t"][end]
    if te - ta < rules.hover_us:
        return False
    first = bisect_left(interrupt_t, ta)
    if first < len(interrupt_t) and interrupt_t[first] <= te:
        return False  # an interruption in [anchor t, ending row t]
    if any(start <= ta <= stop for start, stop in held):
        return False  # a button held at the anchor: part of a drag, not a hover
    rx, ry = refs.point(ta)
    return euclid(pointer["x"][anchor], pointer["y"][anchor], rx, ry) >= rules.hover_travel_px


def movement(action: Action, previous: Action | None, pointer: dict, rules) -> None:
    """The movement features of a pointer action (docs, "Movement features")."""
    pt, px, py = pointer["t"], pointer["x"], pointer["y"]
    # R: rows at or before t (a move: up to its anchor row); L: those after the previous action.
    r_end = action.anchor + 1 if action.anchor is not None else bisect_right(pt, action.t)
    l_start = 0 if previous is None else min(bisect_right(pt, previous.t_end), r_end)
    m_start = l_start
    for j in range(r_end - 1, l_start, -1):  # the last pause between two rows of L
        if pt[j] - pt[j - 1] >= rules.move_pause_us:
            m_start = j
            break
    path = []
    if m_start < r_end:  # O, then M
        path = list(zip(px[max(m_start - 1, 0):r_end], py[max(m_start - 1, 0):r_end]))
        action.move_us = pt[r_end - 1] - pt[m_start]
    else:  # M empty: the last row of R, if any
        if r_end > 0:
            path = [(px[r_end - 1], py[r_end - 1])]
        action.move_us = 0
    path.append((action.x, action.y))
    length = 0.0
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        length += euclid(bx, by, ax, ay)
    distance = euclid(action.x, action.y, path[0][0], path[0][1])
    action.move_px = length
    action.straightness = distance / length if length != 0 else 1.0
    action.fitts_id = math.log2(distance / rules.target_width_px + 1)
