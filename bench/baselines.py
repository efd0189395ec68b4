"""The formats a user would pick instead of ours, each as ``encode(streams) -> bytes`` and
``decode(bytes) -> {stream: pyarrow.Table}`` over the same streams.

``streams`` is ``{stream name: pyarrow.Table}`` in the schemas of
:mod:`encoder.streams.schema`. Every baseline codes each stream (Parquet, Arrow IPC) or
each column (blosc2) on its own and the pieces are framed by one small shared container
(a JSON index and the blobs back to back, :func:`pack` / :func:`unpack`), whose few
hundred bytes are counted in the sizes like everything else.

=================  =====================================================================
name               what it is
=================  =====================================================================
``parquet-zstd``   ``pyarrow.parquet`` defaults (dictionary encoding, v2.6, data page v1)
                   plus ``compression="zstd"`` (level 1, zstd's default in Arrow).
``parquet-tuned``  no dictionary for numeric columns, ``DELTA_BINARY_PACKED`` for every
                   integer column, booleans ``PLAIN`` (bit-packed), zstd. String
                   columns keep Parquet's native dictionary encoding.
``arrow-ipc-zstd`` Arrow IPC stream format, buffers compressed with zstd.
``blosc2``         per column: shuffle + bytedelta filters and the zstd codec at clevel
                   5 (blosc2's default level; see :data:`BLOSC2_CLEVEL`), typesize = the
                   column's item size, booleans as uint8. String columns have no blosc2
                   encoding: they are stored as Arrow IPC (zstd) of that column alone.
=================  =====================================================================

All of them are lossless on these streams; the benchmarks check that each round trip gives
back the input before timing it. Thread counts are the caller's business (the benchmarks
pin Arrow and blosc2 to one thread).
"""
from __future__ import annotations

import io
import json
import struct
from typing import Callable, Mapping

import blosc2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: blosc2 compression level: 5, blosc2's default. Measured on both recordings (one thread):
#: clevel 1 gives the same bytes (+-2 %) at ~7x the encode speed, clevel 9 saves 3-5 % of the
#: bytes at ~12x less encode speed (0.3 M events/s); see docs/benchmarks.md.
BLOSC2_CLEVEL = 5

_LEN = struct.Struct("<I")


# -- the shared container ---------------------------------------------------------------
def pack(index, blobs: list) -> bytes:
    """``index`` (JSON-able, lists the blobs in order) + blobs -> one byte string.

    Layout: index length (u32), blob count (u32), index JSON, blob sizes (u64 each), blobs.
    """
    head = json.dumps(index, separators=(",", ":")).encode()
    sizes = [len(memoryview(b).cast("B")) for b in blobs]
    return b"".join([_LEN.pack(len(head)), _LEN.pack(len(sizes)), head,
                     struct.pack(f"<{len(sizes)}Q", *sizes), *blobs])


def unpack(data) -> tuple[object, list]:
    """The inverse of :func:`pack`: (index, list of memoryviews of the blobs)."""
    view = memoryview(data).cast("B")
    head_len, = _LEN.unpack_from(view, 0)
    count, = _LEN.unpack_from(view, 4)
    pos = 8
    index = json.loads(bytes(view[pos:pos + head_len]))
    pos += head_len
    sizes = struct.unpack_from(f"<{count}Q", view, pos)
    pos += 8 * count
    blobs = []
    for size in sizes:
        blobs.append(view[pos:pos + size])
        pos += size
    return index, blobs


# -- Parquet ----------------------------------------------------------------------------
def _parquet_encoder(**options) -> Callable:
    def encode(streams: Mapping[str, pa.Table]) -> bytes:
        blobs = []
        for table in streams.values():
            sink = io.BytesIO()
            pq.write_table(table, sink, compression="zstd", **_per_table(options, table))
            blobs.append(sink.getbuffer())
        return pack(list(streams), blobs)
    return encode


def _per_table(options: dict, table: pa.Table) -> dict:
    """Resolve column-dependent options (the tuned variant names columns by type)."""
    if not options.get("tuned"):
        return {}
    ints = [f.name for f in table.schema if pa.types.is_integer(f.type)]
    strings = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return {"use_dictionary": strings or False,
            "column_encoding": {name: "DELTA_BINARY_PACKED" for name in ints}}


def parquet_decode(data) -> dict[str, pa.Table]:
    names, blobs = unpack(data)
    return {name: pq.read_table(pa.BufferReader(blob), use_threads=False) for name, blob in zip(names, blobs)}


# -- Arrow IPC --------------------------------------------------------------------------
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd", use_threads=False)


def _ipc_bytes(table: pa.Table):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _ipc_table(blob) -> pa.Table:
    options = pa.ipc.IpcReadOptions(use_threads=False)
    return pa.ipc.open_stream(pa.BufferReader(blob), options=options).read_all()


def ipc_encode(streams: Mapping[str, pa.Table]) -> bytes:
    return pack(list(streams), [_ipc_bytes(t) for t in streams.values()])


def ipc_decode(data) -> dict[str, pa.Table]:
    names, blobs = unpack(data)
    return {name: _ipc_table(blob) for name, blob in zip(names, blobs)}


# -- blosc2 -----------------------------------------------------------------------------
def _blosc2_params(itemsize: int) -> blosc2.CParams:
    return blosc2.CParams(codec=blosc2.Codec.ZSTD, clevel=BLOSC2_CLEVEL, typesize=itemsize, nthreads=1,
                          filters=[blosc2.Filter.SHUFFLE, blosc2.Filter.BYTEDELTA], filters_meta=[0, 0])


def _is_string(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_binary(type_)


def blosc2_encode(streams: Mapping[str, pa.Table]) -> bytes:
    index, blobs = [], []
    for name, table in streams.items():
        for field, column in zip(table.schema, table.columns):
            if _is_string(field.type):  # no blosc2 encoding for strings: Arrow IPC (zstd)
                blobs.append(_ipc_bytes(pa.table({field.name: column})))
                index.append([name, field.name, "ipc"])
                continue
            values = column.to_numpy()  # booleans become a NumPy bool (uint8) copy
            blobs.append(blosc2.compress2(values, cparams=_blosc2_params(values.itemsize)))
            index.append([name, field.name, values.dtype.str])
    return pack(index, blobs)


def blosc2_decode(data) -> dict[str, pa.Table]:
    index, blobs = unpack(data)
    columns: dict[str, dict] = {}
    dparams = blosc2.DParams(nthreads=1)
    for (stream, column, kind), blob in zip(index, blobs):
        if kind == "ipc":
            values = _ipc_table(blob).column(0)
        else:
            values = pa.array(np.frombuffer(blosc2.decompress2(blob, dparams=dparams), np.dtype(kind)))
        columns.setdefault(stream, {})[column] = values
    return {name: pa.table(cols) for name, cols in columns.items()}


#: name -> (encode, decode)
BASELINES: dict[str, tuple[Callable, Callable]] = {
    "parquet-zstd": (_parquet_encoder(), parquet_decode),
    "parquet-tuned": (_parquet_encoder(tuned=True), parquet_decode),
    "arrow-ipc-zstd": (ipc_encode, ipc_decode),
    "blosc2": (blosc2_encode, blosc2_decode),
}
