"""Numba kernels of the loader: crop and resize of frames, without the GIL.

Contract of every kernel: ``src`` is ``uint8[H, W, C]`` C-contiguous (2-D frames are viewed
as ``C = 1``), ``dst`` is ``uint8[h, w, C]`` C-contiguous and owned by the caller (a slot of
a batch), and the index arrays are int64, computed and bounds-checked in Python by
:func:`~encoder.loader.resize.source_ranges` / :func:`~encoder.loader.resize.nearest_map`,
so the kernels trust them and allocate nothing. Types at the boundary are fixed (as above)
so nothing compiles while samples are read; :func:`warmup` compiles them or loads them from
Numba's on-disk cache.

:mod:`encoder.loader.reference` is the executable specification: functions of the same
names and arguments that write exactly the bytes these kernels write (the tests compare
them). Production code reaches either through :func:`encoder.backends.loader_kernels`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .resize import nearest_map, source_ranges


@njit(cache=True, nogil=True)
def crop(src, top, left, dst):
    """Copy ``src[top:top + h, left:left + w]`` into ``dst`` (h, w from ``dst``)."""
    h, w = dst.shape[0], dst.shape[1]
    for y in range(h):
        dst[y, :, :] = src[top + y, left:left + w, :]


@njit(cache=True, nogil=True)
def resize_nearest(src, ys, xs, dst):
    """``dst[i, j] = src[ys[i], xs[j]]``."""
    h, w, c = dst.shape
    for i in range(h):
        row = src[ys[i]]
        out = dst[i]
        for j in range(w):
            x = xs[j]
            for k in range(c):
                out[j, k] = row[x, k]


@njit(cache=True, nogil=True)
def resize_box(src, y_lo, y_hi, x_lo, x_hi, acc, dst):
    """``dst[i, j]`` = rounded mean of ``src[y_lo[i]:y_hi[i], x_lo[j]:x_hi[j]]`` per channel.

    ``acc`` is scratch ``uint32[W, C]`` (column sums of the rows of one output row).
    Rounding is half up: ``(sum + count // 2) // count``.
    """
    h, w, c = dst.shape
    x_first, x_last = x_lo[0], x_hi[w - 1]
    for i in range(h):
        for x in range(x_first, x_last):
            for k in range(c):
                acc[x, k] = 0
        for y in range(y_lo[i], y_hi[i]):
            row = src[y]
            for x in range(x_first, x_last):
                for k in range(c):
                    acc[x, k] += row[x, k]
        rows = y_hi[i] - y_lo[i]
        out = dst[i]
        for j in range(w):
            count = rows * (x_hi[j] - x_lo[j])
            for k in range(c):
                total = 0
                for x in range(x_lo[j], x_hi[j]):
                    total += acc[x, k]
                out[j, k] = (total + count // 2) // count


def warmup() -> None:
    """Compile (or load from cache) every kernel for the types the loader passes."""
    src = np.zeros((4, 4, 4), np.uint8)
    dst = np.zeros((2, 2, 4), np.uint8)
    crop(src, np.int64(1), np.int64(1), dst)
    lo, hi = source_ranges(0, 4, 2)
    resize_box(src, lo, hi, lo, hi, np.zeros((4, 4), np.uint32), dst)
    resize_nearest(src, nearest_map(0, 4, 2), nearest_map(0, 4, 2), dst)


__all__ = ["crop", "resize_box", "resize_nearest", "warmup"]
