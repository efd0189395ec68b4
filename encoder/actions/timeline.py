"""A readable timeline of actions: one line each with time, kind, where, what and hesitation.

>>> import pyarrow as pa
>>> from encoder.actions import SCHEMA
>>> rows = [dict(t=1_500_000, t_end=1_600_000, kind="click", x=812, y=44, button=1, count=1, frame=3,
...              hesitation_us=1_200_000, app="gedit")]
>>> for line in timeline(pa.Table.from_pylist(rows, schema=SCHEMA), start_us=0):
...     print(line)
  0:01.500  click         (812, 44)             gedit                                 1.20 s
"""
from __future__ import annotations

import pyarrow as pa

WHERE_WIDTH, WHAT_WIDTH = 20, 34


def clock(us: int) -> str:
    """``m:ss.mmm`` (``h:mm:ss.mmm`` from an hour) of microseconds since the start."""
    ms = max(int(us), 0) // 1000
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}" if h else f"{m}:{s:02d}.{ms:03d}"


def where(row: dict) -> str:
    """Where a pointer action happened: ``(x, y)``, a drag's ``(x, y) -> (x2, y2)``."""
    if row.get("x") is None:
        return ""
    text = f"({row['x']}, {row['y']})"
    if row.get("x2") is not None:
        text += f" -> ({row['x2']}, {row['y2']})"
    return text


def what(row: dict) -> str:
    """What the action did: the typed text, the key, the scroll amount, the window, the app."""
    kind, text = row["kind"], row.get("text")
    if kind == "type":
        return repr(text) if text is not None else f"<{row['count']} keys, text not recorded>"
    if kind in ("key", "hotkey"):
        name = text if text is not None else "<unknown key>"
        return f"{name} x{row['count']}" if row["count"] > 1 else name
    if kind == "scroll":
        ticks = "tick" if row["count"] == 1 else "ticks"
        return f"dx {row['dx']:+d} dy {row['dy']:+d} ({row['count']} {ticks})"
    if kind == "focus":
        return f"{row.get('app') or '?'}: {text or ''}"
    if kind == "command":
        return f"$ {text}"
    if kind == "click" and row.get("button") not in (None, 1):
        return f"button {row['button']}"
    return row.get("app") or ""


def timeline(table: pa.Table, start_us: int | None = None) -> list[str]:
    """The lines of the timeline of ``table`` (times from ``start_us``, default its first ``t``)."""
    rows = table.to_pylist()
    if start_us is None:
        start_us = rows[0]["t"] if rows else 0
    lines = []
    for row in rows:
        lines.append(f"{clock(row['t'] - start_us):>10}  {row['kind']:<12}  {where(row):<{WHERE_WIDTH}}  "
                     f"{_clip(what(row)):<{WHAT_WIDTH}}  {row['hesitation_us'] / 1e6:6.2f} s")
    return lines


def _clip(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= WHAT_WIDTH else text[:WHAT_WIDTH - 1] + "…"
