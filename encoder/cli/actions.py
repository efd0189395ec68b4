"""``encoder actions PATH``: the actions derived from a recording, as a timeline, JSON lines or Parquet.

The rules are those of :mod:`encoder.actions` (docs/actions.md); the double-click settings are
the platform's where the shard stored them.
"""
from __future__ import annotations

import json
import sys

from ..actions import KINDS, derive
from ..actions.timeline import timeline
from ..errors import EncoderError
from ..shard import ShardReader
from . import _args


def register(sub, common) -> None:
    p = sub.add_parser(
        "actions", parents=[common], help="derive the actions (clicks, typing, keys, ...) of a recording",
        description="Reduce a shard's raw input to the actions agents are trained on (click, double_click, "
                    "drag, scroll, type, key, hotkey, focus, command, move), each with its observation frame "
                    "and timing (docs/actions.md). Prints a timeline: time since the first row, kind, where, "
                    "what, hesitation before it.")
    p.add_argument("path", metavar="PATH", help="a shard file")
    p.add_argument("--format", choices=["text", "jsonl", "parquet"], default="text",
                   help="text (a timeline, the default), jsonl (one JSON object per action) or parquet")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout (required for parquet)")
    p.add_argument("--screen", type=int, default=0, help="screen whose frames are the observations (default 0)")
    p.add_argument("--kind", action="append", choices=KINDS, metavar="KIND",
                   help=f"keep only this kind (repeatable): {', '.join(KINDS)}")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def run(args) -> int:
    if args.format == "parquet" and not args.output:
        raise EncoderError("--format parquet needs -o FILE")
    with ShardReader(args.path, encryption_key_file=args.encryption_key_file) as reader:
        table = derive(reader, screen=args.screen)
        firsts = [r[0] for r in (reader.time_range(s) for s in reader.streams) if r is not None]
    if args.kind:
        keep = [k in args.kind for k in table.column("kind").to_pylist()]
        table = table.filter(keep)
    if args.format == "parquet":
        import pyarrow.parquet as pq  # only for this format: Parquet costs ~60 ms to import
        pq.write_table(table, args.output)
        print(f"{table.num_rows:,} actions -> {args.output}")
        return 0
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.format == "jsonl":
            for row in table.to_pylist():
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            for line in timeline(table, min(firsts) if firsts else None):
                out.write(line + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
