"""NumPy reference of the loader kernels: the executable spec and the tests' oracle.

:func:`crop`, :func:`resize_nearest` and :func:`resize_box` take the arguments of the Numba
kernels of the same names (:mod:`encoder.loader._numba`) and write exactly the same bytes
into ``dst``; ``ENCODER_BACKEND=reference`` runs the loader on them
(:func:`encoder.backends.loader_kernels`). Contract of each: ``src`` is ``uint8[H, W, C]``,
``dst`` is ``uint8[h, w, C]`` owned by the caller, and the int64 index arrays come from
:func:`~encoder.loader.resize.source_ranges` / :func:`~encoder.loader.resize.nearest_map`
and lie within ``src``. Vectorised, but written for clarity, not speed.

:func:`crop_resize_box` and :func:`crop_resize_nearest` state the same results pixel by
pixel from a crop box and an output size (a second, independent oracle for the tests).

>>> import numpy as np
>>> from encoder.loader.resize import source_ranges
>>> src = np.arange(16, dtype=np.uint8).reshape(4, 4, 1)
>>> dst = np.zeros((2, 2, 1), np.uint8)
>>> lo, hi = source_ranges(0, 4, 2)
>>> resize_box(src, lo, hi, lo, hi, np.zeros((4, 1), np.uint32), dst)
>>> dst[:, :, 0]  # the rounded mean of each 2 x 2 block
array([[ 3,  5],
       [11, 13]], dtype=uint8)
"""
from __future__ import annotations

import numpy as np

from .resize import nearest_map, source_ranges


def crop(src: np.ndarray, top, left, dst: np.ndarray) -> None:
    """Copy ``src[top:top + h, left:left + w]`` into ``dst`` (h, w from ``dst``)."""
    h, w = dst.shape[0], dst.shape[1]
    dst[...] = src[int(top):int(top) + h, int(left):int(left) + w]


def resize_nearest(src: np.ndarray, ys: np.ndarray, xs: np.ndarray, dst: np.ndarray) -> None:
    """``dst[i, j] = src[ys[i], xs[j]]``."""
    dst[...] = src[np.ix_(ys, xs)]


def resize_box(src: np.ndarray, y_lo: np.ndarray, y_hi: np.ndarray, x_lo: np.ndarray, x_hi: np.ndarray,
               acc: np.ndarray, dst: np.ndarray) -> None:
    """``dst[i, j]`` = rounded mean of ``src[y_lo[i]:y_hi[i], x_lo[j]:x_hi[j]]`` per channel.

    Rounding is half up: ``(sum + count // 2) // count``. ``acc`` is the native kernel's
    scratch; the reference does not use it. Sums are differences of prefix sums (an
    integral image), first over rows, then over columns, in int64: exact.
    """
    y0, y1 = int(y_lo.min()), int(y_hi.max())
    x0, x1 = int(x_lo.min()), int(x_hi.max())
    region = src[y0:y1, x0:x1]
    # by_rows[r] = sum of region's first r rows; rows[i] = the sum of output row i's source rows.
    by_rows = np.zeros((region.shape[0] + 1,) + region.shape[1:], np.int64)
    np.cumsum(region, axis=0, dtype=np.int64, out=by_rows[1:])
    rows = by_rows[y_hi - y0] - by_rows[y_lo - y0]
    by_cols = np.zeros((rows.shape[0], rows.shape[1] + 1, rows.shape[2]), np.int64)
    np.cumsum(rows, axis=1, out=by_cols[:, 1:])
    sums = by_cols[:, x_hi - x0] - by_cols[:, x_lo - x0]
    count = (y_hi - y_lo)[:, None, None] * (x_hi - x_lo)[None, :, None]
    dst[...] = (sums + count // 2) // count


def crop_resize_box(src: np.ndarray, crop_box: tuple, size: tuple) -> np.ndarray:
    """``src[top:top + height, left:left + width]`` box-resized to ``size``, pixel by pixel.

    ``crop_box`` is ``(top, left, height, width)``, ``size`` ``(h, w)``; returns a new
    ``uint8[h, w, C]``: what :func:`resize_box` writes with the ranges of
    :func:`~encoder.loader.resize.source_ranges`.
    """
    top, left, height, width = crop_box
    y_lo, y_hi = source_ranges(top, height, size[0])
    x_lo, x_hi = source_ranges(left, width, size[1])
    out = np.empty((size[0], size[1], src.shape[2]), np.uint8)
    for i in range(size[0]):
        for j in range(size[1]):
            block = src[y_lo[i]:y_hi[i], x_lo[j]:x_hi[j]].astype(np.int64)
            count = block.shape[0] * block.shape[1]
            out[i, j] = (block.sum(axis=(0, 1)) + count // 2) // count
    return out


def crop_resize_nearest(src: np.ndarray, crop_box: tuple, size: tuple) -> np.ndarray:
    """``src[top:top + height, left:left + width]`` resized to ``size`` by nearest neighbour:
    what :func:`resize_nearest` writes with the maps of :func:`~encoder.loader.resize.nearest_map`."""
    top, left, height, width = crop_box
    ys, xs = nearest_map(top, height, size[0]), nearest_map(left, width, size[1])
    return src[ys][:, xs].copy()


__all__ = ["crop", "crop_resize_box", "crop_resize_nearest", "resize_box", "resize_nearest"]
