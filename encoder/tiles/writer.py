"""The capture side of the screen tiles: frames in, tile pages and frame rows out.

Work is split in two:

1. On the caller's thread (:meth:`FrameWriter.add`): validate, compare the frame with the
   previous frame of its screen (``stage``: one memcmp per band of tile rows when nothing
   changed there), copy the changed tiles out (``gather``), then look every changed tile up
   in the shard-wide content store (hash, then a byte comparison), give new tiles ids and
   pack them into pages (``_process``). The caller may reuse its buffer as soon as
   ``add_frame`` returns. The GIL is released during the kernels.
2. On the shard writer's thread: compress pages (zstd, level 3 by default) and frame
   blocks, and write them.

``background=True`` moves the lookups to an ``encoder-frames`` thread: 0.1-0.9 ms more CPU
per frame on the corpus (hand-offs, the GIL), refreshes a variable number of frames late.

Ordering keeps a crash harmless: a frame row is written only after every page holding its
tiles, and pages and rows are flushed at the latest ``flush_seconds`` after a frame arrived.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..backends import tile_kernels
from ..errors import EncoderError, LimitError, SchemaError
from .layout import (DEFAULT_TILE, FORMATS, FRAME, MAX_PAGE_BYTES, MAX_SCREEN, MAX_TILE, MIN_TILE, TILE,
                     grid_shape, hint_candidates, image_layout)
from .motion import Motion, PaneIds
from .page_store import PageStores, page_array
from .panes import encode_section, join
from .staging import Staging

_STOP = object()
_ALL_BITS = (1 << 64) - 1
#: Unchanged frames batched before the frame thread is woken, and their longest wait.
_BATCH, _BATCH_SECONDS = 16, 1.0


@dataclass
class FrameOptions:
    """Settings of a writer's frames (see :meth:`encoder.shard.frames.WriterFrames.configure_frames`)."""
    tile: int = DEFAULT_TILE
    pixel_format: str | None = None   # of 4-channel input; None: 'bgra' (mss, X11); 3 channels: 'rgb'
    level: int = 3
    page_bytes: int = MAX_PAGE_BYTES
    store_bytes: int = 64 << 20
    block_frames: int = 32            # a random frame applies up to this many grids (see docs/tiles.md)
    page_budget: int = 6              # refreshes keep a frame within this many pages (0: no refresh)
    refresh_frames: int = 16          # frames of a screen between refreshes
    reach_pages: int = 6              # hits outside these recent pages and the screen's own are copied
    motion: bool = True               # scrolled content keeps its tiles (panes, format 1.3)
    max_pending_bytes: int = 32 << 20
    background: bool = False          # lookups on an encoder-frames thread (the shard writer's must be on)
    backend: str | None = None        # None: encoder.backends.NAME
    hash_mask: int = _ALL_BITS        # tests force collisions with 0

    def check(self) -> None:
        if not MIN_TILE <= self.tile <= MAX_TILE:
            raise LimitError(f"tile must be in [{MIN_TILE}, {MAX_TILE}] pixels, not {self.tile}")
        if self.pixel_format is not None and self.pixel_format not in FORMATS:
            raise SchemaError(f"pixel_format must be one of {sorted(FORMATS)}, not {self.pixel_format!r}")
        if not 1 <= self.page_bytes <= MAX_PAGE_BYTES:
            raise LimitError(f"page_bytes must be in [1, {MAX_PAGE_BYTES}], not {self.page_bytes}")
        if self.store_bytes < 1 or self.max_pending_bytes < 1:
            raise LimitError("store_bytes and max_pending_bytes must be positive")
        if not 1 <= self.block_frames <= 65536:
            raise LimitError(f"block_frames must be in [1, 65536], not {self.block_frames}")
        if self.reach_pages < 0 or self.page_budget < 0 or self.refresh_frames < 1:
            raise LimitError("reach_pages and page_budget must be >= 0 (0: unbounded), refresh_frames >= 1")
        if not -7 <= self.level <= 22:
            raise LimitError(f"level must be a zstd level in [-7, 22], not {self.level}")


@dataclass
class _Screen:
    """Caller-side state of one screen: its geometry and its previous frame."""
    height: int
    width: int
    code: int
    prev: np.ndarray
    motion: Motion | None = None


@dataclass
class _Item:
    """One staged frame, handed from the caller to the frame thread."""
    t: int
    screen: int
    width: int
    height: int
    code: int
    channels: int
    positions: np.ndarray
    tiles: np.ndarray
    full: bool
    nbytes: int = 0   # staged bytes, counted against max_pending_bytes
    fresh_positions: np.ndarray | None = None   # tiles to store again (a refresh asked for them)
    fresh_tiles: np.ndarray | None = None
    panes: list | None = None         # pane updates (encoder.tiles.motion.Motion.stage)


@dataclass
class _Row:
    """A frame whose tiles have ids; it waits for its pages, then for its block."""
    item: _Item
    ids: np.ndarray
    max_id: int
    store: tuple
    since: float
    changes: list | None = None       # (number, Pane or None) of the panes this frame changed
    panes: dict | None = None         # the screen's panes after this frame


@dataclass
class _Emitted:
    """Ids of the last written frame of a screen (the base of the next delta grid)."""
    ids: np.ndarray
    panes: dict


class FrameWriter:
    """Frame pipeline of one shard writer (created on the first frame).

    ``sink`` is where its blocks go (a :class:`~encoder.shard.ShardWriter`): it needs
    ``name``, ``declare(stream, level=, block_rows=)``, ``write_block(stream, columns)``
    (thread-safe), ``background`` and ``flush_seconds``; nothing else of the shard.
    """

    def __init__(self, sink, options: FrameOptions):
        options.check()
        self.sink, self.options = sink, options
        self.k = tile_kernels(options.backend)
        self.screens: dict[int, _Screen] = {}
        self.pages = PageStores(self.k, options, self._write_page)
        self.waiting: list[_Row] = []     # rows whose pages are not all written yet
        self.ready: list[_Row] = []       # rows that may be written, in order
        self.emitted: dict[int, _Emitted] = {}
        self.pane_ids: dict[int, PaneIds] = {}   # frame thread: each screen's panes
        self.refresh_requests: dict[int, tuple] = {}  # screen -> ((h, w, code), positions): frame thread -> caller
        self.flush_seconds = sink.flush_seconds
        self.stats = {"frames": 0, "changed_tiles": 0, "new_tiles": 0, "pages": 0, "page_bytes": 0,
                      "frame_blocks": 0, "grid_bytes": 0, "peak_pending_bytes": 0, "refreshed_tiles": 0}
        self.error: BaseException | None = None
        self.pending_bytes = 0
        self.cond = threading.Condition()
        self.add_lock = threading.Lock()  # add_frame may come from one capture thread per screen
        self.batch: list[_Item] = []      # unchanged frames not yet handed to the frame thread
        self.batch_since = 0.0
        self.closed = False
        background = options.background
        if background and not sink.background:
            raise EncoderError("frames can be encoded in the background only if the shard writer is "
                               "(ShardWriter(background=True))")
        self.queue: queue.Queue | None = None
        self.staging = Staging(self.k, 0) if background else Staging(self.k)  # see encoder.tiles.staging
        if background:
            self.queue = queue.Queue()
            self.thread = threading.Thread(target=self._run, name="encoder-frames", daemon=True)
            self.thread.start()
        sink.declare(TILE, level=options.level, block_rows=1)
        sink.declare(FRAME, level=options.level, block_rows=options.block_frames)

    # -- caller's thread ----------------------------------------------------------------
    def add(self, t_us, image, screen: int, changed, pixel_format: str | None) -> None:
        with self.add_lock:
            if self.closed:
                raise EncoderError("the shard's frames are finished (finish_frames or close): no frame "
                                   "can be added", shard=self.sink.name)
            self._add(t_us, image, screen, changed, pixel_format)

    def _add(self, t_us, image, screen: int, changed, pixel_format: str | None) -> None:
        self.raise_pending()
        if isinstance(t_us, (bool, np.bool_)) or not isinstance(t_us, (int, np.integer)):
            raise SchemaError(f"t_us must be an integer (microseconds), not {type(t_us).__name__}",
                              stream="frame", column="t")
        t = int(t_us)
        if not -(1 << 63) <= t < (1 << 63):
            raise SchemaError(f"t_us {t} does not fit int64", stream="frame", column="t")
        if isinstance(screen, (bool, np.bool_)) or not isinstance(screen, (int, np.integer)) \
                or not 0 <= screen <= MAX_SCREEN:
            raise SchemaError(f"screen must be an integer in [0, {MAX_SCREEN}], not {screen!r}",
                              stream="frame", column="screen")
        screen = int(screen)
        rows, height, width, code, channels = image_layout(
            image, pixel_format, self.options.pixel_format or "bgra")
        tile = self.options.tile
        candidates = None if changed is None else hint_candidates(changed, height, width, tile)
        state = self.screens.get(screen)
        fresh_positions = fresh_tiles = panes = tiles = None
        self.staging.start()
        if state is None or (state.height, state.width, state.code) != (height, width, code):
            motion = Motion(self.k, height, width, channels, tile, self.staging) if self.options.motion else None
            state = self.screens[screen] = _Screen(height, width, code, np.array(rows, copy=True), motion)
            rows_n, cols_n = grid_shape(height, width, tile)
            positions = np.arange(rows_n * cols_n, dtype=np.int32)
            full = True
        else:
            if candidates is not None and not candidates.any():
                positions = np.empty(0, np.int32)  # the hint says nothing changed: nothing to read
            elif state.motion is not None:
                positions, tiles, panes = state.motion.stage(rows, state.prev, candidates)
            else:
                positions = self.k.stage(rows, state.prev, channels, tile, candidates)
            full = False
            request = self.refresh_requests.pop(screen, None)  # set by the frame thread
            if request is not None and request[0] == (height, width, code):
                # tiles the frame thread wants stored again, taken from this frame (unchanged
                # outside `positions`, and the new content inside)
                fresh_positions = request[1]
                fresh_tiles = self.staging.gather(rows, channels, tile, fresh_positions)
        if tiles is None:
            tiles = self.staging.gather(rows, channels, tile, positions)
        item = _Item(t, screen, width, height, code, channels, positions, tiles, full, 0,
                     fresh_positions, fresh_tiles, panes or None)
        if self.queue is None:
            self._process(item)
            return
        item.nbytes = positions.nbytes + tiles.nbytes + 64 + (0 if fresh_tiles is None else fresh_tiles.nbytes)
        item.nbytes += sum(op[-1].nbytes for op in panes or () if op[0] == "set")
        # Unchanged frames travel to the frame thread in batches: waking it costs more CPU
        # than such a frame's whole processing there (0.1 ms against 0.01 on this machine).
        self.batch.append(item)
        if len(self.batch) == 1:
            self.batch_since = time.monotonic()
        if len(item.positions) or item.full or item.panes or fresh_positions is not None \
                or len(self.batch) >= _BATCH \
                or time.monotonic() - self.batch_since >= _BATCH_SECONDS:
            self._send()

    def _send(self) -> None:
        """Hand the batched items to the frame thread (waits while it is far behind)."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        size = sum(i.nbytes for i in batch)
        with self.cond:  # bounded memory
            while self.pending_bytes and self.pending_bytes + size > self.options.max_pending_bytes \
                    and self.error is None:
                self.cond.wait()
            self.pending_bytes += size
            self.stats["peak_pending_bytes"] = max(self.stats["peak_pending_bytes"], self.pending_bytes)
        self.queue.put(batch)

    def flush(self) -> None:
        """Write every page and frame row accepted so far (returns when handed to the shard)."""
        if self.closed:
            return
        if self.queue is None:  # the lookups run in add_frame, maybe on another thread
            with self.add_lock:
                self._flush_all()
        else:
            with self.add_lock:
                self._send()
            done = threading.Event()
            self.queue.put(done)
            while not done.wait(0.1):
                if not self.thread.is_alive():
                    break
        self.raise_pending()

    def flush_due(self) -> None:
        """Without a frame thread: write the pages and rows waiting ``flush_seconds`` or longer.
        The shard writer calls it on its own writes, so rows are not held back while no frame
        comes (a paused screen); a frame being added checks the time itself."""
        if self.queue is not None or self.closed or not self.add_lock.acquire(blocking=False):
            return
        try:
            if self.error is None and self._due():
                self._flush_all()
        finally:
            self.add_lock.release()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.queue is not None:
            with self.add_lock:
                self._send()
            if self.thread.is_alive():
                self.queue.put(threading.Event())
                self.queue.put(_STOP)
                self.thread.join()
            if not self.queue.empty() and self.error is None:
                self.error = EncoderError("internal: the frame thread stopped with frames left",
                                          shard=self.sink.name)
        elif self.error is None:
            with self.add_lock:
                self._flush_all()
        # Nothing more can be added: give the content store and the previous frames back now,
        # not when the shard writer is collected (a recorder rotating its shards would hold
        # two of each for a while).
        self.pages, self.screens = PageStores(self.k, self.options, self._write_page), {}
        self.raise_pending()

    def raise_pending(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    # -- frame thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:  # wake up to honour flush_seconds even when no frame arrives
                item = self.queue.get(timeout=self.flush_seconds)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is None:
                try:
                    if self.error is None and self._due():
                        self._flush_all()
                except BaseException as exc:
                    self.error = exc
                continue
            try:
                if self.error is None:
                    if isinstance(item, threading.Event):
                        self._flush_all()
                    else:
                        for one in item:
                            self._process(one)
            except BaseException as exc:  # reported to the caller on its next call
                self.error = exc
            finally:
                if isinstance(item, threading.Event):
                    item.set()
                else:
                    with self.cond:
                        self.pending_bytes -= sum(one.nbytes for one in item)
                        self.cond.notify_all()

    def _process(self, item: _Item) -> None:
        pages = self.pages
        store_id, store = pages.store(item.channels)
        usage = None if item.full else pages.usage.get(item.screen)
        before = store.next_id
        changed = len(item.tiles)
        if item.full:
            self.pane_ids[item.screen] = PaneIds(self.options.tile)
        changes, top = None, -1
        if item.panes:  # before the base grid is tracked: new panes take the previous frame's ids
            def add(tiles):
                return pages.add_tiles(store_id, store, tiles, item.t, None)
            changes = self.pane_ids[item.screen].apply(item.panes, usage.ids, grid_shape(
                item.height, item.width, self.options.tile), add)
            top = max((int(p.ids.max()) for _, p in changes if p is not None), default=-1)
        if changed or item.full:
            ids = pages.add_tiles(store_id, store, item.tiles, item.t, usage)
            pages.track(store_id, store, item.screen, item.positions, ids, item.full)
        else:  # an unchanged frame: a row with an empty delta
            ids = np.empty(0, np.int64)
        if item.fresh_positions is not None and usage is not None:
            more = item.fresh_positions
            fresh = pages.add_tiles(store_id, store, item.fresh_tiles, item.t, usage, fresh=True)
            pages.track(store_id, store, item.screen, more, fresh, False)
            self.stats["refreshed_tiles"] += len(more)
            keep = ~np.isin(item.positions, more)  # a refreshed position takes its fresh id
            positions = np.concatenate([item.positions[keep], more])
            order = np.argsort(positions, kind="stable")
            item.positions, ids = positions[order], np.concatenate([ids[keep], fresh])[order]
        item.fresh_positions = item.fresh_tiles = item.tiles = item.panes = None  # staged copies are done with
        if store.page_count == store.page_tiles:
            self._write_page(store_id, store)
        self.stats["frames"] += 1
        self.stats["changed_tiles"] += changed
        self.stats["new_tiles"] += store.next_id - before
        refresh = pages.plan_refresh(store_id, store, item.screen, item.full, self.pane_ids[item.screen].panes)
        if refresh is not None and refresh[0] is not None:  # the caller takes these from the screen's next frame
            self.refresh_requests[item.screen] = ((item.height, item.width, item.code), refresh[0])
        if refresh is not None and refresh[1]:  # the panes' now, from the content store
            changes, count = self.pane_ids[item.screen].refresh(
                refresh[1], changes, lambda old: pages.store_again(store_id, store, old, item.t))
            self.stats["refreshed_tiles"] += count
            top = max([top] + [int(p.ids.max()) for _, p in changes if p is not None])
        panes = self.pane_ids[item.screen].panes
        self.waiting.append(_Row(item, ids, max(top, int(ids.max()) if len(ids) else -1), store_id,
                                 time.monotonic(), changes, panes))
        self._release()
        if self._due():
            self._flush_all()

    def _due(self) -> bool:
        """Whether the oldest row not written yet has waited ``flush_seconds``."""
        rows = self.ready or self.waiting
        return self.flush_seconds is not None and bool(rows) \
            and time.monotonic() - rows[0].since >= self.flush_seconds

    def _release(self) -> None:
        """Move rows whose pages are all written to ``ready``; write full blocks."""
        while self.waiting and self.waiting[0].max_id < self.pages.stores[self.waiting[0].store].page_first:
            self.ready.append(self.waiting.pop(0))
        size = self.options.block_frames
        while len(self.ready) >= size:
            self._write_frames(self.ready[:size])
            del self.ready[:size]

    def _flush_all(self) -> None:
        for store_id, store in self.pages.stores.items():
            if store.page_count:
                self._write_page(store_id, store)
        self._release()
        if self.ready:
            self._write_frames(self.ready)
            self.ready = []

    def _write_page(self, store_id: tuple, store) -> None:
        first, count, data = store.take_page()
        self.pages.page_written(store_id, first)
        self.stats["pages"] += 1
        self.stats["page_bytes"] += len(data)
        columns = {"t": [self.pages.store_t.get(store_id, 0)], "channels": [store_id[0]], "tile": [store_id[1]]}
        self.sink.write_block(TILE, dict(columns, first=[first], count=[count], page=page_array(data)))

    def _write_frames(self, rows: list[_Row]) -> None:
        grids, seen = [], set()
        for row in rows:
            item = row.item
            state = self.emitted.get(item.screen)
            if item.full or state is None:
                state = self.emitted[item.screen] = _Emitted(row.ids, {})
            else:
                state.ids[item.positions] = row.ids
            if item.full or item.screen not in seen:  # a full row defines every pane afresh
                section = encode_section(sorted(row.panes.items()), {}, self.k) if row.panes else None
                grids.append(join(section, self.k.encode_full(state.ids)))
            else:
                section = encode_section(row.changes, state.panes, self.k) if row.changes else None
                grids.append(join(section, self.k.encode_delta(item.positions, row.ids)))
            state.panes = row.panes
            seen.add(item.screen)
        self.stats["frame_blocks"] += 1
        self.stats["grid_bytes"] += sum(len(g) for g in grids)
        items = [r.item for r in rows]
        self.sink.write_block(FRAME, {
            "t": np.array([i.t for i in items], np.int64),
            "screen": np.array([i.screen for i in items], np.uint8),
            "width": np.array([i.width for i in items], np.int32),
            "height": np.array([i.height for i in items], np.int32),
            "format": np.array([i.code for i in items], np.uint8),
            "tile": np.full(len(items), self.options.tile, np.uint16),
            "grid": pa.array(grids, pa.binary()),
        })

    def unwritten_bytes(self) -> int:
        """Raw bytes not handed to the shard yet: staged frames and the open pages' tiles."""
        pages = sum(store.page_count * self.options.tile ** 2 * store_id[0]
                    for store_id, store in list(self.pages.stores.items()))
        return self.pending_bytes + pages

    def report(self) -> dict:
        """Counters of the pipeline, with the memory its content stores and previous frames hold."""
        stats = [s.motion.stats for s in self.screens.values() if s.motion]
        motion = {key: sum(m[key] for m in stats) for key in (stats[0] if stats else ())}
        return dict(self.stats, **motion, store_memory_bytes=self.pages.memory_bytes,
                    previous_frame_bytes=sum(s.prev.nbytes for s in self.screens.values()))
