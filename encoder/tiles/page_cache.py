"""The read side's page cache: which pages hold which tiles, and their decoded bytes.

A tile id is found in its store's pages by the pages' first ids (``firsts``); a page is a
one-row block of the ``tile`` stream. Decoded pages live in one pool per store (a row per
page slot), evicted least recently used first; a page is decompressed only as far as a frame
needs (a random frame needs the start of most of its pages), and several pages at once on the
process's helper threads (zstd releases the GIL).
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

from ..errors import CorruptShardError
from .layout import MAX_PAGE_BYTES, MAX_TILE, MAX_TILE_ID, MIN_TILE


class Helpers:
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


_helpers: Helpers | None = None
_helpers_lock = threading.Lock()


def shared_helpers() -> Helpers | None:
    """The process's helpers (``cores - 1`` threads), or None on one core."""
    global _helpers
    with _helpers_lock:
        if _helpers is None and cores() > 1:
            _helpers = Helpers(cores() - 1)
        return _helpers


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class CachedStore:
    """The pages of one (channels, tile) store and the cache of their decoded bytes.

    Ids run 0, 1, 2, ... across the pages. A shard that lost pages (a repair dropped damaged
    blocks) has gaps: each gap, and everything after the last page, is a *lost* page here
    (``blocks`` -1, never cached), so that every id a grid may hold has a page, and a frame
    that needs a lost page is found before any tile is copied.
    """
    channels: int
    tile: int
    firsts: np.ndarray   # first id of each page, ascending, without a gap (lost pages fill them)
    counts: np.ndarray
    blocks: np.ndarray   # block of the ``tile`` stream holding each page; -1: a lost page
    slots: np.ndarray = None   # pool row of each page, -1 when not cached
    pool: np.ndarray = None
    lru: OrderedDict = field(default_factory=OrderedDict)   # page -> slot, oldest first
    free: list = field(default_factory=list)
    valid: np.ndarray = None   # bytes of each cached page decoded so far (a prefix, or all)

    def __post_init__(self):
        # the pages never change: whether they have gaps is known once (asked on every frame)
        self.lost = self.blocks < 0           # which pages are lost (bool per page)
        self.damaged = bool(self.lost.any())

    @property
    def tile_bytes(self) -> int:
        return self.tile * self.tile * self.channels

    @property
    def limit(self) -> int:
        """Ids a grid of this store may hold are below this."""
        return int(self.firsts[-1] + self.counts[-1]) if len(self.firsts) else 0

    @property
    def tiles(self) -> int:
        """Tiles stored in the pages that are there."""
        return int(self.counts[~self.lost].sum())

    def lost_ranges(self, pages) -> list[tuple[int, int]]:
        """The id ranges ``[first, end)`` of some lost pages (for messages)."""
        return [(int(self.firsts[p]), int(self.firsts[p] + self.counts[p])) for p in pages]


def index_pages(shard) -> dict[tuple, CachedStore]:
    """The stores of a shard's ``tile`` stream, keyed by ``(channels, tile)``, each with the
    first id, tile count and block of every page (checked: ascending ids without overlaps).

    Pages missing from the numbering become lost pages (:class:`CachedStore`); so does every
    id after the last page when the shard declares lost regions (``shard.lost``) or has gaps.
    """
    stores: dict[tuple, CachedStore] = {}
    if "tile" not in shard.streams:
        return stores

    def bad(message: str) -> CorruptShardError:
        return CorruptShardError(message, shard=shard.name, stream="tile")
    sizes = shard.block_rows("tile")
    if any(s != 1 for s in sizes):
        raise bad("a block of the tile stream holds more than one page")
    names = ["channels", "tile", "first", "count"]
    cols = shard.block_constants("tile", names)
    if cols is None:
        table = shard.read("tile", names)
        cols = {c: table.column(c).to_numpy().astype(np.int64) for c in names}
    blocks = np.arange(len(sizes))
    for ch, tile in sorted(set(zip(cols["channels"].tolist(), cols["tile"].tolist()))):
        if ch not in (1, 3, 4) or not MIN_TILE <= tile <= MAX_TILE:
            raise bad(f"page of {ch} channels, {tile} px tiles")
        mine = (cols["channels"] == ch) & (cols["tile"] == tile)
        firsts, counts = cols["first"][mine], cols["count"][mine]
        ends = firsts + counts
        if (counts < 1).any() or (firsts < 0).any() or (ends[:-1] > firsts[1:]).any() or ends[-1] > MAX_TILE_ID + 1:
            raise bad(f"pages of the ({ch}, {tile}) store overlap or are out of order")
        if int(counts.max()) > max(1, MAX_PAGE_BYTES // (tile * tile * ch)):  # no writer makes more
            raise bad(f"a page of the ({ch}, {tile}) store claims {int(counts.max())} tiles: more than "
                      f"{MAX_PAGE_BYTES} bytes")
        firsts, counts, where = _fill_gaps(firsts, counts, blocks[mine], bool(shard.lost))
        stores[(ch, tile)] = CachedStore(ch, tile, firsts, counts, where, np.full(len(firsts), -1, np.int32))
    return stores


def _fill_gaps(firsts: np.ndarray, counts: np.ndarray, blocks: np.ndarray, lost: bool) -> tuple:
    """Pages with a lost page in each gap of the numbering, and after the last page when
    anything was lost (a grid may then hold ids past the pages that are left)."""
    starts = np.concatenate([[0], firsts[:-1] + counts[:-1]])
    gaps = np.flatnonzero(firsts > starts)
    if not len(gaps) and not lost:
        return firsts, counts, blocks
    firsts = np.insert(firsts, gaps, starts[gaps])
    counts = np.insert(counts, gaps, firsts[gaps + np.arange(1, len(gaps) + 1)] - starts[gaps])
    blocks = np.insert(blocks, gaps, -1)
    end = int(firsts[-1] + counts[-1])
    if end <= MAX_TILE_ID:  # ids up to the largest a grid can hold
        firsts, counts, blocks = (np.append(firsts, end), np.append(counts, MAX_TILE_ID + 1 - end),
                                  np.append(blocks, -1))
    return firsts, counts, blocks


class PageCache:
    """Decoded pages of a shard's tile stores, bounded to ``cache_bytes`` per store (LRU).

    ``shard`` is the block reader of the shard (a :class:`~encoder.shard.ShardReader`): it
    needs ``name``, ``streams``, ``read``, ``block_rows``, ``block_constants`` and
    ``read_value_into``. ``helpers`` (or None) decompress several pages at once.
    """

    def __init__(self, shard, cache_bytes: int, helpers: Helpers | None):
        self.shard, self.cache_bytes, self.helpers = shard, cache_bytes, helpers
        self.stores = index_pages(shard)

    def read_page(self, store: CachedStore, page: int, into: np.ndarray | None = None,
                  prefix: int | None = None) -> np.ndarray:
        """The bytes of ``page`` (verified), decompressed into ``into`` when given; with
        ``prefix``, at least its first ``prefix`` bytes.

        Safe to call from several threads at once (the shard keeps one zstd decompressor per
        thread); the shard decompresses a page stored as one plain chunk straight into ``into``.
        """
        size = int(store.counts[page]) * store.tile_bytes
        data = self.shard.read_value_into("tile", int(store.blocks[page]), "page",
                                          None if into is None else into[:size], prefix)
        if len(data) != size and prefix is None:
            raise CorruptShardError(f"page {page} holds {len(data)} bytes, {size} expected", shard=self.shard.name,
                                    stream="tile", column="page")
        return data

    def reserve(self, store: CachedStore) -> None:
        if store.pool is None:
            page_bytes = int(store.counts[~store.lost].max(initial=1)) * store.tile_bytes
            slots = max(1, min(len(store.counts), self.cache_bytes // page_bytes))
            store.pool = np.empty((slots, page_bytes), np.uint8)
            store.free = list(range(slots))[::-1]
            store.valid = np.zeros(len(store.counts), np.int64)

    def load(self, store: CachedStore, pages: np.ndarray, need: np.ndarray, whole: bool = False) -> None:
        """Make the first ``need[i]`` tiles of each of ``pages`` (at most the pool's slots)
        resident, evicting other pages (LRU).

        A page not cached is decompressed only as far as needed (a random frame needs the
        start of most of its pages: about 30 % fewer bytes on a 10-minute desktop session),
        or whole with ``whole`` (a sequential read soon needs the rest: decoding a prefix
        first would decode it twice); a cached page asked for beyond its prefix is
        decompressed whole, once. Missing pages are decompressed in parallel (zstd releases
        the GIL), each straight into its slot.
        """
        self.reserve(store)
        todo = []  # (page, slot, bytes wanted or None for all)
        for p, n in zip(pages.tolist(), need.tolist()):
            slot = int(store.slots[p])
            if slot >= 0:
                store.lru.move_to_end(p)
                if store.valid[p] < n * store.tile_bytes:
                    todo.append((p, slot, None))
            else:
                todo.append((p, -1, None if whole else n * store.tile_bytes))
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
        tasks = [(lambda p=p, slot=slot, want=want: len(self.read_page(store, p, store.pool[slot], want)))
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

    def retain(self, store: CachedStore, keep: np.ndarray, recent: int = 8) -> None:
        """Evict the cached pages of ``store`` other than ``keep`` (page numbers) and the
        ``recent`` latest pages cached: their slots are reused before the pool's memory grows.

        For sequential reads (:meth:`FrameReader.iter_frames`): a frame's tiles come from the
        pages its predecessor uses or from the latest pages (the writer's rules), so the pages
        a frame does not use are done with. Memory the pool has not used yet is slow to touch
        (on the bench VM, 5.5 ms per 2 MiB slot on top of the page's 1-1.3 ms of decoding).
        """
        if len(store.lru) <= len(keep) + recent:
            return
        kept = set(keep.tolist()) | set(sorted(store.lru)[-recent:])
        for page in [p for p in store.lru if p not in kept]:
            store.free.append(store.lru.pop(page))
            store.slots[page] = -1

    def read_all(self) -> int:
        """Decode every page once (verification); returns how many."""
        count = 0
        for store in self.stores.values():
            for p in np.flatnonzero(~store.lost).tolist():
                self.read_page(store, p)
                count += 1
        return count

    def drop(self) -> None:
        """Forget every cached page (the pools' memory is kept, their contents forgotten)."""
        for store in self.stores.values():
            store.lru = OrderedDict()
            store.free = [] if store.pool is None else list(range(store.pool.shape[0]))[::-1]
            store.slots[:] = -1

    def release(self) -> None:
        """Forget every cached page and give the pools' memory back (they return on demand)."""
        self.drop()
        for store in self.stores.values():
            store.pool, store.free = None, []
