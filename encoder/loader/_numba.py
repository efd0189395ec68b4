"""Numba kernels of the loader: crop and resize of frames, without the GIL.

Contract of every kernel: ``src`` is ``uint8[H, W, C]`` C-contiguous (2-D frames are viewed
as ``C = 1``), ``dst`` is ``uint8[h, w, C]`` C-contiguous and owned by the caller (a slot of
a batch), and the index arrays are int64, computed and bounds-checked in Python by
:func:`source_ranges` / :func:`nearest_map`, so the kernels trust them and allocate nothing.
Types at the boundary are fixed (as above) so nothing compiles while samples are read;
:func:`warmup` compiles them or loads them from Numba's on-disk cache.

The NumPy functions ``reference_*`` are the executable specification: the kernels write
exactly their bytes (the tests compare them).
"""
from __future__ import annotations

import numpy as np
from numba import njit


def source_ranges(offset: int, size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Box filter bounds: output pixel ``i`` of ``out`` covers source pixels ``[lo[i], hi[i])``.

    ``lo[i] = offset + floor(i * size / out)``, ``hi[i] = offset + floor((i + 1) * size / out)``,
    and at least one pixel (``hi = lo + 1`` when enlarging).
    """
    i = np.arange(out + 1, dtype=np.int64)
    edges = offset + (i * size) // out
    lo = edges[:-1].copy()
    hi = np.maximum(edges[1:], lo + 1)
    return lo, hi


def nearest_map(offset: int, size: int, out: int) -> np.ndarray:
    """Nearest neighbour: output pixel ``i`` takes source pixel ``offset + floor((2i + 1) * size / (2 out))``
    (the pixel under its centre)."""
    i = np.arange(out, dtype=np.int64)
    return offset + ((2 * i + 1) * size) // (2 * out)


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


def reference_resize_box(src: np.ndarray, crop_box: tuple, size: tuple) -> np.ndarray:
    """NumPy specification of :func:`resize_box` (slow; for tests)."""
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


def reference_resize_nearest(src: np.ndarray, crop_box: tuple, size: tuple) -> np.ndarray:
    """NumPy specification of :func:`resize_nearest`."""
    top, left, height, width = crop_box
    ys, xs = nearest_map(top, height, size[0]), nearest_map(left, width, size[1])
    return src[ys][:, xs].copy()


def warmup() -> None:
    """Compile (or load from cache) every kernel for the types the loader passes."""
    src = np.zeros((4, 4, 4), np.uint8)
    dst = np.zeros((2, 2, 4), np.uint8)
    crop(src, np.int64(1), np.int64(1), dst)
    lo, hi = source_ranges(0, 4, 2)
    resize_box(src, lo, hi, lo, hi, np.zeros((4, 4), np.uint32), dst)
    resize_nearest(src, nearest_map(0, 4, 2), nearest_map(0, 4, 2), dst)


__all__ = ["crop", "nearest_map", "reference_resize_box", "reference_resize_nearest", "resize_box",
           "resize_nearest", "source_ranges", "warmup"]
