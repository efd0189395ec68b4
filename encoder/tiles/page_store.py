"""The frame thread's tile stores: content stores, the pages written, and what bounds random access.

One content store per (channels, tile size) holds the shard's tiles for lookup (a hash, then
a byte comparison: ``encoder._tiles.TileStore``); new tiles fill its open page, and a full
page is handed to the writer (``write_page``). To keep a random frame's read cheap, each
screen's latest frame is tracked page by page: between refreshes a lookup accepts a tile only
from the screen's own pages or the ``reach_pages`` most recent ones (those only while the frame
uses fewer than ``page_budget`` pages), and every
``refresh_frames`` frames the tiles of the pages a frame uses least (base positions and pane
cells counted) are stored again until it needs at most ``page_budget`` pages: the base tiles
from the caller's next frame, the panes' from the content store (docs/tiles.md has the
measurements).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa


def page_array(data: bytes) -> pa.Array:
    """A page's bytes as a one-row binary column, without a copy (``pa.array`` copies the
    2 MiB into a new buffer: a memcpy and, with the recorder's allocator settings, 512 fresh
    pages to fault in per page)."""
    offsets = pa.py_buffer(np.array([0, len(data)], np.int32))
    return pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)])


@dataclass
class _Usage:
    """Frame-thread view of one screen: the ids of its latest frame and the pages they use."""
    ids: np.ndarray     # per position
    pages: np.ndarray   # page (index in the store) of each position's tile
    uses: np.ndarray    # positions per page
    dirty: bool = True  # changed since the last refresh check


class PageStores:
    """The stores of one frame writer, keyed by ``(channels, tile)``; used by its frame thread only.

    ``write_page(store_id, store)`` writes the open page of a store (the writer's, which also
    records it here with :meth:`page_written`).
    """

    def __init__(self, kernels, options, write_page: Callable):
        self.k, self.options, self._write_page = kernels, options, write_page
        self.stores: dict[tuple, object] = {}
        self.store_t: dict[tuple, int] = {}        # time of the last tile added, per store
        self.page_firsts: dict[tuple, list] = {}   # first id of every page written, per store
        self.firsts_cache: dict[tuple, np.ndarray] = {}
        self.usage: dict[int, _Usage] = {}         # each screen's latest ids and their pages
        self.since_refresh: dict[int, int] = {}    # frames of each screen since its last refresh check

    def page_written(self, store_id: tuple, first: int) -> None:
        self.page_firsts.setdefault(store_id, []).append(first)

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the content stores."""
        return sum(getattr(s, "memory_bytes", 0) for s in self.stores.values())

    def store(self, channels: int):
        store_id = (channels, self.options.tile)
        store = self.stores.get(store_id)
        if store is None:
            tile_bytes = self.options.tile ** 2 * channels
            store = self.stores[store_id] = self.k.TileStore(
                tile_bytes, max(1, self.options.store_bytes // tile_bytes),
                max(1, self.options.page_bytes // tile_bytes), self.options.hash_mask)
        return store_id, store

    def firsts(self, store_id: tuple, store) -> np.ndarray:
        """First id of every page of a store: the written ones, then the open one."""
        written = self.page_firsts.setdefault(store_id, [])
        cached = self.firsts_cache.get(store_id)
        if cached is None or len(cached) != len(written) + 1 or cached[-1] != store.page_first:
            cached = self.firsts_cache[store_id] = np.array(written + [store.page_first], np.int64)
        return cached

    def _min_id(self, store_id: tuple, store) -> int:
        """Lowest id a lookup may return outside the screen's pages: the first id of the
        oldest of the ``reach_pages`` most recent pages (the open one included)."""
        reach = self.options.reach_pages
        if not reach:
            return 0
        firsts = self.firsts(store_id, store)
        return int(firsts[max(0, len(firsts) - reach)])

    def add_tiles(self, store_id: tuple, store, tiles: np.ndarray, t: int, usage: _Usage | None,
                   fresh: bool = False) -> np.ndarray:
        """Ids of ``tiles`` (new ones go to the open page, full pages are written).

        A tile found in a page beyond reach is stored again unless the screen's latest frame
        already uses that page. ``fresh``: every tile not already in the open page is stored
        again (a refresh).
        """
        count = len(tiles)
        ids = np.empty(count, np.int64)
        pos = 0
        while pos < count:
            if fresh:
                pos = store.add(tiles, ids, pos, store.page_first)
            elif self.options.reach_pages and usage is not None:
                firsts = self.firsts(store_id, store)
                allowed = np.zeros(len(firsts), np.uint8)
                allowed[:len(usage.uses)] = usage.uses[:len(firsts)] > 0
                # recent pages only while the screen's frame uses fewer than page_budget pages
                at_budget = self.options.page_budget and int(allowed.sum()) + 1 >= self.options.page_budget
                pos = store.add(tiles, ids, pos, store.page_first if at_budget else self._min_id(store_id, store),
                                firsts, allowed)
            else:
                pos = store.add(tiles, ids, pos, self._min_id(store_id, store))
            self.store_t[store_id] = t
            if pos < count:  # the page filled up mid-frame
                self._write_page(store_id, store)
        return ids

    def _evicted(self, firsts: np.ndarray, usage: _Usage, pane_pages: list) -> np.ndarray | None:
        """bool per page of the store: the pages a refresh stores again, those that the fewest
        cells of this frame use (base positions and pane cells, ``pane_pages`` their pages), until
        the frame needs at most ``page_budget`` pages (the open page included; ``firsts``: the
        store's pages); None: none."""
        uses = np.zeros(len(firsts), np.int64)
        uses[:len(usage.uses)] = usage.uses[:len(firsts)]
        for pages in pane_pages:
            uses += np.bincount(pages, minlength=len(firsts))
        uses[-1] = 0  # the open page is needed anyway
        used = np.flatnonzero(uses)
        excess = len(used) + 1 - self.options.page_budget
        if excess <= 0:
            return None
        evict = np.zeros(len(firsts), bool)
        evict[used[np.argsort(uses[used], kind="stable")[:excess]]] = True
        return evict

    def store_again(self, store_id: tuple, store, ids: np.ndarray, t: int) -> np.ndarray:
        """New ids for the tiles ``ids`` stored again in the open page (a refresh of cells the
        caller will not send again: a pane's), -1 for those the content store no longer holds."""
        tiles = np.empty((len(ids), store.tile_bytes), np.uint8)
        held = store.copy_tiles(ids, tiles)
        out = np.full(len(ids), -1, np.int64)
        out[held] = self.add_tiles(store_id, store, tiles[held], t, None, fresh=True)
        return out

    def track(self, store_id: tuple, store, screen: int, positions: np.ndarray, ids: np.ndarray, full: bool):
        """Record a screen's new ids and the pages they lie in."""
        firsts = self.firsts(store_id, store)
        pages = (np.searchsorted(firsts, ids, side="right") - 1).astype(np.int32)
        usage = self.usage.get(screen)
        if full or usage is None:
            self.usage[screen] = _Usage(ids.copy(), pages, np.bincount(pages, minlength=len(firsts)).astype(np.int32))
            return
        if len(usage.uses) < len(firsts):
            usage.uses = np.concatenate([usage.uses, np.zeros(len(firsts) - len(usage.uses), np.int32)])
        n = len(usage.uses)  # bincount: ufunc.at costs ~30 us a call here
        gained = np.bincount(pages, minlength=n) - np.bincount(usage.pages[positions], minlength=n)
        usage.uses += gained.astype(np.int32)
        usage.pages[positions] = pages
        usage.ids[positions] = ids
        usage.dirty = True

    def plan_refresh(self, store_id: tuple, store, screen: int, full: bool, panes: dict) -> tuple | None:
        """Every ``refresh_frames`` frames of a screen, what to store again: ``(positions whose
        tiles its next frame should bring again, or None; {pane number: its cells (flat) to
        store again now}``), or None (no refresh due, or nothing to refresh). ``full``: the
        frame just processed was a full grid (it restarts the count); ``panes``: the screen's
        panes after it (their cells keep the ids of the pages they scrolled in with)."""
        if not self.options.page_budget:
            return None
        count = 0 if full else self.since_refresh.get(screen, 0) + 1
        self.since_refresh[screen] = count
        usage = self.usage.get(screen)
        if count < self.options.refresh_frames or usage is None:
            return None
        self.since_refresh[screen] = 0
        firsts = self.firsts(store_id, store)
        if not panes and not usage.dirty and len(firsts) <= len(usage.uses) + 1:
            return None  # same pages as at the last check
        usage.dirty = False
        numbers = sorted(panes)
        pane_pages = [np.searchsorted(firsts, panes[n].ids.reshape(-1), side="right") - 1 for n in numbers]
        evict = self._evicted(firsts, usage, pane_pages)
        if evict is None:
            return None
        stale = np.flatnonzero(evict[usage.pages]).astype(np.int32)
        cells = {n: np.flatnonzero(evict[pages]) for n, pages in zip(numbers, pane_pages)}
        return (stale if len(stale) else None), {n: c for n, c in cells.items() if len(c)}
