"""``encoder export PATH --parquet DIR``: one Parquet file (zstd) per stream."""
from __future__ import annotations

import json
import os
import re


from ..errors import EncoderError
from ..shard import ShardReader
from ..shard.format import STREAM_NAME
from . import _console


def register(sub, common) -> None:
    p = sub.add_parser(
        "export", parents=[common], help="write each stream as a Parquet file",
        description="Write every stream of a shard (or those named with --stream) as "
                    "DIR/<stream>.parquet, zstd-compressed. The shard's metadata is kept in each "
                    "file's schema metadata under the key 'encoder.metadata'.")
    p.add_argument("path", metavar="PATH", help="shard file")
    p.add_argument("--parquet", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--stream", action="append", dest="streams", metavar="NAME",
                   help="export only this stream (repeatable)")
    p.set_defaults(run=run)


def run(args) -> int:
    with ShardReader(args.path) as reader:
        names = list(reader.streams) if not args.streams else list(dict.fromkeys(args.streams))
        for name in names:
            if name not in reader.streams:
                raise EncoderError(f"no stream {name!r}; the shard holds {sorted(reader.streams)}",
                                   shard=args.path)
            # Stream names come from the shard's footer: untrusted. Only names the writer
            # accepts may become file names (no separators, no "..").
            if not re.match(STREAM_NAME, name):
                raise EncoderError(f"refusing to export a stream named {name!r} (not a valid stream "
                                   "name)", shard=args.path)
        os.makedirs(args.parquet, exist_ok=True)
        import pyarrow.parquet as pq  # only here: every command (encoder record too) imports this module
        meta = json.dumps(reader.metadata, separators=(",", ":")).encode()
        for name in _console.progress(names, quiet=args.quiet, desc="export", unit="stream"):
            table = reader.read(name)
            table = table.replace_schema_metadata({b"encoder.metadata": meta,
                                                   b"encoder.stream": name.encode()})
            target = os.path.join(args.parquet, f"{name}.parquet")
            pq.write_table(table, target, compression="zstd")
            print(f"{target}: {table.num_rows:,} rows, {os.path.getsize(target):,} bytes")
    return 0
