"""The read side of the screen tiles: grid cursors and frame assembly over the page cache.

A request for frame ``i`` of a screen reads one block of the ``frame`` stream (its grid
column, cached), applies the grids of that screen from the block's full row up to row
``i`` (a cursor per screen makes sequential reads apply one delta each), then has the page
cache (:mod:`.page_cache`) decode the pages that hold the frame's tiles and are not cached
yet, and copies the tiles into the output with :func:`encoder.tiles._numba.assemble`
(parallel, without the GIL). The frame index (:mod:`.frame_index`) says where each frame lies.
"""
from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..backends import tile_kernels
from ..errors import CorruptShardError, EncoderError
from .frame_index import FrameIndex
from .layout import CHANNELS, GRID_FULL, candidates_of, grid_shape
from .page_cache import CachedStore, PageCache, cores, shared_helpers
from .pane_draw import PaneCanvas
from .panes import GRID_FULL_PANES, all_ids, apply_section, split


@dataclass
class _Block:
    """Grid blobs of one block of the ``frame`` stream, and a decoding cursor per screen."""
    offsets: np.ndarray
    data: np.ndarray
    screens: np.ndarray                             # screen of each row
    cursors: dict = field(default_factory=dict)   # screen -> (row in block, ids, panes)
    mine: dict = field(default_factory=dict)      # screen -> its rows in the block (list)

    def rows_of(self, screen: int) -> list:
        rows = self.mine.get(screen)
        if rows is None:
            rows = self.mine[screen] = np.flatnonzero(self.screens == screen).tolist()
        return rows

    def blob(self, r: int) -> np.ndarray:
        return self.data[self.offsets[r]:self.offsets[r + 1]]


class FrameReader:
    """Frame access of one shard (created on first use by :class:`~encoder.shard.ShardReader`).

    ``shard`` is the shard's block reader: ``name``, ``streams``, ``read``, ``read_block``,
    ``block_rows``, ``block_constants`` and ``read_value_into``; nothing else of the shard.
    """

    def __init__(self, shard, *, cache_bytes: int = 256 << 20, backend: str | None = None,
                 parallel: bool | None = None):
        self.shard = shard
        self.k = tile_kernels(backend)
        if parallel is None:
            parallel = cores() > 1
        # the name, not `self.k.assemble_bands`: that would load the Numba tile kernels already
        self.helpers = shared_helpers() if parallel and self.k.name == "native" else None
        self.lock = threading.RLock()
        self.blocks: OrderedDict[int, _Block] = OrderedDict()
        self.max_blocks = 8
        self.index = FrameIndex(shard)
        self.pages = PageCache(shard, cache_bytes, self.helpers)

    def _bad(self, message: str, stream: str = "frame") -> CorruptShardError:
        return CorruptShardError(message, shard=self.shard.name, stream=stream)

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
        expected = int(self.index.block_start[b + 1] - self.index.block_start[b])
        if n != expected:
            raise self._bad(f"frame block {b} holds {n} grids, the index {expected}")
        start = int(self.index.block_start[b])
        block = self.blocks[b] = _Block(offsets, data, self.index.screen[start:start + n])
        if len(self.blocks) > self.max_blocks:
            self.blocks.popitem(last=False)
        return block

    def _store_of(self, row: int) -> CachedStore:
        store_id = (CHANNELS[int(self.index.format[row])], int(self.index.tile[row]))
        store = self.pages.stores.get(store_id)
        if store is None:
            raise self._bad(f"frame row {row} uses a ({store_id[0]} channels, {store_id[1]} px) store that has no pages")
        return store

    def ids(self, row: int) -> np.ndarray:
        """Tile ids of frame row ``row``'s base grid (a view that the next call may overwrite)."""
        return self.grid(row)[0]

    def grid(self, row: int) -> tuple[np.ndarray, dict]:
        """(base ids, panes) of frame row ``row``; the ids are a view that the next call may overwrite."""
        b, r = int(self.index.block_of[row]), int(self.index.row_in_block[row])
        block = self._block(b)
        screen = int(self.index.screen[row])
        base = int(self.index.block_start[b])
        cursor = block.cursors.get(screen)
        if cursor is not None and cursor[0] == r:
            return cursor[1], cursor[2]
        mine = block.rows_of(screen)
        mine = mine[:bisect.bisect_right(mine, r)]
        if cursor is not None and cursor[0] < r:
            todo, ids, panes = mine[bisect.bisect_right(mine, cursor[0]):], cursor[1], cursor[2]
        else:  # start from the last full row at or before r
            start = next((q for q in reversed(mine) if block.blob(q)[:1].tolist()
                          in ([GRID_FULL], [GRID_FULL_PANES])), None)
            if start is None:
                raise self._bad(f"frame block {b}: no full grid before row {r} of screen {screen}")
            todo, ids, panes = [q for q in mine if q >= start], None, {}
        for q in todo:
            g = base + q
            store = self._store_of(g)
            height, width, tile = int(self.index.height[g]), int(self.index.width[g]), int(self.index.tile[g])
            rows, cols = grid_shape(height, width, tile)

            def bad(message, g=g):
                return self._bad(f"frame row {g}: {message}")
            section, blob = split(block.blob(q), bad)
            full = blob[:1].tolist() == [GRID_FULL]
            if ids is None or (full and len(ids) != rows * cols):
                ids = np.empty(rows * cols, np.int64)
            if len(ids) != rows * cols:
                raise self._bad(f"frame row {g}: a delta grid changes the frame size")
            self.k.decode_grid(blob, ids, store.limit)
            if full:
                panes = {}
            if section is not None:
                panes = apply_section(section, panes, self.k, store.limit, width, height, tile, bad)
            block.cursors[screen] = (q, ids, panes)
        return ids, panes

    def lost_positions(self, row: int, ids: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray | None:
        """Positions (among ``positions``, default all) whose tiles lie in lost pages, or None
        when there are none (always None unless the shard lost pages: no cost then)."""
        store = self._store_of(row)
        if not store.damaged:
            return None
        chosen = ids if positions is None else ids[positions]
        hit = store.lost[np.searchsorted(store.firsts, chosen, side="right") - 1]
        if not hit.any():
            return None
        return np.flatnonzero(hit) if positions is None else positions[hit]

    def lost_error(self, row: int, ids: np.ndarray, lost: np.ndarray) -> CorruptShardError:
        """The error of a frame that needs tiles of lost pages: which frame, how many tiles,
        which pages (by tile ids) and that the other frames are unaffected."""
        store = self._store_of(row)
        pages = np.unique(np.searchsorted(store.firsts, ids[lost], side="right") - 1)
        ranges = ", ".join(f"[{a}, {b})" for a, b in store.lost_ranges(pages[:4].tolist()))
        screen = int(self.index.screen[row])
        index = int(np.searchsorted(self.index.rows(screen), row))
        return CorruptShardError(
            f"frame {index} of screen {screen} needs {len(lost)} tiles of {len(pages)} lost page(s) "
            f"(tile ids {ranges}{', ...' if len(pages) > 4 else ''}): a repair dropped them as damaged; "
            "frames that do not use them decode exactly (frame_with_mask fills the missing tiles)",
            shard=self.shard.name, stream="tile")

    def assemble(self, row: int, ids: np.ndarray, out: np.ndarray, positions: np.ndarray | None = None,
                 lost: np.ndarray | None = None, panes: dict | None = None, canvas: PaneCanvas | None = None,
                 whole: bool = False) -> None:
        """Write the frame of ``row`` (tile ids ``ids``) into ``out`` (its rows of bytes).

        With ``positions``, ``out`` already holds a frame that differs only there: only those
        tiles are copied (sequential reads: a few tiles per frame instead of 8 MB). ``lost``:
        the positions whose tiles are lost (:meth:`lost_positions`), left as ``out`` holds them;
        a frame that needs lost tiles is refused unless the caller passes them so. ``panes``
        are drawn over the base grid (through ``canvas``, which keeps them between frames).
        ``whole``: decode the pages it needs whole (sequential reads, see ``PageCache.load``).
        """
        store = self._store_of(row)
        if panes:
            self._panes_not_lost(row, store, panes)
        missing_ok = 0
        if store.damaged:
            found = self.lost_positions(row, ids, positions)
            if found is not None and (lost is None or not np.isin(found, lost).all()):
                raise self.lost_error(row, ids, found)
            missing_ok = 0 if found is None else len(found)
        marks = self._marks(store, ids if positions is None else ids[positions], panes or {})
        needed = np.flatnonzero(marks)
        if store.damaged:  # a lost page is never read (its mark may even have wrapped)
            needed = needed[~store.lost[needed]]
        self.pages.reserve(store)
        capacity = store.pool.shape[0]
        ch, tile = store.channels, store.tile
        if canvas is not None and positions is not None and panes:
            canvas.shift(out, panes, ch)  # before the base tiles overwrite what it moves
        for start in range(0, max(1, len(needed)), capacity):  # one pass unless the pages exceed the cache
            self.pages.load(store, needed[start:start + capacity], marks[needed[start:start + capacity]], whole)
            if positions is not None:
                missing = self.k.assemble_at(out, ids, positions, tile, ch, store.firsts, store.slots, store.pool)
            elif self.helpers is not None and out.size >= (1 << 18):  # parallel for frames above 256 KB
                missing = self.k.assemble_bands(out, ids, tile, ch, store.firsts, store.slots, store.pool,
                                                4 * (self.helpers.count + 1), self.helpers.run)
            else:
                missing = self.k.assemble(out, ids, tile, ch, store.firsts, store.slots, store.pool)
            if start + capacity >= len(needed) and missing > missing_ok and len(needed) <= capacity:
                raise EncoderError(f"internal: {missing} tiles of frame row {row} not resident")
        if panes or (canvas is not None and canvas.held):
            if len(needed) > capacity:
                raise EncoderError(f"frame row {row} needs {len(needed)} pages with its panes, the cache holds "
                                   f"{capacity}: configure_frame_cache() larger")
            canvas = canvas or PaneCanvas(tile)

            def draw(buf, pane, cells):
                self.k.draw_cells(buf, pane.ids.reshape(-1), cells, pane.ids.shape[1], tile, ch,
                                  pane.cx + pane.c0 * tile, pane.cy + pane.r0 * tile, pane.rect, store.firsts,
                                  store.slots, store.pool)
            canvas.draw(out, panes or {}, draw, positions, grid_shape(out.shape[0], out.shape[1] // ch, tile)[1])

    def _marks(self, store: CachedStore, ids: np.ndarray, panes: dict) -> np.ndarray:
        """How far into each page of ``store`` the base ``ids`` and the panes' ids reach (``mark_pages``)."""
        marks = np.zeros(len(store.firsts), np.int32)
        self.k.mark_pages(all_ids(ids, panes), store.firsts, marks)
        return marks

    def _panes_not_lost(self, row: int, store: CachedStore, panes: dict) -> None:
        if store.damaged:
            pane_ids = all_ids(np.zeros(0, np.int64), panes)
            if store.lost[np.searchsorted(store.firsts, pane_ids, side="right") - 1].any():
                raise CorruptShardError(f"frame row {row} draws a moved region from tiles of lost pages",
                                        shard=self.shard.name, stream="tile")

    def iter_frames(self, rows: list[int], copy: bool = True, skip_lost: bool = False):
        """Frames of ``rows`` (ascending, one screen) decoded incrementally into one buffer.

        Each frame after the first copies only the tiles whose ids differ from the previous
        one. ``copy=False`` yields that buffer itself (valid until the next frame). A frame
        that needs lost tiles raises, or with ``skip_lost`` is yielded as None.
        """
        buf, last, last_ids, canvas = None, None, None, None
        for count, row in enumerate(rows, 1):
            with self.lock:
                ids, panes = self.grid(row)
                if count % 8 == 0:  # pages no frame from here on needs give their slots back
                    store = self._store_of(row)
                    self.pages.retain(store, np.flatnonzero(self._marks(store, ids, panes)))
                shape = self.index.shape(row)
                if skip_lost and self.lost_positions(row, ids) is not None:
                    buf = None  # the next frame is assembled whole
                    yield None
                    continue
                if buf is None or buf.shape != shape or not self.index.same_layout(last, row):
                    buf = np.empty(shape, np.uint8)
                    canvas = PaneCanvas(int(self.index.tile[row]))
                    self.assemble(row, ids, buf.reshape(shape[0], -1), panes=panes, canvas=canvas, whole=True)
                else:
                    changed = np.flatnonzero(ids != last_ids)
                    gone = canvas.uncovered(panes)  # base tiles that a pane no longer hides
                    if gone:
                        mask = candidates_of(gone, shape[0], shape[1], int(self.index.tile[row]))
                        changed = np.union1d(changed, np.flatnonzero(mask))
                    if len(changed) or panes or canvas.held:
                        self.assemble(row, ids, buf.reshape(shape[0], -1), changed, panes=panes, canvas=canvas,
                                      whole=True)
                last, last_ids = row, ids.copy()
            if copy:  # a new array per frame, stored past the cache (copy_out)
                out = np.empty_like(buf)
                self.k.copy_out(buf, out)
                yield out
            else:
                yield buf

    def pages_for(self, rows_ids: list) -> None:
        """Prefetch (in parallel) the pages of several frames when they fit the cache together."""
        by_store: dict[tuple, np.ndarray] = {}
        for row, ids in rows_ids:
            store = self._store_of(row)
            store_id = (store.channels, store.tile)
            marks = by_store.setdefault(store_id, np.zeros(len(store.firsts), np.int32))
            self.k.mark_pages(ids, store.firsts, marks)
        for store_id, marks in by_store.items():
            store = self.pages.stores[store_id]
            self.pages.reserve(store)
            needed = np.flatnonzero(marks)
            if store.damaged:
                needed = needed[~store.lost[needed]]
            if len(needed) <= store.pool.shape[0]:
                self.pages.load(store, needed, marks[needed])

    # -- frames -------------------------------------------------------------------------
    def frame(self, row: int, out: np.ndarray | None = None) -> np.ndarray:
        with self.lock:
            shape = self.index.shape(row)
            if out is None:
                out = np.empty(shape, np.uint8)
            ids, panes = self.grid(row)
            self.assemble(row, ids, out.reshape(shape[0], -1), panes=panes)
            return out

    def frame_with_mask(self, row: int, fill: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The frame of ``row`` with lost tiles set to ``fill``, and ``bool[H, W]``: True where
        pixels were lost (all False for a frame that lost nothing)."""
        with self.lock:
            shape = self.index.shape(row)
            ids, panes = self.grid(row)
            lost = self.lost_positions(row, ids)
            out = np.full(shape, fill, np.uint8) if lost is not None else np.empty(shape, np.uint8)
            self.assemble(row, ids, out.reshape(shape[0], -1), lost=lost, panes=panes)
            mask = np.zeros(shape[:2], bool)
            if lost is not None:
                tile = int(self.index.tile[row])
                cols = grid_shape(shape[0], shape[1], tile)[1]
                for p in lost.tolist():
                    y, x = divmod(p, cols)
                    mask[y * tile:(y + 1) * tile, x * tile:(x + 1) * tile] = True
            return out, mask

    def lost_rows(self, rows: list[int]) -> list[int]:
        """Those of ``rows`` (ascending, one screen) whose frames need lost tiles."""
        if not any(store.damaged for store in self.pages.stores.values()):
            return []
        with self.lock:
            return [row for row in rows if self.lost_positions(row, self.ids(row)) is not None]

    def frames(self, rows: list[int]) -> np.ndarray:
        with self.lock:
            shapes = {self.index.shape(r) for r in rows}
            if len(shapes) > 1:
                raise EncoderError(f"frames of different shapes {sorted(shapes)}: read them one by one "
                                   "with frame()")
            shape = shapes.pop() if shapes else (0, 0)
            out = np.empty((len(rows), *shape), np.uint8)
            order = sorted(range(len(rows)), key=lambda j: rows[j])  # grids decode forward
            ids, panes = {}, {}
            for j in order:
                if rows[j] not in ids:
                    grid, panes[rows[j]] = self.grid(rows[j])
                    ids[rows[j]] = grid.copy()
            self.pages_for([(r, all_ids(i, panes[r])) for r, i in ids.items()])
            prev = None  # the previous frame of the batch, when the same screen and layout
            for j in order:
                row = rows[j]
                target = out[j].reshape(shape[0], -1)
                if prev is not None and self.index.screen[prev[0]] == self.index.screen[row] and \
                        self.index.same_layout(prev[0], row) and not panes[row] and not panes[prev[0]]:
                    changed = np.flatnonzero(ids[row] != ids[prev[0]])
                    if len(changed) * 4 < len(ids[row]):  # a few tiles: copy the frame, patch them
                        target[...] = out[prev[1]].reshape(shape[0], -1)
                        if len(changed):
                            self.assemble(row, ids[row], target, changed)
                        prev = (row, j)
                        continue
                self.assemble(row, ids[row], target, panes=panes[row])
                prev = (row, j)
            return out

    def read_pages(self) -> int:
        """Decode every page once (verification); returns how many."""
        return self.pages.read_all()

    def drop_caches(self) -> None:
        """Forget the cached pages and grids (the frame index stays)."""
        with self.lock:
            self.blocks.clear()
            self.pages.drop()

    def close(self) -> None:
        """Release the page pools (the reader stays usable: they come back on demand)."""
        with self.lock:
            self.blocks.clear()
            self.pages.release()

    def stats(self, stored: dict) -> dict:
        """Frames per screen, unique tiles, pages, bytes per frame; ``stored`` gives the bytes
        stored by the ``tile`` and ``frame`` streams (see ``ShardReader.frame_stats``)."""
        ix, stores = self.index, self.pages.stores
        frames = len(ix.t)
        channels = np.array([CHANNELS[c] for c in ix.format.tolist()], np.int64)
        raw = int((ix.width * ix.height * channels).sum())
        info = {}
        for s, rows in sorted(ix.rows_of.items()):
            last = int(rows[-1])
            info[s] = {"width": int(ix.width[last]), "height": int(ix.height[last]),
                       "format": ix.info(last)["format"],
                       "t_first": int(ix.times[s].min()), "t_last": int(ix.times[s].max())}
        total = stored["tile"] + stored["frame"]
        return {
            "frames": frames,
            "screens": len(info),
            "frames_per_screen": {s: len(rows) for s, rows in sorted(ix.rows_of.items())},
            "unique_tiles": sum(st.tiles for st in stores.values()),
            "pages": sum(int((~st.lost).sum()) for st in stores.values()),
            "lost_pages": sum(int(st.lost.sum()) for st in stores.values()),
            "tile_px": min((k[1] for k in stores), default=0),
            "stored_bytes": total,
            "page_bytes": stored["tile"],
            "grid_bytes": stored["frame"],
            "raw_bytes": raw,
            "bytes_per_frame": total / frames if frames else 0.0,
            "compression_ratio": raw / total if total else 0.0,
            "screen_info": info,
        }
