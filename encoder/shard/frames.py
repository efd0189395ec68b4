"""The frame methods of ShardWriter and ShardReader: the shard's face of the screen tiles.

The pipelines live in :mod:`encoder.tiles.writer` (capture side) and
:mod:`encoder.tiles.reader` (read side) and see the shard only through its seams: a writer
is their block sink (``declare``, ``write_block``, ``background``, ``flush_seconds``), a
reader their block reader (``read``, ``read_block``, ``block_rows``, ``block_constants``,
``read_value_into``). They are created on first use, so a shard without frames pays nothing.
"""
from __future__ import annotations

import numpy as np

from ..errors import EncoderError
from ..tiles.reader import FrameReader
from ..tiles.writer import FrameOptions, FrameWriter


class WriterFrames:
    """``add_frame`` and friends of :class:`~encoder.shard.ShardWriter`."""

    _frame_options = None
    _frame_writer = None

    def configure_frames(self, *, tile: int = 16, pixel_format: str | None = None, level: int = 3,
                         page_bytes: int = 2 << 20, store_bytes: int = 64 << 20, block_frames: int = 32,
                         page_budget: int = 6, refresh_frames: int = 16, reach_pages: int = 6,
                         max_pending_bytes: int = 32 << 20, background: bool = False,
                         backend: str | None = None, motion: bool = True,
                         _hash_mask: int = (1 << 64) - 1) -> None:
        """Choose how frames are encoded; call before the first :meth:`add_frame`.

        Parameters
        ----------
        tile : int
            Tile side in pixels (4 to 256). 16 measured best on real 1080p desktops.
        pixel_format : str, optional
            What the bytes of a 4-channel frame mean: ``'bgra'`` (the default: X11, mss) or
            ``'rgba'``. 3-channel frames default to ``'rgb'``, 2-D frames are ``'gray'``.
            Pixels are stored as given either way; the name is kept for readers.
        level : int
            zstd level of the tile pages. 3 compresses the pages of real desktops 3.8x faster
            than 6 for 25 % more bytes; at 2 fps zstd-6 was a fifth of the encode CPU.
        page_bytes : int
            Raw bytes of new tiles compressed together, at most 2 MiB (the container's chunk
            bound). Larger pages compress better (2 MiB: 17 % fewer bytes than 1 MiB at
            zstd-6); random access decodes pages up to the last tile it needs.
        store_bytes : int
            Bytes of tiles kept for lookup (the content store); older tiles leave it first.
            This, one previous frame per screen and ``max_pending_bytes`` bound the memory.
        block_frames : int
            Frame rows per block of the ``frame`` stream; each block starts with a full grid,
            and a random frame applies the grids from there (32: 1.8 % more bytes than 64,
            0.3-0.9 ms less at p90 in a 10-minute shard).
        page_budget, refresh_frames, reach_pages : int
            Bound random access (a random frame decodes whole pages, about 0.4 ms each).
            Every ``refresh_frames`` frames of a screen, the tiles of the pages its frame
            uses least are stored again until that frame needs at most ``page_budget``
            pages; between refreshes a lookup accepts a tile only from the screen's own
            pages or the ``reach_pages`` most recent ones (else it stores a copy). On a
            10-minute browser session this cut the pages of a random frame from 55 to 13
            (median, then 1 MiB pages with budget 12 and reach 32); on the 10-minute corpus
            shard reach 6 instead of 16 cut them from 7 / 16 / 21 to 6 / 10 / 13 (median /
            p90 / max) for 4.7 % more bytes. ``page_budget=0`` (no refreshes) and
            ``reach_pages=0`` (any hit) store the fewest bytes.
        max_pending_bytes : int
            Staged tiles that may wait for the frame thread before ``add_frame`` blocks.
        background : bool
            Look tiles up and pack pages on a thread of their own (``encoder-frames``)
            instead of in ``add_frame``. It shortens ``add_frame`` by the lookups (~0.5 ms
            for a busy 1080p frame) but costs more CPU in all (0.1-0.9 ms per frame on the
            screen corpus: hand-offs and the GIL), and refreshes land a variable number of
            frames late (more pages per random frame). Needs the shard writer's background.
        backend : str, optional
            ``'native'`` or ``'reference'`` (default: ``encoder.backend``).
        motion : bool
            Find regions that scrolled (by any number of pixels) and keep their tiles moving
            with the content (panes, docs/tiles.md "Motion") instead of storing them again.
        """
        if self._frame_writer is not None:
            if self._frame_writer.screens or self._frame_writer.closed:
                raise EncoderError("configure_frames() must come before the first add_frame()", shard=self.name)
            self._frame_writer.close()  # created by a call that was refused: nothing to keep
            self._frame_writer = None
        options = FrameOptions(tile=tile, pixel_format=pixel_format, level=level, page_bytes=page_bytes,
                               store_bytes=store_bytes, block_frames=block_frames, page_budget=page_budget,
                               reach_pages=reach_pages, refresh_frames=refresh_frames,
                               max_pending_bytes=max_pending_bytes, background=background, backend=backend,
                               motion=motion, hash_mask=_hash_mask)
        options.check()
        self._frame_options = options

    def add_frame(self, t_us: int, image: np.ndarray, screen: int = 0, changed=None, *,
                  pixel_format: str | None = None) -> None:
        """Add a screen frame: ``image`` is ``uint8`` HxWx4 (BGRA/RGBA), HxWx3 or HxW.

        Only tiles that differ from the previous frame of the same ``screen`` are looked
        at again, and only content never seen in the shard is stored. The caller may
        reuse ``image`` once this returns; compression runs on the shard writer's thread
        (and the lookups on a thread of their own with ``configure_frames(background=True)``).

        Parameters
        ----------
        t_us : int
            Time of the frame, int64 microseconds on the session clock.
        image : numpy.ndarray
            C-contiguous ``uint8``; any size up to 16384x16384; the size may change.
        screen : int
            Screen (monitor) number, 0-255; each has its own previous frame.
        changed : list of (x, y, w, h), optional
            Rectangles that cover every pixel changed since the previous frame of this
            screen (from XDamage, say): the rest of the frame is not even read. A pixel
            changed outside them is not recorded.
        pixel_format : str, optional
            Overrides the writer's ``pixel_format`` for this frame.

        Raises
        ------
        SchemaError
            Wrong type, dtype, shape, channel count or layout.
        LimitError
            A side above 16384.

        Examples
        --------
        >>> import numpy as np, tempfile, os, encoder
        >>> path = os.path.join(tempfile.mkdtemp(), "frames.enc")
        >>> image = np.zeros((40, 50, 4), np.uint8)
        >>> with encoder.ShardWriter(path) as w:
        ...     w.add_frame(0, image)
        ...     image[3, 7] = 255
        ...     w.add_frame(100_000, image)
        >>> r = encoder.ShardReader(path)
        >>> r.frame_count(), bool((r.frame(1) == image).all())
        (2, True)
        """
        self._check_open()
        writer = self._frame_writer
        if writer is None:
            writer = self._frame_writer = FrameWriter(self, self._frame_options or FrameOptions())
        writer.add(t_us, image, screen, changed, pixel_format)

    def flush_frames(self) -> None:
        """Hand every frame added so far to the shard writer (pages first, then frame rows)."""
        if self._frame_writer is not None:
            self._frame_writer.flush()

    def frame_writer_stats(self) -> dict:
        """Counters of the frame pipeline: frames, changed and new tiles, pages, raw page bytes."""
        return {"frames": 0} if self._frame_writer is None else self._frame_writer.report()

    def finish_frames(self) -> None:
        """Write every frame added so far and free the frame pipeline's memory (its content
        store, the previous frames); no frame can be added afterwards. ``close()`` does it too."""
        if self._frame_writer is not None:
            self._frame_writer.close()


class ReaderFrames:
    """Frame access of :class:`~encoder.shard.ShardReader`."""

    _frame_reader = None

    def _frames(self) -> FrameReader:
        reader = self._frame_reader
        if reader is None:
            reader = self._frame_reader = FrameReader(self)
        return reader

    def configure_frame_cache(self, cache_bytes: int = 256 << 20, *, parallel: bool | None = None,
                              backend: str | None = None) -> None:
        """Bound the decoded-page cache (bytes per tile store) and pick the kernels.

        ``parallel`` assembles frames on all Numba threads (default: when there are
        several); ``backend`` is ``'native'`` or ``'reference'`` (default: ``encoder.backend``).
        """
        if self._frame_reader is not None:
            self._frame_reader.close()
        self._frame_reader = FrameReader(self, cache_bytes=cache_bytes, backend=backend, parallel=parallel)

    def drop_frame_cache(self) -> None:
        """Forget every decoded page and grid (the frame index stays): the next frame is read
        cold, as the first request for it in a fresh process would be (benchmarks)."""
        if self._frame_reader is not None:
            self._frame_reader.drop_caches()

    def frame_count(self, screen: int = 0) -> int:
        """Frames of ``screen`` in the shard."""
        return len(self._frames().index.rows(screen))

    def frame_screens(self) -> list[int]:
        """Screens that have frames."""
        return sorted(self._frames().index.rows_of)

    def frame_times(self, screen: int = 0) -> np.ndarray:
        """Times (int64 microseconds) of the frames of ``screen``, in the order written."""
        reader = self._frames()
        return reader.index.times.get(int(screen), np.zeros(0, np.int64)).copy()

    def frame_info(self, index: int, screen: int = 0) -> dict:
        """``t``, ``screen``, ``width``, ``height``, ``format`` and ``tile`` of one frame."""
        reader = self._frames()
        return reader.index.info(reader.index.row(index, screen))

    def frame(self, index: int, screen: int = 0, *, out: np.ndarray | None = None) -> np.ndarray:
        """Frame ``index`` of ``screen``, bit-exact: ``uint8`` HxWx4, HxWx3 or HxW as written.

        ``out`` (C-contiguous, of the frame's shape) is filled instead of a new array.
        """
        reader = self._frames()
        row = reader.index.row(index, screen)
        if out is not None:
            shape = reader.index.shape(row)
            if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != shape \
                    or not out.flags.c_contiguous or not out.flags.writeable:
                raise EncoderError(f"out must be a writeable C-contiguous uint8 array of shape {shape}")
        return reader.frame(row, out)

    def frame_with_mask(self, index: int, screen: int = 0, *, fill: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``index`` of ``screen`` even when some of its tiles were lost, and where.

        Returns ``(frame, mask)``: the frame with every lost tile set to ``fill``, and
        ``bool[H, W]``, True on the lost pixels (all False when nothing was lost). Only a
        shard that a repair found damaged loses tiles (:attr:`lost`, :meth:`lost_frames`);
        :meth:`frame` raises :class:`~encoder.errors.CorruptShardError` for such a frame.
        """
        reader = self._frames()
        return reader.frame_with_mask(reader.index.row(index, screen), fill)

    def lost_frames(self, screen: int = 0) -> np.ndarray:
        """Indices of the frames of ``screen`` that need tiles of lost pages (a repair dropped
        damaged tile pages; every other frame decodes exactly). Empty for a sound shard, at no cost."""
        reader = self._frames()
        rows = reader.index.rows(screen)
        lost = reader.lost_rows(rows.tolist())
        return np.searchsorted(rows, np.array(lost, np.int64)).astype(np.int64)

    def frames(self, indices, screen: int = 0) -> np.ndarray:
        """Several frames of ``screen`` in one call: ``uint8[len(indices), H, W(, C)]``.

        The pages of all of them are decoded once, in parallel. They must share one shape.
        """
        reader = self._frames()
        rows = [reader.index.row(i, screen)
                for i in np.asarray(indices).reshape(-1).tolist()]
        return reader.frames(rows)

    def iter_frames(self, start: int = 0, stop: int | None = None, screen: int = 0, *, copy: bool = True):
        """Frames ``start``..``stop - 1`` of ``screen`` in order, decoded incrementally.

        Each frame after the first costs only the tiles that changed (plus a copy of the
        frame with ``copy=True``); ``copy=False`` yields one reused buffer, valid until the
        next frame (the fastest way to stream a recording).

        Examples
        --------
        >>> import numpy as np, tempfile, os, encoder
        >>> path = os.path.join(tempfile.mkdtemp(), "frames.enc")
        >>> with encoder.ShardWriter(path) as w:
        ...     for k in range(3):
        ...         w.add_frame(k * 100_000, np.full((20, 30), k, np.uint8))
        >>> [int(f[0, 0]) for f in encoder.ShardReader(path).iter_frames()]
        [0, 1, 2]
        """
        reader = self._frames()
        rows = reader.index.rows(screen)
        return reader.iter_frames(rows[slice(start, stop)].tolist(), copy)

    def frame_at(self, t_us: int, screen: int = 0) -> np.ndarray:
        """The last frame of ``screen`` with ``t <= t_us``; IndexError when there is none."""
        reader = self._frames()
        return reader.frame(reader.index.row(reader.index.at(int(t_us), screen), screen))

    def frame_index_at(self, t_us: int, screen: int = 0) -> int:
        """Index of the frame :meth:`frame_at` returns."""
        return self._frames().index.at(int(t_us), screen)

    def frame_stats(self) -> dict:
        """Frames per screen, unique tiles, stored bytes, bytes per frame (for ``encoder inspect``).

        Every value is a number except ``frames_per_screen`` (screen -> frames) and
        ``screen_info`` (screen -> size, format, first and last time).
        """
        stored = {"tile": 0, "frame": 0}
        for b in self.blocks:
            if b.stream in stored:
                stored[b.stream] += b.stored_bytes
        return self._frames().stats(stored)

    def _verify_frames(self) -> dict:
        """Decode every page and every frame of every screen; returns frames per screen.

        Raises :class:`~encoder.errors.CorruptShardError` on the first fault. Frames that need
        tiles of lost pages are skipped when the shard declares its losses (:attr:`lost`: a
        repair zeroed and listed them), and are a fault otherwise.
        """
        reader = self._frames()
        reader.read_pages()
        counts = {}
        for s, rows in sorted(reader.index.rows_of.items()):
            frames = reader.iter_frames(rows.tolist(), copy=False, skip_lost=bool(self.lost))
            counts[s] = sum(1 for f in frames if f is not None)
        return counts

