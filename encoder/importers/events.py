"""pynput event lines (DuckTrack, AgentNet) -> rows of our streams, and the shard they make.

Both formats log one JSON object per line with ``time_stamp`` (seconds of the recorder's
``time.perf_counter()``) and ``action``: ``move``, ``click``, ``scroll``, ``press``,
``release`` (AgentNet adds ``pause`` and ``resume``). :class:`Rows` turns them into column
lists; :func:`write` puts them into one shard, all or nothing. The mapping (units, signs,
what is skipped) is documented in docs/importers.md.
"""
from __future__ import annotations

import collections
import errno
import hashlib
import json
import math
import os
import time
from decimal import Decimal

import numpy as np

from ..errors import SchemaError
from ..shard import ShardWriter
from .pynput_keys import ModifierState, keysym, press_text

#: Version of the mapping from the raw formats to our streams (kept in the shard's metadata).
IMPORTER_VERSION = 1
#: pynput button names -> X button numbers (x1/x2 are the back/forward side buttons).
BUTTONS = {"left": 1, "middle": 2, "right": 3, "x1": 8, "x2": 9}
BUTTONS.update({f"button{n}": n for n in range(8, 31)})   # pynput's X11 backend names the rest
#: Columns of each stream an importer fills, in schema order (``t`` first).
COLUMNS = {
    "pointer": ("t", "x", "y"),
    "button": ("t", "button", "pressed", "x", "y"),
    "scroll": ("t", "dx", "dy", "precise", "x", "y"),
    "key": ("t", "code", "pressed", "modifiers", "text"),
    "focus": ("t", "app", "title", "window", "x", "y", "width", "height"),
    "marker": ("t", "kind", "text", "value"),
}
DTYPES = {"t": np.int64, "x": np.int32, "y": np.int32, "button": np.uint8, "pressed": np.bool_,
          "dx": np.int32, "dy": np.int32, "precise": np.bool_, "code": np.uint32, "modifiers": np.uint16,
          "window": np.int64, "width": np.int32, "height": np.int32, "value": np.int64}
INT32 = (-(1 << 31), (1 << 31) - 1)


def read_jsonl(path: str):
    """Yield ``(line number, object)`` for each non-blank line of a JSON-lines file.

    Floats are read as :class:`~decimal.Decimal` so that seconds become microseconds by an
    exact rounding (a float's nearest microsecond can differ from the decimal text's).
    Raises :class:`SchemaError` naming the file and line for a line that is not a JSON object.
    """
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
            except (ValueError, UnicodeDecodeError) as exc:
                raise SchemaError(f"{path}, line {number}: not valid JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise SchemaError(f"{path}, line {number}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number these formats use")


def window_id(app: str, title: str | None) -> int:
    """A stable window id for a focused app/title (the raw formats have none): the first 63
    bits of BLAKE2b of both, so one window gets one id in every import.

    >>> window_id("explorer", None) == window_id("explorer", None) != window_id("explorer", "Settings")
    True
    """
    digest = hashlib.blake2b(f"{app}\x00{title or ''}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class Rows:
    """Rows of each stream from one recording's events, in file order.

    ``scroll_sign`` multiplies pynput's ``dx``/``dy`` before ours are made: 1 keeps the
    direction the applications received (the default, see docs/importers.md), -1 inverts it.
    """

    def __init__(self, path: str, fmt: str, *, scroll_sign: int = 1):
        self.path, self.format, self.scroll_sign = path, fmt, scroll_sign
        self.columns = {name: {c: [] for c in cols} for name, cols in COLUMNS.items()}
        self.skipped: collections.Counter = collections.Counter()
        self.modifiers = ModifierState()
        self.lines = 0

    # -- field checks ------------------------------------------------------------------
    def _fail(self, line: int, message: str):
        raise SchemaError(f"{self.path}, line {line}: {message}")

    def _number(self, event: dict, key: str, line: int):
        value = event.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            self._fail(line, f"{event.get('action', 'event')!r} needs a number {key!r}, got {value!r}")
        if isinstance(value, Decimal) and not value.is_finite():
            self._fail(line, f"{key!r} is {value}")
        return value

    def _int32(self, event: dict, key: str, line: int) -> int:
        value = round(self._number(event, key, line))   # half to even, exact on the decimal text
        if not INT32[0] <= value <= INT32[1]:
            self._fail(line, f"{key!r} = {value} does not fit int32")
        return value

    def _steps(self, event: dict, key: str, line: int) -> int:
        value = self._number(event, key, line)
        if value != int(value):
            self._fail(line, f"scroll {key!r} = {value} is not a whole number of steps")
        if not INT32[0] < value <= INT32[1]:   # negated below: -2**31 would not fit
            self._fail(line, f"scroll {key!r} = {value} does not fit int32")
        return int(value) * self.scroll_sign

    def time_us(self, event: dict, line: int) -> int:
        """``time_stamp`` seconds -> int64 microseconds on the same clock (rounded half to even)."""
        value = self._number(event, "time_stamp", line)
        us = round(value * 1_000_000)
        if not -(1 << 63) <= us < (1 << 63):
            self._fail(line, f"time_stamp {value} is out of range")
        return us

    def _row(self, stream: str, **values) -> None:
        cols = self.columns[stream]
        for name, column in cols.items():
            column.append(values.get(name))

    # -- events ------------------------------------------------------------------------
    def add(self, line: int, event: dict) -> None:
        """Turn one event into a row (or count it as skipped); raises on a malformed one."""
        self.lines += 1
        action = event.get("action")
        if not isinstance(action, str):
            self._fail(line, f"no 'action' (got {action!r})")
        handler = getattr(self, "_" + action, None) if action in ACTIONS else None
        if handler is None:
            self.skipped[f"action {action!r}"] += 1
            return
        handler(line, event, self.time_us(event, line))

    def _move(self, line, event, t):
        self._row("pointer", t=t, x=self._int32(event, "x", line), y=self._int32(event, "y", line))

    def _click(self, line, event, t):
        name, pressed = event.get("button"), event.get("pressed")
        if not isinstance(pressed, bool):
            self._fail(line, f"'click' needs a boolean 'pressed', got {pressed!r}")
        x, y = self._int32(event, "x", line), self._int32(event, "y", line)
        if not isinstance(name, str):
            self._fail(line, f"'click' needs a button name, got {name!r}")
        if name not in BUTTONS:
            self.skipped[f"button {name!r}"] += 1
            return
        self._row("button", t=t, button=BUTTONS[name], pressed=pressed, x=x, y=y)

    def _scroll(self, line, event, t):
        # pynput's dy > 0 is the wheel turned away from the user (X button 4, "up"); ours is
        # the opposite sign (docs/capture.md: +1 down). dx > 0 is right in both.
        dx, dy = self._steps(event, "dx", line), self._steps(event, "dy", line)
        self._row("scroll", t=t, dx=dx, dy=-dy, precise=False,
                  x=self._int32(event, "x", line), y=self._int32(event, "y", line))

    def _press(self, line, event, t):
        self._key(line, event, t, True)

    def _release(self, line, event, t):
        self._key(line, event, t, False)

    def _key(self, line, event, t, pressed):
        name, raw = event.get("name"), event.get("pynput_key")
        if not isinstance(name, str) and not isinstance(raw, str):
            self._fail(line, f"{event['action']!r} needs a key 'name', got {name!r}")
        sym = keysym(name, self.modifiers.state, raw)
        if sym is None:
            self.skipped[f"{event['action']} of unknown key {name if name is not None else raw!r}"] += 1
            return
        before = self.modifiers.event(sym, pressed)
        self._row("key", t=t, code=sym, pressed=pressed, modifiers=before,
                  text=press_text(sym, pressed, before))

    def _pause(self, line, event, t):
        self._row("marker", t=t, kind=event["action"], text=json.dumps({"by": self.format}), value=0)

    _resume = _pause

    def add_focus(self, t: int, app: str, title: str | None) -> None:
        """A focus row; the raw formats give no window rectangle, so it is 0, 0, 0x0 (unknown)."""
        self._row("focus", t=t, app=app, title=title, window=window_id(app, title), x=0, y=0, width=0, height=0)

    # -- out ----------------------------------------------------------------------------
    def tables(self, always=("pointer", "button", "scroll", "key")) -> dict:
        """``{stream: {column: array}}`` of the streams with rows, and of ``always`` (empty)."""
        return {stream: {name: np.asarray(values, DTYPES[name]) if name in DTYPES else values
                         for name, values in cols.items()}
                for stream, cols in self.columns.items() if cols["t"] or stream in always}


ACTIONS = ("move", "click", "scroll", "press", "release", "pause", "resume")


def write(out_path, rows: Rows, metadata: dict, frames=None, *, started: float | None = None) -> dict:
    """Write ``rows`` (and ``frames``: an iterable of ``(t_us, HxWx3 uint8 RGB)``) into the shard
    ``out_path``, all or nothing: a temporary file beside it is renamed into place at the end.
    Returns the import summary."""
    started = time.perf_counter() if started is None else started
    out_path = os.fspath(out_path)
    tables = rows.tables()
    metadata = dict(metadata)
    metadata["importer"] = dict(metadata.get("importer", {}), lines=rows.lines, skipped=dict(rows.skipped))
    partial = out_path + ".partial"
    count = 0
    try:
        with ShardWriter(partial, metadata=metadata) as writer:
            for stream, table in tables.items():
                writer.write(stream, table)
            for t, image in frames or ():
                writer.add_frame(t, image)
                count += 1
        os.replace(partial, out_path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    times = [int(t["t"].min()) for t in tables.values() if len(t["t"])], \
        [int(t["t"].max()) for t in tables.values() if len(t["t"])]
    return {
        "format": rows.format, "source": rows.path, "shard": out_path,
        "rows": {stream: len(table["t"]) for stream, table in tables.items()},
        "frames": count, "skipped": dict(rows.skipped), "lines": rows.lines,
        "t_us": [min(times[0]), max(times[1])] if times[0] else None,
        "seconds": round(time.perf_counter() - started, 3),
    }


def locate(src, name: str = "events.jsonl") -> str:
    """The events file of ``src``: a recording's folder (its ``name``) or the file itself."""
    src = os.fspath(src)
    path = os.path.join(src, name) if os.path.isdir(src) else src
    if not os.path.isfile(path):
        raise FileNotFoundError(errno.ENOENT, f"no events file ({name} of a recording)", path)
    return path


def read_json(path: str) -> dict:
    """A JSON object file (a recording's metadata.json), floats as Decimal."""
    with open(path, "rb") as f:
        try:
            obj = json.loads(f.read(), parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SchemaError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise SchemaError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def plain(value):
    """``value`` with Decimals as floats (for the shard's JSON metadata)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def number(value) -> bool:
    """Whether a metadata value is a usable finite number (not a bool)."""
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and math.isfinite(value)


def screen_size(screen, where: str) -> tuple[int, int] | None:
    """``(width, height)`` from a ``(w, h)`` pair or ``"WxH"`` text; None stays None."""
    if screen is None:
        return None
    try:
        w, h = (int(v) for v in (screen.lower().split("x") if isinstance(screen, str) else screen))
    except (TypeError, ValueError):
        raise SchemaError(f"{where}: screen size must be (width, height) or 'WxH', not {screen!r}") from None
    if not (0 < w <= 1 << 16 and 0 < h <= 1 << 16):
        raise SchemaError(f"{where}: screen size {w}x{h} is out of range")
    return w, h


def base_metadata(fmt: str, source: str, screen, platform: dict, options: dict) -> dict:
    """The metadata every import writes: importer, clock, screens (when known), platform."""
    meta = {"importer": {"format": fmt, "source": os.path.basename(source), "version": IMPORTER_VERSION,
                         "options": options},
            # The recorders' clock is time.perf_counter(): no Unix anchor is known.
            "clock": {"source": "time.perf_counter (recorder)", "t0_us": 0}}
    if screen is not None:
        meta["screens"] = [{"id": 0, "x": 0, "y": 0, "width": screen[0], "height": screen[1]}]
    if platform:
        meta["platform"] = platform
    return meta


def scroll_sign(direction, apply: bool, where: str) -> int:
    """The factor on pynput's wheel steps: 1, or the recorded ``scroll_direction`` when ``apply``.

    >>> scroll_sign(-1, False, "m.json"), scroll_sign(-1, True, "m.json")
    (1, -1)
    """
    if direction is not None and (isinstance(direction, bool) or direction not in (1, -1)):
        raise SchemaError(f"{where}: scroll_direction must be 1 or -1, not {direction!r}")
    if not apply:
        return 1
    if direction is None:
        raise SchemaError(f"{where}: apply_scroll_direction needs the recorded scroll_direction (1 or -1)")
    return int(direction)
