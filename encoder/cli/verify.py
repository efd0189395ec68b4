"""``encoder verify PATH...``: check every checksum and decode everything, file by file."""
from __future__ import annotations

import sys

from ..errors import EncoderError
from ..shard import ShardReader
from . import _console

#: Exit codes of this command (the worst over all files wins).
OK, CORRUPT, UNREADABLE = 0, 1, 2


def register(sub, common) -> None:
    p = sub.add_parser(
        "verify", parents=[common], help="check shards: every checksum, every block decoded",
        description="Run ShardReader(path).verify() on each file: every checksum is checked and "
                    "every column of every block decoded. Prints OK with row counts, or the error. "
                    "Exit 0 if all are sound, 1 if a shard is corrupt, 2 if a file cannot be read.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="shard files")
    p.set_defaults(run=run)


def verify_one(path: str) -> tuple[int, str]:
    """(exit code, message) for one file; never raises for a bad or missing file."""
    try:
        with ShardReader(path) as reader:
            counts = reader.verify()
            blocks = len(reader.blocks)
    except EncoderError as exc:
        return CORRUPT, _named(path, str(exc))
    except OSError as exc:
        return UNREADABLE, _console.os_message(exc)
    except Exception as exc:  # noqa: BLE001 - a reader bug must still fail the check
        return CORRUPT, _named(path, f"unexpected {type(exc).__name__}: {exc} (a bug in encoder: "
                                     "corrupt input should raise CorruptShardError)")
    rows = sum(counts.values())
    detail = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    return OK, f"{path}: {rows:,} rows in {blocks} blocks ({detail or 'no streams'})"


def _named(path: str, message: str) -> str:
    """Make sure the message names the file (the reader's errors usually do already)."""
    return message if path in message else f"{path}: {message}"


def run(args) -> int:
    worst = OK
    for path in _console.progress(args.paths, quiet=args.quiet, desc="verify", unit="shard"):
        code, message = verify_one(path)
        worst = max(worst, code)
        if code == OK:
            print(f"OK    {message}")
        else:
            print(f"{'CORRUPT' if code == CORRUPT else 'UNREADABLE'} {path}")
            _console.error(message)
        sys.stdout.flush()
    if len(args.paths) > 1 and worst != OK:
        _console.error("some shards failed verification")
    return worst
