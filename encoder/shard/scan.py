"""Finding the blocks of a shard whose writer died, without its index.

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

from dataclasses import dataclass, field


from ..errors import CorruptShardError, EncryptionKeyRequiredError
from ..streams import builtin_streams
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
    lost: list = field(default_factory=list)   # regions a repair dropped (the footer's "lost")
    lost_frames: dict = field(default_factory=dict)  # screen -> frames that need lost tiles

    @property
    def lost_rows(self) -> dict:
        """Rows dropped per stream, where the damaged block's index entry said (repair)."""
        out: dict = {}
        for region in self.lost:
            if "stream" in region:
                out[region["stream"]] = out.get(region["stream"], 0) + region["rows"]
        return out

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


def _block_at(data, offset: int, schemas: dict, shard, cipher, builtin: dict) -> tuple[dict, int]:
    """The descriptor of the complete block at ``offset`` and where it ends, or CorruptShardError."""
    def unseal(record):
        return cipher.open(crypto.DESCRIPTOR, offset, record, shard=shard, offset=offset)
    desc, head = fmt.unpack_block_header(data, offset, shard, unseal if cipher is not None else None)
    stream, end = check_descriptor(desc, offset, len(data), schemas, shard, builtin)
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
                salvage: bool = False, reason: str = "", version: tuple[int, int] = fmt.VERSION) -> Scan:
    """Walk the blocks of ``data`` from ``first`` (the first block's offset, after the header).

    Stops at the first offset that does not hold a complete block (the end of what a killed
    writer wrote, or the old footer). With ``salvage``, looks for the next intact block after a
    damaged one instead (only intact blocks are kept; a block's own checksums decide).
    ``version`` is the shard's format version: blocks of built-in streams carry no schema, and
    are decoded with the built-in schemas of that version (a 1.0 ``command`` block has 3 columns).
    """
    builtin = builtin_streams(version)
    scan = Scan(size=len(data), end=first, reason=reason)
    pos, seq = first, -1
    while pos + fmt.BLOCK_HEADER.size <= len(data):
        try:
            desc, end = _block_at(data, pos, scan.schemas, shard, cipher, builtin)
            if desc["seq"] <= seq:
                raise CorruptShardError(f"block number {desc['seq']} after {seq}", shard=shard, offset=pos)
        except (CorruptShardError, EncryptionKeyRequiredError) as exc:
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
