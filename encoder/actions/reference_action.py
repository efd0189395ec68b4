"""One action while the reference derivation builds it (:mod:`~encoder.actions.reference`).

Key, hotkey and type actions keep their presses (:class:`KeyPress`) because their ``t_end``,
dwell and flight need releases that come later in the recording; everything else is known
when the action is made.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .schema import KIND_RANK


@dataclass(eq=False)
class KeyPress:
    """A key press and, once seen, the release paired with it."""

    t: int
    release_t: int | None = None

    @property
    def end(self) -> int:
        """The release, or the press when the release is missing (docs: "the last press")."""
        return self.t if self.release_t is None else self.release_t


@dataclass(eq=False)
class Action:
    """One row of the actions table, plus what the rules still need to finish it."""

    kind: str
    t: int
    t_end: int
    #: Position, in the merged row order, of the row that started the action: the creation
    #: order that breaks ties of (t, kind).
    seq: int
    count: int = 1
    x: int | None = None
    y: int | None = None
    x2: int | None = None
    y2: int | None = None
    button: int | None = None
    text: str | None = None
    dx: int | None = None
    dy: int | None = None
    path_x: list | None = None
    path_y: list | None = None
    #: key, hotkey, type: the presses that make the action, in order.
    presses: list = field(default_factory=list)
    #: type: the characters the burst leaves, and whether any of them is unknown (timing-only).
    chars: list | None = None
    text_unknown: bool = False
    #: move: index of its anchor row in the pointer stream (its movement ends there).
    anchor: int | None = None
    # Filled in when the table is assembled.
    app: str | None = None
    frame: int = -1
    hesitation_us: int = 0
    move_us: int | None = None
    move_px: float | None = None
    straightness: float | None = None
    fitts_id: float | None = None
    dwell_us: int | None = None
    flight_us: int | None = None
    keys_per_s: float | None = None

    @property
    def order(self) -> tuple:
        """The table's sort key: time, then the kind order, then creation order."""
        return (self.t, KIND_RANK[self.kind], self.seq)
