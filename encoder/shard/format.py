"""Byte layout of a shard, version 1 (docs/format.md is the prose version of this file).

    header   magic(8) major(u16) minor(u16) meta_len(u32) xxh3(u64) metadata-JSON, pad to 64
    block*   BLOCK_MAGIC(8) desc_len(u32) 0(u32) xxh3(u64) descriptor-JSON, pad to 64,
             then its chunks: one zstd frame each, every one starting on a 64-byte boundary
    footer   one zstd frame holding the footer JSON (stream schemas, every block's descriptor)
    tail     footer_offset(u64) footer_len(u32) footer_raw_len(u32) footer_xxh3(u64) END_MAGIC(8)

All integers little-endian. Header and block checksums cover their first 16 bytes and their
JSON; chunk checksums are XXH3-64 of the stored (compressed) bytes, so a reader verifies a chunk
before handing it to any decompressor, CPU or GPU.
"""
from __future__ import annotations

import json
import struct

import xxhash

from ..errors import CorruptShardError, UnsupportedVersionError

MAGIC = b"\x89ENCSHD\n"
BLOCK_MAGIC = b"\x89ENCBLK\n"
END_MAGIC = b"\x89ENCEND\n"
VERSION = (1, 0)
ALIGN = 64

HEADER = struct.Struct("<8sHHIQ")       # magic, major, minor, metadata length, checksum
BLOCK_HEADER = struct.Struct("<8sIIQ")  # magic, descriptor length, reserved, checksum
TAIL = struct.Struct("<QIIQ8s")         # footer offset, length, raw length, checksum, magic

# Documented limits, enforced on write and on read (docs/format.md, "Limits").
MAX_BLOCK_ROWS = 1 << 17
MAX_METADATA = 1 << 20
MAX_DESCRIPTOR = 1 << 20
MAX_FOOTER = 256 << 20
MAX_STREAMS = 64
MAX_VALUE_BYTES = 4 << 20
STREAM_NAME = r"^[a-z][a-z0-9_.]{0,31}$"


def checksum(data) -> int:
    return xxhash.xxh3_64_intdigest(data)


def pad(offset: int) -> int:
    """Bytes of zero padding that bring ``offset`` to the next 64-byte boundary."""
    return -offset % ALIGN


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def loads(data, what: str, **where):
    try:
        return json.loads(bytes(data))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptShardError(f"{what} is not valid JSON ({exc})", **where) from None


def pack_header(metadata: dict) -> bytes:
    meta = dumps(metadata)
    if len(meta) > MAX_METADATA:
        raise CorruptShardError(f"metadata is {len(meta)} bytes, the limit is {MAX_METADATA}")
    fixed = HEADER.pack(MAGIC, *VERSION, len(meta), 0)[:16]
    head = fixed + struct.pack("<Q", checksum(fixed + meta)) + meta
    return head + bytes(pad(len(head)))


def unpack_header(data, shard) -> tuple[tuple[int, int], dict, int]:
    """Parse the file header; returns (version, metadata, offset of the first block)."""
    if len(data) < HEADER.size:
        raise CorruptShardError(f"file is {len(data)} bytes, too short for a shard header", shard=shard,
                                offset=0)
    magic, major, minor, size, digest = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise CorruptShardError(f"not a shard (magic {bytes(magic)!r})", shard=shard, offset=0)
    if major != VERSION[0]:
        raise UnsupportedVersionError(f"format version {major}.{minor}; this library reads "
                                      f"{VERSION[0]}.x", shard=shard, offset=8)
    end = HEADER.size + size
    if size > MAX_METADATA or end > len(data):
        raise CorruptShardError(f"metadata length {size} runs past the data", shard=shard, offset=12)
    meta = data[HEADER.size:end]
    if checksum(bytes(data[:16]) + bytes(meta)) != digest:
        raise CorruptShardError("metadata checksum mismatch", shard=shard, offset=HEADER.size)
    metadata = loads(meta, "metadata", shard=shard, offset=HEADER.size)
    if not isinstance(metadata, dict):
        raise CorruptShardError("metadata is not an object", shard=shard, offset=HEADER.size)
    return (major, minor), metadata, end + pad(end)


def pack_block_header(descriptor: dict) -> bytes:
    desc = dumps(descriptor)
    fixed = BLOCK_HEADER.pack(BLOCK_MAGIC, len(desc), 0, 0)[:16]
    head = fixed + struct.pack("<Q", checksum(fixed + desc)) + desc
    return head + bytes(pad(len(head)))


def unpack_block_header(data, offset: int, shard) -> tuple[dict, int]:
    """Parse the block header at ``offset``; returns (descriptor, header length without padding)."""
    if offset + BLOCK_HEADER.size > len(data):
        raise CorruptShardError("truncated block header", shard=shard, offset=offset)
    magic, size, reserved, digest = BLOCK_HEADER.unpack_from(data, offset)
    if magic != BLOCK_MAGIC or reserved != 0:
        raise CorruptShardError("no block starts here", shard=shard, offset=offset)
    start = offset + BLOCK_HEADER.size
    if size > MAX_DESCRIPTOR or start + size > len(data):
        raise CorruptShardError(f"block descriptor length {size} runs past the data", shard=shard,
                                offset=offset + 8)
    desc = data[start:start + size]
    if checksum(bytes(data[offset:offset + 16]) + bytes(desc)) != digest:
        raise CorruptShardError("block descriptor checksum mismatch", shard=shard, offset=start)
    return loads(desc, "block descriptor", shard=shard, offset=start), BLOCK_HEADER.size + size
