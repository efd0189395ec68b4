"""Stream declarations: the columns of every stream, their Arrow types, and input validation.

A stream is a table of rows in time order (``t`` is int64 microseconds on the session's
monotonic clock, and is *not* assumed monotonic: equal, decreasing and huge jumps occur in
real recordings). Validation turns whatever the caller passed (a ``pyarrow.Table``, a dict
of NumPy arrays or sequences) into a dict of NumPy arrays (numeric columns) and
``pyarrow`` arrays (string and binary columns), or raises :class:`SchemaError` naming the
stream and the column.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pyarrow as pa

from ..errors import SchemaError

#: Column kinds and their NumPy / Arrow types. ``string`` is dictionary-coded on disk,
#: ``binary`` is stored as lengths plus bytes.
KINDS = {
    "int64": (np.dtype("<i8"), pa.int64()),
    "int32": (np.dtype("<i4"), pa.int32()),
    "uint8": (np.dtype("u1"), pa.uint8()),
    "uint16": (np.dtype("<u2"), pa.uint16()),
    "uint32": (np.dtype("<u4"), pa.uint32()),
    "bool": (np.dtype("?"), pa.bool_()),
    "string": (None, pa.string()),
    "binary": (None, pa.binary()),
}
VARIABLE = ("string", "binary")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    #: Only string/binary columns may hold nulls; a nullable column may also be left out
    #: on write, and is then stored as all-null.
    nullable: bool = False
    #: Write side only: the value of every row when a numeric column is left out on write
    #: (``-1`` for "unknown" in the ``command`` stream's numbers), so that callers written
    #: before the column existed keep working. Not stored in shards, not part of equality.
    default: int | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SchemaError(f"unknown column kind {self.kind!r}", column=self.name)
        if self.nullable and self.kind not in VARIABLE:
            raise SchemaError("only string and binary columns may be nullable", column=self.name)
        if self.default is not None and (self.kind in VARIABLE or type(self.default) is not int):
            raise SchemaError("only numeric columns take a default, an integer", column=self.name)

    @property
    def arrow_type(self) -> pa.DataType:
        return KINDS[self.kind][1]


@dataclass(frozen=True)
class Stream:
    name: str
    columns: tuple[Column, ...]

    def __post_init__(self):
        if not self.columns or self.columns[0] != Column("t", "int64"):
            raise SchemaError("the first column of every stream must be t: int64", stream=self.name)
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise SchemaError("duplicate column names", stream=self.name)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"no column {name!r}; it has {[c.name for c in self.columns]}",
                          stream=self.name, column=name)

    def to_json(self) -> list:
        return [[c.name, c.kind, int(c.nullable)] for c in self.columns]

    @classmethod
    def from_json(cls, name: str, spec) -> "Stream":
        try:
            return cls(name, tuple(Column(str(n), str(k), bool(nl)) for n, k, nl in spec))
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"malformed stream schema: {exc}", stream=name) from None


def _stream(name: str, *cols: str) -> Stream:
    """Declare a stream from ``"name:kind"`` strings; a trailing ``?`` marks a nullable column,
    a trailing ``=N`` a numeric column's write-side default (``"exit_code:int32=-1"``)."""
    columns = [Column("t", "int64")]
    for spec in cols:
        spec, _, default = spec.partition("=")
        col, kind = spec.split(":")
        columns.append(Column(col, kind.rstrip("?"), nullable=kind.endswith("?"),
                              default=int(default) if default else None))
    return Stream(name, tuple(columns))


_UNCHANGED = (
    _stream("pointer", "x:int32", "y:int32"),
    _stream("button", "button:uint8", "pressed:bool", "x:int32", "y:int32"),
    _stream("scroll", "dx:int32", "dy:int32", "precise:bool", "x:int32", "y:int32"),
    _stream("key", "code:uint32", "pressed:bool", "modifiers:uint16", "text:string?"),
    _stream("focus", "app:string", "title:string?", "window:int64",
            "x:int32", "y:int32", "width:int32", "height:int32"),
    _stream("marker", "kind:string", "text:string?", "value:int64"),
    _stream("frame", "screen:uint8", "width:int32", "height:int32", "format:uint8", "tile:uint16",
            "grid:binary"),
)

#: The built-in streams of format 1.0 and 1.1: what a shard of those versions assumes for
#: blocks whose descriptor names a built-in stream without its schema (a scan or a repair of
#: a shard without its footer relies on it). Never changes.
BUILTIN_1_0: dict[str, Stream] = {s.name: s for s in _UNCHANGED + (
    _stream("command", "kind:string", "text:string?"),
)}

#: The streams every session may hold (see docs/format.md), as format 1.2 defines them:
#: ``command`` gained ``cwd``, ``exit_code``, ``duration_us``, ``pid`` and ``terminal``
#: (numbers ``-1`` when unknown, the default when a writer leaves them out), and ``element``
#: (UI elements from the accessibility bus) is new. ``frame`` rows reference the shard's
#: tile store; the container carries them like any other stream.
STREAMS: dict[str, Stream] = {s.name: s for s in _UNCHANGED + (
    _stream("command", "kind:string", "text:string?", "cwd:string?", "exit_code:int32=-1",
            "duration_us:int64=-1", "pid:int32=-1", "terminal:string?"),
    _stream("element", "event:string", "role:string", "name:string?", "path:string?", "app:string?",
            "x:int32", "y:int32", "width:int32", "height:int32"),
)}

#: Built-in streams by the format version that introduced them (minor versions in between
#: use the latest set at or below them: 1.1 shards assume 1.0's).
STREAMS_BY_VERSION: dict[tuple[int, int], dict[str, Stream]] = {(1, 0): BUILTIN_1_0, (1, 2): STREAMS}


def builtin_streams(version: tuple[int, int]) -> dict[str, Stream]:
    """The built-in streams a shard of format ``version`` assumes (a newer minor: the latest).

    >>> len(builtin_streams((1, 0))["command"].columns), len(builtin_streams((1, 1))["command"].columns)
    (3, 3)
    >>> builtin_streams((1, 2)) is STREAMS, builtin_streams((1, 9)) is STREAMS
    (True, True)
    """
    known = [v for v in STREAMS_BY_VERSION if v <= tuple(version)]
    return STREAMS_BY_VERSION[max(known)] if known else BUILTIN_1_0


def _as_numpy(stream: str, col: Column, values) -> np.ndarray:
    dtype = KINDS[col.kind][0]
    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        if values.null_count:
            raise SchemaError("nulls are not allowed in this column", stream=stream, column=col.name)
        values = values.to_numpy(zero_copy_only=False)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise SchemaError(f"expected a 1-D array, got shape {arr.shape}", stream=stream, column=col.name)
    if arr.dtype == dtype:
        return np.ascontiguousarray(arr)
    if arr.size == 0 and arr.dtype.kind in "fiub":  # [] arrives as float64
        return np.empty(0, dtype)
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise SchemaError(f"NaN in a {col.kind} column", stream=stream, column=col.name)
        raise SchemaError(f"dtype {arr.dtype} is not {col.kind}: convert explicitly (timestamps are "
                          "int64 microseconds)", stream=stream, column=col.name)
    if arr.dtype.kind == "b" or dtype.kind == "b":
        if arr.dtype.kind == "b" and dtype.kind == "b":
            return arr.astype(dtype)
        if dtype.kind == "b" and arr.dtype.kind in "iu" and (arr.size == 0 or
                                                               (arr.min() >= 0 and arr.max() <= 1)):
            return arr.astype(dtype)
        raise SchemaError(f"dtype {arr.dtype} is not {col.kind}", stream=stream, column=col.name)
    if arr.dtype.kind in "iu" and dtype.kind in "iu":
        if arr.size and not np.can_cast(arr.dtype, dtype, "safe"):
            info = np.iinfo(dtype)
            lo, hi = int(arr.min()), int(arr.max())
            if lo < info.min or hi > info.max:
                raise SchemaError(f"values [{lo}, {hi}] do not fit {col.kind}",
                                  stream=stream, column=col.name)
        return arr.astype(dtype)
    raise SchemaError(f"dtype {arr.dtype} is not {col.kind}", stream=stream, column=col.name)


def _as_arrow(stream: str, col: Column, values) -> pa.Array:
    try:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        arr = values if isinstance(values, pa.Array) else pa.array(
            values if not isinstance(values, np.ndarray) else values.tolist(), col.arrow_type)
        if arr.type != col.arrow_type:
            arr = arr.cast(col.arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError) as exc:
        raise SchemaError(f"not a {col.kind} column: {exc}", stream=stream, column=col.name) from None
    if arr.null_count and not col.nullable:
        raise SchemaError("nulls are not allowed in this column", stream=stream, column=col.name)
    return arr


def validate(stream: Stream, data) -> dict:
    """Check ``data`` against ``stream`` and return its columns in canonical form.

    ``data`` is a ``pyarrow.Table`` or a mapping of column name to array-like. Returns a
    dict in schema order: NumPy arrays for numeric columns, ``pyarrow.Array`` for string
    and binary columns. Raises :class:`SchemaError` on a missing or unknown column, a wrong
    dtype, a NaN, or columns of different lengths.
    """
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        data = {name: data.column(name) for name in data.column_names}
    if not isinstance(data, Mapping):
        raise SchemaError(f"expected a pyarrow.Table or a dict of arrays, got {type(data).__name__}",
                          stream=stream.name)
    known = {c.name for c in stream.columns}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SchemaError(f"unknown columns {unknown}; the stream has {sorted(known)}", stream=stream.name)
    out, rows = {}, None
    for col in stream.columns:
        if col.name not in data:
            if col.nullable or col.default is not None:
                continue
            raise SchemaError("missing column", stream=stream.name, column=col.name)
        conv = _as_arrow if col.kind in VARIABLE else _as_numpy
        arr = conv(stream.name, col, data[col.name])
        if rows is None:
            rows = len(arr)
        elif len(arr) != rows:
            raise SchemaError(f"has {len(arr)} rows, column 't' has {rows}", stream=stream.name,
                              column=col.name)
        out[col.name] = arr
    for col in stream.columns:  # nullable columns left out are all-null, numeric ones their default
        if col.name not in out:
            if col.default is not None:
                out[col.name] = np.full(rows or 0, col.default, KINDS[col.kind][0])
            else:
                out[col.name] = pa.nulls(rows or 0, col.arrow_type)
    return {c.name: out[c.name] for c in stream.columns}
