"""The exit codes of every ``encoder`` command: one convention, so scripts can branch on them.

===  ===============  ================================================================================
0    ``OK``           the command did what was asked and found nothing wrong
1    ``DAMAGED``      it ran, and found damage: ``verify`` found a corrupt shard, ``inspect`` listed
                      damaged blocks, ``export`` skipped damaged blocks (or ``--strict`` refused to),
                      ``repair`` found damage and removed it, ``demo``'s round trip was not exact
2    ``BAD_INPUT``    it could not run on what it was given: a usage error (argparse), a missing or
                      unreadable file, a file that is not a shard, a missing or wrong encryption key,
                      a format version or feature this library cannot read, a non-empty export folder
130  ``INTERRUPTED``  Ctrl-C (128 + SIGINT, as shells report it)
141  ``BROKEN_PIPE``  stdout was closed early (``encoder inspect x | head``): stopped quietly, as a
                      process killed by SIGPIPE would be; says nothing about the shard
===  ===============  ================================================================================

Over several files (``verify a.enc b.enc``) the worst code wins: ``BAD_INPUT`` over ``DAMAGED``
over ``OK``. Every error is printed as ``encoder: error: <message>`` on stderr, never as a
traceback; results go to stdout.

Why damage (1) and bad input (2) differ: a monitoring job quarantines a shard on 1, and
fixes its own invocation (a path, a key) on 2. A file is *not a shard* when it does not start
with the shard magic (:func:`is_shard_file`); a file that does but cannot be read (a damaged
footer, a truncated tail) is a damaged shard.

>>> from encoder.cli import exit_codes
>>> exit_codes.worst([exit_codes.OK, exit_codes.DAMAGED, exit_codes.OK])
1
>>> exit_codes.worst([])
0
"""
from __future__ import annotations

from typing import Iterable

from ..errors import EncryptionKeyRequiredError, EncryptionUnavailableError, UnsupportedVersionError
from ..shard.format import MAGIC

#: Success, nothing wrong found.
OK = 0
#: Damage found (and reported, skipped or removed).
DAMAGED = 1
#: A usage error, or an input that cannot be used.
BAD_INPUT = 2
#: Ctrl-C.
INTERRUPTED = 130
#: stdout closed before the output was written.
BROKEN_PIPE = 141

#: Errors that say the input cannot be used at all, whatever its bytes: exit ``BAD_INPUT``.
UNUSABLE_ERRORS = (EncryptionKeyRequiredError, EncryptionUnavailableError, UnsupportedVersionError)

_RANK = {OK: 0, DAMAGED: 1, BAD_INPUT: 2}


def worst(codes: Iterable[int]) -> int:
    """The code of a run over several files: ``BAD_INPUT`` > ``DAMAGED`` > ``OK``."""
    return max(codes, key=lambda c: _RANK.get(c, 3), default=OK)


def is_shard_file(path) -> bool:
    """Whether the file at ``path`` starts with the shard magic (OSError if it cannot be read)."""
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def for_open_error(path, exc: Exception) -> int:
    """The exit code of a shard that could not be opened: ``BAD_INPUT`` for a missing or
    unreadable file, a file that is not a shard, a key or version problem; ``DAMAGED`` for a
    shard (it has the magic) whose structure is broken."""
    if isinstance(exc, (OSError, *UNUSABLE_ERRORS)):
        return BAD_INPUT
    try:
        return DAMAGED if is_shard_file(path) else BAD_INPUT
    except OSError:
        return BAD_INPUT
