"""``encoder repair PATH [--out OUT]``: give a shard whose writer died its index back."""
from __future__ import annotations

import argparse

from ..shard.repair import repair
from .exit_codes import DAMAGED, OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "repair", parents=[common], help="rebuild the index of a shard whose writer died",
        description="Check every block of a shard (its header and every chunk checksum; a shard "
                    "without an index is scanned from its first block), keep every intact block "
                    "where it is, zero the damaged ones, and write a new footer that lists what "
                    "was dropped, so the result always passes `encoder verify`. Prints what was "
                    "dropped: streams, blocks, rows, frames, byte ranges. A shard that passes "
                    "verify is left as it is. Exit 0 when it was sound, 1 when damage was found "
                    "and repaired, 2 when the file is not a shard (or its encryption key is missing).")
    p.add_argument("path", metavar="PATH", help="shard file")
    p.add_argument("--out", "-o", metavar="OUT",
                   help="write the repaired shard here (default: replace PATH, atomically)")
    p.add_argument("--salvage", action="store_true",
                   help="of a shard without an index (its writer died): after a damaged block, keep "
                        "looking for intact later ones instead of stopping there (a shard with an "
                        "index always keeps every intact block)")
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
        return OK
    print(f"REPAIRED {target}: kept {sum(rows.values()):,} rows in {len(scan.blocks)} blocks ({detail})")
    for line in report(scan):
        print(f"      {line}")
    return DAMAGED


def report(scan) -> list[str]:
    """What a repair dropped, one line each: regions with their stream, rows and times, the
    frames that lost tiles, the bytes cut at the end."""
    lines = []
    for region in scan.lost:
        what = (f"{region['stream']} block of {region['rows']:,} rows" if "stream" in region else "unreadable bytes")
        when = f", t {region['t'][0]}..{region['t'][1]} us" if "t" in region else ""
        lines.append(f"dropped {what} at bytes {region['offset']:,}-{region['end']:,}{when}: {region['reason']}")
    lost = scan.lost_rows
    if lost:
        lines.append("rows lost: " + ", ".join(f"{name} {n:,}" for name, n in lost.items()))
    for screen, n in scan.lost_frames.items():
        lines.append(f"screen {screen}: {n:,} frames need tiles of dropped pages (frame() raises for them, "
                     "frame_with_mask() fills them; every other frame is exact)")
    if scan.dropped_bytes:
        stop = f" ({scan.stopped} at byte {scan.stopped_at:,})" if scan.stopped and scan.stopped_at else ""
        lines.append(f"cut {scan.dropped_bytes:,} bytes after byte {scan.end:,}{stop}")
    return lines
