"""``session_stats``: what a shard holds, as the figures of ``encoder stats``.

Events per minute by stream, the apps in focus and for how long, stored bytes by stream (from
the block index, nothing decompressed), the hesitation before each action (a histogram with
1-2-5 bins, from :func:`encoder.actions.derive`) and the actions by kind. Everything is plain
numbers, lists and dicts (JSON-ready); :func:`encoder.review.page.stats_page` draws them and
the command prints them as tables.

>>> import numpy as np, os, tempfile, encoder
>>> path = os.path.join(tempfile.mkdtemp(), "s.enc")
>>> with encoder.ShardWriter(path) as w:
...     w.write("pointer", {"t": np.arange(0, 150_000_000, 1_000_000), "x": np.zeros(150, np.int32),
...                         "y": np.zeros(150, np.int32)})
...     w.write("focus", {"t": [0, 100_000_000], "app": ["xterm", "firefox"], "title": ["a", "b"],
...                       "window": [1, 2], "x": [0, 0], "y": [0, 0], "width": [9, 9], "height": [9, 9]})
>>> s = session_stats(path)
>>> s["events_per_minute"]["streams"]["pointer"]
[60, 60, 30]
>>> [(a["app"], a["seconds"]) for a in s["apps"]]
[('xterm', 100.0), ('firefox', 49.0)]
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..actions import derive
from ..shard import ShardReader
from .ranges import origin_us
from .rewrite import FRAME_STREAMS

#: Edges of the hesitation bins in microseconds (1-2-5 steps from 1 ms to 100 s); a value
#: below the first edge or at or above the last one has a bin of its own.
HESITATION_EDGES_US = [int(m * 10 ** e) for e in range(3, 8) for m in (1, 2, 5)] + [100_000_000]


def short_duration(us: int) -> str:
    """``500 ms``, ``2 s``, ``100 s``: a bin edge as a label.

    >>> short_duration(1_000), short_duration(500_000), short_duration(20_000_000)
    ('1 ms', '500 ms', '20 s')
    """
    return f"{us / 1e6:g} s" if us >= 1_000_000 else f"{us / 1e3:g} ms"


def hesitation_bins() -> list[str]:
    """Labels of the hesitation bins: ``< 1 ms``, ``1-2 ms``, ..., ``>= 100 s``."""
    e = HESITATION_EDGES_US
    labels = [f"< {short_duration(e[0])}"]
    for lo, hi in zip(e[:-1], e[1:]):
        a, b = short_duration(lo), short_duration(hi)
        same_unit = a.split()[1] == b.split()[1]
        labels.append(f"{a.split()[0]}-{b}" if same_unit else f"{a}-{b}")
    labels.append(f">= {short_duration(e[-1])}")
    return labels


def session_stats(source, *, encryption_key_file=None, screen: int = 0) -> dict:
    """The figures of a shard (``source``: a path or an open :class:`~encoder.shard.ShardReader`).

    Returns a dict: ``shard``, ``origin_us`` (first row), ``end_us`` (last row), ``duration_s``,
    ``rows`` (per stream), ``frames`` (per screen), ``events_per_minute`` (``minutes``: minute
    numbers from the first row, ``streams``: stream -> events in each minute; the ``tile`` and
    ``frame`` streams are not events), ``apps`` (per app: ``seconds`` in focus, from each focus
    row to the next one or to the last row, ``switches`` into it, ``share`` of the focused time;
    longest first), ``bytes`` (per stream: ``rows``, ``blocks``, ``stored``, ``raw``), ``hesitation``
    (``labels``, ``edges_us``, ``counts``, ``median_us``) and ``actions`` (kind -> count, commonest
    first; ``screen`` picks the observation frames of :func:`~encoder.actions.derive`).
    """
    if isinstance(source, ShardReader):
        return _stats(source, screen)
    with ShardReader(source, encryption_key_file=encryption_key_file) as reader:
        return _stats(reader, screen)


def _stats(reader: ShardReader, screen: int) -> dict:
    origin = origin_us(reader)
    end = max(r[1] for r in (reader.time_range(s) for s in reader.streams) if r is not None)
    events = [s for s in reader.streams if s not in FRAME_STREAMS]
    out = {
        "shard": reader.name,
        "origin_us": origin,
        "end_us": int(end),
        "duration_s": (end - origin) / 1e6,
        "rows": {s: reader.num_rows(s) for s in reader.streams},
        "frames": {s: reader.frame_count(s) for s in reader.frame_screens()} if "frame" in reader.streams else {},
        "events_per_minute": _per_minute(reader, events, origin, end),
        "apps": _apps(reader, end),
        "bytes": _bytes(reader),
    }
    actions = derive(reader, screen=screen)
    counts = Counter(actions.column("kind").to_pylist())
    out["actions"] = {k: c for k, c in sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))}
    out["hesitation"] = _hesitation(actions.column("hesitation_us").to_numpy())
    return out


def _per_minute(reader: ShardReader, streams: list, origin: int, end: int) -> dict:
    minutes = int((end - origin) // 60_000_000) + 1
    out = {}
    for s in streams:
        t = reader.read(s, ["t"]).column("t").to_numpy()
        out[s] = np.bincount((t - origin) // 60_000_000, minlength=minutes).astype(np.int64).tolist()
    return {"minutes": list(range(minutes)), "streams": out}


def _apps(reader: ShardReader, end: int) -> list[dict]:
    if "focus" not in reader.streams or not reader.num_rows("focus"):
        return []
    table = reader.read("focus", ["t", "app"])
    t = table.column("t").to_numpy()
    order = np.argsort(t, kind="stable")
    t = t[order]
    apps = [table.column("app")[int(i)].as_py() or "" for i in order]
    spans = np.maximum(np.diff(np.append(t, end)), 0)
    total = int(spans.sum())
    found: dict[str, dict] = {}
    for i, (app, span) in enumerate(zip(apps, spans.tolist())):
        entry = found.setdefault(app, {"app": app, "us": 0, "switches": 0})
        entry["us"] += span
        entry["switches"] += int(i == 0 or apps[i - 1] != app)
    rows = sorted(found.values(), key=lambda a: (-a["us"], a["app"]))
    return [{"app": a["app"], "seconds": a["us"] / 1e6, "switches": a["switches"],
             "share": a["us"] / total if total else 0.0} for a in rows]


def _bytes(reader: ShardReader) -> list[dict]:
    found: dict[str, dict] = {s: {"stream": s, "rows": 0, "blocks": 0, "stored": 0, "raw": 0}
                              for s in reader.streams}
    for b in reader.blocks:
        entry = found[b.stream]
        entry["rows"] += b.rows
        entry["blocks"] += 1
        entry["stored"] += b.stored_bytes
        entry["raw"] += b.raw_bytes
    return sorted(found.values(), key=lambda e: (-e["stored"], e["stream"]))


def _hesitation(values: np.ndarray) -> dict:
    edges = np.array(HESITATION_EDGES_US, np.int64)
    bins = np.searchsorted(edges, values.astype(np.int64), side="right")  # 0: below the first edge
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return {"labels": hesitation_bins(), "edges_us": HESITATION_EDGES_US, "counts": counts.tolist(),
            "median_us": int(np.median(values)) if len(values) else None}


# -- the figures as tables (the command prints them; the page shows them under its plots) ---
def minute_label(minute: int) -> str:
    """``0:00``, ``1:00``, ``1:00:00``: the start of a minute from the first row."""
    h, m = divmod(int(minute), 60)
    return f"{h}:{m:02d}:00" if h else f"{m}:00"


def stats_tables(stats: dict) -> list[dict]:
    """The figures of :func:`session_stats` as tables: dicts with ``key``, ``title``, ``headers``,
    ``rows`` and ``total`` (None or a last row), every cell a string."""
    stored_total = sum(b["stored"] for b in stats["bytes"]) or 1
    per_minute = stats["events_per_minute"]
    streams = list(per_minute["streams"])
    apps_total = sum(a["seconds"] for a in stats["apps"])
    hesitation = stats["hesitation"]
    actions_total = sum(stats["actions"].values())
    return [
        {"key": "bytes", "title": "Bytes by stream (stored in the shard, from the block index)",
         "headers": ["stream", "rows", "blocks", "stored bytes", "raw bytes", "share"],
         "rows": [[b["stream"], f"{b['rows']:,}", f"{b['blocks']:,}", f"{b['stored']:,}", f"{b['raw']:,}",
                   f"{100 * b['stored'] / stored_total:.1f} %"] for b in stats["bytes"]],
         "total": ["total", f"{sum(b['rows'] for b in stats['bytes']):,}",
                   f"{sum(b['blocks'] for b in stats['bytes']):,}", f"{sum(b['stored'] for b in stats['bytes']):,}",
                   f"{sum(b['raw'] for b in stats['bytes']):,}", "100.0 %"]},
        {"key": "apps", "title": "Apps in focus (from each focus row to the next)",
         "headers": ["app", "seconds", "share", "switches to it"],
         "rows": [[a["app"], f"{a['seconds']:,.1f}", f"{100 * a['share']:.1f} %", f"{a['switches']:,}"]
                  for a in stats["apps"]],
         "total": ["total", f"{apps_total:,.1f}", "100.0 %" if stats["apps"] else "-",
                   f"{sum(a['switches'] for a in stats['apps']):,}"]},
        {"key": "events", "title": "Events per minute by stream (minutes from the first row)",
         "headers": ["minute", *streams, "all"],
         "rows": [[minute_label(m), *(f"{per_minute['streams'][s][i]:,}" for s in streams),
                   f"{sum(per_minute['streams'][s][i] for s in streams):,}"]
                  for i, m in enumerate(per_minute["minutes"])],
         "total": ["total", *(f"{sum(per_minute['streams'][s]):,}" for s in streams),
                   f"{sum(sum(v) for v in per_minute['streams'].values()):,}"]},
        {"key": "hesitation", "title": "Hesitation before each action (its start minus the previous action's end)",
         "headers": ["hesitation", "actions"],
         "rows": [[label, f"{n:,}"] for label, n in zip(hesitation["labels"], hesitation["counts"])],
         "total": ["median" if hesitation["median_us"] is not None else "total",
                   f"{hesitation['median_us'] / 1e6:.3f} s" if hesitation["median_us"] is not None else "0"]},
        {"key": "actions", "title": "Actions by kind (encoder.actions.derive)",
         "headers": ["kind", "actions", "share"],
         "rows": [[k, f"{n:,}", f"{100 * n / actions_total:.1f} %"] for k, n in stats["actions"].items()],
         "total": ["total", f"{actions_total:,}", "100.0 %" if actions_total else "-"]},
    ]
