"""The ``encoder`` command: argument parsing and the one place that turns errors into exit codes.

Exit codes: 0 success; 1 a check failed (``demo`` round trip not exact, ``verify`` found a
corrupt shard); 2 usage errors and any :class:`~encoder.errors.EncoderError` or
:class:`OSError` (unreadable file, not a shard, ...); 130 interrupted. Errors print
``encoder: error: <message>`` on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from ..errors import EncoderError
from . import _console, demo, export, inspect, record, repair, verify

COMMANDS = (demo, inspect, verify, repair, export, record)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``encoder`` (each command module adds its sub-parser)."""
    from .. import backend
    parser = argparse.ArgumentParser(
        prog="encoder",
        description="Lossless columnar shards of human-computer-interaction telemetry.",
        epilog="Run `encoder COMMAND --help` for the options of a command.")
    parser.add_argument("--version", action="version",
                        version=f"encoder {__version__} (backend: {backend})")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars (they are off anyway when stderr is not a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: keep argparse's code
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except EncoderError as exc:
        _console.error(str(exc))
        return 2
    except BrokenPipeError:  # `encoder inspect x | head`: stop quietly, like coreutils
        _silence_stdout()
        return 1
    except OSError as exc:
        _console.error(_console.os_message(exc))
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
