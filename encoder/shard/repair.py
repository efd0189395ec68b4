"""Recovering a shard whose writer died: scan the blocks, rebuild footer and tail.

A writer appends blocks and writes the index (footer and tail) only when it closes, so a
process killed (or a laptop that lost power) leaves a file that ends inside a block, or just
after one, without an index. Every block header repeats its block's descriptor (stream,
schema of a declared stream, rows, time range, codec parameters, chunk offsets, lengths and
checksums) with a checksum of its own, so the index can be rebuilt by walking the blocks from
the first one: a block counts only if its header is intact and every one of its chunks is
present with the right checksum; the walk stops at the first block that is not (``salvage``
goes on looking for later intact blocks, for files damaged in the middle).

:func:`scan_blocks` does the walk (``ShardReader(path, recover=True)`` uses it to read such a
file as it is); :func:`repair` writes the file back with a new footer (``encoder repair``).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

import zstandard

from ..errors import CorruptShardError
from . import crypto
from . import format as fmt
from .blocks import check_descriptor


@dataclass
class Scan:
    """What a scan of a shard's blocks found."""
    schemas: dict = field(default_factory=dict)   # stream name -> Stream, in order of appearance
    blocks: list = field(default_factory=list)    # descriptors (footer form: with "offset")
    end: int = 0              # where the last good block ends (a new footer goes here)
    size: int = 0             # bytes in the file
    stopped: str = ""         # why the walk stopped ("" at the end of the file)
    stopped_at: int = 0       # ... and where
    skipped: list = field(default_factory=list)  # (offset, reason) of damaged blocks passed over (salvage)
    reason: str = ""          # why the footer could not be used, when the reader fell back on a scan

    @property
    def rows(self) -> dict:
        out = {name: 0 for name in self.schemas}
        for b in self.blocks:
            out[b["stream"]] += b["rows"]
        return out

    @property
    def dropped_bytes(self) -> int:
        """Bytes after the last good block (an incomplete block, an old footer, damage)."""
        return max(0, self.size - self.end)


def _block_at(data, offset: int, schemas: dict, shard, cipher) -> tuple[dict, int]:
    """The descriptor of the complete block at ``offset`` and where it ends, or CorruptShardError."""
    def unseal(record):
        return cipher.open(crypto.DESCRIPTOR, offset, record, shard=shard, offset=offset)
    desc, head = fmt.unpack_block_header(data, offset, shard, unseal if cipher is not None else None)
    stream, end = check_descriptor(desc, offset, len(data), schemas, shard)
    if len(schemas) >= fmt.MAX_STREAMS and stream.name not in schemas:
        raise CorruptShardError(f"more than {fmt.MAX_STREAMS} streams", shard=shard, offset=offset)
    head_end = offset + head + fmt.pad(head)
    for _, chunks in desc["columns"]:
        for start, size, _, digest in chunks:
            if offset + start < head_end:
                raise CorruptShardError("a chunk overlaps its block header", shard=shard, offset=offset)
            if not fmt.checksum_matches(data[offset + start:offset + start + size], digest):
                raise CorruptShardError("incomplete block: chunk checksum mismatch", shard=shard,
                                        stream=stream.name, offset=offset + start)
    schemas.setdefault(stream.name, stream)
    desc = {k: v for k, v in desc.items() if k != "schema"}
    desc["offset"] = offset
    return desc, max(end, head_end)


def _find(data, magic: bytes, start: int) -> int:
    """Offset of the next ``magic`` on a 64-byte boundary at or after ``start``, or -1.

    ``data`` is a memoryview or a file view (no ``find``): searched in bytes slices of 16 MiB.
    """
    step = 16 << 20
    for lo in range(start, len(data), step):
        piece = bytes(data[lo:lo + step + len(magic)])
        at = piece.find(magic)
        while at >= 0:
            if (lo + at) % fmt.ALIGN == 0:
                return lo + at
            at = piece.find(magic, at + 1)
    return -1


def scan_blocks(data, first: int, shard, cipher: "crypto.ShardCipher | None" = None, *,
                salvage: bool = False, reason: str = "") -> Scan:
    """Walk the blocks of ``data`` from ``first`` (the first block's offset, after the header).

    Stops at the first offset that does not hold a complete block (the end of what a killed
    writer wrote, or the old footer). With ``salvage``, looks for the next intact block after a
    damaged one instead (only intact blocks are kept; a block's own checksums decide).
    """
    scan = Scan(size=len(data), end=first, reason=reason)
    pos, seq = first, -1
    while pos + fmt.BLOCK_HEADER.size <= len(data):
        try:
            desc, end = _block_at(data, pos, scan.schemas, shard, cipher)
            if desc["seq"] <= seq:
                raise CorruptShardError(f"block number {desc['seq']} after {seq}", shard=shard, offset=pos)
        except (CorruptShardError, crypto.KeyRequiredError) as exc:
            if not salvage:
                scan.stopped, scan.stopped_at = exc.detail, pos
                break
            scan.skipped.append((pos, exc.detail))
            pos = _find(data, fmt.BLOCK_MAGIC, pos + fmt.ALIGN)
            if pos < 0:
                break
            continue
        seq = desc["seq"]
        scan.blocks.append(desc)
        scan.end = pos = end
    return scan


def repair(path, out=None, *, key=None, key_file=None, salvage: bool = False, level: int = 3) -> Scan:
    """Rebuild the footer of the shard at ``path`` from its blocks; returns the :class:`Scan`.

    Parameters
    ----------
    path : str or os.PathLike
        A shard whose writer died (or whose footer is damaged).
    out : str or os.PathLike, optional
        Where to write the repaired shard. Default: replace ``path`` (atomically: a new file is
        written beside it, synced, then renamed over it).
    key, key_file : optional
        Key of an encrypted shard (the new footer must be sealed with it).
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
    from .reader import ShardReader  # the reader imports this module lazily too

    name = os.fspath(path)
    with ShardReader(name, key=key, key_file=key_file, recover=True) as reader:
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
