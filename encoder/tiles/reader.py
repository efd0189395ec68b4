"""The read side of the screen tiles: frame index, grid cursors, page cache, assembly.

A request for frame ``i`` of a screen reads one block of the ``frame`` stream (its grid
column, cached), applies the grids of that screen from the block's key row up to row
``i`` (a cursor per screen makes sequential reads apply one delta each), then decodes the
pages that hold the frame's tiles and are not cached yet (in parallel: zstd releases the
GIL) and copies the tiles into the output with :func:`encoder.tiles._numba.assemble`
(parallel, without the GIL). Only the pages a request needs are read; the page cache is
bounded (``cache_bytes``) and evicts the least recently used page.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..errors import CorruptShardError, EncoderError
from . import kernels
from .layout import CHANNELS, FORMAT_NAMES, GRID_KEY, MAX_SIDE, MAX_TILE, MIN_TILE, TILE, grid_shape



class _Helpers:
    """Threads that take bands of a frame (or pages) while the caller works through them too.

    Tasks are claimed from a shared counter, so a helper that the OS has not scheduled yet
    (another process holds the core) costs nothing: the caller takes every task, cancels
    the helper's turn, and waits only for tasks a helper has already begun. An OpenMP
    parallel region, whose barrier waits for every thread, took 8 ms instead of 0.7 on this
    2-core machine whenever another process kept one core busy. One set of helpers serves
    every reader of the process (their threads sleep when idle).
    """

    def __init__(self, count: int):
        self.count = count
        self.pool = ThreadPoolExecutor(count, thread_name_prefix="encoder-frames-read")
        self.checked, self.spare = 0.0, count

    def _spare(self) -> int:
        """Helpers worth waking: cores left idle by the load average (checked once a second).

        A helper that another process keeps off its core makes the caller wait for a time
        slice whenever it has begun a task; on a busy machine the caller works alone.
        """
        now = time.monotonic()
        if now - self.checked > 1.0:
            self.checked = now
            try:
                self.spare = max(0, min(self.count, int(self.count + 1 - os.getloadavg()[0] + 0.5)))
            except OSError:  # pragma: no cover - no load average on this platform
                self.spare = self.count
        return self.spare

    def run(self, tasks: list) -> list:
        results = [0] * len(tasks)
        claim = itertools.count()  # next() is atomic under the GIL

        def work():
            while (i := next(claim)) < len(tasks):
                results[i] = tasks[i]()
        futures = [self.pool.submit(work) for _ in range(min(self._spare(), len(tasks) - 1))]
        try:
            work()
        finally:
            for future in futures:
                if not future.cancel():
                    future.result()
        return results


_helpers: _Helpers | None = None
_helpers_lock = threading.Lock()


def _shared_helpers() -> _Helpers | None:
    """The process's helpers (``cores - 1`` threads), or None on one core."""
    global _helpers
    with _helpers_lock:
        if _helpers is None and _cores() > 1:
            _helpers = _Helpers(_cores() - 1)
        return _helpers


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class _Store:
    """Pages of one (channels, tile) store and the cache of their decoded bytes."""
    channels: int
    tile: int
    firsts: np.ndarray   # first id of each page, ascending from 0 without a gap
    counts: np.ndarray
    blocks: np.ndarray   # block of the ``tile`` stream holding each page
    slots: np.ndarray = None   # pool row of each page, -1 when not cached
    pool: np.ndarray = None
    lru: OrderedDict = field(default_factory=OrderedDict)   # page -> slot, oldest first
    free: list = field(default_factory=list)
    valid: np.ndarray = None   # bytes of each cached page decoded so far (a prefix, or all)

    @property
    def tile_bytes(self) -> int:
        return self.tile * self.tile * self.channels

    @property
    def total(self) -> int:
        return int(self.firsts[-1] + self.counts[-1]) if len(self.firsts) else 0


@dataclass
class _Block:
    """Grid blobs of one block of the ``frame`` stream, and a decoding cursor per screen."""
    offsets: np.ndarray
    data: np.ndarray
    cursors: dict = field(default_factory=dict)   # screen -> (row in block, ids)

    def blob(self, r: int) -> np.ndarray:
        return self.data[self.offsets[r]:self.offsets[r + 1]]


class FrameReader:
    """Frame access of one :class:`~encoder.shard.ShardReader` (created on first use)."""

    def __init__(self, shard, *, cache_bytes: int = 256 << 20, backend: str | None = None,
                 parallel: bool | None = None):
        self.shard, self.cache_bytes = shard, cache_bytes
        self.k = kernels.load(backend)
        if parallel is None:
            parallel = _cores() > 1
        # the name, not `self.k.assemble_bands`: that would load the Numba tile kernels already
        self.helpers = _shared_helpers() if parallel and self.k.name == "native" else None
        self.lock = threading.RLock()
        self.blocks: OrderedDict[int, _Block] = OrderedDict()
        self.max_blocks = 8
        self._index_frames()
        self._index_pages()

    # -- indexes ------------------------------------------------------------------------
    def _bad(self, message: str, stream: str = "frame") -> CorruptShardError:
        return CorruptShardError(message, shard=self.shard.name, stream=stream)

    def _index_frames(self) -> None:
        shard = self.shard
        if "frame" not in shard.streams:
            cols = {c: np.zeros(0, np.int64) for c in ("t", "screen", "width", "height", "format", "tile")}
            sizes = []
        else:
            table = shard.read("frame", ["t", "screen", "width", "height", "format", "tile"])
            cols = {c: table.column(c).to_numpy() for c in table.column_names}
            sizes = shard.block_rows("frame")
        self.t = cols["t"].astype(np.int64)
        self.screen = cols["screen"].astype(np.int64)
        self.width = cols["width"].astype(np.int64)
        self.height = cols["height"].astype(np.int64)
        self.format = cols["format"].astype(np.int64)
        self.tile = cols["tile"].astype(np.int64)
        if len(self.t):
            if ((self.width < 1) | (self.width > MAX_SIDE) | (self.height < 1) | (self.height > MAX_SIDE)).any():
                raise self._bad(f"a frame's size lies outside [1, {MAX_SIDE}]")
            if ((self.tile < MIN_TILE) | (self.tile > MAX_TILE)).any():
                raise self._bad(f"a frame's tile size lies outside [{MIN_TILE}, {MAX_TILE}]")
            if not np.isin(self.format, list(CHANNELS)).all():
                raise self._bad("unknown pixel format code")
        starts = np.zeros(len(sizes) + 1, np.int64)
        np.cumsum(sizes, out=starts[1:])
        self.block_of = np.repeat(np.arange(len(sizes)), sizes)
        self.row_in_block = np.arange(len(self.t)) - starts[self.block_of] if len(self.t) else self.t
        self.block_start = starts
        self.rows_of = {int(s): np.flatnonzero(self.screen == s) for s in np.unique(self.screen)}
        self.times = {s: self.t[rows] for s, rows in self.rows_of.items()}
        self.sorted = {s: bool(len(t) < 2 or (np.diff(t) >= 0).all()) for s, t in self.times.items()}

    def _index_pages(self) -> None:
        self.stores: dict[tuple, _Store] = {}
        shard = self.shard
        if "tile" not in shard.streams:
            return
        sizes = shard.block_rows("tile")
        if any(s != 1 for s in sizes):
            raise self._bad("a block of the tile stream holds more than one page", "tile")
        names = ["channels", "tile", "first", "count"]
        cols = self._constants("tile", names)
        if cols is None:
            table = shard.read("tile", names)
            cols = {c: table.column(c).to_numpy().astype(np.int64) for c in names}
        blocks = np.arange(len(sizes))
        for ch, tile in sorted(set(zip(cols["channels"].tolist(), cols["tile"].tolist()))):
            if ch not in (1, 3, 4) or not MIN_TILE <= tile <= MAX_TILE:
                raise self._bad(f"page of {ch} channels, {tile} px tiles", "tile")
            mine = (cols["channels"] == ch) & (cols["tile"] == tile)
            firsts, counts = cols["first"][mine], cols["count"][mine]
            expect = np.concatenate([[0], np.cumsum(counts)[:-1]])
            if not np.array_equal(firsts, expect) or (counts < 1).any():
                raise self._bad(f"pages of the ({ch}, {tile}) store do not number tiles 0, 1, 2, ...", "tile")
            self.stores[(ch, tile)] = _Store(ch, tile, firsts, counts, blocks[mine],
                                             np.full(len(firsts), -1, np.int32))

    def _constants(self, stream: str, names: list) -> dict | None:
        """Columns of a stream whose blocks hold one row each, read from the block index.

        A one-row block stores each integer column as a constant in its descriptor, so the
        page index of a long session (hundreds of pages) needs no decoding at all; None when
        the shard is laid out otherwise (then the caller reads the columns).
        """
        try:
            spec = self.shard._schemas[stream]
            blocks = self.shard._blocks[stream]
            where = [[c.name for c in spec.columns].index(n) for n in names]
            out = {n: np.empty(len(blocks), np.int64) for n in names}
            for b, desc in enumerate(blocks):
                if desc["rows"] != 1:
                    return None
                for n, i in zip(names, where):
                    params = desc["columns"][i][0]
                    if params.get("c") != "const" or type(params.get("v")) is not int:
                        return None
                    out[n][b] = params["v"]
            return out
        except (AttributeError, KeyError, TypeError, ValueError, IndexError, OverflowError):
            return None

    # -- public queries -----------------------------------------------------------------
    def rows(self, screen: int) -> np.ndarray:
        return self.rows_of.get(int(screen), np.zeros(0, np.int64))

    def row(self, index: int, screen: int) -> int:
        rows = self.rows(screen)
        n = len(rows)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"frame index must be an integer, not {type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"screen {screen} has {n} frames, no frame {index}")
        return int(rows[index])

    def at(self, t_us: int, screen: int) -> int:
        """Index (within the screen) of the last frame with ``t <= t_us``."""
        times = self.times.get(int(screen))
        if times is None or not len(times):
            raise IndexError(f"screen {screen} has no frames")
        if self.sorted[int(screen)]:
            i = int(np.searchsorted(times, t_us, side="right")) - 1
        else:  # times not monotonic: the latest time <= t_us, the last written of equals
            ok = np.flatnonzero(times <= t_us)
            i = int(ok[np.flatnonzero(times[ok] == times[ok].max())[-1]]) if len(ok) else -1
        if i < 0:
            raise IndexError(f"screen {screen} has no frame at or before t={t_us} (first at {int(times.min())})")
        return i

    def shape(self, row: int) -> tuple:
        ch = CHANNELS[int(self.format[row])]
        h, w = int(self.height[row]), int(self.width[row])
        return (h, w) if ch == 1 else (h, w, ch)

    def info(self, row: int) -> dict:
        return {"t": int(self.t[row]), "screen": int(self.screen[row]), "width": int(self.width[row]),
                "height": int(self.height[row]), "format": FORMAT_NAMES[int(self.format[row])],
                "tile": int(self.tile[row])}

    # -- grids --------------------------------------------------------------------------
    def _block(self, b: int) -> _Block:
        block = self.blocks.get(b)
        if block is not None:
            self.blocks.move_to_end(b)
            return block
        column = self.shard.read_block("frame", b, ["grid"]).column("grid").combine_chunks()
        n = len(column)
        buffers = column.buffers()
        offsets = np.frombuffer(buffers[1], np.int32)[column.offset:column.offset + n + 1].astype(np.int64)
        data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        expected = int(self.block_start[b + 1] - self.block_start[b])
        if n != expected:
            raise self._bad(f"frame block {b} holds {n} grids, the index {expected}")
        block = self.blocks[b] = _Block(offsets, data)
        if len(self.blocks) > self.max_blocks:
            self.blocks.popitem(last=False)
        return block

    def _store_of(self, row: int) -> _Store:
        key = (CHANNELS[int(self.format[row])], int(self.tile[row]))
        store = self.stores.get(key)
        if store is None:
            raise self._bad(f"frame row {row} uses a ({key[0]} channels, {key[1]} px) store that has no pages")
        return store

    def ids(self, row: int) -> np.ndarray:
        """Tile ids of frame row ``row`` (a view that the next call may overwrite)."""
        b, r = int(self.block_of[row]), int(self.row_in_block[row])
        block = self._block(b)
        screen = int(self.screen[row])
        base = int(self.block_start[b])
        cursor = block.cursors.get(screen)
        if cursor is not None and cursor[0] == r:
            return cursor[1]
        mine = [q for q in range(r + 1) if self.screen[base + q] == screen]
        if cursor is not None and cursor[0] < r:
            todo, ids = [q for q in mine if q > cursor[0]], cursor[1]
        else:  # start from the last key row at or before r
            start = next((q for q in reversed(mine) if block.blob(q)[:1].tolist() == [GRID_KEY]), None)
            if start is None:
                raise self._bad(f"frame block {b}: no key grid before row {r} of screen {screen}")
            todo, ids = [q for q in mine if q >= start], None
        for q in todo:
            g = base + q
            store = self._store_of(g)
            rows, cols = grid_shape(int(self.height[g]), int(self.width[g]), int(self.tile[g]))
            blob = block.blob(q)
            if ids is None or (blob[:1].tolist() == [GRID_KEY] and len(ids) != rows * cols):
                ids = np.empty(rows * cols, np.int64)
            if len(ids) != rows * cols:
                raise self._bad(f"frame row {g}: a delta grid changes the frame size")
            self.k.decode_grid(blob, ids, store.total)
            block.cursors[screen] = (q, ids)
        return ids

    # -- pages --------------------------------------------------------------------------
    def _read_page(self, store: _Store, page: int, into: np.ndarray | None = None,
                   prefix: int | None = None) -> np.ndarray:
        """The bytes of ``page`` (verified), decompressed into ``into`` when given; with
        ``prefix``, at least its first ``prefix`` bytes (all when the page is not stored as
        one plain chunk).

        Safe to call from several threads at once: the shard's chunk source keeps one zstd
        decompressor per thread. A page stored as the container's plain one-chunk binary value (what the
        writer produces) is decompressed straight into ``into``; anything else takes the
        container's general column decoder.
        """
        b = int(store.blocks[page])
        size = int(store.counts[page]) * store.tile_bytes
        where = f"page {page} (block {b} of the tile stream)"
        source = self.shard._chunks  # one zstd decompressor per thread (ChunkSource)
        desc = self.shard._blocks["tile"][b]
        index = [c.name for c in TILE.columns].index("page")
        params, chunks = desc["columns"][index]
        if into is not None and params == {"c": "bytes", "len": {"c": "const", "v": size}, "nb": 1} \
                and len(chunks) == 1 and chunks[0][2] == size:
            number = sum(len(c[1]) for c in desc["columns"][:index])
            want = size if prefix is None else min(size, prefix)
            source.section(desc["offset"], chunks[0], "tile", "page", into=memoryview(into)[:size],
                           number=number, prefix=None if want == size else want)
            return into[:want]
        column = source.columns(desc["offset"], desc, self.shard._schemas["tile"], ["page"])["page"]
        buffers = column.buffers()
        offset_type = np.int64 if column.type in (pa.large_binary(), pa.large_string()) else np.int32
        offsets = np.frombuffer(buffers[1], offset_type)[column.offset:column.offset + 2]
        data = np.frombuffer(buffers[2], np.uint8)[offsets[0]:offsets[1]] if buffers[2] is not None else None
        if data is None or len(data) != size:
            raise self._bad(f"{where} holds {0 if data is None else len(data)} bytes, {size} expected", "tile")
        if into is not None:
            into[:size] = data
        return data

    def _reserve(self, store: _Store) -> None:
        if store.pool is None:
            page_bytes = int(store.counts.max()) * store.tile_bytes
            slots = max(1, min(len(store.counts), self.cache_bytes // page_bytes))
            store.pool = np.empty((slots, page_bytes), np.uint8)
            store.free = list(range(slots))[::-1]
            store.valid = np.zeros(len(store.counts), np.int64)

    def _load(self, store: _Store, pages: np.ndarray, need: np.ndarray) -> None:
        """Make the first ``need[i]`` tiles of each of ``pages`` (at most the pool's slots)
        resident, evicting other pages (LRU).

        A page not cached is decompressed only as far as needed (a random frame needs the
        start of most of its pages: about 30 % fewer bytes on a 10-minute desktop session);
        a cached page asked for beyond its prefix is decompressed whole, once. Missing pages
        are decompressed in parallel (zstd releases the GIL), each straight into its slot.
        """
        self._reserve(store)
        todo = []  # (page, slot, bytes wanted or None for all)
        for p, n in zip(pages.tolist(), need.tolist()):
            slot = int(store.slots[p])
            if slot >= 0:
                store.lru.move_to_end(p)
                if store.valid[p] < n * store.tile_bytes:
                    todo.append((p, slot, None))
            else:
                todo.append((p, -1, n * store.tile_bytes))
        if not todo:
            return
        taken = []
        for p, slot, _ in todo:  # cached prefixes to extend: not resident until decoded again
            if slot >= 0:
                store.slots[p] = -1
                del store.lru[p]
                taken.append(slot)
        for i, (p, slot, want) in enumerate(todo):
            if slot < 0:
                if not store.free:
                    old, freed = store.lru.popitem(last=False)
                    store.slots[old] = -1
                    store.free.append(freed)
                slot = store.free.pop()
                taken.append(slot)
                todo[i] = (p, slot, want)
        tasks = [(lambda p=p, slot=slot, want=want: len(self._read_page(store, p, store.pool[slot], want)))
                 for p, slot, want in todo]
        try:
            if self.helpers is not None and len(tasks) > 1:
                sizes = self.helpers.run(tasks)
            else:
                sizes = [task() for task in tasks]
        except BaseException:
            store.free.extend(taken)  # nothing half-loaded stays resident
            raise
        for (p, slot, _), size in zip(todo, sizes):
            store.slots[p] = slot
            store.lru[p] = slot
            store.valid[p] = size

    def assemble(self, row: int, ids: np.ndarray, out: np.ndarray, positions: np.ndarray | None = None) -> None:
        """Write the frame of ``row`` (tile ids ``ids``) into ``out`` (its rows of bytes).

        With ``positions``, ``out`` already holds a frame that differs only there: only those
        tiles are copied (sequential reads: a few tiles per frame instead of 8 MB).
        """
        store = self._store_of(row)
        marks = np.zeros(len(store.firsts), np.int32)
        self.k.mark_pages(ids if positions is None else ids[positions], store.firsts, marks)
        needed = np.flatnonzero(marks)
        self._reserve(store)
        capacity = store.pool.shape[0]
        ch, tile = store.channels, store.tile
        for start in range(0, max(1, len(needed)), capacity):  # one pass unless the pages exceed the cache
            self._load(store, needed[start:start + capacity], marks[needed[start:start + capacity]])
            if positions is not None:
                missing = self.k.assemble_at(out, ids, positions, tile, ch, store.firsts, store.slots, store.pool)
            elif self.helpers is not None and out.size >= (1 << 18):  # parallel for frames above 256 KB
                missing = self.k.assemble_bands(out, ids, tile, ch, store.firsts, store.slots, store.pool,
                                                4 * (self.helpers.count + 1), self.helpers.run)
            else:
                missing = self.k.assemble(out, ids, tile, ch, store.firsts, store.slots, store.pool)
            if start + capacity >= len(needed) and missing and len(needed) <= capacity:
                raise EncoderError(f"internal: {missing} tiles of frame row {row} not resident")

    def same_layout(self, a: int, b: int) -> bool:
        """Whether rows ``a`` and ``b`` have the same size, format and tile size."""
        return (self.width[a], self.height[a], self.format[a], self.tile[a]) == \
            (self.width[b], self.height[b], self.format[b], self.tile[b])

    def iter_frames(self, rows: list[int], copy: bool = True):
        """Frames of ``rows`` (ascending, one screen) decoded incrementally into one buffer.

        Each frame after the first copies only the tiles whose ids differ from the previous
        one. ``copy=False`` yields that buffer itself (valid until the next frame).
        """
        buf, last, last_ids = None, None, None
        for row in rows:
            with self.lock:
                ids = self.ids(row)
                shape = self.shape(row)
                if buf is None or buf.shape != shape or not self.same_layout(last, row):
                    buf = np.empty(shape, np.uint8)
                    self.assemble(row, ids, buf.reshape(shape[0], -1))
                else:
                    changed = np.flatnonzero(ids != last_ids)
                    if len(changed):
                        self.assemble(row, ids, buf.reshape(shape[0], -1), changed)
                last, last_ids = row, ids.copy()
            yield buf.copy() if copy else buf

    def pages_for(self, rows_ids: list) -> None:
        """Prefetch (in parallel) the pages of several frames when they fit the cache together."""
        by_store: dict[tuple, np.ndarray] = {}
        for row, ids in rows_ids:
            store = self._store_of(row)
            key = (store.channels, store.tile)
            marks = by_store.setdefault(key, np.zeros(len(store.firsts), np.int32))
            self.k.mark_pages(ids, store.firsts, marks)
        for key, marks in by_store.items():
            store = self.stores[key]
            self._reserve(store)
            needed = np.flatnonzero(marks)
            if len(needed) <= store.pool.shape[0]:
                self._load(store, needed, marks[needed])

    # -- frames -------------------------------------------------------------------------
    def frame(self, row: int, out: np.ndarray | None = None) -> np.ndarray:
        with self.lock:
            shape = self.shape(row)
            if out is None:
                out = np.empty(shape, np.uint8)
            ids = self.ids(row)
            self.assemble(row, ids, out.reshape(shape[0], -1))
            return out

    def frames(self, rows: list[int]) -> np.ndarray:
        with self.lock:
            shapes = {self.shape(r) for r in rows}
            if len(shapes) > 1:
                raise EncoderError(f"frames of different shapes {sorted(shapes)}: read them one by one "
                                   "with frame()")
            shape = shapes.pop() if shapes else (0, 0)
            out = np.empty((len(rows), *shape), np.uint8)
            order = sorted(range(len(rows)), key=lambda j: rows[j])  # grids decode forward
            ids = {}
            for j in order:
                if rows[j] not in ids:
                    ids[rows[j]] = self.ids(rows[j]).copy()
            self.pages_for(list(ids.items()))
            prev = None  # the previous frame of the batch, when the same screen and layout
            for j in order:
                row = rows[j]
                target = out[j].reshape(shape[0], -1)
                if prev is not None and self.screen[prev[0]] == self.screen[row] and self.same_layout(prev[0], row):
                    changed = np.flatnonzero(ids[row] != ids[prev[0]])
                    if len(changed) * 4 < len(ids[row]):  # a few tiles: copy the frame, patch them
                        target[...] = out[prev[1]].reshape(shape[0], -1)
                        if len(changed):
                            self.assemble(row, ids[row], target, changed)
                        prev = (row, j)
                        continue
                self.assemble(row, ids[row], target)
                prev = (row, j)
            return out

    def read_pages(self) -> int:
        """Decode every page once (verification); returns how many."""
        count = 0
        for store in self.stores.values():
            for p in range(len(store.firsts)):
                self._read_page(store, p)
                count += 1
        return count

    def drop_caches(self) -> None:
        """Forget the cached pages and grids (the frame index stays)."""
        with self.lock:
            self.blocks.clear()
            for store in self.stores.values():  # the pool's memory is kept, its contents forgotten
                store.lru = OrderedDict()
                store.free = [] if store.pool is None else list(range(store.pool.shape[0]))[::-1]
                store.slots[:] = -1

    def close(self) -> None:
        """Release the page pools (the reader stays usable: they come back on demand)."""
        self.drop_caches()
        with self.lock:
            for store in self.stores.values():
                store.pool, store.free = None, []
