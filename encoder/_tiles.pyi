"""Type stubs of the native capture-path tile kernels (ext/_tiles.pyx).

Every function returns exactly what its reference in :mod:`encoder.tiles.reference` returns.
"""
from typing import Sequence

import numpy as np
import numpy.typing as npt

GRID_FULL: int
GRID_DELTA: int

def stage(image: npt.NDArray[np.uint8], prev: npt.NDArray[np.uint8], channels: int, tile: int,
          candidates: npt.ArrayLike | None = ..., copy: bool = True) -> npt.NDArray[np.int32]:
    """Positions of the tiles of ``image`` (rows of bytes) that differ from ``prev``; updates ``prev``."""

def gather(image: npt.NDArray[np.uint8], channels: int, tile: int,
           positions: npt.ArrayLike, out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """The zero-padded tiles at ``positions``: ``uint8[len(positions), tile*tile*channels]``
    (written into ``out`` when given)."""

def scatter(image: npt.NDArray[np.uint8], channels: int, tile: int, positions: npt.ArrayLike,
            tiles: npt.NDArray[np.uint8]) -> None:
    """Write ``tiles`` (as :func:`gather` returns them) back at ``positions`` of ``image``."""

def copy_out(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
    """Copy ``src`` into ``dst`` (C-contiguous ``uint8``, the same size), past the cache when large."""

def compare_shifted(image: npt.NDArray[np.uint8], prev: npt.NDArray[np.uint8], channels: int, tile: int,
                    rect: tuple[int, int, int, int], dx: int, dy: int, cx: int, cy: int,
                    flags: npt.NDArray[np.uint8], copy: tuple[int, int, int, int] | None = None) -> None:
    """Flag the cells (cell (0, 0) at pixel (cx, cy)) holding a pixel of ``rect`` that differs
    from pixel (x - dx, y - dy) of ``prev``; then the rectangle ``copy`` of ``image`` goes into
    ``prev`` (in the same pass)."""

def gather_cells(image: npt.NDArray[np.uint8], channels: int, tile: int, cx: int, cy: int,
                 rows: npt.ArrayLike, cols: npt.ArrayLike,
                 out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """The tiles of grid cells ``(rows[k], cols[k])`` (cell (0, 0) at pixel (cx, cy)), zero outside the image."""

def row_hashes(image: npt.NDArray[np.uint8], channels: int, x0: int, strip: int, strips: int, y0: int, y1: int,
               out: npt.NDArray[np.uint64] | None = None,
               todo: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.uint64]:
    """``uint64[y1 - y0, strips]``: a hash of each strip of ``strip`` pixels from x0 on, per row."""

def col_hashes(image: npt.NDArray[np.uint8], channels: int, y0: int, band: int, bands: int, x0: int, x1: int,
               step: int = 1) -> npt.NDArray[np.uint64]:
    """``uint64[x1 - x0, bands]``: a hash of each band of ``band`` rows from y0 on, per column."""

def col_sums(image: npt.NDArray[np.uint8], channels: int, y0: int, y1: int, step: int, x0: int,
             x1: int) -> npt.NDArray[np.int64]:
    """``int64[x1 - x0]``: per pixel column, the sum of its bytes over rows y0, y0 + step, ... below y1."""

def shift_votes(cur: npt.NDArray[np.uint64], old: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
    """``int32[strips, 2n]``: per strip, the lines whose hash is found once in ``old``, by shift."""

def tile_hash(tile: bytes | bytearray | memoryview | npt.NDArray[np.uint8]) -> int:
    """XXH64 (seed 0) of a tile's bytes."""

class TileStore:
    """The shard-wide content store of one tile size, and its open page."""

    tile_bytes: int
    capacity: int
    page_tiles: int
    page_count: int
    live: int
    next_id: int
    page_first: int

    def __init__(self, tile_bytes: int, capacity: int, page_tiles: int, hash_mask: int = ...) -> None: ...
    @property
    def hash_mask(self) -> int: ...
    @property
    def memory_bytes(self) -> int:
        """Bytes held now: arena chunks, slot hashes, hash table, page."""
    def add(self, tiles: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64], start: int = ..., min_id: int = ...,
            firsts: npt.ArrayLike | None = None, allowed: npt.ArrayLike | None = None) -> int:
        """Set ``ids[i]`` for ``start <= i < stop`` and return ``stop`` (stops when the page is full)."""
    def copy_tiles(self, ids: npt.ArrayLike, out: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
        """Copy the bytes of the tiles ``ids`` the store still holds into the rows of ``out``; returns which."""
    def take_page(self) -> tuple[int, int, bytes]:
        """``(first id, count, bytes)`` of the open page, which then starts afresh."""

def encode_full(ids: Sequence[int] | npt.NDArray[np.int64]) -> bytes:
    """Key grid blob of all ids of a frame."""

def encode_delta(positions: Sequence[int] | npt.NDArray[np.int32],
                 ids: Sequence[int] | npt.NDArray[np.int64]) -> bytes:
    """Delta grid blob: new ids at strictly ascending positions."""
