"""NumPy reference of every column kernel: the executable spec and the tests' oracle.

The native kernels (``ext/_codec.pyx`` for encoding, :mod:`encoder.codecs._numba` for
decoding) must return exactly what these functions return, byte for byte. All integer
arithmetic wraps modulo 2**64, so any int64 input round-trips, huge jumps included.

Kernel contracts (n = rows):

* ``scan(values, mode) -> (base, step)``: ``mode`` 0 = delta, 1 = frame of reference.
  delta: ``base = values[0]``, ``step = gcd(values[i] - values[i-1])``;
  for: ``base = min(values)``, ``step = gcd(values - base)``. ``step`` is 1 when the gcd
  is 0 (all deltas zero) or when a difference might not fit int64.
* ``transform(values, mode, base, step) -> uint64[n]``: delta: ``u[0] = 0``,
  ``u[i] = zigzag((values[i] - values[i-1]) / step)``; for: ``u[i] = (values[i] - base) / step``.
* ``split_planes(u, width) -> uint8[width, n]``: plane ``j`` holds byte ``j`` (little end first).
* ``decode_planes(planes, mode, base, step, dtype) -> values``: the inverse of the two above.
* ``rank_table(u)``, ``apply_rank(u, table)``, ``undo_rank(r, table)``: an optional stage
  between ``transform`` and ``split_planes`` that gives the most frequent codes (e.g. the
  ~109 ms tick of a remote-desktop clock) the smallest values, so they fit one byte plane.
"""
from __future__ import annotations

import numpy as np

DELTA, FOR = 0, 1
_U64 = np.uint64
_INT64_SPAN = 1 << 63


def _may_overflow(values: np.ndarray) -> bool:
    """True when a difference of two values might not fit int64 (then step must stay 1)."""
    return values.dtype.itemsize == 8 and int(values.max()) - int(values.min()) >= _INT64_SPAN


def scan(values: np.ndarray, mode: int) -> tuple[int, int]:
    n = values.size
    if n == 0:
        return 0, 1
    if mode == DELTA:
        base = int(values[0])
        if n < 2 or _may_overflow(values):
            return base, 1
        diffs = np.diff(values.astype(np.int64))
        step = int(np.gcd.reduce(np.abs(diffs)))
    else:
        base = int(values.min())
        if _may_overflow(values):
            return base, 1
        step = int(np.gcd.reduce(values.astype(np.int64) - base))
    return base, (step or 1)


def _wrapping(values: np.ndarray) -> np.ndarray:
    """Reinterpret as uint64 (sign-extending narrower signed ints first)."""
    return values.astype(np.int64).view(_U64) if values.dtype.kind == "i" else values.astype(_U64)


def transform(values: np.ndarray, mode: int, base: int, step: int) -> np.ndarray:
    v = _wrapping(values)
    if mode == DELTA:
        d = np.empty_like(v)
        if v.size:
            d[0] = 0
            np.subtract(v[1:], v[:-1], out=d[1:])
        s = d.view(np.int64)
        if step != 1:
            s = s // step  # exact: step divides every delta
        return ((s << 1) ^ (s >> 63)).view(_U64)
    u = v - _U64(base & 0xFFFFFFFFFFFFFFFF)
    return u // _U64(step) if step != 1 else u


def split_planes(u: np.ndarray, width: int) -> np.ndarray:
    return np.ascontiguousarray(u.astype("<u8", copy=False).view(np.uint8).reshape(-1, 8)[:, :width].T)


def gather(planes: np.ndarray) -> np.ndarray:
    """uint64 values from their byte planes (the inverse of :func:`split_planes`)."""
    width, n = planes.shape
    u = np.zeros(n, _U64)
    for j in range(width):
        u |= planes[j].astype(_U64) << _U64(8 * j)
    return u


#: Ranks: at most this many frequent values get the smallest codes.
RANK_MAX = 255
_RANK_SPAN = 1 << 16


def rank_table(u: np.ndarray) -> np.ndarray:
    """The values below 2**16 that occur at least twice, most frequent first (ties: smaller first),
    at most RANK_MAX of them; empty when ranking cannot apply (a value >= 2**63)."""
    if not u.size or int(u.max()) >= 1 << 63:
        return np.zeros(0, np.uint16)
    counts = np.bincount(u[u < _RANK_SPAN].astype(np.int64))
    candidates = np.flatnonzero(counts >= 2)
    order = candidates[np.lexsort((candidates, -counts[candidates]))]
    return order[:RANK_MAX].astype(np.uint16)


def apply_rank(u: np.ndarray, table: np.ndarray) -> np.ndarray:
    """r = position in ``table`` for table values, u + len(table) for every other value."""
    k = _U64(table.size)
    span = int(table.max()) + 1 if table.size else 0
    lut = np.arange(span, dtype=_U64) + k
    lut[table.astype(np.int64)] = np.arange(table.size, dtype=_U64)
    r = u + k
    small = u < span
    r[small] = lut[u[small].astype(np.int64)]
    return r


def undo_rank(r: np.ndarray, table: np.ndarray) -> np.ndarray:
    k = table.size
    in_table = r < _U64(k)
    return np.where(in_table, table.astype(_U64)[np.where(in_table, r, 0).astype(np.int64)], r - _U64(k))


def decode_planes(planes: np.ndarray, mode: int, base: int, step: int, dtype, out=None,
                  table=None) -> np.ndarray:
    u = gather(planes)
    if table is not None and len(table):
        u = undo_rank(u, table)
    return decode_values(u, mode, base, step, dtype, out)


def decode_values(u: np.ndarray, mode: int, base: int, step: int, dtype, out=None) -> np.ndarray:
    """The inverse of :func:`transform`: values of ``dtype`` from their uint64 codes ``u``."""
    n = u.size
    step_u = _U64(step)
    if mode == DELTA:
        d = (u >> _U64(1)) ^ (_U64(0) - (u & _U64(1)))  # zigzag back, still uint64
        d *= step_u
        if n:
            d[0] = _U64(base & 0xFFFFFFFFFFFFFFFF)
        v = np.cumsum(d, dtype=_U64)
    else:
        v = u * step_u + _U64(base & 0xFFFFFFFFFFFFFFFF)
    result = v.astype(dtype) if np.dtype(dtype).kind != "i" else v.view(np.int64).astype(dtype)
    if out is None:
        return result
    out[:] = result
    return out


# -- key stream pairing (spec of ext/_keys.pyx) ----------------------------------------
#: pair_join status (the same in ext/_keys.pyx): the counts do not match the pairing.
PAIR_COUNTS = -1


def pair_rows(code: np.ndarray, pressed: np.ndarray) -> np.ndarray:
    """Plain-Python spec of ``encoder._keys.pair_rows`` (see ext/_keys.pyx)."""
    pending: dict = {}
    ref = np.full(len(code), -1, np.int64)
    for i, (c, down) in enumerate(zip(code.tolist(), pressed.tolist())):
        if down:
            pending[c] = i
        elif pending.get(c, -1) >= 0:
            ref[i], pending[c] = pending[c], -1
    return ref


def pair_split(t: np.ndarray, code: np.ndarray, pressed: np.ndarray):
    ref = pair_rows(code, pressed)
    dwell = ref >= 0
    with np.errstate(over="ignore"):  # wrapping arithmetic; the decoder wraps back
        return t[~dwell], t[dwell] - t[ref[dwell]]


def pair_join(code, pressed, anchors, dwells, t: np.ndarray) -> int:
    """Spec of ``encoder._keys.pair_join``: ``t`` rebuilt in place; PAIR_COUNTS on a mismatch."""
    ref = pair_rows(code, pressed)
    dwell = ref >= 0
    if int((~dwell).sum()) != len(anchors) or int(dwell.sum()) != len(dwells):
        return PAIR_COUNTS
    t[~dwell] = anchors
    with np.errstate(over="ignore"):
        t[dwell] = t[ref[dwell]] + dwells
    return 0
