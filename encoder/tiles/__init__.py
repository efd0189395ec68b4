"""Screen tiles: lossless tile deduplication, the shard-wide tile store, frame reconstruction.

* :mod:`.layout`: pixel formats, limits, the ``tile`` page stream (how frames lie in a shard);
* :mod:`.reference`: the NumPy executable spec of every kernel (the tests' oracle); the native
  kernels (``encoder._tiles``, :mod:`._numba`) come from :func:`encoder.backends.tile_kernels`;
* :mod:`.writer` (the capture-side pipeline) with :mod:`.page_store` (content stores, pages,
  refreshes);
* :mod:`.reader` (grids, assembly) with :mod:`.frame_index` and :mod:`.page_cache`.

The shard layer's ``ShardWriter.add_frame`` and ``ShardReader.frame`` & co.
(:mod:`encoder.shard.frames`) drive them; tiles sees a shard only through its block sink and
block reader seams. docs/tiles.md describes the design and the measurements behind it.
"""
from .. import backends
from ..errors import check_status
from .layout import FORMATS, MAX_SIDE

_CAPTURE = ("stage", "gather", "tile_hash", "TileStore", "encode_full", "encode_delta", "scatter",
            "compare_shifted", "gather_cells", "row_hashes", "col_hashes", "col_sums",
            "shift_votes")
_READ = ("decode_grid", "mark_pages", "assemble", "assemble_at", "assemble_bands", "draw_cells")
_HAND_OUT = ("copy_out",)   # read side too, but Cython: loading it does not load Numba


def _native_set() -> dict:
    tiles = backends.native("_tiles")
    return {n: getattr(tiles, n) for n in _CAPTURE + _HAND_OUT}


def _numba_set() -> dict:
    import numpy as np

    from . import _numba

    def decode_grid(blob, ids, limit):
        status = int(_numba.decode_grid(blob, ids, np.int64(limit)))
        return check_status(status, _numba.GRID_ERRORS, what="grid")
    return {n: getattr(_numba, n) for n in _READ} | {"decode_grid": decode_grid}


def _reference_set() -> dict:
    from . import reference
    return {n: getattr(reference, n, None) for n in _CAPTURE + _READ + _HAND_OUT}


def _warmup() -> None:
    from . import _numba
    _numba.warmup()


backends.declare("tiles", native=_native_set, reference=_reference_set, lazy=_READ, native_lazy=_numba_set, warmup=_warmup)

__all__ = ["FORMATS", "MAX_SIDE"]
