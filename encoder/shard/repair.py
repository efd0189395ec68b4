"""Repairing a shard: drop what is damaged, keep every intact block in place, say what was lost.

A shard whose writer died has no index: its blocks are found by a scan (:mod:`.scan`). A
shard with an index may still hold damaged blocks (a flipped byte, a bad sector): every
block is checked on its own (:func:`encoder.shard.verification.check_blocks`). Either way
the repaired file holds the header and every intact block at its offset (encrypted chunks
are bound to their offsets), zeros where damaged blocks and stray bytes were, and a new
footer whose ``lost`` list names each dropped region, so that the result always passes
``verify`` and readers know which rows and frames are gone (docs/hardening.md).
"""
from __future__ import annotations

import os
import tempfile

import zstandard

from ..errors import EncoderError
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

    The repaired file holds the header and every intact block byte for byte at its offset,
    zeros in place of damaged blocks and stray bytes, then a new footer that lists the regions
    dropped (``Scan.lost``; :attr:`~encoder.ShardReader.lost` when read back); the bytes after
    the last intact block are dropped (``Scan.dropped_bytes``). The result always passes
    :meth:`~encoder.ShardReader.verify`. A shard that passes ``verify`` is left alone
    (``Scan.stopped == "intact"``); any damage, anywhere, is repaired and reported.

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
        data = reader._data
        if reader.recovered is None:
            scan = _check_indexed(reader)
            if scan.stopped == "intact":
                if out is not None:
                    _write(out, [data], like=name)
                return scan
        else:
            scan = reader.recovered
            if salvage:
                scan = scan_blocks(data, reader._first, name, reader._cipher, salvage=True, reason=scan.reason,
                                   version=reader.version)
            scan.lost = _skipped_regions(reader, scan)
        footer = {"streams": {s: spec.to_json() for s, spec in scan.schemas.items()}, "rows": scan.rows,
                  "blocks": scan.blocks}
        if scan.lost:
            footer["lost"] = scan.lost
        cipher = reader._cipher
        seal = None if cipher is None else (lambda frame: cipher.seal(crypto.FOOTER, scan.end, frame))
        tail = fmt.pack_footer(footer, scan.end, zstandard.ZstdCompressor(level=level).compress, seal)
        body = _intact_bytes(reader, scan)
    target = name if out is None else out
    _write(target, [body, tail], like=name)
    if scan.lost:
        with ShardReader(target, encryption_key=encryption_key, encryption_key_file=encryption_key_file) as result:
            screens = result.frame_screens() if "frame" in result.streams else []
            scan.lost_frames = {s: len(result.lost_frames(s)) for s in screens}
            scan.lost_frames = {s: n for s, n in scan.lost_frames.items() if n}
    return scan


def _check_indexed(reader) -> Scan:
    """A shard whose footer is sound: which of its blocks are damaged (``intact`` if none)."""
    blocks = sorted((b for bs in reader._blocks.values() for b in bs), key=lambda b: b["offset"])
    scan = Scan(schemas=dict(reader._schemas), end=reader._data_end, size=reader.size, stopped="intact",
                stopped_at=reader._data_end, lost=list(reader.lost))
    try:
        reader.verify()  # every byte: a shard is sound only if this passes
        scan.blocks = blocks
        return scan
    except EncoderError as exc:  # find the damaged blocks (checksums, else decoding), else stray bytes
        scan.reason = exc.detail
        damaged = reader.check_blocks() or reader.check_blocks(deep=True)
    bad = {d.offset for d in damaged}
    scan.blocks = [b for b in blocks if b["offset"] not in bad]
    scan.stopped, scan.stopped_at = ("damaged blocks", damaged[0].offset) if damaged else ("stray bytes", 0)
    for d in damaged:
        scan.skipped.append((d.offset, d.reason))
        scan.lost.append({"offset": d.offset, "end": d.end, "reason": d.reason, "stream": d.stream,
                          "rows": d.rows, "t": [d.t_min, d.t_max]})
    scan.lost.sort(key=lambda region: region["offset"])
    return scan


def _skipped_regions(reader, scan: Scan) -> list[dict]:
    """The regions a salvaging scan passed over: from each damaged block to the next intact
    one, with the stream, rows and times the damaged block's own header gives when it is intact."""
    starts = sorted(b["offset"] for b in scan.blocks)
    regions = []
    for offset, reason in scan.skipped:
        later = [s for s in starts if s > offset]
        end = later[0] if later else scan.end
        if end <= offset:
            continue
        region = {"offset": offset, "end": end, "reason": reason}
        try:
            desc, _ = fmt.unpack_block_header(reader._data, offset, reader.name, reader._unsealer(offset))
            if isinstance(desc.get("stream"), str) and type(desc.get("rows")) is int:
                region.update(stream=desc["stream"], rows=desc["rows"])
                if isinstance(desc.get("t"), list):
                    region["t"] = desc["t"]
        except EncoderError:  # the header is damaged too: only the bytes are known
            pass
        regions.append(region)
    return regions


def _intact_bytes(reader, scan: Scan) -> bytearray:
    """The file up to ``scan.end`` with only the header and the kept blocks' records and
    chunks copied: damaged blocks, stray bytes and padding are zeros."""
    data = reader._data
    body = bytearray(scan.end)
    meta_len = int.from_bytes(bytes(data[12:16]), "little")
    regions = [(0, fmt.HEADER.size + meta_len)]
    for desc in scan.blocks:
        _, head = fmt.unpack_block_header(data, desc["offset"], reader.name, reader._unsealer(desc["offset"]))
        regions.append((desc["offset"], desc["offset"] + head))
        regions += [(desc["offset"] + c[0], desc["offset"] + c[0] + c[1]) for _, cs in desc["columns"] for c in cs]
    for start, end in regions:
        piece = data[start:min(end, len(data))]  # the last block's padding may be cut
        body[start:start + len(piece)] = piece
    _declare_gaps(scan, sorted(regions))
    return body


def _declare_gaps(scan: Scan, regions: list) -> None:
    """Every run of zeros too long to be padding (a damaged block, stray bytes, the region of an
    earlier repair whose footer is gone) must be declared lost, or ``verify`` would reject it."""
    covered = sorted(regions + [(r["offset"], r["end"]) for r in scan.lost])
    pos = 0
    for start, end in covered + [(scan.end, scan.end)]:
        if start - pos >= fmt.ALIGN:
            scan.lost.append({"offset": pos, "end": start, "reason": "damaged or unreadable bytes, zeroed"})
        pos = max(pos, end)
    scan.lost.sort(key=lambda region: region["offset"])


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
