# cython: language_level=3, embedsignature=True
"""Native kernels of the key-stream codec: pair each key-up with its pending key-down.

Rows are walked in order with a pending key-down per code: a key-down becomes pending
(replacing an earlier one: auto-repeat); a key-up whose code has a pending key-down is *paired*
with it; every other row is an *anchor*. Pending key-downs live in an open-addressing hash table
sized from n, so any uint32 code works in O(n). Spec: ``encoder.codecs.reference.pair_*``.

* ``pair_rows(code, pressed) -> int64[n]``: the row each key-up releases, or -1 for anchors.
* ``pair_split(t, code, pressed) -> (anchors int64[a], dwells int64[n - a])``: anchor times, and
  ``t - t[down]`` of paired key-ups (wrapping), each in row order.
* ``pair_join(code, pressed, anchors, dwells, t) -> status``: the inverse, into ``t``; a negative
  status (PAIR_COUNTS) when the counts do not match the pairing.
"""
import numpy as np

cimport cython
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

#: pair_join status: the anchors and dwells stored do not match the pairing of code and pressed.
PAIR_COUNTS = -1


cdef class _Pending:
    """Hash table code -> row of its pending key-down (-1: none)."""
    cdef uint32_t[::1] keys
    cdef int64_t[::1] row
    cdef uint8_t[::1] used
    cdef uint64_t mask

    def __init__(self, Py_ssize_t n):
        size = 16
        while size < 2 * n:
            size *= 2
        self.keys = np.zeros(size, np.uint32)
        self.row = np.full(size, -1, np.int64)
        self.used = np.zeros(size, np.uint8)
        self.mask = size - 1

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef inline Py_ssize_t slot(self, uint32_t c) noexcept nogil:
        cdef uint64_t s = (<uint64_t>c * 0x9E3779B97F4A7C15ULL) >> 32 & self.mask
        while self.used[s] and self.keys[s] != c:  # linear probing; never full (size >= 2n)
            s = (s + 1) & self.mask
        if not self.used[s]:
            self.used[s] = 1
            self.keys[s] = c
        return s


cdef inline int64_t _step(_Pending pending, uint32_t c, bint down, Py_ssize_t i) noexcept nogil:
    """Advance the walk by row i; returns the row it releases or -1."""
    cdef Py_ssize_t s = pending.slot(c)
    cdef int64_t released
    if down:
        pending.row[s] = i
        return -1
    released = pending.row[s]
    pending.row[s] = -1
    return released


def _inputs(code, pressed):
    code = np.ascontiguousarray(code, dtype=np.uint32)
    pressed = np.ascontiguousarray(pressed)
    pressed = pressed.view(np.uint8) if pressed.dtype == np.bool_ else pressed.astype(np.uint8)
    if code.ndim != 1 or pressed.shape != code.shape:
        raise ValueError("code and pressed must be 1-D arrays of one length")
    return code, pressed


@cython.boundscheck(False)
@cython.wraparound(False)
def pair_rows(code, pressed):
    code, pressed = _inputs(code, pressed)
    cdef const uint32_t[::1] c = code
    cdef const uint8_t[::1] p = pressed
    cdef Py_ssize_t i, n = c.shape[0]
    cdef _Pending pending = _Pending(n)
    ref = np.empty(n, np.int64)
    cdef int64_t[::1] r = ref
    with nogil:
        for i in range(n):
            r[i] = _step(pending, c[i], p[i], i)
    return ref


@cython.boundscheck(False)
@cython.wraparound(False)
def pair_split(t, code, pressed):
    code, pressed = _inputs(code, pressed)
    t = np.ascontiguousarray(t, dtype=np.int64)
    if t.shape != code.shape:
        raise ValueError("t, code and pressed must have one length")
    cdef const int64_t[::1] tv = t
    cdef const uint32_t[::1] c = code
    cdef const uint8_t[::1] p = pressed
    cdef Py_ssize_t i, a = 0, d = 0, n = c.shape[0]
    cdef int64_t down
    cdef _Pending pending = _Pending(n)
    anchors_out = np.empty(n, np.int64)
    dwells_out = np.empty(n, np.int64)
    cdef int64_t[::1] anchors = anchors_out
    cdef int64_t[::1] dwells = dwells_out
    with nogil:
        for i in range(n):
            down = _step(pending, c[i], p[i], i)
            if down < 0:
                anchors[a] = tv[i]
                a += 1
            else:
                dwells[d] = <int64_t>(<uint64_t>tv[i] - <uint64_t>tv[down])
                d += 1
    return anchors_out[:a].copy(), dwells_out[:d].copy()


@cython.boundscheck(False)
@cython.wraparound(False)
def pair_join(code, pressed, anchors, dwells, int64_t[::1] t):
    """Rebuild ``t`` (n int64, the caller's) from its anchors and dwells: the inverse of pair_split.

    Returns 0, or PAIR_COUNTS (-1) when the counts do not match the pairing (corrupt input;
    :func:`encoder.errors.check_status` raises).
    """
    code, pressed = _inputs(code, pressed)
    anchors = np.ascontiguousarray(anchors, dtype=np.int64)
    dwells = np.ascontiguousarray(dwells, dtype=np.int64)
    cdef const uint32_t[::1] c = code
    cdef const uint8_t[::1] p = pressed
    cdef const int64_t[::1] av = anchors
    cdef const int64_t[::1] dv = dwells
    cdef Py_ssize_t i, a = 0, d = 0, n = c.shape[0], na = av.shape[0], nd = dv.shape[0]
    cdef int64_t down
    cdef bint short = False
    if t.shape[0] != n:
        raise ValueError(f"t holds {t.shape[0]} values, the key stream {n}")
    cdef _Pending pending = _Pending(n)
    with nogil:
        for i in range(n):
            down = _step(pending, c[i], p[i], i)
            if down < 0:
                if a == na:
                    short = True
                    break
                t[i] = av[a]
                a += 1
            else:
                if d == nd:
                    short = True
                    break
                t[i] = <int64_t>(<uint64_t>t[down] + <uint64_t>dv[d])
                d += 1
    if short or a != na or d != nd:
        return PAIR_COUNTS
    return 0
