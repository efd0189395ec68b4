"""The streams a derivation reads, gathered from a shard, a path or a dict of tables.

:func:`gather` returns an :class:`Inputs`: each stream's columns as NumPy arrays (strings as
Python lists, None for null; :meth:`StreamColumns.arrow` gives them as Arrow arrays), every stream put in time order by a stable sort on ``t`` (docs/actions.md,
"Order"), and the frame times of one screen. Both derivations (the Numba one and the
reference) take this and nothing else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pyarrow as pa

from ..errors import SchemaError
from ..streams import STREAMS, validate

#: The streams a derivation reads and the columns it needs of each.
COLUMNS = {
    "pointer": ("t", "x", "y"),
    "button": ("t", "button", "pressed", "x", "y"),
    "scroll": ("t", "dx", "dy", "x", "y"),
    "key": ("t", "code", "pressed", "modifiers", "text"),
    "focus": ("t", "window", "app", "title"),
    "command": ("t", "text", "cwd", "exit_code", "duration_us"),
    "element": ("t", "event", "role", "name", "path"),
}
#: Merged order of streams at one microsecond (docs/actions.md, "Order").
STREAM_ORDER = ("pointer", "button", "scroll", "key", "focus", "command")
#: Streams read only for the context of actions (encoder.actions.context), never derived from.
CONTEXT_STREAMS = ("element",)


class StreamColumns(dict):
    """One stream's columns: NumPy arrays, and string columns as lists made on first access
    (the reference reads lists; the kernels read :meth:`arrow` and never pay the conversion)."""

    def __init__(self, columns: dict):
        super().__init__(columns)
        self._arrow = {name: v for name, v in columns.items() if isinstance(v, pa.Array)}

    def __getitem__(self, name: str):
        value = super().__getitem__(name)
        if isinstance(value, pa.Array):
            value = value.to_pylist()
            self[name] = value
        return value

    def arrow(self, name: str) -> pa.Array:
        """String column ``name`` as a ``pyarrow.StringArray``."""
        return self._arrow[name]


@dataclass
class Inputs:
    """Time-ordered columns of each input stream (empty streams hold empty arrays)."""

    streams: dict = field(default_factory=dict)
    #: Times of the frames of the chosen screen, in frame-index order.
    frame_t: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Time of the first row of any stream (frames included); None for an empty recording.
    start_us: int | None = None
    #: The shard's metadata (platform settings for the rules), {} for a dict source.
    metadata: dict = field(default_factory=dict)
    #: The context streams (:data:`CONTEXT_STREAMS`): joined to actions, never derived from.
    context: dict = field(default_factory=dict)

    def __getitem__(self, stream: str) -> dict:
        return self.streams[stream]

    @property
    def raw_events(self) -> int:
        """Rows of the input streams (what the derivation rate is counted in)."""
        return sum(len(cols["t"]) for cols in self.streams.values())


def _columns(name: str, data) -> StreamColumns:
    """One stream's needed columns, validated against its schema, as NumPy / Arrow arrays."""
    spec = STREAMS[name]
    if isinstance(data, pa.Table):
        data = {c: data.column(c) for c in data.column_names if c in COLUMNS[name]}
    elif isinstance(data, Mapping):
        data = {c: v for c, v in data.items() if c in COLUMNS[name]}
    else:
        raise SchemaError(f"expected a pyarrow.Table or a dict of arrays, got {type(data).__name__}", stream=name)
    sub = type(spec)(spec.name, tuple(c for c in spec.columns if c.name in COLUMNS[name]))
    checked = validate(sub, data)
    order = np.argsort(checked["t"], kind="stable")
    sorted_ = bool(np.all(order == np.arange(len(order))))
    out = {}
    for col, values in checked.items():
        if isinstance(values, np.ndarray):
            out[col] = values if sorted_ else values[order]
        else:
            out[col] = values if sorted_ else values.take(pa.array(order))
    return StreamColumns(out)


def gather(source, screen: int = 0) -> Inputs:
    """The :class:`Inputs` of ``source``: a :class:`~encoder.ShardReader`, a path to a shard,
    or a dict of stream name -> ``pyarrow.Table`` / dict of arrays (the ``frame`` entry, if
    any, needs only ``t`` and ``screen``)."""
    if isinstance(source, (str, os.PathLike)):
        from ..shard import ShardReader
        with ShardReader(source) as reader:
            return gather(reader, screen)
    if isinstance(source, Mapping):
        tables = {name: source[name] for name in COLUMNS if name in source}
        frame_t = _frame_times(source.get("frame"), screen)
        metadata = {}
    else:  # a ShardReader
        have = source.streams
        tables = {name: source.read(name, [c for c in COLUMNS[name] if c in have[name].names])
                  for name in COLUMNS if name in have}
        frame_t = source.frame_times(screen) if "frame" in have else np.zeros(0, np.int64)
        metadata = dict(source.metadata)
    columns = {name: _columns(name, tables[name]) if name in tables
               else _columns(name, {c: [] for c in COLUMNS[name]}) for name in COLUMNS}
    streams = {name: cols for name, cols in columns.items() if name not in CONTEXT_STREAMS}
    firsts = [int(cols["t"][0]) for cols in streams.values() if len(cols["t"])]
    if len(frame_t):
        firsts.append(int(frame_t.min()))
    return Inputs(streams, np.ascontiguousarray(frame_t, np.int64), min(firsts) if firsts else None, metadata,
                  {name: columns[name] for name in CONTEXT_STREAMS})


def _frame_times(frame, screen: int) -> np.ndarray:
    if frame is None:
        return np.zeros(0, np.int64)
    if isinstance(frame, pa.Table):
        frame = {c: frame.column(c).to_numpy() for c in frame.column_names}
    t = np.asarray(frame["t"], np.int64)
    if "screen" in frame:
        t = t[np.asarray(frame["screen"]) == screen]
    return t
