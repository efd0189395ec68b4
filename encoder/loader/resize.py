"""Which source pixels each output pixel of a crop-and-resize reads: the kernels' index arrays.

Both backends of the loader kernels (:mod:`encoder.loader._numba`,
:mod:`encoder.loader.reference`) take these arrays instead of computing them, so the
rounding of the geometry is decided once, here, in plain Python. Every array is int64 and
lies within the crop box ``[offset, offset + size)``, which the caller has checked against
the frame: the kernels trust them.
"""
from __future__ import annotations

import numpy as np


def source_ranges(offset: int, size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Box filter bounds: output pixel ``i`` of ``out`` covers source pixels ``[lo[i], hi[i])``.

    ``lo[i] = offset + floor(i * size / out)``, ``hi[i] = offset + floor((i + 1) * size / out)``,
    and at least one pixel (``hi = lo + 1`` when enlarging).

    >>> source_ranges(10, 5, 2)
    (array([10, 12]), array([12, 15]))
    >>> source_ranges(0, 2, 4)  # enlarging: each source pixel serves two output pixels
    (array([0, 0, 1, 1]), array([1, 1, 2, 2]))
    """
    i = np.arange(out + 1, dtype=np.int64)
    edges = offset + (i * size) // out
    lo = edges[:-1].copy()
    hi = np.maximum(edges[1:], lo + 1)
    return lo, hi


def nearest_map(offset: int, size: int, out: int) -> np.ndarray:
    """Nearest neighbour: output pixel ``i`` takes source pixel ``offset + floor((2i + 1) * size / (2 out))``
    (the pixel under its centre).

    >>> nearest_map(10, 6, 3)
    array([11, 13, 15])
    """
    i = np.arange(out, dtype=np.int64)
    return offset + ((2 * i + 1) * size) // (2 * out)


__all__ = ["nearest_map", "source_ranges"]
