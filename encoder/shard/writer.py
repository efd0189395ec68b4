"""ShardWriter: streaming, bounded-memory writer of one shard file."""
from __future__ import annotations

import os
import queue
import re
import threading
import time

import numpy as np
import pyarrow.compute as pc
import zstandard

from .._version import __version__
from ..errors import EncoderError, LimitError, SchemaError
from ..streams import STREAMS, Stream, validate
from ..streams.schema import VARIABLE
from . import crypto
from . import format as fmt
from .blocks import concat, encode_block
from .frames import WriterFrames

_STOP = object()


def _fsync_policy(fsync) -> float | None:
    """``fsync`` argument -> seconds between fsyncs (0: after every block), None: never."""
    if fsync is None or fsync is False or fsync == "none":
        return None
    if fsync is True or fsync == "block":
        return 0.0
    if isinstance(fsync, (int, float)) and not isinstance(fsync, bool) and fsync > 0:
        return float(fsync)
    raise ValueError(f"fsync must be 'none', 'block', a number of seconds > 0, True or False; not {fsync!r}")


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

    def rows_within(self, limit: int) -> int:
        """How many leading rows hold at most ``limit`` bytes of column data (at least one)."""
        cost = np.zeros(self.rows, np.int64)
        for c in self.stream.columns:
            if c.kind in VARIABLE:
                lengths = [np.asarray(pc.binary_length(p[c.name]).fill_null(0), np.int64) for p in self.parts]
                cost += np.concatenate(lengths) + 8
            else:
                cost += self.parts[0][c.name].itemsize
        return max(1, int(np.searchsorted(np.cumsum(cost), limit, side="right")))

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


class ShardWriter(WriterFrames):
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
    fsync : {'none', 'block'} or float
        When written blocks are forced to stable storage (``os.fsync``), so that a power cut
        (not only a crash of the process) keeps them: ``'block'`` (or True) after every
        block, a number ``N`` at most every N seconds (after the block that crosses it),
        ``'none'`` (or False, the default) leaves it to the operating system. Every policy but
        ``'none'`` also syncs on :meth:`flush` and :meth:`close`. docs/hardening.md has the
        measured cost of each. Either way a killed writer leaves every block it completed
        recoverable (``encoder repair``).
    encryption_key, encryption_key_file : bytes, str or path, optional
        Encrypt the shard (AES-256-GCM, format 1.1) with this 32-byte key (bytes or 64 hex
        digits), or the key in this file. Default: ``$ENCODER_KEY`` (hex) or
        ``$ENCODER_KEY_FILE`` when set; ``encryption_key=False`` never encrypts. Needs
        ``hci-encoder[crypto]``. The former names ``key=`` and ``key_file=`` still work, with a
        :class:`DeprecationWarning`.

    Examples
    --------
    >>> import numpy as np, tempfile, os, encoder
    >>> path = os.path.join(tempfile.mkdtemp(), "session.enc")
    >>> with encoder.ShardWriter(path) as w:
    ...     w.write("pointer", {"t": np.arange(3) * 1000, "x": [1, 2, 3], "y": [5, 5, 4]})
    >>> encoder.ShardReader(path).read("pointer").num_rows
    3
    """

    @crypto.renamed_key_arguments
    def __init__(self, path, *, metadata: dict | None = None, block_rows: int = 65536,
                 flush_seconds: float | None = 30.0, level: int = 1, background: bool = True,
                 max_pending: int = 4, fsync="none", encryption_key=None, encryption_key_file=None):
        if not 1 <= block_rows <= fmt.MAX_BLOCK_ROWS:
            raise LimitError(f"block_rows must be in [1, {fmt.MAX_BLOCK_ROWS}], not {block_rows}")
        self.block_rows, self.flush_seconds = block_rows, flush_seconds
        self._fsync_every = _fsync_policy(fsync)
        self._synced_at = time.monotonic()
        master = crypto.resolve_key(encryption_key, encryption_key_file)
        self._cipher = crypto.ShardCipher.new(master) if master is not None else None
        if self._cipher is None and "format" in (metadata or {}):  # from 1.1 on, the header's own
            raise SchemaError("metadata key 'format' is reserved for the shard format (since 1.1)")
        self.name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else getattr(path, "name", "<stream>")
        self._own = isinstance(path, (str, os.PathLike))
        self._file = open(path, "wb") if self._own else path
        self.level = level
        self._levels: dict[str, int] = {}
        self._stream_rows: dict[str, int] = {}
        self._hints: dict[str, dict] = {}  # per stream: which codec candidates won lately
        self._cctx: dict[int, zstandard.ZstdCompressor] = {}
        self.metadata = self._complete(metadata or {})
        self._streams: dict[str, Stream] = {}
        self._buffers: dict[str, _Buffer] = {}
        self._blocks: list[dict] = []
        self._rows: dict[str, int] = {}
        self._pos = 0
        self._raw_written = 0   # uncompressed column bytes of the blocks in the file
        self._raw_queued = 0    # ... of the blocks handed to the background thread, not written yet
        self._raw_lock = threading.Lock()
        self._error: BaseException | None = None
        self._closed = False
        if self._cipher is None:
            self._emit([fmt.pack_header(self.metadata)])
        else:  # the metadata is sealed inside the header; only the format's own fields are clear
            envelope = {"format": self._cipher.header(fmt.dumps(self.metadata))}
            self._emit([fmt.pack_header(envelope, fmt.ENCRYPTED_VERSION)])
        if self._own and self._fsync_every is not None:
            self._sync(directory=True)  # the file's name must survive a power cut too
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
        meta.setdefault("writer", {"library": "encoder", "version": __version__})
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
        if not re.fullmatch(fmt.STREAM_NAME, stream.name):
            raise SchemaError(f"stream name must match {fmt.STREAM_NAME}", stream=stream.name)
        known = self._streams.get(stream.name) or STREAMS.get(stream.name)
        if known is not None and known != stream:
            raise SchemaError("a different schema is already declared", stream=stream.name)
        if len(stream.columns) > fmt.MAX_COLUMNS or any(len(c.name) > fmt.MAX_COLUMN_NAME for c in stream.columns):
            raise LimitError(f"at most {fmt.MAX_COLUMNS} columns with names of at most {fmt.MAX_COLUMN_NAME} "
                             "characters", stream=stream.name)
        self._check_stream_count(stream.name)
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
            self._check_stream_count(stream)
            self._streams[stream] = spec
            self._buffers[stream] = _Buffer(spec)
            self._rows[stream] = 0
        buf = self._buffers[stream]
        buf.add(columns)
        self._rows[stream] += len(columns["t"])
        block_rows = self._stream_rows.get(stream, self.block_rows)
        while buf.rows >= block_rows or buf.bytes >= fmt.BLOCK_BYTES:
            rows = min(buf.rows, block_rows)
            if buf.bytes >= fmt.BLOCK_BYTES:  # big values: cut by bytes (bounds a block's memory)
                rows = min(rows, buf.rows_within(fmt.BLOCK_BYTES))
            self._submit(spec, buf.take(rows))
        self._flush_due()

    def flush(self) -> None:
        """Turn every buffered row into a complete block in the file; returns when written.

        When it returns, every row (and frame) written so far is in complete blocks handed to
        the operating system (and on stable storage unless ``fsync='none'``): a crash of the
        process from then on loses none of them (``encoder repair`` rebuilds the index).
        """
        self._check_open()
        self.flush_frames()  # the frame pipeline hands its rows over first
        self._flush_blocks()

    def _flush_blocks(self) -> None:
        """Buffered rows -> blocks, wait for the background thread, flush (and sync) the file."""
        for name, buf in self._buffers.items():
            if buf.rows:
                self._submit(self._streams[name], buf.take(buf.rows))
        if self._queue is not None:
            self._queue.join()
        self._raise_pending()
        self._file.flush()
        if self._fsync_every is not None:
            self._sync()

    def close(self) -> None:
        """Flush, write the footer and the tail, and close the file (idempotent)."""
        if self._closed:
            return
        try:
            self.finish_frames()
            self._check_open()
            self._flush_blocks()
            if self._queue is not None:
                self._queue.put(_STOP)
                self._thread.join()
            self._write_footer()
            self._file.flush()
            if self._fsync_every is not None:
                self._sync()
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

    def write_block(self, stream: Stream, columns: dict) -> None:
        """Write ``columns`` as one block of ``stream`` (declared), as given: no buffering.

        The seam through which a producer that forms its own blocks (the screen tiles' pages
        and frame rows) writes; safe to call from another thread than :meth:`write`'s. The
        block is compressed on the background thread when there is one.
        """
        columns = validate(stream, columns)
        self._rows[stream.name] = self._rows.get(stream.name, 0) + len(columns["t"])
        self._submit(stream, columns)

    @property
    def pending_bytes(self) -> int:
        """Uncompressed bytes accepted but not in the file yet: rows waiting in the buffers, blocks
        waiting for (or on) the background thread, and the frame pipeline's staged frames and
        open tile pages. Safe to read from any thread (a live byte rate counts it, so that it is
        not 0 until the first block lands, ``flush_seconds`` later)."""
        frames = self._frame_writer.unwritten_bytes() if self._frame_writer is not None else 0
        return sum(b.bytes for b in list(self._buffers.values())) + self._raw_queued + frames

    @property
    def raw_bytes_written(self) -> int:
        """Uncompressed column bytes of the blocks in the file (with the file's size, the
        compression ratio so far)."""
        return self._raw_written

    @property
    def background(self) -> bool:
        """Whether blocks are compressed and written on a background thread."""
        return self._queue is not None

    @property
    def rows(self) -> dict:
        """Rows accepted so far, per stream."""
        return dict(self._rows)

    @property
    def blocks_written(self) -> int:
        """Blocks written to the file so far (complete, each recoverable after a crash)."""
        return len(self._blocks)

    @property
    def encrypted(self) -> bool:
        return self._cipher is not None

    # -- internals ------------------------------------------------------------------
    def _check_open(self):
        if self._closed:
            raise EncoderError("writer is closed", shard=self.name)
        self._raise_pending()

    def _check_stream_count(self, name: str):
        if name not in self._streams and len(self._streams) >= fmt.MAX_STREAMS:
            raise LimitError(f"more than {fmt.MAX_STREAMS} streams in one shard", stream=name)

    def _sync(self, directory: bool = False):
        """fsync the file (and, once, its directory); a file object without a descriptor is skipped."""
        try:
            fd = self._file.fileno()
        except (AttributeError, OSError, ValueError):
            return
        os.fsync(fd)
        self._synced_at = time.monotonic()
        if directory:
            fmt.sync_folder(self.name)

    def _raise_pending(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _flush_due(self):
        if self.flush_seconds is None:
            return
        if self._frame_writer is not None:
            self._frame_writer.flush_due()
        now = time.monotonic()
        for name, buf in self._buffers.items():
            if buf.rows and now - buf.since >= self.flush_seconds:
                self._submit(self._streams[name], buf.take(buf.rows))

    def _submit(self, stream: Stream, columns: dict):
        with self._raw_lock:
            self._raw_queued += _raw_bytes(columns)
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
        raw = _raw_bytes(columns)
        cctx = self._compressor(self._levels.get(stream.name, self.level))
        parts, descriptor = encode_block(stream, columns, len(self._blocks), cctx, self._cipher, self._pos,
                                         self._hints.setdefault(stream.name, {}))
        descriptor["offset"] = self._pos
        self._emit(parts)
        with self._raw_lock:
            self._raw_written += raw
            self._raw_queued -= raw
        self._blocks.append(descriptor)
        every = self._fsync_every
        if every is not None and time.monotonic() - self._synced_at >= every:
            self._file.flush()
            self._sync()

    def _emit(self, parts):
        for part in parts:
            self._file.write(part)
            self._pos += len(part)

    def _write_footer(self):
        footer = {
            "streams": {name: s.to_json() for name, s in self._streams.items()},
            "rows": self._rows,
            "blocks": [{k: v for k, v in b.items() if k != "schema"} for b in self._blocks],
        }
        offset, cipher = self._pos, self._cipher
        seal = None if cipher is None else (lambda frame: cipher.seal(crypto.FOOTER, offset, frame))
        try:
            self._emit([fmt.pack_footer(footer, offset, self._compressor(self.level).compress, seal)])
        except LimitError as exc:
            raise exc.located(shard=self.name) from None


def _raw_bytes(columns: dict) -> int:
    return sum(int(getattr(c, "nbytes", 0)) for c in columns.values())
