"""One block of one stream: columns -> compressed chunks + descriptor, and back.

A block holds up to ``MAX_BLOCK_ROWS`` rows of one stream. Each column is coded by
:mod:`encoder.codecs` into sections; each section becomes one independent zstd frame (a
*chunk*) at a 64-byte aligned offset, with its XXH3-64 checksum in the descriptor.
"""
from __future__ import annotations

import re

import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import zstandard

from ..codecs import MAX_SECTION, context_columns, decode_column, encode_column
from ..errors import CorruptShardError, EncoderError, LimitError, SchemaError
from ..streams import STREAMS, Stream
from ..streams.schema import VARIABLE
from . import crypto
from . import format as fmt


def encode_block(stream: Stream, columns: dict, seq: int, cctx: zstandard.ZstdCompressor,
                 cipher: "crypto.ShardCipher | None" = None, offset: int = 0,
                 hints: dict | None = None) -> tuple[list, dict]:
    """Code one block that will start at byte ``offset``; returns (byte strings to write, descriptor).

    Chunk offsets in the descriptor are relative to the block's first byte. With a ``cipher``
    every chunk and the descriptor are sealed (AES-256-GCM), bound to ``offset``. ``hints`` is
    the writer's per-stream memory of which codec candidates won (see ``codecs.encode_ints``).
    Raises :class:`LimitError` when a chunk or the block exceeds the format's limits.
    """
    t = columns["t"]
    rows = len(t)
    coded, total_raw, number = [], 0, 0
    for col in stream.columns:
        params, sections = encode_column(col.kind, columns[col.name], stream.name, col.name, columns, hints)
        raw_sizes = [len(memoryview(s).cast("B")) for s in sections]
        if raw_sizes and max(raw_sizes) > fmt.MAX_CHUNK_RAW:
            raise LimitError(f"a section of {max(raw_sizes)} bytes exceeds {fmt.MAX_CHUNK_RAW}",
                             stream=stream.name, column=col.name)
        if col.kind not in VARIABLE and sum(raw_sizes) > 8 * rows + fmt.MAX_CODEC_TABLES:
            raise LimitError(f"the codec made {sum(raw_sizes)} bytes of {rows} numeric values: more than a "
                             "reader accepts", stream=stream.name, column=col.name)
        total_raw += sum(raw_sizes)
        frames = [cctx.compress(s) for s in sections]
        if cipher is not None:
            frames = [cipher.seal(crypto.CHUNK, offset, f, number + i) for i, f in enumerate(frames)]
        number += len(frames)
        coded.append((params, frames, raw_sizes))
    if total_raw > fmt.MAX_BLOCK_RAW:
        raise LimitError(f"a block of {total_raw} decompressed bytes exceeds {fmt.MAX_BLOCK_RAW}: "
                         "rows this large cannot be stored", stream=stream.name)
    descriptor = {
        "stream": stream.name, "rows": rows, "seq": seq,
        "t": [int(t.min()), int(t.max())] if rows else [0, -1], "columns": [],
    }
    if STREAMS.get(stream.name) != stream:
        # a declared stream carries its schema in every block header, so that a shard whose
        # footer never got written can still be decoded (encoder repair)
        descriptor["schema"] = stream.to_json()
    extra = crypto.OVERHEAD if cipher is not None else 0
    # The header's length depends on the offsets it lists; offsets depend on the header's
    # length. Lay chunks out after a header of assumed size and grow the guess until stable.
    guess = fmt.ALIGN
    while True:
        descriptor["columns"] = []
        pos = guess
        for params, frames, raw_sizes in coded:
            entries = []
            for frame, raw in zip(frames, raw_sizes):
                entries.append([pos, len(frame), raw, fmt.checksum(frame)])
                pos += len(frame) + fmt.pad(len(frame))
            descriptor["columns"].append([params, entries])
        size = fmt.block_header_size(len(fmt.dumps(descriptor)) + extra)
        if size == guess:
            break
        guess = size
    seal = None if cipher is None else (lambda desc: cipher.seal(crypto.DESCRIPTOR, offset, desc))
    header = fmt.pack_block_header(descriptor, seal)
    assert len(header) == guess
    parts = [header]
    for _, frames, _ in coded:
        for frame in frames:
            parts += [frame, bytes(fmt.pad(len(frame)))]
    return parts, descriptor


def _is_int(value, lo=0, hi=1 << 63) -> bool:
    return type(value) is int and lo <= value <= hi


def stream_from_json(name, spec, shard, offset: int) -> Stream:
    """A stream declared in a footer or block header, checked against the format's limits."""
    def bad(message):
        return CorruptShardError(message, shard=shard, offset=offset)

    if not isinstance(name, str) or not re.fullmatch(fmt.STREAM_NAME, name):
        raise bad(f"stream name {str(name)[:40]!r} is not valid")
    if not isinstance(spec, list) or not 1 <= len(spec) <= fmt.MAX_COLUMNS:
        raise bad(f"stream {name!r}: a schema is a list of 1 to {fmt.MAX_COLUMNS} columns")
    for column in spec:
        if not (isinstance(column, list) and len(column) == 3 and isinstance(column[0], str)
                and 1 <= len(column[0]) <= fmt.MAX_COLUMN_NAME and column[2] in (0, 1)):
            raise bad(f"stream {name!r}: malformed column {str(column)[:80]}")
    try:
        return Stream.from_json(name, spec)
    except SchemaError as exc:
        raise bad(f"stream {name!r}: {exc.detail}") from None


def check_descriptor(desc, offset: int, limit: int, streams: dict, shard,
                     builtin: dict | None = None) -> tuple[Stream, int]:
    """Validate a block descriptor found at ``offset``; chunks must end before ``limit``.

    ``streams`` maps the shard's stream names to their schemas; a stream not in it is one of
    ``builtin`` (the built-in streams of the shard's format version,
    :func:`encoder.streams.builtin_streams`; default the current ones) or must carry its
    schema (a block found by scanning a shard without footer). Returns the block's stream
    and the offset where the block ends (its last chunk, padded). Nothing in a descriptor is
    trusted before this passes: every count is checked against the limits and every chunk
    against the bytes present, the other chunks and the block header.
    """
    def bad(message):
        return CorruptShardError(f"block descriptor: {message}", shard=shard, offset=offset)

    if not isinstance(desc, dict) or not isinstance(desc.get("stream"), str):
        raise bad("not an object with a stream name")
    name = desc["stream"]
    stream = streams.get(name) or (STREAMS if builtin is None else builtin).get(name)
    if stream is None:
        stream = stream_from_json(name, desc.get("schema"), shard, offset)
    if desc.get("schema") is not None and desc["schema"] != stream.to_json():
        raise bad(f"schema of stream {name!r} differs from the shard's")
    rows, t, columns, seq = desc.get("rows"), desc.get("t"), desc.get("columns"), desc.get("seq")
    if not _is_int(rows, 0, fmt.MAX_BLOCK_ROWS):
        raise bad(f"rows {rows!r} outside [0, {fmt.MAX_BLOCK_ROWS}]")
    if not _is_int(seq):
        raise bad(f"seq {seq!r} is not a block number")
    if not (isinstance(t, list) and len(t) == 2 and all(_is_int(v, -(1 << 63), (1 << 63) - 1) for v in t)):
        raise bad(f"time range {t!r} is not two int64")
    if (t[0] > t[1]) != (rows == 0) or (rows == 0 and t != [0, -1]):
        raise bad(f"time range {t!r} does not fit {rows} rows")
    if not (isinstance(columns, list) and len(columns) == len(stream.columns)):
        raise bad(f"expected {len(stream.columns)} columns for stream {name!r}")
    extents, block_raw = [], 0
    for col, column in zip(stream.columns, columns):
        if not (isinstance(column, list) and len(column) == 2 and isinstance(column[1], list)
                and isinstance(column[0], dict) and isinstance(column[0].get("c"), str)):
            raise bad("malformed column entry (expected [codec parameters, chunks])")
        column_raw = 0
        for chunk in column[1]:
            if not (isinstance(chunk, list) and len(chunk) == 4 and all(_is_int(v, 0, (1 << 64) - 1) for v in chunk)):
                raise bad(f"malformed chunk entry {str(chunk)[:80]}")
            start, size, raw, _ = chunk
            if start % fmt.ALIGN or start < fmt.BLOCK_HEADER.size or size == 0 or offset + start + size > limit:
                raise bad(f"chunk at +{start} of {size} bytes lies outside the block")
            if raw > MAX_SECTION:
                raise bad(f"chunk declares {raw} decompressed bytes, the limit is {MAX_SECTION}")
            extents.append((start, start + size))
            column_raw += raw
        # numeric codecs store at most 8 bytes per row, plus small tables (a rank table is at
        # most 510 bytes): a bound checked before anything is decompressed
        if col.kind not in VARIABLE and column_raw > 8 * rows + fmt.MAX_CODEC_TABLES:
            raise bad(f"column {col.name!r} declares {column_raw} decompressed bytes for {rows} rows")
        block_raw += column_raw
    if block_raw > fmt.MAX_BLOCK_RAW:
        raise bad(f"chunks declare {block_raw} decompressed bytes, the limit is {fmt.MAX_BLOCK_RAW}")
    extents.sort()
    for (_, end), (start, _) in zip(extents, extents[1:]):
        if start < end:
            raise bad(f"chunks at +{start} overlap")
    end = offset + (extents[-1][1] if extents else fmt.BLOCK_HEADER.size)
    return stream, end + fmt.pad(end)


class ChunkSource:
    """Verified, decompressed chunks of a shard held as a buffer (bytes, mmap, ...)."""

    def __init__(self, data, shard, cipher: "crypto.ShardCipher | None" = None):
        self.data, self.shard, self.cipher = data, shard, cipher
        self._local = threading.local()  # a zstd decompressor is not safe to share between threads

    def _dctx(self) -> zstandard.ZstdDecompressor:
        if not hasattr(self._local, "dctx"):
            self._local.dctx = zstandard.ZstdDecompressor()
        return self._local.dctx

    def sections(self, block_offset: int, chunks: list, stream: str, column: str, first: int = 0) -> list:
        """A column's chunks, verified and decompressed back to back into one buffer.

        Returns memoryviews of consecutive regions, so byte planes that follow each other can
        be used as one 2-D array without a copy (see ``codecs.columns.decode_ints``).
        """
        total = sum(c[2] for c in chunks)
        buffer = memoryview(bytearray(total))
        out, pos = [], 0
        for number, chunk in enumerate(chunks, first):
            view = buffer[pos:pos + chunk[2]]
            self.section(block_offset, chunk, stream, column, into=view, number=number)
            out.append(view)
            pos += chunk[2]
        return out

    def section(self, block_offset: int, chunk: list, stream: str, column: str, into=None, number: int = 0,
                prefix: int | None = None):
        """One chunk, verified and decompressed (into ``into``, a writable buffer, when given).

        ``number`` is the chunk's position among all chunks of its block (encrypted shards bind
        it into each chunk's authentication). ``prefix`` (with ``into``): decompress only the
        first ``prefix`` bytes; the chunk's checksum still covers all of it, the end of the
        zstd frame is not checked (a random frame needs the start of most of its pages only).
        """
        start, size, raw, digest = chunk
        offset = block_offset + start
        frame = self.data[offset:offset + size]
        where = dict(shard=self.shard, stream=stream, column=column, offset=offset)
        if len(frame) != size:
            raise CorruptShardError(f"truncated chunk: {len(frame)} of {size} bytes", **where)
        if not fmt.checksum_matches(frame, digest):
            raise CorruptShardError("chunk checksum mismatch", **where)
        if self.cipher is not None:
            frame = self.cipher.open(crypto.CHUNK, block_offset, frame, number, **where)
        try:
            declared = zstandard.frame_content_size(frame)
            if declared != raw:
                raise CorruptShardError(f"zstd frame declares {declared} bytes, descriptor {raw}", **where)
            if into is None:
                out = self._dctx().decompress(frame, max_output_size=raw)
                got = len(out)
            else:
                out, got = into, 0
                want = raw if prefix is None else min(int(prefix), raw)
                reader = self._dctx().stream_reader(frame)
                while got < want:
                    step = reader.readinto(into[got:want])
                    if not step:
                        break
                    got += step
                if got == want < raw:  # the prefix asked for
                    return out
                if reader.read(1):
                    got += 1
        except zstandard.ZstdError as exc:
            raise CorruptShardError(f"zstd: {exc}", **where) from None
        if got != raw:
            raise CorruptShardError(f"chunk decompressed to {got} bytes, expected {raw}", **where)
        return out

    def columns(self, block_offset: int, desc: dict, stream: Stream, names, out: dict | None = None) -> dict:
        """Decode the named columns of a block (and the context columns their codecs need).

        ``out`` may map numeric column names to arrays of the block's rows to decode into.
        """
        decoded: dict = {}
        for name in names:
            self._column(block_offset, desc, stream, name, decoded, out or {})
        if "t" in decoded and desc["rows"]:
            # the descriptor's time range decides which blocks a ranged read skips or keeps
            # whole: it must be the truth
            t = decoded["t"]
            if int(t.min()) != desc["t"][0] or int(t.max()) != desc["t"][1]:
                raise CorruptShardError(f"block's t spans [{int(t.min())}, {int(t.max())}], its descriptor "
                                        f"says {desc['t']}", shard=self.shard, stream=stream.name, column="t",
                                        offset=block_offset)
        return {name: decoded[name] for name in names}

    def _column(self, block_offset: int, desc: dict, stream: Stream, name: str, decoded: dict, out: dict):
        if name in decoded:
            return decoded[name]
        index = [c.name for c in stream.columns].index(name)
        col = stream.columns[index]
        params, chunks = desc["columns"][index]
        first = sum(len(c[1]) for c in desc["columns"][:index])
        where = dict(shard=self.shard, stream=stream.name, column=col.name, offset=block_offset)
        try:
            context = {}
            for other in context_columns(params):
                if other == name or other not in [c.name for c in stream.columns]:
                    raise CorruptShardError(f"context column {other!r} is not in the stream")
                if context_columns(desc["columns"][[c.name for c in stream.columns].index(other)][0]):
                    raise CorruptShardError(f"context column {other!r} has a context of its own")
                context[other] = self._column(block_offset, desc, stream, other, decoded, out)
            sections = self.sections(block_offset, chunks, stream.name, col.name, first)
            decoded[name] = _checked(col, decode_column(col.kind, params, sections, desc["rows"], context,
                                                        out.get(name)), desc["rows"])
        except EncoderError as exc:
            raise exc.located(**where) from None
        except (ValueError, TypeError, IndexError, KeyError, OverflowError, ZeroDivisionError, pa.ArrowException) as exc:
            # a codec met input it did not check for: still the caller's corrupt shard, never a
            # crash; the cause stays chained for the bug report (the fuzz targets flag these)
            raise CorruptShardError(f"undecodable column ({type(exc).__name__}: {exc})", **where) from exc
        return decoded[name]


def _checked(col, values, rows: int):
    """A decoded column, after the checks no codec makes: row count and value length limit."""
    if len(values) != rows:
        raise CorruptShardError(f"column decoded to {len(values)} rows, the block has {rows}")
    if col.kind in VARIABLE and len(values):
        data = values.buffers()[2]
        if data is not None and data.size > fmt.MAX_VALUE_BYTES:  # else no value can be longer
            longest = pc.max(pc.binary_length(values)).as_py() or 0
            if longest > fmt.MAX_VALUE_BYTES:
                raise CorruptShardError(f"a value of {longest} bytes exceeds the limit of {fmt.MAX_VALUE_BYTES}")
    return values


def concat(kind_arrays: list, arrow_type=None):
    """Concatenate decoded pieces of one column (NumPy or Arrow)."""
    if arrow_type is None:
        return kind_arrays[0] if len(kind_arrays) == 1 else np.concatenate(kind_arrays)
    if not kind_arrays:
        return pa.array([], arrow_type)
    return kind_arrays[0] if len(kind_arrays) == 1 else pa.concat_arrays(kind_arrays)
