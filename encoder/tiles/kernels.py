"""Which implementation of the tile kernels is loaded (``encoder.backend`` names it).

The native core (Cython capture-path kernels in ``encoder._tiles``, Numba read-path kernels
in :mod:`encoder.tiles._numba`) is required by default: a silent slow fallback would be a
bug. ``ENCODER_BACKEND=reference`` selects the NumPy reference explicitly (tests,
debugging). :func:`load` returns either as a namespace with the same names, so a writer or
a reader can also be given one explicitly (the tests compare the two).
"""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

from . import reference

BACKEND = os.environ.get("ENCODER_BACKEND", "native")


def _reference_decode_grid(blob, ids, limit):
    return reference.decode_grid(blob, ids, int(limit))


def _reference_mark_pages(ids, firsts, marks):
    pages = np.searchsorted(firsts, ids, side="right") - 1
    np.maximum.at(marks, pages, (ids - firsts[pages] + 1).astype(marks.dtype))


def _reference_assemble(out, ids, tile, channels, firsts, slots, pool):
    """What :func:`encoder.tiles._numba.assemble` does, one tile at a time."""
    return _reference_assemble_at(out, ids, np.arange(len(ids)), tile, channels, firsts, slots, pool)


def _reference_assemble_at(out, ids, positions, tile, channels, firsts, slots, pool):
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


def load(name: str | None = None) -> SimpleNamespace:
    """The kernels of backend ``name`` ('native' or 'reference'; default: ``BACKEND``).

    Every ``decode_grid`` here raises :class:`CorruptShardError` on a malformed blob.
    """
    name = name or BACKEND
    if name == "reference":
        return SimpleNamespace(
            name="reference", stage=reference.stage, gather=reference.gather,
            tile_hash=reference.tile_hash, TileStore=reference.TileStore,
            encode_key=reference.encode_key, encode_delta=reference.encode_delta,
            decode_grid=_reference_decode_grid, mark_pages=_reference_mark_pages,
            assemble=_reference_assemble, assemble_at=_reference_assemble_at, assemble_bands=None)
    if name != "native":
        raise ImportError(f"ENCODER_BACKEND must be 'native' or 'reference', not {name!r}")
    try:
        from .. import _tiles
    except ImportError as exc:  # pragma: no cover - a broken install, not a runtime choice
        raise ImportError("encoder's native tile kernels (encoder._tiles) are not built; reinstall "
                          "with `pip install .`, or set ENCODER_BACKEND=reference for the slow NumPy "
                          f"reference ({exc})") from exc
    return _NativeKernels(
        name="native", stage=_tiles.stage, gather=_tiles.gather, tile_hash=_tiles.tile_hash,
        TileStore=_tiles.TileStore, encode_key=_tiles.encode_key, encode_delta=_tiles.encode_delta)


class _NativeKernels(SimpleNamespace):
    """The native kernels; the Numba read-path ones are imported on first use.

    A writer never reads, and importing Numba costs ~60 MB of resident memory and ~0.5 s,
    which an all-day recorder should not pay (docs/capture.md).
    """

    _READ_PATH = ("decode_grid", "mark_pages", "assemble", "assemble_at", "assemble_bands", "warmup")

    def __getattr__(self, name):  # only called for names not set yet
        if name not in self._READ_PATH:
            raise AttributeError(name)
        from . import _numba

        def decode_grid(blob, ids, limit):
            status = _numba.decode_grid(blob, ids, np.int64(limit))
            if status < 0:
                raise _numba.grid_error(int(status))
            return int(status)

        for attr in self._READ_PATH:
            setattr(self, attr, decode_grid if attr == "decode_grid" else getattr(_numba, attr))
        return getattr(self, name)

__all__ = ["BACKEND", "load"]
