"""The ``encoder`` command: argument parsing and the one place that turns errors into exit codes.

The codes are those of :mod:`encoder.cli.exit_codes`: a command returns ``OK`` or ``DAMAGED``
itself; what escapes it is mapped here: an :class:`~encoder.errors.EncoderError` or an
:class:`OSError` (unreadable file, not a shard, a missing encryption key, ...) and argparse's
usage errors give ``BAD_INPUT``, Ctrl-C ``INTERRUPTED``, a closed stdout ``BROKEN_PIPE``.
Errors print ``encoder: error: <message>`` on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .._version import __version__
from ..errors import EncoderError
from . import _console, exit_codes

#: The command modules, in the order `encoder --help` lists them; a module's command is its name
#: with "-" for "_" (a trailing "_" dropped: ``import_`` is ``encoder import``).
COMMANDS = ("demo", "inspect", "verify", "repair", "actions", "export", "import_", "record", "shell_hook",
            "cut", "redact", "stats", "view", "render", "convert", "index")


def command_name(module: str) -> str:
    """``shell_hook`` -> ``shell-hook``, ``import_`` -> ``import``."""
    return module.replace("_", "-").rstrip("-")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``encoder`` (each command module adds its sub-parser).

    With ``command``, only that command's module is imported and registered: `encoder record`
    runs all day and `encoder shell-hook` in every new shell, so neither loads what the other
    commands need (Parquet, the viewer, the loader...)."""
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
        if command is None or command_name(module) == command:
            importlib.import_module(f".{module}", __package__).register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # the command is the first word (`encoder` itself takes only --help and --version): build
    # only its parser when it names one, else all of them (help, a usage error)
    command = argv[0] if argv and argv[0] in {command_name(m) for m in COMMANDS} else None
    parser = build_parser(command)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (argparse exits 2)
        if exc.code is None or exc.code == 0:
            return exit_codes.OK
        return exc.code if isinstance(exc.code, int) else exit_codes.BAD_INPUT
    if args.command is None:
        parser.print_help(sys.stderr)
        return exit_codes.BAD_INPUT
    try:
        return args.run(args)
    except EncoderError as exc:
        _console.error(str(exc))
        return exit_codes.BAD_INPUT
    except BrokenPipeError:  # `encoder inspect x | head`: stop quietly, like coreutils
        _silence_stdout()
        return exit_codes.BROKEN_PIPE
    except OSError as exc:
        _console.error(_console.os_message(exc))
        return exit_codes.BAD_INPUT
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return exit_codes.INTERRUPTED


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
