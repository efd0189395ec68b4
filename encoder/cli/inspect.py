"""``encoder inspect PATH [--deep] [--json]``: what a shard holds and what it costs, stream by
stream, and which of its blocks are damaged.

The summary comes from the footer's index alone (rows, blocks, time ranges, stored and raw
bytes, metadata) and the frame statistics from the small columns of the ``frame`` stream, so
one damaged chunk cannot hide it; every block is then checked on its own
(``ShardReader.check_blocks``: header record and chunk checksums, ``--deep``: every column
decoded and every frame assembled too) and the damaged ones are listed. A shard whose footer
is unreadable is read by scanning its blocks (``ShardReader(recover=True)``) and reported as
damaged. Exit codes (:mod:`encoder.cli.exit_codes`): 0 sound, 1 damage listed, 2 not a shard
(or unreadable, or its encryption key missing).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict

import pyarrow as pa

from ..errors import EncoderError
from ..shard import ShardReader
from ..shard.format import wall_clock_offset
from . import _args, _console, exit_codes


def register(sub, common) -> None:
    p = sub.add_parser(
        "inspect", parents=[common], help="summarise a shard: metadata, streams, sizes, damaged blocks",
        description="Metadata summary and, per stream: rows, blocks, time range, stored and raw "
                    "bytes, compression ratio against the Arrow in-memory size, bytes per row; then "
                    "every block's checksums, listing damaged blocks (the summary comes from the "
                    "index, so damage does not hide it). Exit 0 if sound, 1 if damage is listed, "
                    "2 if the file cannot be read as a shard.")
    p.add_argument("path", metavar="PATH", help="shard file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--deep", action="store_true",
                   help="also decode every column of every block and assemble every frame "
                        "(as `encoder verify` does), instead of checking checksums only")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


# -- frame statistics ------------------------------------------------------------------
def frame_stats(reader: ShardReader) -> dict | None:
    """Frame statistics of a shard, or ``None`` when it holds no screen frames.

    Read from the ``frame`` stream's small columns and the tile page index, not from the
    pixels (``ShardReader.frame_stats``). Both outputs show whatever it returns: the text output
    as a "frames" table (one row per key), the JSON output under ``"frames"``.
    """
    if "frame" not in reader.streams:
        return None
    return {k: v for k, v in reader.frame_stats().items() if isinstance(v, (int, float))}


def _arrow_bytes(reader: ShardReader, stream: str, rows: int, damaged: set[int]) -> tuple[int, bool]:
    """Size of the stream as a ``pyarrow.Table`` in memory, and whether it is complete.

    Fixed-width columns are computed from the row count; only the variable-length columns
    (strings, binary) are read, and only from the blocks not in ``damaged`` (block numbers),
    so this stays cheap on large shards and works around damage (then it is partial).
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
    if not variable or not rows:
        return fixed, True
    if not damaged:
        return fixed + reader.read(stream, columns=variable).nbytes, True
    sound = [reader.read_block(stream, i, columns=variable)
             for i in range(len(reader.block_rows(stream))) if i not in damaged]
    return fixed + (pa.concat_tables(sound).combine_chunks().nbytes if sound else 0), False


def _damage(reader: ShardReader, deep: bool) -> tuple[list, list[str]]:
    """(damaged blocks as dicts, other faults as messages): ``check_blocks``, and with
    ``deep`` the whole-shard ``verify`` (padding, row counts, frames) around them."""
    blocks = [asdict(d) for d in reader.check_blocks(deep=deep)]
    faults = []
    if deep:
        try:
            reader.verify()
        except EncoderError as exc:
            inside = exc.offset is not None and any(d["offset"] <= exc.offset < d["end"] for d in blocks)
            if not inside:
                faults.append(f"verify: {exc}")
            elif "frame" in reader.streams:  # verify stopped at a listed block: frames one by one
                faults += _frame_faults(reader)
    return blocks, faults


def _frame_faults(reader: ShardReader) -> list[str]:
    """The first frame of each screen that does not assemble (``--deep`` on a damaged shard)."""
    out = []
    for screen in reader.frame_screens():
        done = 0
        try:
            for _ in reader.iter_frames(screen=screen, copy=False):
                done += 1
        except EncoderError as exc:
            out.append(f"frames: screen {screen}, frame {done} (of {reader.frame_count(screen)}) and "
                       f"maybe later ones do not assemble: {exc}")
    return out


def collect(reader: ShardReader, *, quiet: bool = True, deep: bool = False) -> dict:
    """Everything ``inspect`` prints, as a JSON-able dict.

    ``damage`` lists the damaged blocks (``stream``, ``block``, ``offset``, ``end``, ``rows``,
    ``t_min``, ``t_max``, ``reason``), ``faults`` other failures (frame statistics that
    could not be read, ``--deep`` findings), ``lost`` the regions an earlier repair dropped and
    ``recovered`` how the index was rebuilt when the footer was unreadable (else ``None``).
    """
    blocks = reader.blocks
    damage, faults = _damage(reader, deep)
    streams = {}
    for name in _console.progress(list(reader.streams), quiet=quiet, desc="inspect", unit="stream"):
        mine = [b for b in blocks if b.stream == name]
        rows = reader.num_rows(name)
        stored = sum(b.stored_bytes for b in mine)
        try:
            arrow, complete = _arrow_bytes(reader, name, rows, {d["block"] for d in damage if d["stream"] == name})
        except EncoderError as exc:  # a block that passed its checksums but does not decode
            faults.append(f"stream {name!r}: arrow size: {exc}")
            arrow, complete = None, False
        span = reader.time_range(name)
        streams[name] = {
            "rows": rows,
            "blocks": len(mine),
            "damaged_blocks": sum(d["stream"] == name for d in damage),
            "t_min": None if span is None else span[0],
            "t_max": None if span is None else span[1],
            "duration_us": None if span is None else span[1] - span[0],
            "stored_bytes": stored,
            "raw_bytes": sum(b.raw_bytes for b in mine),
            "arrow_bytes": arrow,
            "arrow_complete": complete,  # False: damaged blocks left out of arrow_bytes
            "ratio": arrow / stored if stored and arrow is not None else None,
            "bytes_per_row": stored / rows if rows else None,
            "columns": {f.name: str(f.type) for f in reader.streams[name]},
        }
    try:
        frames = frame_stats(reader)
    except EncoderError as exc:
        frames = None
        faults.append(f"frame statistics: {exc}")
    rows = sum(s["rows"] for s in streams.values())
    stored = sum(s["stored_bytes"] for s in streams.values())
    arrows = [s["arrow_bytes"] for s in streams.values()]
    arrow = None if None in arrows else sum(arrows)
    version = getattr(reader, "version", None)
    scan = reader.recovered
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
            "ratio": arrow / reader.size if reader.size and arrow is not None else None,
            "bytes_per_row": reader.size / rows if rows else None,
        },
        "frames": frames,
        "checked": "deep" if deep else "checksums",
        "damage": damage,
        "faults": faults,
        "lost": list(reader.lost),
        "recovered": None if scan is None else {
            "reason": scan.reason, "blocks": len(scan.blocks), "end": scan.end,
            "stopped": scan.stopped, "stopped_at": scan.stopped_at, "dropped_bytes": scan.dropped_bytes},
    }


def damaged(info: dict) -> bool:
    """Whether ``collect`` found damage (exit 1): damaged blocks, faults, or an unreadable footer.
    Regions an earlier repair dropped (``lost``) are history, not damage."""
    return bool(info["damage"] or info["faults"] or info["recovered"])


def run(args) -> int:
    try:
        reader = ShardReader(args.path, encryption_key_file=args.encryption_key_file, recover=True)
    except (EncoderError, OSError) as exc:
        _console.error(_console.os_message(exc) if isinstance(exc, OSError) else str(exc))
        return exit_codes.for_open_error(args.path, exc)
    with reader:
        info = collect(reader, quiet=args.quiet or args.json, deep=args.deep)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=False))
    else:
        _print_summary(info)
    if not damaged(info):
        return exit_codes.OK
    what = [f"{len(info['damage'])} damaged block(s)"] if info["damage"] else []
    what += [f"{len(info['faults'])} other fault(s)"] if info["faults"] else []
    what += ["an unreadable footer"] if info["recovered"] else []
    _console.error(f"{args.path}: " + ", ".join(what))
    return exit_codes.DAMAGED


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
            offset = wall_clock_offset(meta)
            text = f"{value.get('source', '?')}"
            if offset is not None:
                t0 = value["t0_us"]
                text += f", t0 = {t0} us = {_console.wall_clock(t0 + offset)}"
                if t_first is not None:
                    text += f"; first row at {_console.wall_clock(t_first + offset)}"
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


def _count_or_dash(n) -> str:
    return "-" if n is None else _console.count(n)


def _print_summary(info: dict) -> None:
    streams, total = info["streams"], info["total"]
    firsts = [s["t_min"] for s in streams.values() if s["t_min"] is not None]
    print(f"shard     {info['path']}")
    print(f"size      {total['file_bytes']:,} bytes ({_console.nbytes(total['file_bytes'])}), "
          f"format {info['format_version'] or '?'}, {len(streams)} streams, {total['blocks']} blocks")
    scan = info["recovered"]
    if scan:
        print(f"index     DAMAGED footer ({scan['reason']}): {scan['blocks']} blocks found by scanning, "
              f"{scan['dropped_bytes']:,} bytes after byte {scan['end']:,} unread"
              + (f" ({scan['stopped']})" if scan["stopped"] else "") + "; `encoder repair` writes the index back")
    print("metadata")
    for line in _metadata_lines(info["metadata"], min(firsts) if firsts else None):
        print(line)
    print()
    rows = []
    for name, s in streams.items():
        span = "-" if s["t_min"] is None else f"{s['t_min']} .. {s['t_max']}"
        rows.append([
            name, _console.count(s["rows"]),
            str(s["blocks"]) + (f" ({s['damaged_blocks']} damaged)" if s["damaged_blocks"] else ""), span,
            "-" if s["duration_us"] is None else _console.duration(s["duration_us"]),
            _console.count(s["stored_bytes"]), _console.count(s["raw_bytes"]),
            _count_or_dash(s["arrow_bytes"]) + ("" if s["arrow_complete"] or s["arrow_bytes"] is None else "*"),
            _console.ratio(s["ratio"], 1), _console.ratio(s["bytes_per_row"]),
        ])
    all_first = min(firsts) if firsts else None
    lasts = [s["t_max"] for s in streams.values() if s["t_max"] is not None]
    total_row = [
        "total", _console.count(total["rows"]), str(total["blocks"]),
        "-" if all_first is None else f"{all_first} .. {max(lasts)}",
        "-" if all_first is None else _console.duration(max(lasts) - all_first),
        _console.count(total["stored_bytes"]), _console.count(total["raw_bytes"]),
        _count_or_dash(total["arrow_bytes"]), _console.ratio(total["ratio"], 1),
        _console.ratio(total["bytes_per_row"]),
    ]
    partial = any(not s["arrow_complete"] and s["arrow_bytes"] is not None for s in streams.values())
    _console.table(
        None, ["stream", "rows", "blocks", "t (us)", "duration", "stored B", "raw B", "arrow B",
               "arrow/stored", "B/row"], rows, total=total_row,
        caption=f"stored = compressed chunks; the total counts the whole file ({total['overhead_bytes']:,} B "
                "of headers, descriptors, padding and footer), so its ratio and B/row are file-level."
                + ("\n* arrow B of the sound blocks only." if partial else ""))
    frames = info.get("frames")
    if frames:
        print()
        _console.table("frames", ["statistic", "value"],
                       [[k, f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"] for k, v in frames.items()])
    _print_damage(info)


def _print_damage(info: dict) -> None:
    """The regions an earlier repair dropped, the damaged blocks and other faults: one line each."""
    print()
    for r in info["lost"]:
        what = ", ".join(x for x in (f"stream {r['stream']!r}" if isinstance(r.get("stream"), str) else "",
                                     f"{r['rows']:,} rows" if type(r.get("rows")) is int else "") if x)
        print(f"LOST      bytes {r['offset']:,} .. {r['end']:,}{' (' + what + ')' if what else ''}, "
              f"dropped by an earlier repair: {r['reason']}")
    damage, faults = info["damage"], info["faults"]
    if not damage and not faults:
        print(f"checked   {info['checked']}: every block sound")
        return
    if damage:
        print(f"DAMAGED   {len(damage)} of {info['total']['blocks']} blocks "
              f"({sum(d['rows'] for d in damage):,} rows), checked: {info['checked']}")
    for d in damage:
        span = f", t {d['t_min']} .. {d['t_max']}" if d["rows"] else ""
        print(f"  {d['stream']} block {d['block']}: bytes {d['offset']:,} .. {d['end']:,}, "
              f"{d['rows']:,} rows{span}: {d['reason']}")
    for fault in faults:
        print(f"FAULT     {fault}")
