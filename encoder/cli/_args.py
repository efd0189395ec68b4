"""Argument types shared by the commands."""
from __future__ import annotations

import argparse
import errno
import os


def positive(limit: float, *, whole_as_int: bool = False):
    """An argparse type: a number in (0, ``limit``) (an int when whole and ``whole_as_int``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value < limit:
            raise argparse.ArgumentTypeError(f"must be positive (and under {limit:,.0f}): {text!r}")
        return int(value) if whole_as_int and value.is_integer() else value
    return parse


def add_encryption_key_file(parser: argparse.ArgumentParser) -> None:
    """``--encryption-key-file FILE`` (default: ``$ENCODER_KEY`` or ``$ENCODER_KEY_FILE``)."""
    parser.add_argument("--encryption-key-file", metavar="FILE",
                        help="file holding the encryption key of encrypted shards (default: $ENCODER_KEY "
                             "or $ENCODER_KEY_FILE)")


def shard_files(paths: list[str]) -> list[str]:
    """The shard files named by ``paths``: files as given, folders expanded to their ``*.enc``
    (sorted, not recursive); each file once, in order.

    A path that does not exist raises :class:`FileNotFoundError` (exit 2), as does a folder
    without any ``*.enc``, so a typo never exports nothing quietly.
    """
    out: dict[str, str] = {}
    for path in paths:
        if os.path.isdir(path):
            found = sorted(e.path for e in os.scandir(path) if e.name.endswith(".enc") and e.is_file())
            if not found:
                raise FileNotFoundError(errno.ENOENT, "folder holds no *.enc shard", path)
        elif os.path.exists(path):
            found = [path]
        else:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        for f in found:
            out.setdefault(os.path.realpath(f), f)
    return list(out.values())
