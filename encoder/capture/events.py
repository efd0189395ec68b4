"""Raw events as sources hand them to the recorder, and the bounded queue between them.

Events are plain tuples (a source may emit a thousand a second from a Python callback, so
no objects are built per event), the first field a tag, the second ``t`` in microseconds of
the session clock:

=========  ===============================================
tag        fields after ``(tag, t)``
=========  ===============================================
POINTER    x, y
BUTTON     button, pressed, x, y
SCROLL     dx, dy, x, y        (steps; dy > 0 scrolls down, dx > 0 right)
KEY        keysym, pressed, modifiers, text (text only on presses, full policy only)
FOCUS      WindowInfo
MARKER     kind, text, value
=========  ===============================================

Key events still hold the real keysym and text here: the policy is applied on the
recorder's thread, before encoding, and nothing it removes is ever written. What it keeps
becomes row tuples (``t`` first, then the stream's columns in schema order), and
:func:`to_columns` turns those into the columns :meth:`~encoder.ShardWriter.write` takes.
"""
from __future__ import annotations

import threading
from collections import deque

import numpy as np
import pyarrow as pa

from ..streams import KINDS, STREAMS

POINTER, BUTTON, SCROLL, KEY, FOCUS, MARKER = range(6)
STREAM_OF = {POINTER: "pointer", BUTTON: "button", SCROLL: "scroll", KEY: "key", FOCUS: "focus",
             MARKER: "marker"}
INPUT_TAGS = (POINTER, BUTTON, SCROLL, KEY)
INPUT_STREAMS = tuple(STREAM_OF[t] for t in INPUT_TAGS)


def input_rows(counts: dict) -> int:
    """Rows of the input streams in ``counts`` (stream -> rows)."""
    return sum(counts.get(name, 0) for name in INPUT_STREAMS)


#: Columns of a stream that capture never fills, left out of the recorder's row tuples and
#: stored as zeros (X wheels report steps, never precise deltas).
_NOT_CAPTURED = {"scroll": ("precise",)}


def to_columns(stream: str, rows: list) -> dict:
    """Row tuples -> the column dict :meth:`~encoder.ShardWriter.write` takes.

    Each row holds the stream's columns in schema order (:data:`encoder.streams.STREAMS`),
    ``t`` first, less those in ``_NOT_CAPTURED``; the columns get the schema's types.

    >>> cols = to_columns("scroll", [(1_000, 0, 1, 5, 7)])
    >>> {name: col.dtype.name for name, col in cols.items()}
    {'t': 'int64', 'dx': 'int32', 'dy': 'int32', 'precise': 'bool', 'x': 'int32', 'y': 'int32'}
    >>> to_columns("marker", [(1_000, "pause", None, 0)])["text"].to_pylist()
    [None]
    """
    spec = STREAMS[stream]
    skip = _NOT_CAPTURED.get(stream, ())
    values = dict(zip([c.name for c in spec.columns if c.name not in skip], zip(*rows)))
    columns = {}
    for col in spec.columns:
        dtype, arrow_type = KINDS[col.kind]
        if col.name in skip:
            columns[col.name] = np.zeros(len(rows), dtype)
        elif dtype is None:
            columns[col.name] = pa.array(values[col.name], arrow_type)
        else:
            columns[col.name] = np.array(values[col.name], dtype)
    return columns


class EventQueue:
    """A bounded FIFO of event tuples, many producers, one consumer.

    A full queue never blocks a producer (an X event callback must not stall): the events
    that do not fit are refused and counted per stream in :attr:`dropped`, which the
    recorder reports as ``recorder.dropped`` markers and in its stats. The consumer is woken
    only when the queue stops being empty or passes half its capacity, so a steady stream of
    events costs it a few wake-ups a second, not one per event.
    """

    def __init__(self, capacity: int = 65536):
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._items: deque = deque()
        self._cond = threading.Condition()
        self.dropped = {name: 0 for name in STREAM_OF.values()}
        self.peak = 0
        self._closed = False
        self._woken = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, events) -> int:
        """Append events (a list of tuples); returns how many were accepted."""
        with self._cond:
            size = len(self._items)
            room = self.capacity - size
            take = events if len(events) <= room else events[:max(room, 0)]
            for e in events[len(take):]:
                self.dropped[STREAM_OF[e[0]]] += 1
            if take:
                self._items.extend(take)
                new = size + len(take)
                if new > self.peak:
                    self.peak = new
                if size < self.capacity // 2 <= new:  # filling up: drain now, not at the next tick
                    self._woken = True
                    self._cond.notify()
            return len(take)

    def put_one(self, event) -> bool:
        return self.put((event,)) == 1

    def take(self) -> list:
        """Everything queued (possibly nothing), at once."""
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items

    def wait(self, timeout: float | None) -> None:
        """Sleep up to ``timeout`` seconds, or until woken: the queue passed half its
        capacity, :meth:`wake` or :meth:`close` was called."""
        with self._cond:
            if self._woken or self._closed:
                self._woken = False
                return
            if timeout is None or timeout > 0:
                self._cond.wait(timeout)
            self._woken = False

    def wake(self) -> None:
        """Wake the consumer now (stop, rotation, a pause change)."""
        with self._cond:
            self._woken = True
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
