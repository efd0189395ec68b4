"""``encoder index DIR [-o FILE] [--check]``: the Parquet manifest of a folder of shards.

The library does the work (:mod:`encoder.loader.manifest`, docs/loader.md "Manifest"): every
shard under DIR is opened once and described in ``DIR/manifest.parquet``, which
``ShardDataset(DIR)`` and ``encoder.ray.read_shards(DIR)`` then read instead of opening every
shard. ``--update`` indexes only the shards that changed; ``--check`` names the stale entries
(exit 1) and writes nothing.
"""
from __future__ import annotations

import os
import time

from . import _console
from .exit_codes import DAMAGED, OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "index", parents=[common], help="write the manifest of a folder of shards (for the loader and Ray)",
        description="Open every shard under DIR once and write a Parquet manifest: path, size, mtime, checksum, "
                    "format version, time range, rows and blocks per stream, frames per screen, and the "
                    "samples of the default loader spec. ShardDataset(DIR) and encoder.ray.read_shards(DIR) use "
                    "it instead of opening every shard, and name any shard that changed since.")
    p.add_argument("folder", metavar="DIR", help="folder of shards (every *.enc under it)")
    p.add_argument("-o", "--output", metavar="FILE", help="the manifest (default DIR/manifest.parquet)")
    p.add_argument("--checksum", choices=["ends", "full"], default="ends",
                   help="xxh3 of each file's first and last 64 KiB (ends, default) or of every byte (full)")
    p.add_argument("--update", action="store_true", help="keep the entries of shards that did not change")
    p.add_argument("--check", action="store_true", help="only name the stale entries (exit 1 if any)")
    p.add_argument("--threads", type=int, default=4, metavar="N", help="shards opened at once (default 4)")
    p.set_defaults(run=run)


def run(args) -> int:
    # here, not at the top: the loader imports torch when it is installed, which every other
    # command (encoder record, encoder shell-hook in each new shell) must not pay
    from ..loader.manifest import MANIFEST_NAME, Manifest
    from ..loader.shard_files import expand
    out = args.output or os.path.join(args.folder, MANIFEST_NAME)
    if args.check or args.update:
        current = Manifest.read(out)
    if args.check:
        stale = current.stale(expand(args.folder))
        for name, why in stale:
            print(f"STALE {name}: {why}")
        print(f"{out}: {len(current.entries):,} entries, {len(stale):,} stale")
        return DAMAGED if stale else OK
    started = time.perf_counter()
    manifest = Manifest.build(args.folder, out=out, checksum_kind=args.checksum, threads=args.threads,
                              reuse=current if args.update else None)
    rows = sum(e["samples"] for e in manifest.entries.values())
    print(f"INDEX {out}: {len(manifest.entries):,} shards, {rows:,} samples, "
          f"{_console.nbytes(os.path.getsize(out))} in {time.perf_counter() - started:.2f} s")
    return OK
