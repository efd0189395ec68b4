"""``encoder inspect PATH [--json]``: what a shard holds and what it costs, stream by stream."""
from __future__ import annotations

import json
import math

import pyarrow as pa

from ..shard import ShardReader
from . import _console


def register(sub, common) -> None:
    p = sub.add_parser(
        "inspect", parents=[common], help="summarise a shard: metadata, streams, sizes",
        description="Metadata summary and, per stream: rows, blocks, time range, stored and raw "
                    "bytes, compression ratio against the Arrow in-memory size, bytes per row.")
    p.add_argument("path", metavar="PATH", help="shard file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(run=run)


# -- frame statistics (hook for the screen-tiles work) ----------------------------------
def frame_stats(reader: ShardReader) -> dict | None:
    """Frame statistics of a shard, or ``None`` when it holds no screen frames.

    HOOK: the screen-tiles work fills this in, e.g. ``{"frames": ..., "unique_tiles": ...,
    "tile_bytes": ..., "bytes_per_frame": ...}`` (keys are free; values are numbers). Both
    outputs show whatever it returns: the text output as a "frames" table (one row per
    key), the JSON output under ``"frames"``. Nothing else in this module needs to change.
    """
    if "frame" not in reader.streams:
        return None
    return {k: v for k, v in reader.frame_stats().items() if isinstance(v, (int, float))}
# -- end of the frame statistics hook ---------------------------------------------------


def _arrow_bytes(reader: ShardReader, stream: str, rows: int) -> int:
    """Size of the stream as a ``pyarrow.Table`` in memory.

    Fixed-width columns are computed from the row count; only the variable-length columns
    (strings, binary) are read, so this stays cheap on large shards.
    """
    schema = reader.streams[stream]
    fixed, variable = 0, []
    for field in schema:
        if pa.types.is_boolean(field.type):
            fixed += math.ceil(rows / 8)
        elif pa.types.is_integer(field.type):
            fixed += rows * field.type.bit_width // 8
        else:  # string, binary: offsets + bytes (+ validity), known only after reading
            variable.append(field.name)
    if variable and rows:
        fixed += reader.read(stream, columns=variable).nbytes
    return fixed


def collect(reader: ShardReader, *, quiet: bool = True) -> dict:
    """Everything ``inspect`` prints, as a JSON-able dict."""
    blocks = reader.blocks
    streams = {}
    for name in _console.progress(list(reader.streams), quiet=quiet, desc="inspect", unit="stream"):
        mine = [b for b in blocks if b.stream == name]
        rows = reader.num_rows(name)
        stored = sum(b.stored_bytes for b in mine)
        arrow = _arrow_bytes(reader, name, rows)
        span = reader.time_range(name)
        streams[name] = {
            "rows": rows,
            "blocks": len(mine),
            "t_min": None if span is None else span[0],
            "t_max": None if span is None else span[1],
            "duration_us": None if span is None else span[1] - span[0],
            "stored_bytes": stored,
            "raw_bytes": sum(b.raw_bytes for b in mine),
            "arrow_bytes": arrow,
            "ratio": arrow / stored if stored else None,
            "bytes_per_row": stored / rows if rows else None,
            "columns": {f.name: str(f.type) for f in reader.streams[name]},
        }
    rows = sum(s["rows"] for s in streams.values())
    stored = sum(s["stored_bytes"] for s in streams.values())
    arrow = sum(s["arrow_bytes"] for s in streams.values())
    version = getattr(reader, "version", None)
    return {
        "path": reader.name,
        "size": reader.size,
        "format_version": None if version is None else ".".join(map(str, version)),
        "metadata": reader.metadata,
        "streams": streams,
        "total": {
            "rows": rows,
            "blocks": len(blocks),
            "stored_bytes": stored,
            "raw_bytes": sum(s["raw_bytes"] for s in streams.values()),
            "arrow_bytes": arrow,
            "file_bytes": reader.size,
            "overhead_bytes": reader.size - stored,  # headers, descriptors, padding, footer
            "ratio": arrow / reader.size if reader.size else None,
            "bytes_per_row": reader.size / rows if rows else None,
        },
        "frames": frame_stats(reader),
    }


def run(args) -> int:
    with ShardReader(args.path) as reader:
        info = collect(reader, quiet=args.quiet or args.json)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=False))
        return 0
    _print_summary(info)
    return 0


# -- text output ----------------------------------------------------------------------------
def _short(value, width: int = 100) -> str:
    text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return text if len(text) <= width else text[:width - 3] + "..."


def _is_int(v) -> bool:
    return type(v) is int


def _metadata_lines(meta: dict, t_first: int | None) -> list[str]:
    """One line per top-level metadata key; clock and screens in words (metadata is
    untrusted JSON, so every field is checked before use)."""
    lines = []
    for key, value in meta.items():
        text = _short(value)
        if key == "clock" and isinstance(value, dict):
            t0, unix0 = value.get("t0_us"), value.get("unix_us_at_t0")
            text = f"{value.get('source', '?')}"
            if _is_int(t0) and _is_int(unix0):
                text += f", t0 = {t0} us = {_console.wall_clock(unix0)}"
                if t_first is not None:
                    text += f"; first row at {_console.wall_clock(unix0 + t_first - t0)}"
        elif key == "screens" and isinstance(value, list):
            parts = []
            for s in value:
                if isinstance(s, dict) and all(_is_int(s.get(k)) for k in ("x", "y", "width", "height")):
                    parts.append(f"{s.get('name', s.get('id', '?'))} {s['width']}x{s['height']}"
                                 f"{s['x']:+d}{s['y']:+d}" + (" (primary)" if s.get("primary") else ""))
                else:
                    parts.append(_short(s, 40))
            text = f"{len(value)}: " + ", ".join(parts)
        lines.append(f"  {key:<9} {text}")
    return lines


def _print_summary(info: dict) -> None:
    streams, total = info["streams"], info["total"]
    firsts = [s["t_min"] for s in streams.values() if s["t_min"] is not None]
    print(f"shard     {info['path']}")
    print(f"size      {total['file_bytes']:,} bytes ({_console.nbytes(total['file_bytes'])}), "
          f"format {info['format_version'] or '?'}, {len(streams)} streams, {total['blocks']} blocks")
    print("metadata")
    for line in _metadata_lines(info["metadata"], min(firsts) if firsts else None):
        print(line)
    print()
    rows = []
    for name, s in streams.items():
        span = "-" if s["t_min"] is None else f"{s['t_min']} .. {s['t_max']}"
        rows.append([
            name, _console.count(s["rows"]), str(s["blocks"]), span,
            "-" if s["duration_us"] is None else _console.duration(s["duration_us"]),
            _console.count(s["stored_bytes"]), _console.count(s["raw_bytes"]),
            _console.count(s["arrow_bytes"]), _console.ratio(s["ratio"], 1),
            _console.ratio(s["bytes_per_row"]),
        ])
    all_first = min(firsts) if firsts else None
    lasts = [s["t_max"] for s in streams.values() if s["t_max"] is not None]
    total_row = [
        "total", _console.count(total["rows"]), str(total["blocks"]),
        "-" if all_first is None else f"{all_first} .. {max(lasts)}",
        "-" if all_first is None else _console.duration(max(lasts) - all_first),
        _console.count(total["stored_bytes"]), _console.count(total["raw_bytes"]),
        _console.count(total["arrow_bytes"]), _console.ratio(total["ratio"], 1),
        _console.ratio(total["bytes_per_row"]),
    ]
    _console.table(
        None, ["stream", "rows", "blocks", "t (us)", "duration", "stored B", "raw B", "arrow B",
               "arrow/stored", "B/row"], rows, total=total_row,
        caption=f"stored = compressed chunks; the total counts the whole file ({total['overhead_bytes']:,} B "
                "of headers, descriptors, padding and footer), so its ratio and B/row are file-level.")
    frames = info.get("frames")
    if frames:  # filled in by frame_stats() once the screen-tiles work lands
        print()
        _console.table("frames", ["statistic", "value"],
                       [[k, f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"] for k, v in frames.items()])

