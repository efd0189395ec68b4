"""Byte layout of a shard, version 1 (docs/format.md is the prose version of this file).

    header   magic(8) major(u16) minor(u16) meta_len(u32) xxh3(u64) metadata-JSON, pad to 64
    block*   BLOCK_MAGIC(8) desc_len(u32) 0(u32) xxh3(u64) descriptor-JSON, pad to 64,
             then its chunks: one zstd frame each, every one starting on a 64-byte boundary
    footer   one zstd frame holding the footer JSON (stream schemas, every block's descriptor)
    tail     footer_offset(u64) footer_len(u32) footer_raw_len(u32) footer_xxh3(u64) END_MAGIC(8)

All integers little-endian. Header and block checksums cover their first 16 bytes and their
JSON; chunk checksums are XXH3-64 of the stored (compressed) bytes, so a reader verifies a chunk
before handing it to any decompressor, CPU or GPU.

Version 1.1 adds one optional feature, encryption (:mod:`encoder.shard.crypto`): the header JSON
then holds only ``{"format": {"required": ["encryption"], "encryption": {...}}}`` and every
JSON document and chunk is sealed with AES-256-GCM. Version 1.2 changes the built-in streams
(``command`` gained columns, ``element`` is new): block descriptors omit the schema of
built-in streams, so the version says which built-in schemas a shard's blocks assume
(:func:`encoder.streams.builtin_streams`). Every shard, plain or encrypted, is written as 1.2.
"""
from __future__ import annotations

import os

import json
import struct

import xxhash

from ..errors import CorruptShardError, LimitError, UnsupportedVersionError

MAGIC = b"\x89ENCSHD\n"
BLOCK_MAGIC = b"\x89ENCBLK\n"
END_MAGIC = b"\x89ENCEND\n"
VERSION = (1, 3)            # what a plain shard is written as (1.3: frames may have panes; streams of 1.2)
ENCRYPTED_VERSION = (1, 3)  # an encrypted one too (encryption is a 1.1 feature)
ALIGN = 64
#: Optional features a 1.1+ header may list in ``format.required``; a reader refuses any other.
FEATURES = frozenset({"encryption"})

HEADER = struct.Struct("<8sHHIQ")       # magic, major, minor, metadata length, checksum
BLOCK_HEADER = struct.Struct("<8sIIQ")  # magic, descriptor length, reserved, checksum
TAIL = struct.Struct("<QIIQ8s")         # footer offset, length, raw length, checksum, magic

# Documented limits, enforced on write and on read (docs/format.md, "Limits").
MAX_BLOCK_ROWS = 1 << 17
MAX_CHUNK_RAW = 2 << 20       # decompressed bytes of one chunk (= codecs.MAX_SECTION; 1 MiB before 1.3)
MAX_BLOCK_RAW = 256 << 20     # decompressed bytes of all chunks of one block
MAX_CODEC_TABLES = 64 << 10   # a numeric column holds at most 8 bytes per row plus this
MAX_METADATA = 1 << 20
MAX_DESCRIPTOR = 1 << 20
MAX_FOOTER = 256 << 20
MAX_STREAMS = 64
MAX_COLUMNS = 64              # per stream, t included
MAX_COLUMN_NAME = 64          # characters
MAX_VALUE_BYTES = 4 << 20
STREAM_NAME = r"^[a-z][a-z0-9_.]{0,31}$"
#: Bytes a writer buffers for one stream before it cuts a block, whatever block_rows says.
BLOCK_BYTES = 8 * MAX_VALUE_BYTES


def checksum(data) -> int:
    return xxhash.xxh3_64_intdigest(data)


def checksum_matches(data, digest: int) -> bool:
    """Whether ``data`` has the XXH3-64 ``digest``: the one place every reader check goes through.

    (The fuzz harness, tests/fuzz/, swaps this out in its own process so that mutated inputs
    reach the parsers behind the checksums; nothing in the library ever does.)
    """
    return xxhash.xxh3_64_intdigest(data) == digest


def footer_limit(footer_offset: int) -> int:
    """Largest footer JSON a shard whose footer starts at ``footer_offset`` may declare.

    The footer repeats the blocks' descriptors (each smaller than its block header) plus a few
    bytes per block, and every block takes at least 64 bytes of the file; so a genuine footer
    is below twice the bytes before it plus the stream schemas. Checking that bounds what a
    reader decompresses and parses by the size of the file, not by the tail's say-so.
    """
    return min(MAX_FOOTER, 2 * footer_offset + (1 << 20))


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


def wall_clock_offset(metadata: dict) -> int | None:
    """``unix_us - t`` for the rows of a shard, from its metadata's clock anchor (``clock``:
    ``t0_us`` read together with ``unix_us_at_t0``); None without a usable anchor (metadata is
    untrusted JSON).

    >>> wall_clock_offset({"clock": {"t0_us": 5, "unix_us_at_t0": 1_000_005}})
    1000000
    >>> wall_clock_offset({"clock": {"t0_us": "5"}}) is None
    True
    """
    clock = metadata.get("clock") if isinstance(metadata, dict) else None
    if not isinstance(clock, dict):
        return None
    t0, unix0 = clock.get("t0_us"), clock.get("unix_us_at_t0")
    return unix0 - t0 if type(t0) is int and type(unix0) is int else None


def pack_header(metadata: dict, version: tuple[int, int] = VERSION) -> bytes:
    meta = dumps(metadata)
    if len(meta) > MAX_METADATA:
        raise LimitError(f"metadata is {len(meta)} bytes of JSON, the limit is {MAX_METADATA}")
    fixed = HEADER.pack(MAGIC, *version, len(meta), 0)[:16]
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
    if not checksum_matches(bytes(data[:16]) + bytes(meta), digest):
        raise CorruptShardError("metadata checksum mismatch", shard=shard, offset=HEADER.size)
    metadata = loads(meta, "metadata", shard=shard, offset=HEADER.size)
    if not isinstance(metadata, dict):
        raise CorruptShardError("metadata is not an object", shard=shard, offset=HEADER.size)
    return (major, minor), metadata, end + pad(end)


def required_features(version: tuple[int, int], header: dict, shard) -> dict:
    """The ``format`` object of a 1.1+ header (``{}`` for 1.0), its features checked.

    From 1.1 on, a header may list in ``format.required`` the optional features a reader must
    implement to read the shard at all; a reader refuses a shard that needs one it lacks, so
    no reader ever misreads a shard it does not understand.
    """
    if version[1] < 1:
        return {}
    spec = header.get("format", {})
    required = spec.get("required", []) if isinstance(spec, dict) else None
    if not isinstance(required, list) or not all(isinstance(f, str) for f in required):
        raise CorruptShardError("header: malformed format.required", shard=shard, offset=HEADER.size)
    unknown = sorted(set(required) - FEATURES)
    if unknown:
        raise UnsupportedVersionError(f"the shard needs format features {unknown} that this library "
                                      f"lacks (it knows {sorted(FEATURES)})", shard=shard, offset=HEADER.size)
    return spec


def pack_footer(footer: dict, offset: int, compress, seal=None) -> bytes:
    """Footer frame and tail of a shard whose footer starts at ``offset``.

    ``compress(bytes) -> bytes`` makes the zstd frame; ``seal(bytes) -> bytes`` encrypts it.
    """
    text = dumps(footer)
    if len(text) > footer_limit(offset):
        raise LimitError(f"footer of {len(text)} bytes exceeds {footer_limit(offset)}: rotate shards sooner")
    frame = compress(text)
    if seal is not None:
        frame = seal(frame)
    return frame + TAIL.pack(offset, len(frame), len(text), checksum(frame), END_MAGIC)


def block_header_size(desc_len: int) -> int:
    """Bytes of a block header, padding included, whose descriptor record is ``desc_len`` bytes."""
    head = BLOCK_HEADER.size + desc_len
    return head + pad(head)


def pack_block_header(descriptor: dict, seal=None) -> bytes:
    """The block header of ``descriptor``; ``seal(bytes) -> bytes`` encrypts its JSON."""
    desc = dumps(descriptor)
    if seal is not None:
        desc = seal(desc)
    if len(desc) > MAX_DESCRIPTOR:
        raise LimitError(f"block descriptor of {len(desc)} bytes exceeds {MAX_DESCRIPTOR}",
                         stream=descriptor.get("stream"))
    fixed = BLOCK_HEADER.pack(BLOCK_MAGIC, len(desc), 0, 0)[:16]
    head = fixed + struct.pack("<Q", checksum(fixed + desc)) + desc
    return head + bytes(pad(len(head)))


def unpack_block_header(data, offset: int, shard, unseal=None) -> tuple[dict, int]:
    """Parse the block header at ``offset``; returns (descriptor, header length without padding).

    ``unseal(bytes) -> bytes`` decrypts the descriptor record of an encrypted shard.
    """
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
    if not checksum_matches(bytes(data[offset:offset + 16]) + bytes(desc), digest):
        raise CorruptShardError("block descriptor checksum mismatch", shard=shard, offset=start)
    if unseal is not None:
        desc = unseal(bytes(desc))
    descriptor = loads(desc, "block descriptor", shard=shard, offset=start)
    if not isinstance(descriptor, dict):
        raise CorruptShardError("block descriptor is not an object", shard=shard, offset=start)
    return descriptor, BLOCK_HEADER.size + size


def sync_folder(path) -> None:
    """fsync the folder holding ``path``, so that a new or renamed file survives a power cut
    (skipped on file systems that cannot sync a folder)."""
    try:
        folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass
