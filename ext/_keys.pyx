# cython: language_level=3, embedsignature=True
"""Native kernel of the key-stream codec: pair each key-up with its pending key-down.

Contract: ``pair_rows(dense, pressed, n_codes) -> int64[n]``. ``dense`` holds key codes mapped to
0..n_codes-1, ``pressed`` is 0/1. ``ref[i]`` is the row of the key-down that row ``i`` (a key-up)
releases, or -1 when row ``i`` is an anchor (a key-down, or a key-up with no pending key-down).
A repeated key-down (auto-repeat) replaces the pending one. Equals
``encoder.codecs.keys.pair_rows_reference`` exactly.
"""
import numpy as np

cimport cython
from libc.stdint cimport int64_t, uint8_t, uint32_t


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _pair(const uint32_t[::1] dense, const uint8_t[::1] pressed, int64_t[::1] pending,
                int64_t[::1] ref) noexcept nogil:
    cdef Py_ssize_t i, n = dense.shape[0]
    cdef uint32_t c
    for i in range(n):
        c = dense[i]
        if pressed[i]:
            pending[c] = i
            ref[i] = -1
        elif pending[c] >= 0:
            ref[i] = pending[c]
            pending[c] = -1
        else:
            ref[i] = -1


def pair_rows(dense, pressed, Py_ssize_t n_codes):
    dense = np.ascontiguousarray(dense, dtype=np.uint32)
    pressed = np.ascontiguousarray(pressed).view(np.uint8) if np.asarray(pressed).dtype == np.bool_ \
        else np.ascontiguousarray(pressed, dtype=np.uint8)
    if dense.ndim != 1 or pressed.shape != dense.shape:
        raise ValueError("dense and pressed must be 1-D arrays of one length")
    if dense.size and (n_codes <= 0 or dense.max() >= n_codes):
        raise ValueError("a dense code is out of range")
    pending = np.full(max(n_codes, 1), -1, np.int64)
    ref = np.empty(dense.shape[0], np.int64)
    _pair(dense, pressed, pending, ref)
    return ref
