"""ShardWriter: streaming, bounded-memory writer of one shard file."""
from __future__ import annotations

import os
import queue
import re
import threading
import time

import pyarrow.compute as pc
import zstandard

from ..errors import EncoderError, LimitError, SchemaError
from ..streams import STREAMS, Stream, validate
from ..tiles.frames import FrameWriterMixin
from . import format as fmt
from .blocks import concat, encode_block

_STOP = object()


class _Buffer:
    """Rows of one stream waiting to become a block."""

    def __init__(self, stream: Stream):
        self.stream, self.parts, self.rows, self.bytes, self.since = stream, [], 0, 0, None

    def add(self, columns: dict) -> None:
        if self.since is None:
            self.since = time.monotonic()
        self.parts.append(columns)
        self.rows += len(columns["t"])
        self.bytes += sum(c.nbytes for c in columns.values())

    def take(self, rows: int) -> dict:
        """Remove and return the first ``rows`` rows, one array per column."""
        merged = {c.name: concat([p[c.name] for p in self.parts], None if c.kind not in ("string", "binary")
                                 else c.arrow_type) for c in self.stream.columns}
        head = {k: v[:rows] for k, v in merged.items()}
        rest = {k: v[rows:] for k, v in merged.items()}
        left = self.rows - rows
        self.parts, self.rows, self.bytes, self.since = [], 0, 0, None
        if left:
            self.add(rest)
        return head


class ShardWriter(FrameWriterMixin):
    """Write streams into a shard file, block by block.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        Where the shard goes. A file object is written sequentially and left open.
    metadata : dict, optional
        Session metadata stored in the header (clock anchor, screens, recorder, privacy policy).
        ``clock`` defaults to a monotonic clock anchored at the writer's creation.
    block_rows : int
        Rows per block (at most 131072). Larger blocks compress a little better.
    flush_seconds : float or None
        A stream's buffered rows become a block at the latest this long after the first of them
        arrived, so a crash loses at most that much. ``None`` flushes by size only.
    level : int
        zstd level of the event chunks (levels above 1 buy little for events).
    background : bool
        Compress and write on a background thread so that ``write`` returns at once.
    max_pending : int
        Blocks that may wait for the background thread; ``write`` blocks beyond that, which
        bounds memory to about ``(max_pending + streams) * block size``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "session.enc")
    >>> with ShardWriter(path) as w:
    ...     w.write("pointer", {"t": np.arange(3) * 1000, "x": [1, 2, 3], "y": [5, 5, 4]})
    >>> ShardReader(path).read("pointer").num_rows
    3
    """

    def __init__(self, path, *, metadata: dict | None = None, block_rows: int = 65536,
                 flush_seconds: float | None = 30.0, level: int = 1, background: bool = True,
                 max_pending: int = 4, fsync: bool = False):
        if not 1 <= block_rows <= fmt.MAX_BLOCK_ROWS:
            raise LimitError(f"block_rows must be in [1, {fmt.MAX_BLOCK_ROWS}], not {block_rows}")
        self.block_rows, self.flush_seconds, self.fsync = block_rows, flush_seconds, fsync
        self.name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else getattr(path, "name", "<stream>")
        self._own = isinstance(path, (str, os.PathLike))
        self._file = open(path, "wb") if self._own else path
        self.level = level
        self._levels: dict[str, int] = {}
        self._stream_rows: dict[str, int] = {}
        self._cctx: dict[int, zstandard.ZstdCompressor] = {}
        self.metadata = self._complete(metadata or {})
        self._streams: dict[str, Stream] = {}
        self._buffers: dict[str, _Buffer] = {}
        self._blocks: list[dict] = []
        self._rows: dict[str, int] = {}
        self._pos = 0
        self._error: BaseException | None = None
        self._closed = False
        self._emit([fmt.pack_header(self.metadata)])
        self._queue: queue.Queue | None = None
        if background:
            self._queue = queue.Queue(maxsize=max_pending)
            self._thread = threading.Thread(target=self._drain, name="encoder-writer", daemon=True)
            self._thread.start()

    @staticmethod
    def _complete(metadata: dict) -> dict:
        meta = dict(metadata)
        meta.setdefault("clock", {"source": "monotonic", "t0_us": 0,
                                  "unix_us_at_t0": time.time_ns() // 1000})
        meta.setdefault("writer", {"library": "encoder", "version": _version()})
        try:
            fmt.dumps(meta)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"metadata must be JSON-serialisable: {exc}") from None
        return meta

    # -- public API -----------------------------------------------------------------
    def declare(self, stream: Stream, *, level: int | None = None, block_rows: int | None = None) -> None:
        """Allow a stream beyond the built-in ones (its schema is stored in the shard).

        ``level`` and ``block_rows`` override the writer's zstd level and rows per block for
        this stream (the screen-tile pages, say, compress better at a higher level).
        """
        if not re.match(fmt.STREAM_NAME, stream.name):
            raise SchemaError(f"stream name must match {fmt.STREAM_NAME}", stream=stream.name)
        known = self._streams.get(stream.name) or STREAMS.get(stream.name)
        if known is not None and known != stream:
            raise SchemaError("a different schema is already declared", stream=stream.name)
        if block_rows is not None and not 1 <= block_rows <= fmt.MAX_BLOCK_ROWS:
            raise LimitError(f"block_rows must be in [1, {fmt.MAX_BLOCK_ROWS}]", stream=stream.name)
        self._streams[stream.name] = stream
        if level is not None:
            self._levels[stream.name] = level
        if block_rows is not None:
            self._stream_rows[stream.name] = block_rows

    def write(self, stream: str, data) -> None:
        """Append rows (a ``pyarrow.Table`` or a dict of arrays) to ``stream``."""
        self._check_open()
        spec = self._streams.get(stream) or STREAMS.get(stream)
        if spec is None:
            raise SchemaError(f"unknown stream; known: {sorted(STREAMS)} (declare() others)", stream=stream)
        columns = validate(spec, data)
        for col in spec.columns:
            values = columns[col.name]
            if col.kind in ("string", "binary") and values.nbytes > fmt.MAX_VALUE_BYTES:
                longest = pc.max(pc.binary_length(values)).as_py() or 0
                if longest > fmt.MAX_VALUE_BYTES:
                    raise LimitError(f"a value of {longest} bytes exceeds the limit of "
                                     f"{fmt.MAX_VALUE_BYTES}", stream=stream, column=col.name)
        if stream not in self._buffers:
            if len(self._buffers) >= fmt.MAX_STREAMS:
                raise LimitError(f"more than {fmt.MAX_STREAMS} streams", stream=stream)
            self._streams[stream] = spec
            self._buffers[stream] = _Buffer(spec)
            self._rows[stream] = 0
        buf = self._buffers[stream]
        buf.add(columns)
        self._rows[stream] += len(columns["t"])
        block_rows = self._stream_rows.get(stream, self.block_rows)
        while buf.rows >= block_rows or buf.bytes >= 8 * fmt.MAX_VALUE_BYTES:
            self._submit(spec, buf.take(min(buf.rows, block_rows)))
        self._flush_due()

    def flush(self) -> None:
        """Turn every buffered row into a complete block on disk; returns when written."""
        self._check_open()
        for name, buf in self._buffers.items():
            if buf.rows:
                self._submit(self._streams[name], buf.take(buf.rows))
        if self._queue is not None:
            self._queue.join()
        self._raise_pending()
        self._file.flush()
        if self.fsync and self._own:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush, write the footer and the tail, and close the file (idempotent)."""
        if self._closed:
            return
        try:
            self._finish_frames()
            self.flush()
            if self._queue is not None:
                self._queue.put(_STOP)
                self._thread.join()
            self._write_footer()
            self._file.flush()
            if self._own and self.fsync:
                os.fsync(self._file.fileno())
        finally:
            self._closed = True
            if self._queue is not None and self._thread.is_alive():
                self._queue.put(_STOP)
            if self._own:
                self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:  # keep what was written readable (recoverable) but do not mask the error
            try:
                self.close()
            except Exception:
                pass

    @property
    def rows(self) -> dict:
        """Rows accepted so far, per stream."""
        return dict(self._rows)

    # -- internals ------------------------------------------------------------------
    def _check_open(self):
        if self._closed:
            raise EncoderError("writer is closed", shard=self.name)
        self._raise_pending()

    def _raise_pending(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _flush_due(self):
        if self.flush_seconds is None:
            return
        now = time.monotonic()
        for name, buf in self._buffers.items():
            if buf.rows and now - buf.since >= self.flush_seconds:
                self._submit(self._streams[name], buf.take(buf.rows))

    def _submit(self, stream: Stream, columns: dict):
        if self._queue is None:
            self._write_block(stream, columns)
        else:
            self._queue.put((stream, columns))

    def _compressor(self, level: int) -> zstandard.ZstdCompressor:
        """One compressor per level, used by one thread only (the writer's or the caller's)."""
        if level not in self._cctx:
            self._cctx[level] = zstandard.ZstdCompressor(level=level)
        return self._cctx[level]

    def _drain(self):
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._error is None:
                    self._write_block(*item)
            except BaseException as exc:  # reported to the caller on its next call
                self._error = exc
            finally:
                self._queue.task_done()

    def _write_block(self, stream: Stream, columns: dict):
        cctx = self._compressor(self._levels.get(stream.name, self.level))
        parts, descriptor = encode_block(stream, columns, len(self._blocks), cctx)
        descriptor["offset"] = self._pos
        self._emit(parts)
        self._blocks.append(descriptor)

    def _emit(self, parts):
        for part in parts:
            self._file.write(part)
            self._pos += len(part)

    def _write_footer(self):
        footer = fmt.dumps({
            "streams": {name: s.to_json() for name, s in self._streams.items()},
            "rows": self._rows,
            "blocks": [{k: v for k, v in b.items() if k != "schema"} for b in self._blocks],
        })
        if len(footer) > fmt.MAX_FOOTER:
            raise LimitError(f"footer of {len(footer)} bytes exceeds {fmt.MAX_FOOTER}: rotate shards sooner",
                             shard=self.name)
        frame = self._compressor(self.level).compress(footer)
        tail = fmt.TAIL.pack(self._pos, len(frame), len(footer), fmt.checksum(frame), fmt.END_MAGIC)
        self._emit([frame, tail])


def _version() -> str:
    from .. import __version__
    return __version__


from .reader import ShardReader  # noqa: E402  (doctest convenience)
