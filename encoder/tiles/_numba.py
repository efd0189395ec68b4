"""Numba read-path kernels of the screen tiles: grid blobs back to ids, tiles back to frames.

:func:`decode_grid` applies a blob exactly as :func:`encoder.tiles.reference.decode_grid`
does and :func:`assemble` writes exactly the pixels of
:func:`encoder.tiles.reference.assemble`. Both trust nothing in the blob or the ids: a
malformed blob returns a negative status (:data:`GRID_ERRORS`; :mod:`encoder.backends`
raises :class:`~encoder.errors.CorruptShardError` through
:func:`encoder.errors.check_status`), never reads or writes out of bounds.

Kernels run without the GIL, so :func:`assemble_bands` spreads a frame over threads.
Types at the boundary are fixed so that nothing compiles while frames are read: blobs are
read-only ``uint8[::1]``, ids ``int64[::1]``, images ``uint8[:, ::1]``, page pools
``uint8[:, ::1]``. :func:`warmup` compiles them, or loads them from the on-disk cache.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .layout import GRID_DELTA, GRID_FULL

#: decode_grid status -> message.
GRID_ERRORS = {
    -1: "varint truncated", -2: "varint longer than 9 bytes", -3: "tile id outside the store",
    -4: "more runs than tiles", -5: "run beyond the grid", -6: "unknown kind", -7: "bytes left after the grid",
    -8: "empty blob",
}


@njit(cache=True, nogil=True)
def _varint(blob, pos):
    """(value, next position), or (-1, -1) truncated, (-2, -2) over 9 bytes."""
    value = np.int64(0)
    shift = 0
    n = blob.shape[0]
    while True:
        if pos >= n:
            return np.int64(-1), -1
        byte = np.int64(blob[pos])
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 56:
            return np.int64(-2), -2


@njit(cache=True, nogil=True, inline="always")
def _read_ids(blob, pos, ids, start, stop, last, limit):
    """``ids[start:stop]`` from zigzag varints, each coded against the previous id + 1:
    (next position, last id), the position negative on an error (a ``decode_grid`` status)."""
    for p in range(start, stop):
        u, pos = _varint(blob, pos)
        if pos < 0:
            return np.int64(pos), last
        value = last + 1 + ((u >> 1) ^ -(u & 1))
        if value < 0 or value >= limit:
            return np.int64(-3), last
        ids[p] = value
        last = value
    return np.int64(pos), last


@njit(cache=True, nogil=True)
def decode_grid(blob, ids, limit):
    """Apply ``blob`` to ``ids`` (the previous frame's ids for a delta); kind or status < 0.

    ``limit`` is the number of tiles in the store: every decoded id must lie below it.
    On error ``ids`` may be partly written.
    """
    n_blob = blob.shape[0]
    if n_blob == 0:
        return -8
    kind = blob[0]
    pos = 1
    n = ids.shape[0]
    last = np.int64(-1)
    if kind == GRID_FULL:
        pos, last = _read_ids(blob, pos, ids, 0, n, last, limit)
        if pos < 0:
            return pos
    elif kind == GRID_DELTA:
        runs, pos = _varint(blob, pos)
        if pos < 0:
            return pos
        if runs > n:
            return -4
        end = np.int64(0)
        for _ in range(runs):
            gap, pos = _varint(blob, pos)
            if pos < 0:
                return pos
            length, pos = _varint(blob, pos)
            if pos < 0:
                return pos
            start = end + gap
            length += 1
            if gap > n or length > n or start + length > n:
                return -5
            pos, last = _read_ids(blob, pos, ids, start, start + length, last, limit)
            if pos < 0:
                return pos
            end = start + length
    else:
        return -6
    if pos != n_blob:
        return -7
    return np.int64(kind)


@njit(cache=True, nogil=True, inline="always")
def _page_of(firsts, tile_id):
    """Index of the page holding ``tile_id``: the last ``k`` with ``firsts[k] <= tile_id``."""
    lo, hi = 0, firsts.shape[0]
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if firsts[mid] <= tile_id:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, inline="always")
def _tile_at(tile_id, firsts, slots, page_w, tile_w):
    """Where tile ``tile_id`` starts in the flat page pool (in words), or -1 when its page
    is not resident: page ``k`` lies in row ``slots[k]`` of the pool."""
    page = _page_of(firsts, tile_id)
    slot = slots[page]
    if slot < 0:
        return -1
    return slot * page_w + (tile_id - firsts[page]) * tile_w


@njit(cache=True, nogil=True)
def mark_pages(ids, firsts, marks):
    """``marks[k]``: at least how many tiles from the start of page ``k`` the ``ids`` need
    (the highest needed offset + 1; 0: none), so that a page is decoded only that far. Ids
    are already checked to lie in the store, whose pages start at ``firsts``, ascending,
    ``firsts[0] == 0``."""
    for i in range(ids.shape[0]):
        page = _page_of(firsts, ids[i])
        need = ids[i] - firsts[page] + 1
        if need > marks[page]:
            marks[page] = need


@njit(cache=True, nogil=True)
def _assemble_rows(out, row_w, height, ids, tile, span_w, cols, firsts, slots, pool, page_w,
                   first_row, stop_row):
    """Tiles of grid rows ``[first_row, stop_row)``; returns how many were not resident.

    ``out`` and ``pool`` are flat views in *words* of 8, 4 or 1 bytes (the widest that
    divides a frame row, a tile row and a page), all sizes are in words: one compiled loop
    per word type, and the copy loop over words vectorizes (a uint64 view copies a 1080p
    frame in about 1.2 ms of one core; bytes would take 8).
    """
    tile_w = span_w * tile
    missing = 0
    for ty in range(first_row, stop_row):
        y0 = ty * tile
        y1 = min(y0 + tile, height)
        for tx in range(cols):
            src = _tile_at(ids[ty * cols + tx], firsts, slots, page_w, tile_w)
            if src < 0:
                missing += 1
                continue
            x0 = tx * span_w
            xw = min(span_w, row_w - x0)
            dst = y0 * row_w + x0
            if xw == 8:  # 16 px of 4 bytes in uint64 words, the usual case: straight-line copies
                for _ in range(y0, y1):  # (20 % faster than the loop below, which LLVM leaves general)
                    out[dst] = pool[src]
                    out[dst + 1] = pool[src + 1]
                    out[dst + 2] = pool[src + 2]
                    out[dst + 3] = pool[src + 3]
                    out[dst + 4] = pool[src + 4]
                    out[dst + 5] = pool[src + 5]
                    out[dst + 6] = pool[src + 6]
                    out[dst + 7] = pool[src + 7]
                    dst += row_w
                    src += span_w
            else:
                for _ in range(y0, y1):
                    for k in range(xw):
                        out[dst + k] = pool[src + k]
                    dst += row_w
                    src += span_w
    return missing


@njit(cache=True, nogil=True)
def _assemble_positions(out, row_w, height, ids, positions, tile, span_w, cols, firsts, slots, pool, page_w):
    """:func:`_assemble_rows` for the tiles at ``positions`` only (all checked in range)."""
    tile_w = span_w * tile
    missing = 0
    for i in range(positions.shape[0]):
        p = positions[i]
        ty = p // cols
        tx = p - ty * cols
        src = _tile_at(ids[p], firsts, slots, page_w, tile_w)
        if src < 0:
            missing += 1
            continue
        x0 = tx * span_w
        xw = min(span_w, row_w - x0)
        y0 = ty * tile
        dst = y0 * row_w + x0
        for _ in range(y0, min(y0 + tile, height)):
            for k in range(xw):
                out[dst + k] = pool[src + k]
            dst += row_w
            src += span_w
    return missing


def draw_cells(out, ids, cells, ncols, tile, channels, gx, gy, rect, firsts, slots, pool):
    """Write the pane cells ``cells`` (int64 flat indices into ``ids``, a window of ``ncols``
    columns whose cell 0 has its top left pixel at (gx, gy)) into ``out`` (``height x
    width*channels``), clipped to ``rect`` (x0, y0, x1, y1, inside the frame); cells whose
    page is not resident are skipped and counted."""
    x0, y0, x1, y1 = rect
    if channels == 4 and out.ctypes.data % 4 == 0 and pool.ctypes.data % 4 == 0:  # a pixel is one uint32
        return _draw_cells(out.reshape(-1).view(np.uint32), out.shape[1] // 4, out.shape[0], ids, cells, ncols,
                           tile, 1, gx, gy, x0, y0, x1, y1, firsts, slots, pool.reshape(-1).view(np.uint32),
                           pool.shape[1] // 4)
    return _draw_cells(out.reshape(-1), out.shape[1], out.shape[0], ids, cells, ncols, tile, channels, gx, gy,
                       x0, y0, x1, y1, firsts, slots, pool.reshape(-1), pool.shape[1])


@njit(cache=True, nogil=True)
def _draw_cells(out, row_w, height, ids, cells, ncols, tile, ch, gx, gy, x0, y0, x1, y1, firsts, slots, pool,
                page_w):
    """Pane cells (flat indices into a window of ``ncols`` columns whose cell 0 has its top
    left pixel at (gx, gy)) clipped to [x0, x1) x [y0, y1). ``out`` and ``pool`` are flat
    views in words of which a pixel takes ``ch`` (uint32 words of one 4-byte pixel, or bytes),
    ``row_w`` and ``page_w`` their row and page sizes in words. Returns how many cells were
    not resident."""
    missing = 0
    span = tile * ch
    for i in range(cells.shape[0]):
        cell = cells[i]
        r = cell // ncols
        c = cell - r * ncols
        cx = gx + c * tile
        cy = gy + r * tile
        xa = max(cx, x0)
        xb = min(cx + tile, x1)
        ya = max(cy, y0)
        yb = min(cy + tile, y1)
        if xa >= xb or ya >= yb:
            continue
        src = _tile_at(ids[cell], firsts, slots, page_w, span * tile)
        if src < 0:
            missing += 1
            continue
        src += (ya - cy) * span + (xa - cx) * ch
        dst = ya * row_w + xa * ch
        w = (xb - xa) * ch
        for _ in range(ya, yb):
            for k in range(w):
                out[dst + k] = pool[src + k]
            dst += row_w
            src += span
    return missing


_WORDS = (np.uint64, np.uint32, np.uint8)


def _words(out, tile, channels, pool):
    """Flat word views of out and pool, and the sizes in words, for the widest word that fits."""
    row_bytes = out.shape[1]
    span = tile * channels
    for word in _WORDS:
        size = np.dtype(word).itemsize
        if row_bytes % size == 0 and span % size == 0 and pool.shape[1] % size == 0 \
                and out.ctypes.data % size == 0 and pool.ctypes.data % size == 0:
            return (out.reshape(-1).view(word), row_bytes // size, span // size, pool.reshape(-1).view(word),
                    pool.shape[1] // size)
    raise AssertionError("unreachable: bytes always fit")


def assemble(out, ids, tile, channels, firsts, slots, pool):
    """Write into ``out`` (``height x width*channels``) every tile of ``ids`` whose page is
    resident, i.e. ``slots[page] >= 0``: page ``k`` lies in row ``slots[k]`` of ``pool``.
    Returns how many tiles were not resident (the caller loads their pages and calls again).

    Ids must lie in the store (``decode_grid`` checked them); a page row of the pool must
    hold the page's tiles (the caller filled it); ``out`` must be C-contiguous.
    """
    flat, row_w, span_w, flat_pool, page_w = _words(out, tile, channels, pool)
    cols = (out.shape[1] // channels + tile - 1) // tile
    rows = (out.shape[0] + tile - 1) // tile
    return _assemble_rows(flat, row_w, out.shape[0], ids, tile, span_w, cols, firsts, slots, flat_pool, page_w,
                          0, rows)


def assemble_at(out, ids, positions, tile, channels, firsts, slots, pool):
    """:func:`assemble` for the tiles at ``positions`` (int64, each below ``len(ids)``) only:
    a frame that differs from the one already in ``out`` by those tiles."""
    flat, row_w, span_w, flat_pool, page_w = _words(out, tile, channels, pool)
    cols = (out.shape[1] // channels + tile - 1) // tile
    return _assemble_positions(flat, row_w, out.shape[0], ids, positions, tile, span_w, cols, firsts, slots,
                               flat_pool, page_w)


def assemble_bands(out, ids, tile, channels, firsts, slots, pool, bands: int, run) -> int:
    """:func:`assemble` split into ``bands`` bands of grid rows, each run as ``run(tasks)``
    (a list of no-argument callables that return missing counts) runs them: in parallel
    threads, as the kernel releases the GIL. Returns the total missing count."""
    flat, row_w, span_w, flat_pool, page_w = _words(out, tile, channels, pool)
    cols = (out.shape[1] // channels + tile - 1) // tile
    rows = (out.shape[0] + tile - 1) // tile
    bands = max(1, min(rows, bands))
    height = out.shape[0]

    def band(b):
        return lambda: _assemble_rows(flat, row_w, height, ids, tile, span_w, cols, firsts, slots, flat_pool,
                                      page_w, rows * b // bands, rows * (b + 1) // bands)
    return sum(run([band(b) for b in range(bands)]))


def warmup() -> None:
    """Compile (or load from the cache) every kernel for the boundary types."""
    blob = np.frombuffer(bytes([GRID_FULL, 0]), np.uint8)
    ids = np.zeros(1, np.int64)
    decode_grid(blob, ids, np.int64(1))
    firsts = np.zeros(1, np.int64)
    mark_pages(ids, firsts, np.zeros(1, np.int32))
    pool = np.zeros((1, 64), np.uint8)
    for channels, width in ((4, 2), (4, 1), (1, 1)):  # uint64, uint32 and uint8 words
        out = np.zeros((2, width * channels), np.uint8)
        assemble(out, ids, 2, channels, firsts, np.zeros(1, np.int32), pool[:, :4 * channels])
        assemble_at(out, ids, np.zeros(1, np.int64), 2, channels, firsts, np.zeros(1, np.int32),
                    pool[:, :4 * channels])
        draw_cells(out, ids, np.zeros(1, np.int64), 1, 2, channels, 0, 0, (0, 0, width, 2), firsts,
                   np.zeros(1, np.int32), pool[:, :4 * channels])
