"""Terminal output shared by the commands: progress bars, tables, number formatting.

Progress bars go to stderr and only when stderr is a terminal (and ``--quiet`` is not
given), so piped or captured output holds nothing but results. Tables use ``rich`` when
it is installed and plain aligned text otherwise; both print the same cells.
"""
from __future__ import annotations

import datetime as _dt
import sys
from typing import Iterable, Sequence

try:  # optional: nicer tables
    import rich  # noqa: F401
    RICH = True
except ImportError:  # pragma: no cover - depends on the environment
    RICH = False


def error(message: str) -> None:
    """Print ``encoder: error: <message>`` to stderr (the format every command uses)."""
    print(f"encoder: error: {message}", file=sys.stderr)


def os_message(exc: OSError) -> str:
    """``path: reason`` for an OSError, instead of ``[Errno 2] ...: 'path'``."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def progress(iterable: Iterable, *, quiet: bool, desc: str, total: int | None = None, unit: str = "it"):
    """Wrap ``iterable`` in a tqdm bar on stderr, off when quiet or stderr is not a TTY."""
    disable = quiet or not _isatty(sys.stderr)
    if disable:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
          total: Sequence[str] | None = None, left: int = 1, caption: str | None = None) -> None:
    """Print a table to stdout; the first ``left`` columns are left-aligned, the rest right.

    ``total`` is a last row set apart by a rule. Cells are already formatted strings.
    """
    out = sys.stdout
    if RICH:
        from rich import box
        from rich.console import Console
        from rich.table import Table

        # Not a terminal: no colours, and a width that never wraps a row.
        console = Console(file=out, highlight=False, soft_wrap=False,
                          width=None if _isatty(out) else 240)
        t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  title_justify="left")
        for i, h in enumerate(headers):
            t.add_column(h, justify="left" if i < left else "right", no_wrap=True)
        for r in rows:
            t.add_row(*r)
        if total is not None:
            t.add_section()
            t.add_row(*total, style="bold")
        console.print(t)
        if caption:
            console.print(caption)
        return
    body = [list(headers), *map(list, rows)] + ([list(total)] if total is not None else [])
    widths = [max(len(r[i]) for r in body) for i in range(len(headers))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    if title:
        print(title, file=out)
    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
    if total is not None:
        print("  ".join("-" * w for w in widths), file=out)
        print(line(total), file=out)
    if caption:
        print(caption, file=out)


# -- numbers ------------------------------------------------------------------------------
def count(n: int) -> str:
    return f"{n:,}"


def nbytes(n: int) -> str:
    """Bytes, exact below 10 kB and with a binary unit above: ``912``, ``16.5 KiB``."""
    if n < 10_000:
        return f"{n:,} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
    raise AssertionError  # unreachable


def ratio(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def rate(events: int, seconds: float | None) -> str:
    """Millions of events per second, 3 significant digits (``-`` when not measured)."""
    if not seconds or seconds <= 0:
        return "-"
    return f"{events / seconds / 1e6:.3g}"


def duration(us: int) -> str:
    """A human duration from microseconds: ``850 us``, ``12.3 ms``, ``1 min 57.2 s``, ``2 h 05 min``."""
    us = int(us)
    sign, us = ("-", -us) if us < 0 else ("", us)
    if us < 1000:
        text = f"{us} us"
    elif us < 1_000_000:
        text = f"{us / 1000:.1f} ms"
    elif us < 60_000_000:
        text = f"{us / 1e6:.3f} s"
    elif us < 3_600_000_000:
        m, s = divmod(us / 1e6, 60)
        text = f"{int(m)} min {s:04.1f} s"
    else:
        h, rest = divmod(us // 1_000_000, 3600)
        text = f"{h} h {rest // 60:02d} min"
    return sign + text


def wall_clock(unix_us: int) -> str:
    """UTC wall-clock time of a Unix-epoch microsecond timestamp (``-`` if out of range)."""
    try:
        t = _dt.datetime.fromtimestamp(unix_us / 1e6, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return "-"
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
