"""``encoder verify PATH...``: check every checksum and decode everything, file by file.

Exit codes (:mod:`encoder.cli.exit_codes`, the worst over all files wins): 0 every shard sound,
1 a shard is damaged (``CORRUPT``: it has the shard magic but fails a check, its footer
included), 2 a file cannot be checked (``UNREADABLE``: missing, not a shard, its encryption
key missing or wrong, a format this library cannot read).
"""
from __future__ import annotations

import sys

from ..errors import EncoderError
from ..shard import ShardReader
from . import _args, _console, exit_codes
from .exit_codes import OK

#: Former names of the codes of this command (exit_codes.DAMAGED, exit_codes.BAD_INPUT).
CORRUPT, UNREADABLE = exit_codes.DAMAGED, exit_codes.BAD_INPUT


def register(sub, common) -> None:
    p = sub.add_parser(
        "verify", parents=[common], help="check shards: every checksum, every block decoded",
        description="Run ShardReader(path).verify() on each file: every checksum is checked and "
                    "every column of every block decoded. Prints OK with row counts, or the error. "
                    "Exit 0 if all are sound, 1 if a shard is damaged, 2 if a file cannot be checked "
                    "(missing, not a shard, encryption key missing or wrong).")
    p.add_argument("paths", nargs="+", metavar="PATH", help="shard files")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def verify_one(path: str, encryption_key_file=None) -> tuple[int, str]:
    """(exit code, message) for one file; never raises for a bad or missing file."""
    try:
        with ShardReader(path, encryption_key_file=encryption_key_file) as reader:
            counts = reader.verify()
            blocks = len(reader.blocks)
    except OSError as exc:  # ShardUnavailableError too
        message = str(exc) if isinstance(exc, EncoderError) else _console.os_message(exc)
        return UNREADABLE, _named(path, message)
    except EncoderError as exc:
        return exit_codes.for_open_error(path, exc), _named(path, str(exc))
    except Exception as exc:  # noqa: BLE001 - a reader bug must still fail the check
        return exit_codes.for_open_error(path, exc), _named(
            path, f"unexpected {type(exc).__name__}: {exc} (a bug in encoder: corrupt input should raise "
                  "CorruptShardError)")
    rows = sum(counts.values())
    detail = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    return OK, f"{path}: {rows:,} rows in {blocks} blocks ({detail or 'no streams'})"


def _named(path: str, message: str) -> str:
    """Make sure the message names the file (the reader's errors usually do already)."""
    return message if path in message else f"{path}: {message}"


def run(args) -> int:
    worst = OK
    for path in _console.progress(args.paths, quiet=args.quiet, desc="verify", unit="shard"):
        code, message = verify_one(path, args.encryption_key_file)
        worst = exit_codes.worst([worst, code])
        if code == OK:
            print(f"OK    {message}")
        else:
            print(f"{'CORRUPT' if code == CORRUPT else 'UNREADABLE'} {path}")
            _console.error(message)
        sys.stdout.flush()
    if len(args.paths) > 1 and worst != OK:
        _console.error("some shards failed verification")
    return worst
