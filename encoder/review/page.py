"""``stats_page``: the figures of :func:`~encoder.review.stats.session_stats` as one HTML page.

Self-contained: inline SVG plots (:mod:`encoder.review.svg`) and inline CSS, no script, no
font, image or style fetched, so it opens offline and can be mailed or attached as it is.
Under each plot the same figures as a table (what ``encoder stats`` prints). Every text from
the shard (stream and app names, the file name) is escaped.

>>> page = stats_page({"shard": "a<b>.enc", "origin_us": 0, "end_us": 1_000_000, "duration_s": 1.0,
...     "rows": {}, "frames": {}, "events_per_minute": {"minutes": [0], "streams": {}}, "apps": [],
...     "bytes": [], "actions": {}, "hesitation": {"labels": ["< 1 ms"], "edges_us": [1000], "counts": [0],
...     "median_us": None}})
>>> page.startswith("<!DOCTYPE html>") and "a&lt;b&gt;.enc" in page and "<script" not in page
True
"""
from __future__ import annotations

import datetime as _dt
import os
from html import escape

from .._version import __version__
from . import svg
from .stats import minute_label, stats_tables

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:760px;color:#222}
h1{font-size:20px;margin-bottom:4px} h2{font-size:16px;margin:28px 0 6px}
p.summary{color:#555;margin-top:0} p.none{color:#777;font-style:italic}
table{border-collapse:collapse;margin-top:8px;font-size:12px}
td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left} tr.total td{font-weight:bold;border-top:1px solid #999}
details{margin-top:4px} summary{cursor:pointer;color:#555;font-size:12px}
"""


def _table(t: dict) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t["headers"])
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t["rows"])
    total = "" if t["total"] is None else \
        '<tr class="total">' + "".join(f"<td>{escape(c)}</td>" for c in t["total"]) + "</tr>"
    return f'<table id="table-{t["key"]}"><thead><tr>{head}</tr></thead><tbody>{body}{total}</tbody></table>'


def _plot(stats: dict, key: str) -> str:
    """The SVG of one section, or a line saying there is nothing to draw."""
    if key == "bytes":
        items = [b for b in stats["bytes"] if b["stored"]]
        if not items:
            return '<p class="none">no blocks</p>'
        return svg.bars([b["stream"] for b in items], [b["stored"] for b in items], unit="bytes",
                        texts=[_size(b["stored"]) for b in items])
    if key == "apps":
        if not stats["apps"]:
            return '<p class="none">no focus rows: the shard does not say which app had the focus</p>'
        apps = stats["apps"]
        return svg.bars([a["app"] or "(no name)" for a in apps], [a["seconds"] for a in apps], unit="s",
                        texts=[f"{a['seconds']:,.1f} s ({100 * a['share']:.0f} %)" for a in apps])
    if key == "events":
        per_minute = stats["events_per_minute"]
        if not any(sum(v) for v in per_minute["streams"].values()):
            return '<p class="none">no events</p>'
        return svg.columns([minute_label(m) for m in per_minute["minutes"]], per_minute["streams"], unit="events")
    if key == "hesitation":
        h = stats["hesitation"]
        if not sum(h["counts"]):
            return '<p class="none">no actions</p>'
        return svg.histogram(h["labels"], h["counts"], unit="actions")
    if key == "actions":
        if not stats["actions"]:
            return '<p class="none">no actions</p>'
        return svg.bars(list(stats["actions"]), list(stats["actions"].values()), unit="actions",
                        texts=[f"{n:,}" for n in stats["actions"].values()])
    raise KeyError(key)


def _size(n: int) -> str:
    if n < 10_000:
        return f"{n:,} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} TiB"


def _summary(stats: dict, metadata: dict | None) -> str:
    parts = [f"{stats['duration_s']:,.1f} s from the first row to the last",
             f"{sum(n for s, n in stats['rows'].items() if s not in ('tile', 'frame')):,} events"]
    if stats["frames"]:
        parts.append(f"{sum(stats['frames'].values()):,} frames")
    parts.append(f"{sum(b['stored'] for b in stats['bytes']):,} bytes of blocks")
    clock = (metadata or {}).get("clock")
    if isinstance(clock, dict) and isinstance(clock.get("unix_us_at_t0"), int) \
            and isinstance(clock.get("t0_us"), int):
        try:
            start = _dt.datetime.fromtimestamp((clock["unix_us_at_t0"] + stats["origin_us"] - clock["t0_us"]) / 1e6,
                                               tz=_dt.timezone.utc)
            parts.append("recorded from " + start.strftime("%Y-%m-%d %H:%M:%S UTC"))
        except (OverflowError, OSError, ValueError):
            pass
    return ", ".join(parts)


def stats_page(stats: dict, metadata: dict | None = None) -> str:
    """The page of ``stats`` (:func:`~encoder.review.stats.session_stats`); ``metadata`` (the
    shard's) adds the wall-clock start. Returns the HTML text."""
    name = os.path.basename(str(stats["shard"]))
    sections = []
    for t in stats_tables(stats):
        sections.append(f'<section id="{t["key"]}"><h2>{escape(t["title"])}</h2>{_plot(stats, t["key"])}'
                        f'<details><summary>figures</summary>{_table(t)}</details></section>')
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f"<title>encoder stats: {escape(name)}</title>"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<style>{_STYLE}</style></head><body>"
            f"<h1>{escape(name)}</h1><p class=\"summary\">{escape(_summary(stats, metadata))}</p>"
            + "".join(sections)
            + f'<p class="summary">written by encoder {escape(__version__)} (encoder stats --html)</p>'
            "</body></html>\n")
