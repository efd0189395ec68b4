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
from .layout import FORMATS, MAX_SIDE

__all__ = ["FORMATS", "MAX_SIDE"]
