"""What the viewer shows besides the pixels: one JSON-able dict of a recording's events.

Times are milliseconds since the recording's first row (of any stream, the origin of the
``encoder actions`` timeline), floats with microsecond digits for frames and actions (so the
page picks the same frame as :meth:`~encoder.ShardReader.frame_index_at`), whole
milliseconds for the pointer path (the bulk of an hour-long shard). Coordinates are screen
pixels, whatever scale the frames are served at.

>>> import numpy as np, tempfile, os, encoder
>>> path = os.path.join(tempfile.mkdtemp(), "s.enc")
>>> with encoder.ShardWriter(path) as w:
...     w.write("pointer", {"t": [1000, 5000], "x": [3, 4], "y": [5, 6]})
...     w.add_frame(2000, np.zeros((8, 8), np.uint8))
>>> with encoder.ShardReader(path) as r:
...     e = session_events(r)
>>> e["frames"], e["pointer"], e["duration"]
([1.0], {'t': [0, 4], 'x': [3, 4], 'y': [5, 6]}, 4.0)
"""
from __future__ import annotations

import json
import os

import numpy as np

from ..actions import derive
from ..actions.names import hotkey_prefix, key_name
from ..actions.timeline import what, where

#: Marker kinds that open and close a paused period (docs/capture.md).
PAUSE, RESUME, DROPPED = "pause", "resume", "recorder.dropped"
#: Kinds whose "where" is worth a label in the actions lane.
POINTER_KINDS = ("click", "double_click", "triple_click", "right_click", "middle_click", "drag", "scroll", "move")


def first_row_us(reader) -> int | None:
    """The first ``t`` of any stream of ``reader`` (None for an empty shard)."""
    firsts = [r[0] for r in (reader.time_range(s) for s in reader.streams) if r is not None]
    return min(firsts) if firsts else None


def last_row_us(reader) -> int | None:
    """The last ``t`` of any stream of ``reader``."""
    lasts = [r[1] for r in (reader.time_range(s) for s in reader.streams) if r is not None]
    return max(lasts) if lasts else None


def _ms(t, t0: int, digits: int = 3) -> list:
    """Microsecond times as milliseconds since ``t0`` (rounded to ``digits``)."""
    values = (np.asarray(t, np.int64) - t0) / 1000.0
    return np.round(values, digits).tolist() if digits else np.round(values).astype(np.int64).tolist()


def _table(reader, stream: str, columns: list[str]):
    return reader.read(stream, columns) if stream in reader.streams else None


def key_label(code: int, modifiers: int, text: str | None) -> str:
    """What one key press shows in the keys lane: ``ctrl+c``, ``a``, ``enter``, ``<letter>``."""
    name = key_name(int(code))
    if name is None:
        name = text if text else f"0x{int(code):x}"
    prefix = hotkey_prefix(int(modifiers))
    return name if name in ("ctrl", "alt", "shift", "win") else prefix + name


def action_label(row: dict) -> str:
    """The text of an action in the actions lane and list: where and what (its app left out)."""
    parts = []
    if row["kind"] in POINTER_KINDS:
        parts.append(where(row))
    text = what(row)
    if text and text != (row.get("app") or ""):
        parts.append(text)
    return " ".join(p for p in parts if p)


def _pauses(kinds: list, times: list, end_ms: float) -> list:
    """``[start, end]`` of each paused period from the pause and resume markers (open: to the end)."""
    out, opened = [], None
    for kind, t in zip(kinds, times):
        if kind == PAUSE and opened is None:
            opened = t
        elif kind == RESUME and opened is not None:
            out.append([opened, t])
            opened = None
    if opened is not None:
        out.append([opened, end_ms])
    return out


def session_events(reader, screen: int = 0, *, actions=None) -> dict:
    """The events of ``reader`` the viewer draws (see the module doc for units).

    Keys: ``name``, ``t0_us``, ``duration``, ``screen``, ``width``, ``height`` (of the frames,
    0 without), ``frames`` (times), ``pointer`` (``t``, ``x``, ``y`` arrays), ``clicks``
    (``[t, x, y, button]`` of presses), ``scrolls`` (``[t, x, y, dx, dy]``), ``keys``
    (``[t, label, text]`` of presses), ``focus`` (``[t, app, title]``), ``actions`` (``[t,
    t_end, kind, label, frame, app]``), ``pauses`` (``[start, end]``) and ``dropped`` (``[t,
    events, text]``). ``actions`` (a table from :func:`encoder.actions.derive`) is derived
    when not given.
    """
    t0 = first_row_us(reader)
    if t0 is None:
        t0 = 0
    end = last_row_us(reader) or t0
    out: dict = {"name": os.path.basename(str(getattr(reader, "name", "") or "")), "t0_us": int(t0),
                 "duration": round((end - t0) / 1000.0, 3), "screen": int(screen), "width": 0, "height": 0,
                 "frames": []}
    if screen in reader.frame_screens():
        info = reader.frame_info(0, screen)
        out.update(width=int(info["width"]), height=int(info["height"]),
                   frames=_ms(reader.frame_times(screen), t0))
    pointer = _table(reader, "pointer", ["t", "x", "y"])
    out["pointer"] = {"t": [], "x": [], "y": []} if pointer is None else {
        "t": _ms(pointer.column("t").to_numpy(), t0, 0),
        "x": pointer.column("x").to_pylist(), "y": pointer.column("y").to_pylist()}
    out["clicks"] = []
    buttons = _table(reader, "button", ["t", "button", "pressed", "x", "y"])
    if buttons is not None:
        pressed = buttons.filter(buttons.column("pressed")).to_pydict()
        times = _ms(pressed["t"], t0)
        out["clicks"] = [[t, x, y, b] for t, x, y, b in zip(times, pressed["x"], pressed["y"], pressed["button"])]
    out["scrolls"] = []
    scroll = _table(reader, "scroll", ["t", "x", "y", "dx", "dy"])
    if scroll is not None:
        s = scroll.to_pydict()
        out["scrolls"] = [list(r) for r in zip(_ms(s["t"], t0), s["x"], s["y"], s["dx"], s["dy"])]
    out["keys"] = []
    keys = _table(reader, "key", ["t", "code", "pressed", "modifiers", "text"])
    if keys is not None:
        k = keys.filter(keys.column("pressed")).to_pydict()
        out["keys"] = [[t, key_label(c, m, x), x] for t, c, m, x in
                       zip(_ms(k["t"], t0), k["code"], k["modifiers"], k["text"])]
    focus = _table(reader, "focus", ["t", "app", "title"])
    out["focus"] = [] if focus is None else [
        list(r) for r in zip(_ms(focus.column("t").to_numpy(), t0), focus.column("app").to_pylist(),
                             focus.column("title").to_pylist())]
    if actions is None:
        actions = derive(reader, screen=screen)
    out["actions"] = [[round((r["t"] - t0) / 1000.0, 3), round((r["t_end"] - t0) / 1000.0, 3), r["kind"],
                       action_label(r), r["frame"], r.get("app")] for r in actions.to_pylist()]
    markers = _table(reader, "marker", ["t", "kind", "text", "value"])
    out["pauses"], out["dropped"] = [], []
    if markers is not None:
        m = markers.to_pydict()
        times = _ms(m["t"], t0)
        out["pauses"] = _pauses(m["kind"], times, out["duration"])
        out["dropped"] = [[t, v, x] for t, k, x, v in zip(times, m["kind"], m["text"], m["value"]) if k == DROPPED]
    return out


def events_json(events: dict) -> str:
    """``events`` as compact JSON, safe inside an HTML ``<script>`` element (no ``<``, ``>``, ``&``)."""
    text = json.dumps(events, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
