"""``encoder cut PATH --drop FROM-TO [--drop ...] -o OUT``: a copy without some time ranges.

The library does the work (:func:`encoder.review.cut`, docs/review.md); this prints what was
removed. The output is written beside OUT, verified, then renamed into place; PATH is only read.
"""
from __future__ import annotations

from ..review import cut, parse_range
from . import _args, _console
from .exit_codes import OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "cut", parents=[common], help="copy a shard without some time ranges (rows and frames)",
        description="Write a copy of the shard without every row (of every stream) and every frame whose "
                    "time lies in a dropped range; the frames kept are written anew, so no screen tile "
                    "used only in a dropped range remains in OUT. The metadata is kept, with a 'cut' "
                    "entry naming the ranges. OUT is verified before it is renamed into place; PATH is "
                    "never modified. Pixels of kept frames are not changed: text typed in a dropped "
                    "range that a later frame shows stays in it (see `encoder redact`, docs/review.md).")
    p.add_argument("path", metavar="PATH", help="shard file (only read)")
    p.add_argument("--drop", action="append", required=True, metavar="FROM-TO",
                   help="seconds from the shard's first row, FROM <= t < TO: 12.5-30, 40- (to the end), "
                        "--drop=-8 (from the start), 1:30-2:00 (minutes); repeatable")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="the new shard file")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (never PATH)")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def run(args) -> int:
    ranges = [parse_range(text) for text in args.drop]
    report = cut(args.path, args.out, ranges, encryption_key_file=args.encryption_key_file,
                 overwrite=args.overwrite)
    print(f"CUT   {args.path} -> {args.out}: dropped {', '.join(r.text() for r in ranges)} s "
          "(seconds from the first row)")
    print_report(report)
    return OK


def print_report(report) -> None:
    """Rows per stream, frames, unique tiles and bytes before and after (shared with redact)."""
    streams = list(report.rows_before)
    rows = [[s, _console.count(report.rows_before[s]), _console.count(report.rows_after.get(s, 0)),
             _console.count(report.rows_removed[s])] for s in streams]
    before, after = sum(report.rows_before.values()), sum(report.rows_after.values())
    _console.table(None, ["stream", "rows before", "after", "removed"], rows,
                   total=["all", _console.count(before), _console.count(after), _console.count(before - after)])
    for screen, n in report.frames_before.items():
        kept = report.frames_after.get(screen, 0)
        edited = f", {report.frames_edited:,} redacted" if report.frames_edited else ""
        print(f"frames of screen {screen}: {n:,} -> {kept:,} ({n - kept:,} removed{edited})")
    if report.frames_before:
        print(f"unique tiles: {report.tiles_before:,} -> {report.tiles_after:,} "
              f"({report.tiles_before - report.tiles_after:,} fewer; the tile store was written anew)")
    print(f"bytes: {report.bytes_before:,} -> {report.bytes_after:,}"
          + (" (encrypted with the input's key)" if report.encrypted else ""))
    print(f"verified {report.out} in {report.seconds:.2f} s; {report.source} unchanged")
