"""Which kernels run: the native core or the NumPy reference, chosen once for the process.

``ENCODER_BACKEND`` is read here and nowhere else. ``native`` (the default) is the Cython
capture-path kernels (``encoder._codec``, ``encoder._keys``, ``encoder._tiles``) with the
Numba read-path kernels (``encoder.codecs._numba``, ``encoder.tiles._numba``,
``encoder.loader._numba``); a missing native core is an ImportError, never a silent slow
fallback. ``reference`` is the NumPy executable spec of each layer (``encoder.codecs.reference``,
``encoder.tiles.reference``, ``encoder.loader.reference``): tests, debugging.

Each layer declares its two kernel sets once (:func:`declare`, in the layer's ``__init__``:
what the native and the reference set hold; this module imports no layer), and asks for
them here: :func:`codec_kernels`, :func:`tile_kernels`, :func:`loader_kernels` return a
:class:`Kernels` whose attributes have the same names and contracts under either backend
(the tests compare the two). The sets are loaded on first use, and the Numba kernels of a
set (its ``lazy`` names) on the first use of one of them: a writer never reads, and
importing Numba costs ~60 MB of resident memory and ~0.5 s that an all-day recorder should
not pay (docs/capture.md).

>>> from encoder import backends
>>> backends.NAME in ("native", "reference")
True
>>> backends.codec_kernels("reference").name
'reference'
"""
from __future__ import annotations

import importlib
import os
import threading
from typing import Callable

#: The backend of this process: ``ENCODER_BACKEND``, read once at import.
NAME = os.environ.get("ENCODER_BACKEND", "native")
if NAME not in ("native", "reference"):
    raise ImportError(f"ENCODER_BACKEND must be 'native' or 'reference', not {NAME!r}")


class Kernels:
    """The kernels of one layer under one backend, as attributes, loaded on first use.

    ``load()`` returns the set's dict of name -> kernel; ``lazy_names`` come from
    ``load_lazy()`` instead, on the first access to any of them.
    """

    def __init__(self, layer: str, name: str, load: Callable[[], dict], lazy_names: tuple = (),
                 load_lazy: Callable[[], dict] | None = None):
        self.layer, self.name = layer, name
        self._load, self._lazy_names, self._load_lazy = load, lazy_names, load_lazy
        self._loaded = False

    def __getattr__(self, attr):  # only called for names not bound yet
        if attr.startswith("_"):
            raise AttributeError(attr)
        with _lock:
            if attr in self._lazy_names:
                self.__dict__.update(self._load_lazy())
            elif not self._loaded:
                self.__dict__.update(self._load())
                self._loaded = True
        if attr not in self.__dict__:
            raise AttributeError(f"{self.layer} kernels have no {attr!r}")
        return self.__dict__[attr]

    def __repr__(self):
        return f"<{self.name} {self.layer} kernels>"


def native(module: str):
    """Import a compiled module of the native core (``encoder._codec`` ...), or say how to get it."""
    try:
        return importlib.import_module(f"encoder.{module}")
    except ImportError as exc:  # pragma: no cover - a broken install, not a runtime choice
        raise ImportError(f"encoder's native core (encoder.{module}) is not built; reinstall with "
                          "`pip install .`, or set ENCODER_BACKEND=reference for the slow NumPy "
                          f"reference ({exc})") from exc


_declared: dict[str, dict] = {}
_cache: dict[tuple, Kernels] = {}
_lock = threading.RLock()


def declare(layer: str, *, native: Callable[[], dict], reference: Callable[[], dict],
            lazy: tuple = (), native_lazy: Callable[[], dict] | None = None,
            warmup: Callable[[], None] | None = None) -> None:
    """Declare a layer's kernel sets: ``native()`` and ``reference()`` return name -> kernel
    dicts with the same names; the native ``lazy`` names come from ``native_lazy()`` (the Numba
    kernels), and ``warmup()`` compiles them (:func:`warmup`)."""
    _declared[layer] = dict(native=native, reference=reference, lazy=lazy, native_lazy=native_lazy,
                            warmup=warmup)


def kernels(layer: str, name: str | None = None) -> Kernels:
    """The kernels of ``layer`` under backend ``name`` (default: :data:`NAME`)."""
    name = name or NAME
    if name not in ("native", "reference"):
        raise ValueError(f"backend must be 'native' or 'reference', not {name!r}")
    with _lock:
        if (layer, name) not in _cache:
            if layer not in _declared:
                raise LookupError(f"no kernels declared for {layer!r} (import encoder.{layer} first)")
            spec = _declared[layer]
            if name == "reference":
                _cache[layer, name] = Kernels(layer, name, spec["reference"])
            else:
                _cache[layer, name] = Kernels(layer, name, spec["native"], spec["lazy"], spec["native_lazy"])
        return _cache[layer, name]


def codec_kernels(name: str | None = None) -> Kernels:
    """Column kernels (:mod:`encoder.codecs`): ``scan``, ``transform``, ``split_planes``,
    ``rank_table``, ``apply_rank`` (encode), ``decode_planes`` (decode), ``pair_rows``,
    ``pair_split``, ``pair_join`` (key stream)."""
    return kernels("codecs", name)


def tile_kernels(name: str | None = None) -> Kernels:
    """Tile kernels (:mod:`encoder.tiles`): ``stage``, ``gather``, ``tile_hash``, ``TileStore``,
    ``encode_full``, ``encode_delta`` (capture path); ``decode_grid``, ``mark_pages``,
    ``assemble``, ``assemble_at``, ``assemble_bands`` (read path; ``assemble_bands`` is None
    in the reference). ``decode_grid(blob, ids, limit)`` returns the grid's kind and raises
    :class:`~encoder.errors.CorruptShardError` on a malformed blob under either backend."""
    return kernels("tiles", name)


def loader_kernels(name: str | None = None) -> Kernels:
    """Loader kernels (:mod:`encoder.loader`): ``crop``, ``resize_nearest``, ``resize_box``."""
    return kernels("loader", name)


def warmup() -> None:
    """Compile, or load from Numba's cache, every JIT kernel of the layers imported so far
    (call it in each loader worker before timing: a kernel's first call otherwise pays it).
    Does nothing under the reference backend."""
    if NAME == "native":
        for spec in list(_declared.values()):
            if spec["warmup"] is not None:
                spec["warmup"]()


__all__ = ["NAME", "Kernels", "codec_kernels", "declare", "kernels", "loader_kernels", "native", "tile_kernels",
           "warmup"]
