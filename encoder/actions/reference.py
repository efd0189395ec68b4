"""The reference derivation of actions: plain Python, one row at a time, docs/actions.md literally.

It is the executable specification and the test oracle of the Numba derivation
(:mod:`~encoder.actions.native`): both must return the same table. Speed is secondary
(a few hundred thousand rows a second); clarity is not.

The derivation walks every input row in the merged order of the docs ("Order"): pointer,
button, scroll, key, focus, command at one microsecond. Buttons are paired with their
releases up front (a press's click-or-drag is needed when the next press comes); the walk
then makes clicks, scrolls, keys, focus and command actions and notes each interruption;
hovers come last because their travel rule needs the pointer actions. The table is then
sorted by (t, kind rank, creation order) and each row gets the columns that depend on the
row before it (hesitation, movement) and on time alone (app, frame).
"""
from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pyarrow as pa

from .inputs import STREAM_ORDER, Inputs
from .reference_action import Action
from .reference_keys import KeyMachine, finish_keys
from .reference_pointer import button_holds, chebyshev, held_intervals, hovers, movement
from .rules import Rules
from .schema import CORE_SCHEMA as SCHEMA, POINTER_KINDS

POINTER, BUTTON, SCROLL, KEY, FOCUS, COMMAND = range(len(STREAM_ORDER))
_MULTI_KINDS = {1: "click", 2: "double_click", 3: "triple_click"}
_BUTTON_KINDS = {2: "middle_click", 3: "right_click"}


def derive_inputs(inputs: Inputs, rules: Rules) -> pa.Table:
    """The actions of ``inputs`` under ``rules``, as a table of :data:`~encoder.actions.SCHEMA`."""
    streams = {name: _as_lists(inputs[name]) for name in STREAM_ORDER}
    merged = _merged_order(streams)
    if not merged:
        return SCHEMA.empty_table()
    walk = _Walk(streams, rules, _end_us(streams, inputs.frame_t))
    for seq, (t, stream, row) in enumerate(merged):
        walk.row(seq, t, stream, row)
    seq_of = _pointer_seq(merged)
    pointer_actions = [a for a in walk.actions if a.kind in POINTER_KINDS]
    walk.actions += hovers(streams["pointer"], walk.interrupt_t, held_intervals(streams["button"]),
                           pointer_actions, rules, seq_of.__getitem__)
    actions = sorted(walk.actions, key=lambda a: a.order)
    _finish(actions, streams, inputs, rules)
    return _table(actions)


def _as_lists(columns: dict) -> dict:
    """A stream's columns as Python lists: the walk reads them one value at a time."""
    return {name: _as_list(columns[name]) for name in list(columns)}


def _as_list(values) -> list:
    if isinstance(values, np.ndarray):
        return values.tolist()
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.to_pylist()
    return list(values)


def _merged_order(streams: dict) -> list[tuple[int, int, int]]:
    """``(t, stream, row)`` of every row, in the docs' merged order."""
    rows = [(t, s, i) for s, name in enumerate(STREAM_ORDER) for i, t in enumerate(streams[name]["t"])]
    rows.sort()
    return rows


def _pointer_seq(merged: list) -> list[int]:
    """Merged position of each pointer row (a move's creation order)."""
    return [seq for seq, (_, stream, _) in enumerate(merged) if stream == POINTER]


def _end_us(streams: dict, frame_t: np.ndarray) -> int:
    """The last row of the recording (frames included, like ``Inputs.start_us``): where a
    press that never saw its release ends."""
    ends = [max(cols["t"]) for cols in streams.values() if cols["t"]]
    if len(frame_t):
        ends.append(int(np.max(frame_t)))
    return max(ends)


class _Walk:
    """The state of the merged walk: the multi-click and scroll burst that may still grow,
    the key machine, and the times of the interruptions (for hovers)."""

    def __init__(self, streams: dict, rules: Rules, end_us: int):
        self.s, self.rules, self.end_us = streams, rules, end_us
        self.actions: list[Action] = []
        self.holds = button_holds(streams["button"], streams["pointer"], rules.click_max_px)
        self.keys = KeyMachine(rules.type_gap_us, self.actions)
        self.multi: Action | None = None    # the button-1 multi-click a click may continue
        self.multi_press: tuple | None = None  # (t, x, y) of its last press
        self.scroll: Action | None = None   # the scroll burst a tick may continue
        self.scroll_prev_t = 0
        self.window = None                  # the window of the previous focus row
        self.interrupt_t: list[int] = []

    def row(self, seq: int, t: int, stream: int, i: int) -> None:
        if stream == BUTTON:
            self._button(seq, t, i)
        elif stream == SCROLL:
            self._tick(seq, t, i)
        elif stream == KEY:
            self._key(seq, t, i)
        elif stream == FOCUS:
            self._focus(seq, t, i)
        elif stream == COMMAND:
            self._interrupt(t)
            self.actions.append(Action("command", t, t, seq, text=self.s["command"]["text"][i]))
        # pointer rows make hovers afterwards and interrupt nothing

    def _interrupt(self, t: int, keep_multi: bool = False, keep_scroll: bool = False) -> None:
        """A row that interrupts every burst but the one it continues."""
        self.interrupt_t.append(t)
        self.keys.interrupt()
        if not keep_multi:
            self.multi = None
        if not keep_scroll:
            self.scroll = None

    def _button(self, seq: int, t: int, i: int) -> None:
        hold = self.holds.get(i)
        if hold is None:  # a release (paired up front) or a wheel button
            return
        self.interrupt_t.append(t)
        self.keys.interrupt()
        self.scroll = None
        end = self.end_us if hold.release_t is None else hold.release_t
        if hold.drag:
            self.multi = None
            self.actions.append(Action("drag", t, end, seq, x=hold.x, y=hold.y, x2=hold.release_x,
                                       y2=hold.release_y, button=hold.button, path_x=hold.path_x,
                                       path_y=hold.path_y))
        elif hold.button == 1:
            self._left_click(seq, t, end, hold)
        else:
            self.multi = None
            kind = _BUTTON_KINDS.get(hold.button, "click")
            self.actions.append(Action(kind, t, end, seq, x=hold.x, y=hold.y, button=hold.button))

    def _left_click(self, seq: int, t: int, end: int, hold) -> None:
        multi, rules = self.multi, self.rules
        if multi is not None and multi.count < 3:
            last_t, last_x, last_y = self.multi_press
            if t - last_t <= rules.multi_click_us and chebyshev(hold.x, hold.y, last_x, last_y) <= rules.multi_click_px:
                multi.count += 1
                multi.kind = _MULTI_KINDS[multi.count]
                multi.t_end = end
                self.multi_press = (t, hold.x, hold.y)
                return
        self.multi = Action("click", t, end, seq, x=hold.x, y=hold.y, button=1)
        self.multi_press = (t, hold.x, hold.y)
        self.actions.append(self.multi)

    def _tick(self, seq: int, t: int, i: int) -> None:
        sc = self.s["scroll"]
        dx, dy, x, y = sc["dx"][i], sc["dy"][i], sc["x"][i], sc["y"][i]
        self._interrupt(t, keep_scroll=True)
        burst, rules = self.scroll, self.rules
        if (burst is not None and t - self.scroll_prev_t <= rules.scroll_gap_us
                and chebyshev(x, y, burst.x, burst.y) <= rules.scroll_move_px
                and not _reverses(dx, burst.dx) and not _reverses(dy, burst.dy)):
            burst.t_end, burst.count = t, burst.count + 1
            burst.dx, burst.dy = burst.dx + dx, burst.dy + dy
        else:
            self.scroll = Action("scroll", t, t, seq, x=x, y=y, dx=dx, dy=dy)
            self.actions.append(self.scroll)
        self.scroll_prev_t = t

    def _key(self, seq: int, t: int, i: int) -> None:
        key = self.s["key"]
        if not key["pressed"][i]:
            self.keys.release(t, key["code"][i])
            return
        what = self.keys.press(seq, t, key["code"][i], key["modifiers"][i], key["text"][i])
        if what != "modifier":  # the key machine handled its own bursts
            self.interrupt_t.append(t)
            self.multi = self.scroll = None

    def _focus(self, seq: int, t: int, i: int) -> None:
        focus = self.s["focus"]
        window, previous = focus["window"][i], self.window
        self.window = window
        if previous is None or window == previous:  # the first row sets the state; same window: no switch
            return
        self._interrupt(t)
        self.actions.append(Action("focus", t, t, seq, text=focus["title"][i], app=focus["app"][i]))


def _reverses(step: int, total: int) -> bool:
    """Whether a tick's ``step`` runs against the burst's ``total`` on one axis."""
    return (step > 0 and total < 0) or (step < 0 and total > 0)


def _finish(actions: list, streams: dict, inputs: Inputs, rules: Rules) -> None:
    """The columns that need the final order or time alone: t_end of keys, typing and movement
    features, hesitation, app and frame."""
    focus_t, frames = streams["focus"]["t"], _FrameAt(inputs.frame_t)
    previous = None
    for action in actions:
        if action.presses:
            finish_keys(action)
        if action.kind in POINTER_KINDS:
            movement(action, previous, streams["pointer"], rules)
        since = inputs.start_us if previous is None else previous.t_end
        action.hesitation_us = max(0, action.t - since)
        at = bisect_right(focus_t, action.t) - 1  # the focus row at or before t
        action.app = streams["focus"]["app"][at] if at >= 0 else None
        action.frame = frames.at(action.t)
        previous = action


class _FrameAt:
    """Index of the last frame at or before a time: the latest such time, the last written
    of equal times (as ``ShardReader`` does for frame times that are not monotonic)."""

    def __init__(self, frame_t: np.ndarray):
        self.order = np.argsort(frame_t, kind="stable").tolist()
        self.times = [int(frame_t[i]) for i in self.order]

    def at(self, t: int) -> int:
        i = bisect_right(self.times, t) - 1
        return self.order[i] if i >= 0 else -1


def _table(actions: list) -> pa.Table:
    """The actions as a table of SCHEMA, floats computed in float64 and stored as float32."""
    columns = [pa.array([getattr(a, f.name) for a in actions], f.type) for f in SCHEMA]
    return pa.Table.from_arrays(columns, schema=SCHEMA)
