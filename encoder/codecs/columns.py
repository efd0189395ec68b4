"""Column codecs: one column of one block <-> (params, sections).

A column is coded into a small JSON-able ``params`` dict (kept in the block descriptor)
and a list of *sections*, byte strings that the shard container compresses one zstd frame
each. Integer columns (and booleans) become byte planes of a delta- or frame-of-reference
transform, whichever compresses a sample better; strings are dictionary-coded, binary
columns are lengths plus bytes. ``decode_column`` trusts nothing in ``params`` or the
sections and raises :class:`CorruptShardError` on anything inconsistent.
"""
from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import zstandard

from ..backends import codec_kernels
from ..errors import CorruptShardError
from . import reference
from .reference import DELTA, FOR

kernels = codec_kernels()

#: Largest section a writer produces / a reader accepts, in decompressed bytes.
MAX_SECTION = 2 << 20
#: Below this many plane bytes, all planes of a column share one section (fewer frames).
GROUP_BYTES = 16 << 10
#: Rows of the sample on which the delta and frame-of-reference transforms compete.
SAMPLE_ROWS = 4096
_local = threading.local()   # a zstd compressor is not safe to share between threads


def _trial() -> zstandard.ZstdCompressor:
    """This thread's compressor for the candidates' trial (writers on several threads at once:
    the zarr codec encodes chunks in parallel)."""
    cctx = getattr(_local, "cctx", None)
    if cctx is None:
        cctx = _local.cctx = zstandard.ZstdCompressor(level=1)
    return cctx


def _width(u: np.ndarray) -> int:
    return max(1, (int(u.max()).bit_length() + 7) // 8) if u.size else 1


def _transform(values: np.ndarray, mode: int, rank: bool) -> tuple[dict, list]:
    """Params and sections of one candidate coding: [rank table] + byte planes (not grouped)."""
    base, step = kernels.scan(values, mode)
    u = kernels.transform(values, mode, base, step)
    params: dict = {"c": "planes", "m": mode, "b": base, "s": step}
    head = []
    if rank:
        table = kernels.rank_table(u)
        if table.size:
            u = kernels.apply_rank(u, table)
            params["r"] = int(table.size)
            head = [table.astype("<u2")]
    params["w"] = _width(u)
    return params, head + [kernels.split_planes(u, params["w"])]


#: The candidates: (mode, rank). Ranking pays on skewed values (a clock's tick), not on motion.
CANDIDATES = ((DELTA, False), (FOR, False), (DELTA, True))


#: Blocks that reuse a column's winning candidate before the candidates compete again.
REUSE_BLOCKS = 7


def encode_ints(values: np.ndarray, hint: list | None = None) -> tuple[dict, list]:
    """Code an integer (or bool, as uint8) column; see the module docstring.

    ``hint`` is a ``[candidate, blocks left]`` list that a writer keeps per column between
    blocks: while blocks are left the last winner is reused without a trial (the statistics of
    a column change slowly; the trial costs about a third of the encode time).
    """
    if values.dtype.kind == "b":
        values = values.view(np.uint8)
    n = values.size
    if n == 0:
        return {"c": "const", "v": 0}, []
    if n == 1 or values.min() == values.max():
        return {"c": "const", "v": int(values[0])}, []
    if hint is not None and hint[1] > 0:
        choice = hint[0]
        hint[1] -= 1
    else:  # the candidates compete on a sample; the smallest after zstd wins
        sample = values[:SAMPLE_ROWS]
        trial = _trial()
        costs = [sum(len(trial.compress(part)) for part in _transform(sample, *c)[1]) for c in CANDIDATES]
        choice = int(np.argmin(costs))
        if hint is not None:
            hint[:] = [choice, REUSE_BLOCKS]
    params, sections = _transform(values, *CANDIDATES[choice])
    planes = sections.pop()
    if planes.size <= GROUP_BYTES:
        params["g"] = 1
        return params, sections + [planes.reshape(-1)]
    return params, sections + list(planes)


def _as_planes(raw: list, n: int) -> np.ndarray:
    """Planes as one (width, n) array: a view when they lie back to back in memory, else a copy."""
    first = raw[0]
    if all(r.ctypes.data == first.ctypes.data + j * n for j, r in enumerate(raw)):
        return np.lib.stride_tricks.as_strided(first, shape=(len(raw), n), strides=(n, 1), writeable=False)
    return np.stack(raw)


def _bad(message: str) -> CorruptShardError:
    return CorruptShardError(message)


def int_param(params: dict, key: str, lo: int, hi: int) -> int:
    value = params.get(key)
    if type(value) is not int or not lo <= value <= hi:
        raise _bad(f"codec parameter {key!r} is {value!r}, expected an integer in [{lo}, {hi}]")
    return value


def int_sections(params: dict) -> int:
    """How many sections an integer column with these params occupies."""
    if not isinstance(params, dict):
        raise _bad(f"codec parameters are {type(params).__name__}, not an object")
    codec = params.get("c")
    if codec == "const":
        return 0
    if codec == "planes":
        head = 1 if "r" in params else 0
        return head + (1 if params.get("g") == 1 else int_param(params, "w", 1, 8))
    raise _bad(f"unknown integer codec {codec!r}")


def decode_ints(params: dict, sections: list, n: int, dtype, out=None) -> np.ndarray:
    """Decode an integer column; into ``out`` (n values of ``dtype``) when given."""
    dtype = np.dtype(dtype)
    target = np.dtype(np.uint8) if dtype.kind == "b" else dtype
    if out is not None:
        out = out.view(target)
    codec = params.get("c")
    if codec == "const":
        value = int_param(params, "v", -(1 << 63), (1 << 64) - 1)
        out = np.empty(n, target) if out is None else out
        out.fill(np.array(value).astype(np.uint64 if value >= 0 else np.int64).astype(target))
        return out.view(dtype)
    mode = int_param(params, "m", DELTA, FOR)
    base = int_param(params, "b", -(1 << 63), (1 << 64) - 1)
    step = int_param(params, "s", 1, (1 << 64) - 1)
    width = int_param(params, "w", 1, 8)
    table = None
    if "r" in params:
        k = int_param(params, "r", 1, reference.RANK_MAX)
        if not sections or len(sections[0]) != 2 * k:
            raise _bad(f"rank table holds {len(sections[0]) if sections else 0} bytes, expected {2 * k}")
        table = np.frombuffer(sections[0], "<u2")
        sections = sections[1:]
    raw = [np.frombuffer(s, np.uint8) for s in sections]
    if params.get("g") == 1:
        if len(raw) != 1 or raw[0].size != n * width:
            raise _bad(f"grouped planes hold {sum(r.size for r in raw)} bytes, expected {n * width}")
        planes = raw[0].reshape(width, n)
    else:
        if len(raw) != width or any(r.size != n for r in raw):
            raise _bad(f"expected {width} planes of {n} bytes, got {[r.size for r in raw]}")
        planes = _as_planes(raw, n)
    return kernels.decode_planes(planes, mode, base, step, target, out=out, table=table).view(dtype)


def _offsets_and_data(arr: pa.Array) -> tuple[np.ndarray, memoryview]:
    """Value lengths and concatenated bytes of a string/binary array (nulls have length 0).

    The bytes are a view of the array's buffer: a tile page (1 MiB) is not copied on its way
    to zstd."""
    if arr.type in (pa.binary(), pa.string()):
        width = np.int32
    else:
        arr, width = arr.cast(pa.large_binary()), np.int64
    offsets = np.frombuffer(arr.buffers()[1], width)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    data = arr.buffers()[2]
    payload = memoryview(b"") if data is None else memoryview(data)[offsets[0]:offsets[-1]]
    return np.diff(offsets), payload


def encode_values(arr: pa.Array, params: dict) -> list:
    """Code the values of a string/binary array as lengths (``len``) and ``nb`` byte sections."""
    lengths, payload = _offsets_and_data(arr)
    params["len"], sections = encode_ints(lengths.astype(np.uint32))
    parts = [payload[i:i + MAX_SECTION] for i in range(0, len(payload), MAX_SECTION)]
    params["nb"] = len(parts)
    return sections + parts


class Sections:
    """Reads a column's sections in order; every count is checked against what is there."""

    def __init__(self, sections: list):
        self.sections, self.pos = sections, 0

    def take(self, count: int) -> list:
        if self.pos + count > len(self.sections):
            raise _bad(f"column needs more than its {len(self.sections)} sections")
        self.pos += count
        return self.sections[self.pos - count:self.pos]

    def ints(self, params, n: int, dtype) -> np.ndarray:
        return decode_ints(params, self.take(int_sections(params)), n, dtype)

    def values(self, params: dict, n_values: int, kind: str) -> pa.Array:
        """The inverse of :func:`encode_values`: a large_string/large_binary array."""
        lengths = self.ints(params.get("len"), n_values, np.uint32)
        payload = b"".join(bytes(p) for p in self.take(int_param(params, "nb", 0, 1 << 20)))
        offsets = np.zeros(n_values + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if offsets[-1] != len(payload):
            raise _bad(f"value lengths add up to {int(offsets[-1])} bytes, the column holds {len(payload)}")
        values = pa.Array.from_buffers(pa.large_binary(), n_values, [None, pa.py_buffer(offsets),
                                                                      pa.py_buffer(payload)])
        if kind == "string":
            try:
                return values.cast(pa.large_string())  # validates UTF-8
            except pa.ArrowInvalid as exc:
                raise _bad(f"dictionary holds invalid UTF-8: {exc}") from None
        return values

    def done(self) -> None:
        if self.pos != len(self.sections):
            raise _bad(f"column has {len(self.sections)} sections, its codec uses {self.pos}")


def dictionary_array(v: np.ndarray, dictionary: pa.Array) -> pa.Array:
    """Rows from dictionary positions ``v`` (0 = null, k = entry k-1) as a plain string array."""
    if v.size and (v.min() < 0 or v.max() > len(dictionary)):
        raise _bad(f"dictionary index {int(v.max()) - 1} out of range ({len(dictionary)} entries)")
    indices = pa.array((v - 1).clip(0).astype(np.int32), mask=(v == 0))
    return pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode().cast(pa.string())


def encode_varlen(arr: pa.Array, kind: str) -> tuple[dict, list]:
    """Code a string column as a dictionary, a binary column as lengths plus bytes."""
    params: dict = {"c": "dict" if kind == "string" else "bytes"}
    sections: list = []
    if arr.null_count:
        params["null"], s = encode_ints(np.asarray(arr.is_valid()))
        sections += s
    if kind == "string":
        encoded = arr.dictionary_encode()
        params["idx"], s = encode_ints(np.asarray(encoded.indices.fill_null(0)).astype(np.uint32))
        params["n"] = len(encoded.dictionary)
        sections += s
        arr = encoded.dictionary
    elif arr.null_count:
        arr = arr.fill_null(b"")
    return params, sections + encode_values(arr, params)


def decode_varlen(params: dict, sections: list, n: int, kind: str) -> pa.Array:
    codec = params.get("c")
    if codec != ("dict" if kind == "string" else "bytes"):
        raise _bad(f"codec {codec!r} cannot hold a {kind} column")
    cursor = Sections(sections)
    valid = cursor.ints(params["null"], n, np.bool_) if "null" in params else np.ones(n, bool)
    if kind == "string":
        n_values = int_param(params, "n", 0, n)
        idx = cursor.ints(params.get("idx"), n, np.uint32)
        dictionary = cursor.values(params, n_values, kind)
        cursor.done()
        return dictionary_array(np.where(valid, idx.astype(np.int64) + 1, 0), dictionary)
    values = cursor.values(params, n, kind)
    cursor.done()
    if not valid.all():
        values = pa.Array.from_buffers(pa.large_binary(), n, [pa.array(valid).buffers()[1],
                                                               *values.buffers()[1:]])
    return values.cast(pa.binary())
