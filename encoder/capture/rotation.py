"""Shard rotation: the shards of one recording, one written at a time, a new one past a size or an age.

Files are ``<session>-<part>.enc`` in the output folder, parts numbered from 0; each gets
the recorder's metadata for its part (all with the same clock anchor, so the rows of
consecutive shards line up as they are). The recorder thread writes rows and the screen
source adds frames, both under :attr:`ShardRotation.lock`, which a rotation holds only for
the swap. What the recorder writes around a rotation (the old shard's last
``recorder.stats`` row, the focus in force at the top of the new one) is its own business.

The file of the current shard grows by whole blocks: event rows wait in the writer's buffers
for up to ``flush_seconds`` (30 s), new screen tiles in the open 1 MiB page until it fills
(or for as long). :meth:`ShardRotation.pending` says what they will add (the writer's
``pending_bytes``, scaled by its ratio of file bytes to raw bytes so far), so that the live
byte rate is not 0 until the first block lands.
"""
from __future__ import annotations

import os
import threading
import time

from ..backends import codec_kernels
from ..shard import ShardWriter

#: Tile side of the shards' screen frames (``configure_frames(tile=...)``).
TILE = 16
#: File bytes per raw byte assumed until a shard has written enough blocks to tell
#: (:meth:`ShardRotation.pending`). Measured on a 1280x720 Xvfb desktop, an xterm that xdotool
#: types into without pause, 2 fps: 0.033 learned after the first flush (tile pages 0.028,
#: key rows 0.037, recorder.stats markers 0.09 of their Arrow bytes); busier screens
#: (images, video) compress far less, hence a prior above it. It only weighs what is still
#: in memory.
PRIOR_RATIO = 0.1
#: Raw bytes a shard must have written before its own compression ratio replaces the prior.
_RATIO_MIN_RAW = 64 << 10


class ShardRotation:
    """The shard being written in ``out_dir``, and its successors.

    Parameters
    ----------
    out_dir : str
        Folder of the shards; :meth:`open` creates it and its missing parents, and
        :meth:`discard` removes those again if they are empty.
    session : str
        File name prefix: the shards are ``<session>-<part:04d>.enc``.
    metadata : callable
        ``metadata(part) -> dict``, the metadata of shard number ``part``.
    rotate_bytes, rotate_seconds : int, float or None
        The shard is :meth:`due` for rotation once it holds this many bytes or is this old.
    flush_seconds : float
        Each writer's ``flush_seconds`` (what a crash can lose).
    tile_store_bytes : int
        Each writer's tile store (``configure_frames(store_bytes=...)``).
    """

    def __init__(self, out_dir: str, session: str, metadata, *, rotate_bytes: int | None,
                 rotate_seconds: float | None, flush_seconds: float, tile_store_bytes: int):
        self.out_dir, self.session, self.metadata = out_dir, session, metadata
        self.rotate_bytes, self.rotate_seconds = rotate_bytes, rotate_seconds
        self.flush_seconds, self.tile_store_bytes = flush_seconds, tile_store_bytes
        self.lock = threading.Lock()
        self.writer: ShardWriter | None = None
        self.paths: list[str] = []    # every shard opened, in order
        self._opened = 0.0            # time.monotonic() when the current shard was opened
        self._closed_bytes = 0
        self.ratio = PRIOR_RATIO  # file bytes per raw byte: the current shard's, else the last one's
        self._made_dirs: list[str] = []  # folders open() created, deepest first

    def _new_writer(self) -> ShardWriter:
        part = len(self.paths)
        path = os.path.join(self.out_dir, f"{self.session}-{part:04d}.enc")
        writer = ShardWriter(path, metadata=self.metadata(part), flush_seconds=self.flush_seconds)
        writer.configure_frames(tile=TILE, store_bytes=self.tile_store_bytes)
        self.paths.append(path)
        return writer

    def open(self) -> None:
        """Create the folder (and its missing parents), open the first shard."""
        missing, path = [], os.path.abspath(self.out_dir)
        while not os.path.lexists(path):
            missing.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        self._made_dirs = missing
        os.makedirs(self.out_dir, exist_ok=True)
        writer = self._new_writer()
        with self.lock:
            self.writer = writer
        self._opened = time.monotonic()
        # loaded now, not by the writer thread at the first flush (a stall of 60-80 ms in the
        # middle of a recording): the column kernels, and numpy.ma, which pyarrow's conversion
        # of NumPy values touches (the key stream's codec)
        codec_kernels().scan   # the first kernel loads the set (encoder._codec, encoder._keys)
        import numpy.ma  # noqa: F401

    def write(self, stream: str, columns: dict) -> bool:
        """Write rows to the current shard; False (nothing written) once closed."""
        with self.lock:
            if self.writer is None:
                return False
            self.writer.write(stream, columns)
            return True

    def add_frame(self, t_us: int, image, screen: int, changed) -> bool:
        """Add a frame to the current shard; False (nothing written) once closed."""
        with self.lock:
            if self.writer is None:
                return False
            self.writer.add_frame(int(t_us), image, screen, changed)
            return True

    def frame_writer_stats(self) -> dict:
        """The current shard's frame writer stats (``{}`` once closed)."""
        with self.lock:
            try:
                return self.writer.frame_writer_stats() if self.writer is not None else {}
            except Exception as exc:  # stats must never stop a recording
                return {"error": repr(exc)}

    def due(self) -> bool:
        """Whether the current shard holds ``rotate_bytes`` or is ``rotate_seconds`` old."""
        with self.lock:
            if self.writer is None:
                return False
            age = time.monotonic() - self._opened
            big = self.rotate_bytes is not None and _size(self.writer.name) >= self.rotate_bytes
            old = self.rotate_seconds is not None and age >= self.rotate_seconds
        return big or old

    def rotate(self) -> None:
        """Close the current shard and go on in the next one."""
        fresh = self._new_writer()        # opened before the swap: a frame never finds no writer
        with self.lock:
            # The old shard's frames are finished first (their tile store and previous frames
            # freed), so that the new shard's first, full frame never coexists with them: that
            # overlap was a 14 MB spike at every rotation. It holds a frame for a few ms.
            self.writer.finish_frames()
            writer, self.writer = self.writer, fresh
            self._opened = time.monotonic()
        writer.close()                    # outside the lock: frames go to the new shard meanwhile
        self._closed_bytes += _size(writer.name)

    def close(self) -> None:
        """Close the current shard (idempotent); nothing more is written."""
        with self.lock:
            writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()
            self._closed_bytes += _size(writer.name)

    def discard(self) -> None:
        """Undo a start that failed: close, remove every shard opened and each folder
        :meth:`open` created, if it is then empty (a folder that existed, or that holds
        anything else, stays)."""
        self.close()
        for path in self.paths:
            try:
                os.remove(path)
            except OSError:
                pass
        self.paths.clear()
        for folder in self._made_dirs:      # deepest first
            if not os.path.isdir(folder):   # makedirs failed before it
                continue
            try:
                os.rmdir(folder)            # refuses a folder that holds anything
            except OSError:
                break
        self._made_dirs = []

    def bytes_written(self) -> int:
        """Bytes of every shard so far: the closed ones and the current one."""
        with self.lock:
            current = _size(self.writer.name) if self.writer is not None else 0
        return self._closed_bytes + current

    def pending(self) -> tuple[int, float]:
        """``(raw bytes, file bytes per raw byte)`` of what the current shard holds in memory,
        not yet in its file (0 raw bytes once closed): their product estimates what the file
        will grow by. The ratio is the shard's own once it has written 64 KiB of raw blocks,
        else the previous shard's, else :data:`PRIOR_RATIO`."""
        with self.lock:
            writer = self.writer
            if writer is None:
                return 0, self.ratio
            raw = writer.raw_bytes_written
            if raw >= _RATIO_MIN_RAW:
                self.ratio = min(max(_size(writer.name) / raw, 0.01), 1.0)
            return writer.pending_bytes, self.ratio


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
