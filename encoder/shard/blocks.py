"""One block of one stream: columns -> compressed chunks + descriptor, and back.

A block holds up to ``MAX_BLOCK_ROWS`` rows of one stream. Each column is coded by
:mod:`encoder.codecs` into sections; each section becomes one independent zstd frame (a
*chunk*) at a 64-byte aligned offset, with its XXH3-64 checksum in the descriptor.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import zstandard

from ..codecs import MAX_SECTION, decode_column, encode_column
from ..codecs.columns import context_columns
from ..errors import CorruptShardError, EncoderError
from ..streams import STREAMS, Stream
from . import format as fmt


def encode_block(stream: Stream, columns: dict, seq: int, cctx: zstandard.ZstdCompressor) -> tuple[list, dict]:
    """Code one block; returns (list of byte strings to write in order, descriptor).

    Chunk offsets in the descriptor are relative to the block's first byte.
    """
    t = columns["t"]
    rows = len(t)
    coded, chunks = [], []
    for col in stream.columns:
        params, sections = encode_column(col.kind, columns[col.name], stream.name, col.name, columns)
        frames = [cctx.compress(s) for s in sections]
        coded.append((params, frames, [len(memoryview(s).cast("B")) for s in sections]))
    descriptor = {
        "stream": stream.name, "rows": rows, "seq": seq,
        "t": [int(t.min()), int(t.max())] if rows else [0, -1], "columns": [],
    }
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
        header = fmt.pack_block_header(descriptor)
        if len(header) == guess:
            break
        guess = len(header)
    parts = [header]
    for _, frames, _ in coded:
        for frame in frames:
            parts += [frame, bytes(fmt.pad(len(frame)))]
    return parts, descriptor


def _is_int(value, lo=0, hi=1 << 63) -> bool:
    return type(value) is int and lo <= value <= hi


def check_descriptor(desc, offset: int, limit: int, streams: dict, shard) -> Stream:
    """Validate a block descriptor found at ``offset``; chunks must end before ``limit``.

    Returns the block's stream. Nothing in it is trusted before this passes.
    """
    def bad(message):
        return CorruptShardError(f"block descriptor: {message}", shard=shard, offset=offset)

    if not isinstance(desc, dict) or not isinstance(desc.get("stream"), str):
        raise bad("not an object with a stream name")
    name = desc["stream"]
    stream = streams.get(name) or STREAMS.get(name)
    if stream is None:
        stream = Stream.from_json(name, desc.get("schema"))
    if desc.get("schema") is not None and desc["schema"] != stream.to_json():
        raise bad(f"schema of stream {name!r} differs from the shard's")
    rows, t, columns = desc.get("rows"), desc.get("t"), desc.get("columns")
    if not _is_int(rows, 0, fmt.MAX_BLOCK_ROWS):
        raise bad(f"rows {rows!r} outside [0, {fmt.MAX_BLOCK_ROWS}]")
    if not (isinstance(t, list) and len(t) == 2 and all(_is_int(v, -(1 << 63), (1 << 63) - 1) for v in t)):
        raise bad(f"time range {t!r} is not two int64")
    if not (isinstance(columns, list) and len(columns) == len(stream.columns)):
        raise bad(f"expected {len(stream.columns)} columns for stream {name!r}")
    for column in columns:
        if not (isinstance(column, list) and len(column) == 2 and isinstance(column[1], list)):
            raise bad("malformed column entry")
        for chunk in column[1]:
            if not (isinstance(chunk, list) and len(chunk) == 4 and all(_is_int(v, 0, (1 << 64) - 1) for v in chunk)):
                raise bad(f"malformed chunk entry {chunk!r}")
            start, size, raw, _ = chunk
            if start % fmt.ALIGN or offset + start + size > limit:
                raise bad(f"chunk at +{start} of {size} bytes lies outside the block")
            if raw > MAX_SECTION:
                raise bad(f"chunk declares {raw} decompressed bytes, the limit is {MAX_SECTION}")
    return stream


class ChunkSource:
    """Verified, decompressed chunks of a shard held as a buffer (bytes, mmap, ...)."""

    def __init__(self, data, shard):
        self.data, self.shard = data, shard
        self.dctx = zstandard.ZstdDecompressor()

    def sections(self, block_offset: int, chunks: list, stream: str, column: str) -> list:
        """A column's chunks, verified and decompressed back to back into one buffer.

        Returns memoryviews of consecutive regions, so byte planes that follow each other can
        be used as one 2-D array without a copy (see ``codecs.columns.decode_ints``).
        """
        total = sum(c[2] for c in chunks)
        buffer = memoryview(bytearray(total))
        out, pos = [], 0
        for chunk in chunks:
            view = buffer[pos:pos + chunk[2]]
            self.section(block_offset, chunk, stream, column, into=view)
            out.append(view)
            pos += chunk[2]
        return out

    def section(self, block_offset: int, chunk: list, stream: str, column: str, into=None):
        """One chunk, verified and decompressed (into ``into``, a writable buffer, when given)."""
        start, size, raw, digest = chunk
        offset = block_offset + start
        frame = self.data[offset:offset + size]
        where = dict(shard=self.shard, stream=stream, column=column, offset=offset)
        if len(frame) != size:
            raise CorruptShardError(f"truncated chunk: {len(frame)} of {size} bytes", **where)
        if fmt.checksum(frame) != digest:
            raise CorruptShardError("chunk checksum mismatch", **where)
        try:
            declared = zstandard.frame_content_size(frame)
            if declared != raw:
                raise CorruptShardError(f"zstd frame declares {declared} bytes, descriptor {raw}", **where)
            if into is None:
                out = self.dctx.decompress(frame, max_output_size=raw)
                got = len(out)
            else:
                out, got = into, 0
                reader = self.dctx.stream_reader(frame)
                while got < raw:
                    step = reader.readinto(into[got:])
                    if not step:
                        break
                    got += step
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
        return {name: decoded[name] for name in names}

    def _column(self, block_offset: int, desc: dict, stream: Stream, name: str, decoded: dict, out: dict):
        if name in decoded:
            return decoded[name]
        index = [c.name for c in stream.columns].index(name)
        col = stream.columns[index]
        params, chunks = desc["columns"][index]
        where = dict(shard=self.shard, stream=stream.name, column=col.name, offset=block_offset)
        try:
            context = {}
            for other in context_columns(params):
                if other == name or other not in [c.name for c in stream.columns]:
                    raise CorruptShardError(f"context column {other!r} is not in the stream")
                if context_columns(desc["columns"][[c.name for c in stream.columns].index(other)][0]):
                    raise CorruptShardError(f"context column {other!r} has a context of its own")
                context[other] = self._column(block_offset, desc, stream, other, decoded, out)
            sections = self.sections(block_offset, chunks, stream.name, col.name)
            decoded[name] = decode_column(col.kind, params, sections, desc["rows"], context, out.get(name))
        except EncoderError as exc:
            raise exc.located(**where) from None
        return decoded[name]


def concat(kind_arrays: list, arrow_type=None):
    """Concatenate decoded pieces of one column (NumPy or Arrow)."""
    if arrow_type is None:
        return kind_arrays[0] if len(kind_arrays) == 1 else np.concatenate(kind_arrays)
    if not kind_arrays:
        return pa.array([], arrow_type)
    return kind_arrays[0] if len(kind_arrays) == 1 else pa.concat_arrays(kind_arrays)
