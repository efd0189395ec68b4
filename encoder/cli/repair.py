"""``encoder repair PATH [--out OUT]``: give a shard whose writer died its index back."""
from __future__ import annotations

import argparse

from ..shard.repair import repair


def register(sub, common) -> None:
    p = sub.add_parser(
        "repair", parents=[common], help="rebuild the index of a shard whose writer died",
        description="Scan the blocks of a shard from the first one, keep every block that was "
                    "completely written (its header and every chunk checksum intact), stop at the "
                    "first one that is not, and write a new footer and tail after the last good "
                    "block. A sound shard is left as it is. Exit 0 when the result is readable, "
                    "2 when the file is not a shard (or its encryption key is missing).")
    p.add_argument("path", metavar="PATH", help="shard file")
    p.add_argument("--out", "-o", metavar="OUT",
                   help="write the repaired shard here (default: replace PATH, atomically)")
    p.add_argument("--salvage", action="store_true",
                   help="after a damaged block, keep looking for intact later ones (for files damaged "
                        "in the middle, not only cut short); the damaged bytes stay where they are, "
                        "unreferenced, so `encoder verify` still reports them")
    p.add_argument("--encryption-key-file", metavar="FILE",
                   help="file holding the encryption key of an encrypted shard (default: $ENCODER_KEY "
                        "or $ENCODER_KEY_FILE)")
    # the option's former spelling, still accepted but no longer shown ("key" means a keyboard key)
    p.add_argument("--key-file", dest="encryption_key_file", help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def run(args) -> int:
    scan = repair(args.path, args.out, encryption_key_file=args.encryption_key_file, salvage=args.salvage)
    target = args.out or args.path
    rows = scan.rows
    detail = ", ".join(f"{name} {n:,}" for name, n in rows.items()) or "no streams"
    if scan.stopped == "intact":
        print(f"OK    {args.path}: sound, nothing to repair ({sum(rows.values()):,} rows in "
              f"{len(scan.blocks)} blocks)" + (f"; copied to {args.out}" if args.out else ""))
        return 0
    print(f"REPAIRED {target}: {sum(rows.values()):,} rows in {len(scan.blocks)} blocks ({detail}); "
          f"dropped {scan.dropped_bytes:,} bytes after byte {scan.end:,}")
    if scan.stopped and not args.quiet:
        print(f"      stopped at byte {scan.stopped_at:,}: {scan.stopped}")
    for offset, reason in scan.skipped:
        print(f"      skipped a damaged block at byte {offset:,}: {reason}")
    return 0
