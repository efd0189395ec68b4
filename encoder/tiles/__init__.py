"""Screen tiles: lossless tile deduplication, the shard-wide tile store, frame reconstruction.

* :mod:`.layout`: pixel formats, limits, the ``tile`` page stream (how frames lie in a shard);
* :mod:`.reference`: the NumPy executable spec of every kernel (the tests' oracle);
* :mod:`.kernels`: picks the native kernels (``encoder._tiles``, :mod:`._numba`) or the reference;
* :mod:`.writer` / :mod:`.reader`: the capture-side pipeline and the read side;
* :mod:`.frames`: ``ShardWriter.add_frame`` and ``ShardReader.frame`` & co. (mixins).

docs/tiles.md describes the design and the measurements behind it.
"""
from .layout import FORMATS, MAX_SIDE

__all__ = ["FORMATS", "MAX_SIDE"]
