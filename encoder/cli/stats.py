"""``encoder stats PATH [--html OUT]``: what a shard holds, as tables or as a page of plots.

Events per minute by stream, apps in focus and for how long, bytes by stream, the hesitation
before actions and the actions by kind (:func:`encoder.review.session_stats`, docs/review.md).
``--html`` writes a self-contained page (inline SVG, no script, nothing fetched) atomically.
"""
from __future__ import annotations

import json

from ..review import session_stats, stats_page
from ..review.rewrite import write_text_atomically
from ..review.stats import stats_tables
from ..shard import ShardReader
from . import _args, _console
from .exit_codes import OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "stats", parents=[common], help="events per minute, apps, bytes, hesitation and actions of a shard",
        description="Print the figures of a shard as tables: events per minute by stream, apps in focus "
                    "and the time in each (from each focus row to the next), stored bytes by stream (from "
                    "the block index), a histogram of the hesitation before each action and the actions by "
                    "kind (encoder.actions). --html writes them as a self-contained page of SVG plots "
                    "(no script, nothing fetched from the network).")
    p.add_argument("path", metavar="PATH", help="shard file")
    p.add_argument("--html", metavar="OUT", help="write the page here instead of printing tables")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--overwrite", action="store_true", help="replace the --html file if it exists")
    p.add_argument("--screen", type=int, default=0, metavar="N",
                   help="screen whose frames the actions observe (default 0)")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def run(args) -> int:
    with ShardReader(args.path, encryption_key_file=args.encryption_key_file) as reader:
        stats = session_stats(reader, screen=args.screen)
        metadata = reader.metadata
    if args.html:
        size = write_text_atomically(args.html, stats_page(stats, metadata), args.overwrite)
        print(f"wrote {args.html}: {size:,} bytes ({len(stats_tables(stats))} plots)")
    if args.json:
        print(json.dumps(stats, indent=1))
    elif not args.html:
        print(f"{args.path}: {stats['duration_s']:,.1f} s from the first row to the last")
        for t in stats_tables(stats):
            print(f"\n{t['title']}")
            _console.table(None, t["headers"], t["rows"], total=t["total"])
    return OK
