"""``encoder convert SRC... --out DIR [--ray]``: shards re-encoded or recordings imported, one output per input.

The library does the work (:func:`encoder.ray.convert`, docs/ray.md): a shard is written anew
(every row and frame, verified before it is renamed into place), a recording of another tool
(``--from agentnet|ducktrack``) is imported. ``--ray`` runs one Ray task per input (a local
Ray, or the cluster at ``--address``) and writes the same shards as one process. Prints one
line per output. Exit 0, or 2 for bad input (nothing is written when two inputs would get the
same output name).
"""
from __future__ import annotations

from ..importers import IMPORTERS
from . import _args, _console
from .exit_codes import OK

#: What SRC can be (encoder.ray.convert.FORMATS, without importing Ray's side: the loader pulls in torch).
FORMATS = ("auto", "shard", *sorted(IMPORTERS))


def register(sub, common) -> None:
    p = sub.add_parser(
        "convert", parents=[common], help="re-encode shards or import recordings into a folder (optionally on Ray)",
        description="Write one shard per input into DIR: a shard is re-encoded (rows and frames written anew, "
                    "verified), a recording is imported (--from agentnet or ducktrack). With --ray every input "
                    "is converted by its own Ray task (pip install 'hci-encoder[ray]'); the shards are the same.")
    p.add_argument("src", nargs="+", metavar="SRC", help="shard files, or recording folders with --from")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (created)")
    p.add_argument("--from", dest="source_format", choices=FORMATS, default="auto",
                   help="what the inputs are (auto: shards; recordings need their format)")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    p.add_argument("--ray", action="store_true", help="one Ray task per input")
    p.add_argument("--address", metavar="ADDR", help="with --ray: the cluster to join (default: a local Ray)")
    p.add_argument("--num-cpus", type=int, metavar="N", help="with --ray and no --address: CPUs of the local Ray")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def run(args) -> int:
    started = False
    if args.ray:
        from ..ray.datasource import require_ray
        ray = require_ray()
        if not ray.is_initialized():
            ray.init(address=args.address, num_cpus=None if args.address else args.num_cpus,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
            started = True
    try:
        from ..ray.convert import convert  # here: the loader and torch load only for this command
        reports = convert(args.src, args.out, use_ray=args.ray, source_format=args.source_format,
                          overwrite=args.overwrite, encryption_key_file=args.encryption_key_file)
    finally:
        if started:
            ray.shutdown()
    for r in reports:
        rows = sum(r["rows"].values())
        frames = f", {r['frames']:,} frames" if r["frames"] else ""
        print(f"{r['format'].upper():<9} {r['source']} -> {r['shard']} ({rows:,} rows{frames}, "
              f"{_console.nbytes(r['bytes'])})")
    return OK
