"""The columns of an actions table (what :func:`~encoder.actions.derive` returns).

Every column is nullable where it does not apply to a kind (docs/actions.md, "The table").
"""
from __future__ import annotations

import pyarrow as pa

#: Action kinds, in the order used to break ties between actions that start at the same
#: microsecond (and as the tokenizer's kind tokens).
KINDS = ("focus", "command", "move", "click", "double_click", "triple_click", "right_click", "middle_click",
         "drag", "scroll", "key", "hotkey", "type")
KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}
POINTER_KINDS = ("move", "click", "double_click", "triple_click", "right_click", "middle_click", "drag", "scroll")
CLICK_KINDS = ("click", "double_click", "triple_click", "right_click", "middle_click")

#: The columns both derivations compute from the input streams (:mod:`~encoder.actions.native`,
#: :mod:`~encoder.actions.reference`).
CORE_SCHEMA = pa.schema([
    pa.field("t", pa.int64(), nullable=False),          # start, us on the session clock
    pa.field("t_end", pa.int64(), nullable=False),      # end (last release, last tick, last key release)
    pa.field("kind", pa.string(), nullable=False),
    pa.field("x", pa.int32()), pa.field("y", pa.int32()),    # where (press, first tick, rest)
    pa.field("x2", pa.int32()), pa.field("y2", pa.int32()),  # drag: where it was released
    pa.field("button", pa.uint8()),                     # X button (1 left, 2 middle, 3 right, 8, 9...)
    pa.field("count", pa.int32(), nullable=False),      # clicks, scroll ticks, key presses of the action
    pa.field("text", pa.string()),                      # typed text, key or hotkey name, title, command
    pa.field("dx", pa.int32()), pa.field("dy", pa.int32()),  # scroll totals (the scroll stream's units)
    pa.field("app", pa.string()),                       # the application in focus at t
    pa.field("frame", pa.int64(), nullable=False),      # last frame of the screen at or before t, -1 if none
    pa.field("hesitation_us", pa.int64(), nullable=False),  # t - t_end of the previous action (>= 0)
    pa.field("move_us", pa.int64()),                    # pointer actions: duration of the lead-in movement
    pa.field("move_px", pa.float32()),                  # its path length
    pa.field("straightness", pa.float32()),             # straight distance / path length (0-1)
    pa.field("fitts_id", pa.float32()),                 # log2(distance / target width + 1), bits
    pa.field("dwell_us", pa.int64()),                   # type: median key hold (release - press)
    pa.field("flight_us", pa.int64()),                  # type: median press - previous release
    pa.field("keys_per_s", pa.float32()),               # type: presses per second over the burst
    pa.field("path_x", pa.list_(pa.int32())),           # drag: the pointer's path, press to release
    pa.field("path_y", pa.list_(pa.int32())),
])
#: Context joined afterwards from the command and element streams (:mod:`~encoder.actions.context`).
CONTEXT_FIELDS = [
    pa.field("cwd", pa.string()),                       # command: the shell's working directory
    pa.field("exit_code", pa.int32()),                  # command: exit status (null: unknown)
    pa.field("duration_us", pa.int64()),                # command: how long it ran (null: unknown)
    pa.field("element_role", pa.string()),              # click kinds, drag, focus: the UI element's role
    pa.field("element_name", pa.string()),              # ... its name
    pa.field("element_path", pa.string()),              # ... its ancestors, "gedit > File > Save As..."
]
#: An actions table: the core columns, then the context (version 2 added the context).
SCHEMA = pa.schema(list(CORE_SCHEMA) + CONTEXT_FIELDS, metadata={"encoder.actions": "2"})


def empty() -> pa.Table:
    """An actions table without rows."""
    return SCHEMA.empty_table()
