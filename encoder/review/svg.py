"""Plots as inline SVG text: stacked columns and horizontal bars, nothing fetched, no script.

Each function returns one ``<svg>`` element (a string) sized in CSS pixels, with every label
escaped and a ``<title>`` on each bar (the browser shows it on hover).

>>> svg = bars(["a", "b"], [3, 1], unit="rows")
>>> svg.startswith("<svg") and "<title>a: 3 rows</title>" in svg
True
"""
from __future__ import annotations

from html import escape

#: Colours of the series, in order (Okabe-Ito: told apart with every kind of colour blindness).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#999999")
FONT = "font-family:system-ui,sans-serif;font-size:11px"


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _nice_top(value: float) -> float:
    """The smallest 1-2-5 step at or above ``value`` (the axis' top)."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def columns(labels: list[str], series: dict[str, list[float]], *, unit: str, width: int = 720,
            height: int = 240, every: int | None = None, stagger: bool = False) -> str:
    """Stacked columns: one per label, one coloured segment per series, a legend above.

    ``every`` labels only every n-th column (default: as many as fit); ``stagger`` writes
    every other label one line lower (long labels under narrow columns).
    """
    n = max(len(labels), 1)
    left, right, top, bottom = 56, 8, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    ymax = _nice_top(max(totals, default=0))
    slot = plot_w / n
    bar = max(1.0, slot * 0.8)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" style="{FONT}">']
    parts += _y_axis(left, top, plot_w, plot_h, ymax)
    for k, name in enumerate(series if len(series) > 1 else ()):  # one series needs no legend
        x = left + k * 110
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="15">{escape(name)}</text>')
    every = every or max(1, int(n * 40 / plot_w) + 1)
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for k, (name, values) in enumerate(series.items()):
            v = values[i]
            if v <= 0:
                continue
            h = v / ymax * plot_h
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)}, {escape(name)}: '
                         f'{_number(v)} {escape(unit)}</title></rect>')
        if i % every == 0:
            below = 14 + (12 if stagger and i % 2 else 0)
            parts.append(f'<text x="{left + (i + 0.5) * slot:.1f}" y="{top + plot_h + below}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(labels: list[str], values: list[float], *, unit: str, texts: list[str] | None = None,
         width: int = 720, bar_height: int = 20) -> str:
    """Horizontal bars, longest scale first as given; ``texts`` are written after each bar
    (default: the value and ``unit``)."""
    texts = texts if texts is not None else [f"{_number(v)} {unit}" for v in values]
    label_w = min(260, 12 + 7 * max((len(label) for label in labels), default=4))
    text_w = 12 + 7 * max((len(t) for t in texts), default=4)
    plot_w = max(80, width - label_w - text_w)
    vmax = max(values, default=0) or 1
    height = bar_height * max(len(labels), 1) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" style="{FONT}">']
    for i, (label, v, text) in enumerate(zip(labels, values, texts)):
        y = 4 + i * bar_height
        w = max(v / vmax * plot_w, 1 if v > 0 else 0)
        short = label if len(label) <= 36 else label[:35] + "\u2026"
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_height * 0.65:.1f}" text-anchor="end">'
                     f'{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_height - 4}" '
                     f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(text)}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height * 0.65:.1f}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(labels: list[str], counts: list[int], *, unit: str, width: int = 720, height: int = 220) -> str:
    """Vertical bars of counts, every label written under its bar (staggered on two lines)."""
    return columns(labels, {unit: counts}, unit=unit, width=width, height=height, every=1, stagger=True)


def _y_axis(left: int, top: int, plot_w: float, plot_h: float, ymax: float) -> list[str]:
    out = []
    for k in range(5):
        v = ymax * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(v)}</text>')
    return out
