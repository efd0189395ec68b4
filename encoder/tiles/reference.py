"""NumPy reference of every screen-tile kernel: the executable spec and the tests' oracle.

The native kernels (``ext/_tiles.pyx`` on the capture path, :mod:`encoder.tiles._numba`
on the read path) must return exactly what these functions return: the same changed
positions, the same tile ids, the same page bytes and the same grid bytes. Slow on
purpose: clarity first. ``ENCODER_BACKEND=reference`` runs the whole frame pipeline on it.

Images reach the kernels as 2-D ``uint8`` arrays of ``height x (width * channels)`` bytes
(a frame's rows), C-contiguous. See :mod:`encoder.tiles.layout` for the tile layout.

Contracts:

* ``tile_hash(tile) -> int``: XXH64 (seed 0) of the tile's bytes. The store uses it only
  to find candidates; every candidate is confirmed by comparing bytes, so even a hash
  that returns 0 for every tile (the tests' forced collision) keeps frames exact.
* ``stage(image, prev, channels, tile, candidates) -> positions``: raster positions of the
  tiles whose bytes differ from ``prev`` (the previous frame of the screen), restricted to
  ``candidates`` when given; copies those tiles' pixels into ``prev``.
* ``gather(image, channels, tile, positions, out=None) -> tiles``: the padded tiles at
  ``positions``, one row of ``tile * tile * channels`` bytes each (into ``out`` when given).
* ``TileStore.add(tiles, ids, start, min_id, firsts, allowed) -> stop``: look each tile up
  among the store's live tiles (the last ``capacity`` ids); a tile not found, or found with
  an id below ``min_id`` in a page ``k`` without ``allowed[k]`` (pages start at ``firsts``),
  gets the next id and is appended to the open page (and from then on lookups find that
  newer copy). Stops early, before a new tile that finds the page full: the
  caller takes the page (``take_page``) and calls again from ``stop``.
* ``encode_full(ids)``, ``encode_delta(positions, ids)``, ``decode_grid(blob, ids, limit)``:
  the grid blob (below).
* ``assemble_image(ids, tiles, height, width, channels, tile) -> image``: the inverse of tiling.
* ``mark_pages(ids, firsts, marks)``, ``assemble(out, ids, tile, channels, firsts, slots,
  pool) -> missing``, ``assemble_at(out, ids, positions, ...)``: the read path over a page
  cache (``pool`` rows hold pages, ``slots[page]`` the row of each, -1 when not cached).

Grid blob: one kind byte, then LEB128 varints. Ids are coded as
``zigzag(id - last - 1)``, ``last`` being the previous id coded in the blob (-1 at first),
so a run of new tiles, whose ids follow each other, codes as zeros.

* full (kind 0): every id of the grid, in raster order.
* delta (kind 1): ``runs``, then per run ``gap`` (unchanged positions since the end of the
  previous run, or since position 0), ``length - 1`` and the run's ``length`` ids.
"""
from __future__ import annotations

import numpy as np
import xxhash

from ..errors import CorruptShardError
from .layout import GRID_DELTA, GRID_FULL, Varints, grid_shape, put_varint, unzigzag, zigzag

_U64 = (1 << 64) - 1


def tile_hash(tile) -> int:
    """XXH64 with seed 0 of a tile's bytes (any bytes-like object or uint8 array)."""
    return xxhash.xxh64_intdigest(bytes(memoryview(np.ascontiguousarray(tile)).cast("B")))


def tiles_of(image: np.ndarray, channels: int, tile: int) -> np.ndarray:
    """All tiles of an image in raster order, zero-padded: ``uint8[n, tile*tile*channels]``."""
    height, row_bytes = image.shape
    rows, cols = grid_shape(height, row_bytes // channels, tile)
    padded = np.zeros((rows * tile, cols * tile * channels), np.uint8)
    padded[:height, :row_bytes] = image
    return np.ascontiguousarray(padded.reshape(rows, tile, cols, tile * channels)
                                .transpose(0, 2, 1, 3)).reshape(rows * cols, -1)


def stage(image: np.ndarray, prev: np.ndarray, channels: int, tile: int,
          candidates: np.ndarray | None = None, copy: bool = True) -> np.ndarray:
    """Positions (``int32``, ascending) of the tiles that differ from ``prev``; updates ``prev``
    unless ``copy`` is false."""
    height, row_bytes = image.shape
    cols = grid_shape(height, row_bytes // channels, tile)[1]
    changed = (tiles_of(image, channels, tile) != tiles_of(prev, channels, tile)).any(axis=1)
    if candidates is not None:
        changed &= candidates.astype(bool)
    positions = np.flatnonzero(changed).astype(np.int32)
    span = tile * channels
    for p in positions if copy else ():
        ty, tx = divmod(int(p), cols)
        rows = slice(ty * tile, (ty + 1) * tile)
        cells = slice(tx * span, (tx + 1) * span)
        prev[rows, cells] = image[rows, cells]
    return positions


def _into(out, tiles: np.ndarray) -> np.ndarray:
    """``tiles``, copied into ``out`` when given (the native kernels' reused memory)."""
    if out is None:
        return tiles
    if out.dtype != np.uint8 or out.shape != tiles.shape or not out.flags.c_contiguous:
        raise ValueError(f"out must be a writeable C-contiguous uint8 array of shape {tiles.shape}")
    out[...] = tiles
    return out


def gather(image: np.ndarray, channels: int, tile: int, positions: np.ndarray, out=None) -> np.ndarray:
    """The padded tiles at ``positions``: ``uint8[len(positions), tile*tile*channels]``
    (written into ``out`` when given)."""
    return _into(out, np.ascontiguousarray(tiles_of(image, channels, tile)[np.asarray(positions, np.intp)]))


def scatter(image: np.ndarray, channels: int, tile: int, positions: np.ndarray, tiles: np.ndarray) -> None:
    """Write ``tiles`` (as :func:`gather` returns them) back at ``positions``, cropped to the image."""
    height, row_bytes = image.shape
    cols = grid_shape(height, row_bytes // channels, tile)[1]
    span = tile * channels
    for k, p in enumerate(np.asarray(positions).tolist()):
        ty, tx = divmod(p, cols)
        block = tiles[k].reshape(tile, span)
        h = min(tile, height - ty * tile)
        w = min(span, row_bytes - tx * span)
        image[ty * tile:ty * tile + h, tx * span:tx * span + w] = block[:h, :w]


def compare_shifted(image, prev, channels: int, tile: int, rect, dx: int, dy: int, cx: int, cy: int,
                    flags: np.ndarray, copy=None) -> None:
    """Set ``flags[r, c]`` for the cells (cell (0, 0) at pixel (cx, cy)) holding a pixel of
    ``rect`` = (x0, y0, x1, y1) that differs from pixel (x - dx, y - dy) of ``prev``; then
    copy the rectangle ``copy`` (x0, y0, x1, y1) of ``image`` into ``prev``."""
    x0, y0, x1, y1 = (int(v) for v in rect)
    if x1 > x0 and y1 > y0:
        a = image.reshape(image.shape[0], -1, channels)[y0:y1, x0:x1]
        b = prev.reshape(prev.shape[0], -1, channels)[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
        ys, xs = np.nonzero((a != b).any(axis=2))
        flags[(ys + y0 - cy) // tile, (xs + x0 - cx) // tile] = 1
    if copy is not None:
        x0, y0, x1, y1 = (int(v) for v in copy)
        if x1 > x0 and y1 > y0:
            prev[y0:y1, x0 * channels:x1 * channels] = image[y0:y1, x0 * channels:x1 * channels]


def gather_cells(image, channels: int, tile: int, cx: int, cy: int, rows, cols, out=None) -> np.ndarray:
    """Tiles of grid cells (rows[k], cols[k]) of a grid whose cell (0, 0) is at pixel (cx, cy),
    zero outside the image."""
    height, width = image.shape[0], image.shape[1] // channels
    pixels = image.reshape(height, width, channels)
    tiles = np.zeros((len(rows), tile, tile, channels), np.uint8)
    for k, (r, c) in enumerate(zip(np.asarray(rows).tolist(), np.asarray(cols).tolist())):
        x, y = cx + c * tile, cy + r * tile
        xa, xb, ya, yb = max(x, 0), min(x + tile, width), max(y, 0), min(y + tile, height)
        if xb > xa and yb > ya:
            tiles[k, ya - y:yb - y, xa - x:xb - x] = pixels[ya:yb, xa:xb]
    return _into(out, tiles.reshape(len(rows), -1))


#: The strip hash's NH keys (``ENC_NH_KEYS`` of the native kernel: splitmix64 from 0, low half first).
_NH_KEYS = np.array([
    0x7B1DCDAF, 0xE220A839, 0xA1B965F4, 0x6E789E6A, 0x8009454F, 0x06C45D18, 0x724C81EC, 0xF88BB8A8,
    0x51A8749B, 0x1B39896A, 0x747EA2EA, 0x53CB9F0C, 0x1F4532E1, 0x2C829ABE, 0xC916AB3C, 0xC584133A,
    0x41C98AC3, 0x3EE57890, 0x368CB0A6, 0xF3B8488C, 0x3CB13D09, 0x657EECDD, 0x055BDEF6, 0xC2D326E0,
    0xE0BBDB7B, 0x8621A03F, 0x983AA92F, 0x8E1F7555, 0x00CC4D19, 0xB54E0F16, 0x971D80AB, 0x84BB3F97,
    0x75521255, 0x7D29825C, 0x2B7F7F86, 0xC3CF1710, 0x83914F64, 0x3466E9A0, 0x5A4485AC, 0xD81A8D2B,
    0x100B9ED7, 0xDB01602B, 0x1825F10D, 0xA9038A92, 0x0DCA2F6A, 0xEDF5F1D9, 0x7BD2634C, 0x54496AD6,
    0xF5407269, 0xDD7C01D4, 0xDB4C4F7B, 0x935E82F1, 0x92233300, 0x69B82EBC, 0x7DE1D510, 0x40D29EB5,
    0xB45C6316, 0xA2F09DAB, 0x0F4D3872, 0xEE521D7A, 0x72F3454F, 0xF16952EE, 0xA8E40225, 0x377D35DE,
], np.uint64)


def row_hashes(image, channels: int, x0: int, strip: int, strips: int, y0: int, y1: int, out=None,
               todo=None) -> np.ndarray:
    """``uint64[y1 - y0, strips]``: the native kernel's hash of each strip of each row (NH over
    8-byte words, the tail bytes chained in, XXH64's avalanche). With ``todo`` (bool, that
    shape) only its strips are written into ``out``."""
    if todo is not None:
        out[todo] = row_hashes(image, channels, x0, strip, strips, y0, y1)[todo]
        return out
    n = strip * channels
    part = image[y0:y1, x0 * channels:(x0 + strip * strips) * channels].reshape(y1 - y0, strips, n)
    words = n // 8
    low = np.uint64(0xFFFFFFFF)
    with np.errstate(over="ignore"):
        w = np.ascontiguousarray(part[:, :, :words * 8]).view("<u8")
        at = 2 * np.arange(words) % 64
        lo = ((w & low) + _NH_KEYS[at]) & low
        hi = ((w >> np.uint64(32)) + _NH_KEYS[at + 1]) & low
        h = (lo * hi).sum(axis=2, dtype=np.uint64)
        for i in range(words * 8, n):
            h = (h ^ part[:, :, i].astype(np.uint64)) * np.uint64(0x9E3779B185EBCA87)
        h ^= np.uint64(n)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC2B2AE3D27D4EB4F)
        h ^= h >> np.uint64(29)
        h *= np.uint64(0x165667B19E3779F9)
        h ^= h >> np.uint64(32)
    return h


def col_hashes(image, channels: int, y0: int, band: int, bands: int, x0: int, x1: int, step: int = 1) -> np.ndarray:
    """``uint64[x1 - x0, bands]``: the native kernel's hash of each band of rows (every
    ``step``-th row) of each column."""
    pixels = image[y0:y0 + band * bands, x0 * channels:x1 * channels].reshape(bands, band, x1 - x0, channels)
    v = np.zeros(pixels.shape[:3], np.uint64)
    for c in range(channels):  # the pixel's bytes as a little-endian number
        v |= pixels[..., c].astype(np.uint64) << np.uint64(8 * c)
    h = np.full((bands, x1 - x0), band * channels, np.uint64)
    with np.errstate(over="ignore"):
        for y in range(0, band, step):
            h = (h ^ v[:, y]) * np.uint64(0x9E3779B185EBCA87)
            h ^= h >> np.uint64(29)
    return np.ascontiguousarray(h.T)


def col_sums(image, channels: int, y0: int, y1: int, step: int, x0: int, x1: int) -> np.ndarray:
    """``int64[x1 - x0]``: per pixel column, the sum of its bytes over rows y0, y0 + step, ... below y1."""
    sums = image[y0:y1:step, x0 * channels:x1 * channels].sum(axis=0, dtype=np.int64)
    return sums.reshape(x1 - x0, channels).sum(axis=1)


def shift_votes(cur: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``int32[strips, 2n]``: per strip, the lines ``y`` whose hash appears exactly once in
    ``old``'s strip, at a line ``j != y``, counted at ``j - y + n``."""
    n, strips = cur.shape
    out = np.zeros((strips, 2 * n), np.int32)
    for s in range(strips):
        values, first, counts = np.unique(old[:, s], return_index=True, return_counts=True)
        unique = dict(zip(values[counts == 1].tolist(), first[counts == 1].tolist()))
        for y, h in enumerate(cur[:, s].tolist()):
            j = unique.get(h)
            if j is not None and j != y:
                out[s, j - y + n] += 1
    return out


class TileStore:
    """The shard-wide content store of one tile size, and its open page.

    Holds the last ``capacity`` tiles (by id) for lookup; ids run from 0 without a gap.
    ``hash_mask`` is accepted for parity with the native store (which ANDs every hash with
    it); this reference compares bytes directly, which is what a correct store must do.
    """

    def __init__(self, tile_bytes: int, capacity: int, page_tiles: int, hash_mask: int = _U64):
        if tile_bytes < 1 or capacity < 1 or page_tiles < 1:
            raise ValueError("tile_bytes, capacity and page_tiles must be >= 1")
        self.tile_bytes, self.capacity, self.page_tiles = tile_bytes, capacity, page_tiles
        self.hash_mask = hash_mask
        self.next_id = 0
        self.page_first = 0
        self._page: list[bytes] = []
        self._ids: dict[bytes, int] = {}     # content -> id, live tiles only
        self._content: dict[int, bytes] = {}  # id -> content, live tiles only

    @property
    def page_count(self) -> int:
        return len(self._page)

    @property
    def live(self) -> int:
        return len(self._content)

    def add(self, tiles: np.ndarray, ids: np.ndarray, start: int = 0, min_id: int = 0,
            firsts: np.ndarray | None = None, allowed: np.ndarray | None = None) -> int:
        """Set ``ids[i]`` for ``start <= i < stop``; returns ``stop`` (see the module docstring)."""
        for i in range(start, len(tiles)):
            content = tiles[i].tobytes()
            found = self._ids.get(content)
            if found is not None and (found >= min_id or (
                    allowed is not None and allowed[np.searchsorted(firsts, found, side="right") - 1])):
                ids[i] = found
                continue
            if len(self._page) == self.page_tiles:
                return i
            new = self.next_id
            if new >= self.capacity:  # the oldest live tile leaves the lookup
                old = self._content.pop(new - self.capacity)
                if self._ids.get(old) == new - self.capacity:  # not already replaced by a newer copy
                    del self._ids[old]
            self._ids[content] = new  # a copy below min_id is replaced by this one
            self._content[new] = content
            self._page.append(content)
            self.next_id += 1
            ids[i] = new
        return len(tiles)

    def copy_tiles(self, ids, out: np.ndarray) -> np.ndarray:
        """Copy the bytes of the tiles ``ids`` that the store still holds into the rows of
        ``out``; returns which it held (the other rows are left as they are)."""
        ids = np.asarray(ids, np.int64).reshape(-1)
        if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != (len(ids), self.tile_bytes):
            raise ValueError(f"out must be a writeable uint8[{len(ids)}, {self.tile_bytes}] array")
        held = np.zeros(len(ids), bool)
        for i, tile_id in enumerate(ids.tolist()):
            content = self._content.get(tile_id)
            if content is not None:
                out[i] = np.frombuffer(content, np.uint8)
                held[i] = True
        return held

    def take_page(self) -> tuple[int, int, bytes]:
        """``(first id, count, bytes)`` of the open page, which then starts afresh."""
        first, count, data = self.page_first, len(self._page), b"".join(self._page)
        self.page_first += count
        self._page = []
        return first, count, data


# -- grid blobs ----------------------------------------------------------------------------


def encode_full(ids: np.ndarray) -> bytes:
    """Key grid blob of all ``ids`` of a frame, raster order."""
    out = bytearray([GRID_FULL])
    last = -1
    for v in np.asarray(ids).tolist():
        put_varint(out, zigzag(v - last - 1))
        last = v
    return bytes(out)


def encode_delta(positions: np.ndarray, ids: np.ndarray) -> bytes:
    """Delta grid blob: the new ``ids`` at ascending ``positions`` (all others unchanged)."""
    positions = np.asarray(positions).tolist()
    ids = np.asarray(ids).tolist()
    runs = []
    for i, p in enumerate(positions):
        if runs and runs[-1][0] + runs[-1][1] == p:
            runs[-1][1] += 1
        else:
            runs.append([p, 1, i])
    out = bytearray([GRID_DELTA])
    put_varint(out, len(runs))
    end, last = 0, -1
    for start, length, first in runs:
        put_varint(out, start - end)
        put_varint(out, length - 1)
        for v in ids[first:first + length]:
            put_varint(out, zigzag(v - last - 1))
            last = v
        end = start + length
    return bytes(out)


def decode_grid(blob, ids: np.ndarray, limit) -> int:
    """Apply a grid blob to ``ids`` (int64, the previous frame's ids for a delta); returns its kind.

    Every id must lie in ``[0, limit)``; anything malformed raises :class:`CorruptShardError`.
    """
    limit = int(limit)
    data = bytes(blob)
    if not data:
        raise CorruptShardError("grid: empty blob")
    kind = data[0]
    cur = Varints(data, 1, len(data), lambda message: CorruptShardError(f"grid: {message}"))
    n = len(ids)
    last = -1

    def next_id():
        nonlocal last
        value = last + 1 + unzigzag(cur.varint())
        if not 0 <= value < limit:
            raise CorruptShardError(f"grid: tile id {value} outside the store's [0, {limit})")
        last = value
        return value

    if kind == GRID_FULL:
        for p in range(n):
            ids[p] = next_id()
    elif kind == GRID_DELTA:
        runs, end = cur.varint(), 0
        if runs > n:
            raise CorruptShardError(f"grid: {runs} runs in a grid of {n} tiles")
        for _ in range(runs):
            start = end + cur.varint()
            length = cur.varint() + 1
            if start + length > n:
                raise CorruptShardError(f"grid: run [{start}, {start + length}) beyond {n} tiles")
            for p in range(start, start + length):
                ids[p] = next_id()
            end = start + length
    else:
        raise CorruptShardError(f"grid: unknown kind {kind}")
    if cur.pos != len(data):
        raise CorruptShardError(f"grid: {len(data) - cur.pos} bytes left after the grid")
    return kind


def assemble_image(ids: np.ndarray, tiles: np.ndarray, height: int, width: int, channels: int,
                   tile: int) -> np.ndarray:
    """The ``height x (width*channels)`` image whose tile at position p is ``tiles[ids[p]]``."""
    rows, cols = grid_shape(height, width, tile)
    grid = tiles[np.asarray(ids, np.intp)].reshape(rows, cols, tile, tile * channels)
    full = grid.transpose(0, 2, 1, 3).reshape(rows * tile, cols * tile * channels)
    return np.ascontiguousarray(full[:height, :width * channels])


# -- the read path's kernels over a page cache (what encoder.tiles._numba does) --------------
def mark_pages(ids, firsts, marks):
    """``marks[page]`` = how many leading tiles of each page the ids need (at least)."""
    pages = np.searchsorted(firsts, ids, side="right") - 1
    np.maximum.at(marks, pages, (ids - firsts[pages] + 1).astype(marks.dtype))


def assemble(out, ids, tile, channels, firsts, slots, pool):
    """What :func:`encoder.tiles._numba.assemble` does, one tile at a time."""
    return assemble_at(out, ids, np.arange(len(ids)), tile, channels, firsts, slots, pool)


def copy_out(src, dst):
    """Copy ``src`` into ``dst`` (C-contiguous ``uint8``, the same size): a frame handed out of
    the reader's buffer (the native kernel stores it past the cache)."""
    src = np.ascontiguousarray(src, np.uint8).reshape(-1)
    if not isinstance(dst, np.ndarray) or dst.dtype != np.uint8 or not dst.flags.c_contiguous:
        raise ValueError("dst must be a C-contiguous uint8 array")
    if dst.size != src.size:
        raise ValueError(f"dst holds {dst.size} bytes, src {src.size}")
    dst.reshape(-1)[:] = src


def assemble_at(out, ids, positions, tile, channels, firsts, slots, pool):
    """What :func:`encoder.tiles._numba.assemble_at` does: only the tiles at ``positions``."""
    height, row_bytes = out.shape
    span = tile * channels
    cols = -(-(row_bytes // channels) // tile)
    missing = 0
    for p in np.asarray(positions).tolist():
        tile_id = int(ids[p])
        page = int(np.searchsorted(firsts, tile_id, side="right")) - 1
        if slots[page] < 0:
            missing += 1
            continue
        src = pool[slots[page], (tile_id - int(firsts[page])) * span * tile:][:span * tile].reshape(tile, span)
        ty, tx = divmod(p, cols)
        block = out[ty * tile:(ty + 1) * tile, tx * span:(tx + 1) * span]
        block[...] = src[:block.shape[0], :block.shape[1]]
    return missing


def draw_cells(out, ids, cells, ncols, tile, channels, gx, gy, rect, firsts, slots, pool):
    """What :func:`encoder.tiles._numba.draw_cells` does: pane cells into ``out``, clipped to ``rect``."""
    x0, y0, x1, y1 = rect
    missing = 0
    for cell in np.asarray(cells).tolist():
        r, c = divmod(cell, ncols)
        cx, cy = gx + c * tile, gy + r * tile
        xa, xb, ya, yb = max(cx, x0), min(cx + tile, x1), max(cy, y0), min(cy + tile, y1)
        if xa >= xb or ya >= yb:
            continue
        tile_id = int(ids[cell])
        page = int(np.searchsorted(firsts, tile_id, side="right")) - 1
        if slots[page] < 0:
            missing += 1
            continue
        span = tile * channels
        src = pool[slots[page], (tile_id - int(firsts[page])) * span * tile:][:span * tile].reshape(tile, tile, channels)
        out.reshape(out.shape[0], -1, channels)[ya:yb, xa:xb] = src[ya - cy:yb - cy, xa - cx:xb - cx]
    return missing
