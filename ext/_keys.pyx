# cython: language_level=3, embedsignature=True
"""Native kernel of the key-stream codec: pair each key-up with its pending key-down.

Contract: ``pair_rows(code, pressed) -> int64[n]``. ``code`` holds key codes (uint32),
``pressed`` is 0/1. ``ref[i]`` is the row of the key-down that row ``i`` (a key-up) releases,
or -1 when row ``i`` is an anchor (a key-down, or a key-up with no pending key-down). A
repeated key-down (auto-repeat) replaces the pending one. Equals
``encoder.codecs.keys.pair_rows_reference`` exactly. Pending key-downs live in an
open-addressing hash table sized from n, so any uint32 code works in O(n).
"""
import numpy as np

cimport cython
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _pair(const uint32_t[::1] code, const uint8_t[::1] pressed, uint32_t[::1] keys,
                int64_t[::1] pending, uint8_t[::1] used, int64_t[::1] ref) noexcept nogil:
    cdef Py_ssize_t i, n = code.shape[0]
    cdef uint64_t mask = keys.shape[0] - 1, slot
    cdef uint32_t c
    for i in range(n):
        c = code[i]
        slot = (<uint64_t>c * 0x9E3779B97F4A7C15ULL) >> 32 & mask
        while used[slot] and keys[slot] != c:  # linear probing; the table is never full
            slot = (slot + 1) & mask
        if not used[slot]:
            used[slot] = 1
            keys[slot] = c
            pending[slot] = -1
        if pressed[i]:
            pending[slot] = i
            ref[i] = -1
        elif pending[slot] >= 0:
            ref[i] = pending[slot]
            pending[slot] = -1
        else:
            ref[i] = -1


def pair_rows(code, pressed):
    code = np.ascontiguousarray(code, dtype=np.uint32)
    pressed = np.ascontiguousarray(pressed)
    pressed = pressed.view(np.uint8) if pressed.dtype == np.bool_ else pressed.astype(np.uint8)
    if code.ndim != 1 or pressed.shape != code.shape:
        raise ValueError("code and pressed must be 1-D arrays of one length")
    size = 16
    while size < 2 * code.shape[0]:
        size *= 2
    keys = np.zeros(size, np.uint32)
    pending = np.empty(size, np.int64)
    used = np.zeros(size, np.uint8)
    ref = np.empty(code.shape[0], np.int64)
    _pair(code, pressed, keys, pending, used, ref)
    return ref
