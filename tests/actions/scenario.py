"""Hand-built recordings for the rule tests of docs/actions.md, and the checks of their rows.

Streams are written as rows (tuples) and turned into the dicts of columns ``derive`` takes;
:func:`check` compares the listed columns of a derived row exactly (floats to 1e-6) and
asserts that every column the kind does not use is null.
"""
from __future__ import annotations

import pytest

import encoder.actions
from encoder.actions.schema import CLICK_KINDS, POINTER_KINDS, SCHEMA
from encoder.streams.keys import CONTROL, MOD1, MOD4, SHIFT

__all__ = ["CONTROL", "MOD1", "MOD4", "SHIFT", "backend", "check", "derive", "key", "kinds", "tap"]

MOVEMENT = ("move_us", "move_px", "straightness", "fitts_id")
TYPING = ("dwell_us", "flight_us", "keys_per_s")
#: Columns each kind may fill besides t, t_end, kind, count, app, frame and hesitation_us.
USES = {kind: ("x", "y", "button") + MOVEMENT for kind in CLICK_KINDS}
USES.update(move=("x", "y") + MOVEMENT, drag=("x", "y", "x2", "y2", "button", "path_x", "path_y") + MOVEMENT,
            scroll=("x", "y", "dx", "dy") + MOVEMENT, focus=("text",), command=("text",), key=("text",),
            hotkey=("text",), type=("text",) + TYPING)
ALWAYS = ("t", "t_end", "kind", "count", "app", "frame", "hesitation_us")
FLOATS = ("move_px", "straightness", "fitts_id", "keys_per_s")


@pytest.fixture(params=["reference", "native"])
def backend(request):
    """Each scenario under both derivations; the native one skips until it is built."""
    if request.param == "native":
        try:
            import encoder.actions.native  # noqa: F401
        except ImportError as exc:
            pytest.skip(f"native actions backend not importable: {exc}")
    return request.param


def _columns(names: tuple, rows) -> dict:
    rows = list(rows)
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def streams(pointer=(), button=(), scroll=(), keys=(), focus=(), command=(), frames=None) -> dict:
    """A source for ``derive`` from rows: pointer (t, x, y); button (t, button, pressed, x, y);
    scroll (t, dx, dy, x, y); keys (t, code, pressed, modifiers, text); focus (t, window, app,
    title); command (t, text); frames: times (screen 0) or (t, screen) pairs."""
    src = {
        "pointer": _columns(("t", "x", "y"), pointer),
        "button": _columns(("t", "button", "pressed", "x", "y"), button),
        "scroll": _columns(("t", "dx", "dy", "x", "y"), scroll),
        "key": _columns(("t", "code", "pressed", "modifiers", "text"), keys),
        "focus": _columns(("t", "window", "app", "title"), focus),
        "command": _columns(("t", "text"), command),
    }
    if frames is not None:
        pairs = [f if isinstance(f, tuple) else (f, 0) for f in frames]
        src["frame"] = _columns(("t", "screen"), pairs)
    return src


def derive(backend: str, rules=None, screen: int = 0, **rows) -> list[dict]:
    """The derived rows of the recording ``streams(**rows)``, checked against SCHEMA."""
    table = encoder.actions.derive(streams(**rows), backend=backend, rules=rules, screen=screen)
    assert table.schema == SCHEMA
    return table.to_pylist()


def kinds(rows: list[dict]) -> list[str]:
    return [row["kind"] for row in rows]


def key(t: int, code: int, pressed: bool = True, modifiers: int = 0, text: str | None = None) -> tuple:
    """One key row."""
    return (t, code, pressed, modifiers, text)


def tap(t: int, code: int, modifiers: int = 0, dwell: int = 50_000, text: str | None = None) -> list[tuple]:
    """A press at ``t`` and its release ``dwell`` later."""
    return [key(t, code, True, modifiers, text), key(t + dwell, code, False, modifiers, text)]


def check(row: dict, **expected) -> None:
    """``row`` has the ``expected`` values, and null in every column its kind does not use."""
    for name, want in expected.items():
        got = row[name]
        if name in FLOATS and want is not None:
            assert got == pytest.approx(want, rel=1e-6), (name, row)
        else:
            assert got == want, (name, got, want, row)
    unused = set(row) - set(ALWAYS) - set(USES[row["kind"]])
    assert {name: row[name] for name in unused if row[name] is not None} == {}, row
    if row["kind"] in POINTER_KINDS:
        assert None not in [row[name] for name in MOVEMENT], row
