"""Recovering a shard whose writer died: scan its blocks (:mod:`.scan`), rebuild footer and tail."""
from __future__ import annotations

import os
import tempfile

import zstandard

from . import crypto
from . import format as fmt
from .reader import ShardReader
from .scan import Scan, scan_blocks


@crypto.renamed_key_arguments
def repair(path, out=None, *, encryption_key=None, encryption_key_file=None, salvage: bool = False,
           level: int = 3) -> Scan:
    """Rebuild the footer of the shard at ``path`` from its blocks; returns the :class:`Scan`.

    Parameters
    ----------
    path : str or os.PathLike
        A shard whose writer died (or whose footer is damaged).
    out : str or os.PathLike, optional
        Where to write the repaired shard. Default: replace ``path`` (atomically: a new file is
        written beside it, synced, then renamed over it).
    encryption_key, encryption_key_file : optional
        Encryption key of an encrypted shard, or a file holding it (the new footer must be sealed
        with it); as in :class:`~encoder.ShardReader`. The former names ``key=`` and ``key_file=``
        still work, with a :class:`DeprecationWarning`.
    salvage : bool
        Keep looking for intact blocks after a damaged one (see :func:`scan_blocks`).
    level : int
        zstd level of the new footer.

    The repaired file holds the header and every complete block byte for byte, then a new
    footer; the bytes after the last complete block are dropped (``Scan.dropped_bytes``). A
    shard that is already sound is left alone (``Scan.stopped == "intact"``).

    Examples
    --------
    >>> import os, tempfile, numpy as np, encoder
    >>> from encoder.shard.repair import repair
    >>> path = os.path.join(tempfile.mkdtemp(), "crashed.enc")
    >>> w = encoder.ShardWriter(path)
    >>> w.write("pointer", {"t": np.arange(5), "x": np.arange(5), "y": np.arange(5)})
    >>> w.flush()  # the writer dies here: blocks on disk, no footer
    >>> repair(path).rows
    {'pointer': 5}
    >>> encoder.ShardReader(path).num_rows("pointer")
    5
    """
    name = os.fspath(path)
    with ShardReader(name, encryption_key=encryption_key, encryption_key_file=encryption_key_file,
                     recover=True) as reader:
        data, scan = reader._data, reader.recovered
        if scan is None:  # the footer is sound: nothing to rebuild
            scan = Scan(schemas=dict(reader._schemas), end=reader._data_end, size=reader.size,
                        stopped="intact", stopped_at=reader._data_end)
            scan.blocks = sorted((b for bs in reader._blocks.values() for b in bs), key=lambda b: b["offset"])
            if out is not None:
                _write(out, [data], like=name)
            return scan
        if salvage:
            scan = scan_blocks(data, reader._first, name, reader._cipher, salvage=True, reason=scan.reason)
        footer = {"streams": {s: spec.to_json() for s, spec in scan.schemas.items()}, "rows": scan.rows,
                  "blocks": scan.blocks}
        cipher = reader._cipher
        seal = None if cipher is None else (lambda frame: cipher.seal(crypto.FOOTER, scan.end, frame))
        tail = fmt.pack_footer(footer, scan.end, zstandard.ZstdCompressor(level=level).compress, seal)
        body = [data[:scan.end], bytes(max(0, scan.end - len(data)))]  # the last block's padding may be cut
        _write(name if out is None else out, body + [tail], like=name)
        return scan


def _write(path, parts, like=None) -> None:
    """Write ``parts`` to ``path`` through a synced temporary file and an atomic rename.

    The file gets the permissions of ``like`` (the shard repaired) or else the usual ones.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".repair-", suffix=".enc", dir=folder)
    try:
        if like is not None:
            mode = os.stat(like).st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    fmt.sync_folder(path)
