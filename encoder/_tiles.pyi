"""Type stubs of the native capture-path tile kernels (ext/_tiles.pyx).

Every function returns exactly what its reference in :mod:`encoder.tiles.reference` returns.
"""
from typing import Sequence

import numpy as np
import numpy.typing as npt

GRID_FULL: int
GRID_DELTA: int

def stage(image: npt.NDArray[np.uint8], prev: npt.NDArray[np.uint8], channels: int, tile: int,
          candidates: npt.ArrayLike | None = ...) -> npt.NDArray[np.int32]:
    """Positions of the tiles of ``image`` (rows of bytes) that differ from ``prev``; updates ``prev``."""

def gather(image: npt.NDArray[np.uint8], channels: int, tile: int,
           positions: npt.ArrayLike, out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """The zero-padded tiles at ``positions``: ``uint8[len(positions), tile*tile*channels]``
    (written into ``out`` when given)."""

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
    def add(self, tiles: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64], start: int = ...) -> int:
        """Set ``ids[i]`` for ``start <= i < stop`` and return ``stop`` (stops when the page is full)."""
    def take_page(self) -> tuple[int, int, bytes]:
        """``(first id, count, bytes)`` of the open page, which then starts afresh."""

def encode_full(ids: Sequence[int] | npt.NDArray[np.int64]) -> bytes:
    """Key grid blob of all ids of a frame."""

def encode_delta(positions: Sequence[int] | npt.NDArray[np.int32],
                 ids: Sequence[int] | npt.NDArray[np.int64]) -> bytes:
    """Delta grid blob: new ids at strictly ascending positions."""
