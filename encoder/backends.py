"""Which kernels run: the native core or the NumPy reference, chosen once for the process.

``ENCODER_BACKEND`` is read here and nowhere else. ``native`` (the default) is the Cython
capture-path kernels (``encoder._codec``, ``encoder._keys``, ``encoder._tiles``) with the
Numba read-path kernels (``encoder.codecs._numba``, ``encoder.tiles._numba``,
``encoder.loader._numba``); a missing native core is an ImportError, never a silent slow
fallback. ``reference`` is the NumPy executable spec of each layer (``encoder.codecs.reference``,
``encoder.tiles.reference``, ``encoder.loader.reference``): tests, debugging.

Each layer asks for its kernels here, by name: :func:`codec_kernels`, :func:`tile_kernels`,
:func:`loader_kernels` return a :class:`Kernels` whose attributes have the same names and
contracts under either backend (the tests compare the two). Numba kernels are imported on
first use: a writer never reads, and importing Numba costs ~60 MB of resident memory and
~0.5 s that an all-day recorder should not pay (docs/capture.md).

>>> from encoder import backends
>>> backends.NAME in ("native", "reference")
True
>>> backends.codec_kernels("reference").name
'reference'
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

import numpy as np

from .errors import check_status

#: The backend of this process: ``ENCODER_BACKEND``, read once at import.
NAME = os.environ.get("ENCODER_BACKEND", "native")
if NAME not in ("native", "reference"):
    raise ImportError(f"ENCODER_BACKEND must be 'native' or 'reference', not {NAME!r}")


class Kernels:
    """The kernels of one layer under one backend, as attributes.

    ``eager`` names are bound now; the names of ``lazy`` (a function returning a dict) are
    bound together on the first access to any of them.
    """

    def __init__(self, name: str, eager: dict, lazy_names: tuple = (), lazy: Callable[[], dict] | None = None):
        self.name = name
        self.__dict__.update(eager)
        self._lazy_names, self._lazy = lazy_names, lazy

    def __getattr__(self, attr):  # only called for names not bound yet
        if attr.startswith("_") or attr not in self._lazy_names:
            raise AttributeError(attr)
        self.__dict__.update(self._lazy())
        return self.__dict__[attr]

    def __repr__(self):
        return f"<{self.name} kernels>"


def _native(module: str):
    """Import a compiled module of the native core, or say how to get it."""
    try:
        return importlib.import_module(f"encoder.{module}")
    except ImportError as exc:  # pragma: no cover - a broken install, not a runtime choice
        raise ImportError(f"encoder's native core (encoder.{module}) is not built; reinstall with "
                          "`pip install .`, or set ENCODER_BACKEND=reference for the slow NumPy "
                          f"reference ({exc})") from exc


def _pick(name: str | None) -> str:
    name = name or NAME
    if name not in ("native", "reference"):
        raise ValueError(f"backend must be 'native' or 'reference', not {name!r}")
    return name


_CODEC_NAMES = ("scan", "transform", "split_planes", "rank_table", "apply_rank", "decode_planes",
                "pair_rows", "pair_split", "pair_join")
_cache: dict[tuple, Kernels] = {}


def codec_kernels(name: str | None = None) -> Kernels:
    """Column kernels: ``scan``, ``transform``, ``split_planes``, ``rank_table``, ``apply_rank``
    (encode), ``decode_planes`` (decode), ``pair_rows``, ``pair_split``, ``pair_join`` (key stream)."""
    name = _pick(name)
    if ("codecs", name) not in _cache:
        if name == "reference":
            from .codecs import reference
            kernels = Kernels(name, {n: getattr(reference, n) for n in _CODEC_NAMES})
        else:
            codec, keys = _native("_codec"), _native("_keys")
            kernels = Kernels(name, {n: getattr(codec, n) for n in _CODEC_NAMES[:5]}
                              | {n: getattr(keys, n) for n in _CODEC_NAMES[6:]},
                              ("decode_planes",), lambda: {"decode_planes": _numba("codecs").decode_planes})
        _cache["codecs", name] = kernels
    return _cache["codecs", name]


_TILE_CAPTURE = ("stage", "gather", "tile_hash", "TileStore", "encode_full", "encode_delta")
_TILE_READ = ("decode_grid", "mark_pages", "assemble", "assemble_at", "assemble_bands")


def tile_kernels(name: str | None = None) -> Kernels:
    """Tile kernels: ``stage``, ``gather``, ``tile_hash``, ``TileStore``, ``encode_full``,
    ``encode_delta`` (capture path); ``decode_grid``, ``mark_pages``, ``assemble``,
    ``assemble_at``, ``assemble_bands`` (read path; ``assemble_bands`` is None in the reference).

    ``decode_grid(blob, ids, limit)`` returns the grid's kind and raises
    :class:`~encoder.errors.CorruptShardError` on a malformed blob under either backend.
    """
    name = _pick(name)
    if ("tiles", name) not in _cache:
        if name == "reference":
            from .tiles import reference
            kernels = Kernels(name, {n: getattr(reference, n, None) for n in _TILE_CAPTURE + _TILE_READ})
        else:
            tiles = _native("_tiles")
            kernels = Kernels(name, {n: getattr(tiles, n) for n in _TILE_CAPTURE}, _TILE_READ, _tile_read)
        _cache["tiles", name] = kernels
    return _cache["tiles", name]


def _tile_read() -> dict:
    numba = _numba("tiles")

    def decode_grid(blob, ids, limit):
        return check_status(int(numba.decode_grid(blob, ids, np.int64(limit))), numba.GRID_ERRORS, what="grid")
    return {n: getattr(numba, n) for n in _TILE_READ} | {"decode_grid": decode_grid}


_LOADER_NAMES = ("crop", "resize_nearest", "resize_box")


def loader_kernels(name: str | None = None) -> Kernels:
    """Loader kernels: ``crop``, ``resize_nearest``, ``resize_box`` (contracts in
    :mod:`encoder.loader.reference`)."""
    name = _pick(name)
    if ("loader", name) not in _cache:
        if name == "reference":
            from .loader import reference
            kernels = Kernels(name, {n: getattr(reference, n) for n in _LOADER_NAMES})
        else:
            kernels = Kernels(name, {}, _LOADER_NAMES,
                              lambda: {n: getattr(_numba("loader"), n) for n in _LOADER_NAMES})
        _cache["loader", name] = kernels
    return _cache["loader", name]


def _numba(layer: str):
    return importlib.import_module(f"encoder.{layer}._numba")


def warmup() -> None:
    """Compile, or load from Numba's cache, every JIT kernel now (call it in each loader worker
    before timing: the first call of a kernel otherwise pays it). Does nothing under the
    reference backend."""
    if NAME == "native":
        for layer in ("codecs", "tiles", "loader"):
            _numba(layer).warmup()


__all__ = ["NAME", "Kernels", "codec_kernels", "loader_kernels", "tile_kernels", "warmup"]
