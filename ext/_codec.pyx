# cython: language_level=3, embedsignature=True
"""Native encode kernels of the integer column codec: scan, transform, split_planes.

Each public function returns exactly what its NumPy reference in
:mod:`encoder.codecs.reference` returns (the same ``base`` and ``step``, the same bytes);
that module's docstring is the contract. All integer arithmetic wraps modulo 2**64.

The Python-level functions validate dtype, shape and parameters and allocate the outputs;
the kernels below them take typed memoryviews (or pointers into them), touch no Python
object and release the GIL, so capture threads encode in parallel. Bounds and wraparound
checks are turned off per kernel, only where the caller has validated every size.

Supported column dtypes: int64, int32, uint8, uint16, uint32 in native byte order (bool is
read as uint8). Other layouts are copied to a contiguous native array first.
"""
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

import operator

import numpy as np

DELTA = 0  # the transform modes, as in encoder.codecs.reference
FOR = 1

cdef enum:
    MODE_DELTA = 0
    MODE_FOR = 1

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    static inline int encoder_ctz64(unsigned long long x) {
        unsigned long i; _BitScanForward64(&i, x); return (int)i;
    }
    #else
    static inline int encoder_ctz64(unsigned long long x) { return __builtin_ctzll(x); }
    #endif

    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #define ENCODER_SSE2 1
    #endif

    /* planes[j * stride + i] = byte j of u[i] for i < count, j < width (1 <= width <= 8).
       Widths 1-2: plain stores. Wider: a 16 x 8 byte transpose in SSE2 registers (the
       network of blosc's shuffle8_sse2), 4x faster than one pass per plane; SSE2 is part
       of every x86-64, other targets take the portable loop. */
    static void encoder_split_bytes(const uint64_t *u, Py_ssize_t count, int width,
                                    uint8_t *planes, Py_ssize_t stride) {
        Py_ssize_t i = 0;
        int j;
        if (width == 1) {
            for (; i < count; i++) planes[i] = (uint8_t)u[i];
            return;
        }
        if (width == 2) {
            for (; i < count; i++) {
                uint64_t x = u[i];
                planes[i] = (uint8_t)x;
                planes[stride + i] = (uint8_t)(x >> 8);
            }
            return;
        }
    #ifdef ENCODER_SSE2
        for (; i + 16 <= count; i += 16) {
            __m128i a[8], b[8];
            int k, l;
            for (k = 0; k < 8; k++) {  /* 2 values per register: pair bytes of both */
                a[k] = _mm_loadu_si128((const __m128i *)(u + i) + k);
                b[k] = _mm_unpacklo_epi8(a[k], _mm_shuffle_epi32(a[k], 0x4e));
            }
            for (k = 0, l = 0; k < 4; k++, l += 2) {
                a[2 * k] = _mm_unpacklo_epi16(b[l], b[l + 1]);
                a[2 * k + 1] = _mm_unpackhi_epi16(b[l], b[l + 1]);
            }
            for (k = 0, l = 0; k < 4; k++, l++) {
                if (k == 2) l += 2;
                b[2 * k] = _mm_unpacklo_epi32(a[l], a[l + 2]);
                b[2 * k + 1] = _mm_unpackhi_epi32(a[l], a[l + 2]);
            }
            for (k = 0; k < 4; k++) {  /* a[j] = byte j of the 16 values */
                a[2 * k] = _mm_unpacklo_epi64(b[k], b[k + 4]);
                a[2 * k + 1] = _mm_unpackhi_epi64(b[k], b[k + 4]);
            }
            for (j = 0; j < width; j++)
                _mm_storeu_si128((__m128i *)(planes + j * stride + i), a[j]);
        }
    #endif
        for (; i < count; i++) {
            uint64_t x = u[i];
            for (j = 0; j < width; j++) planes[j * stride + i] = (uint8_t)(x >> (8 * j));
        }
    }
    """
    # Trailing zero bits of x; x must not be 0.
    int ctz64 "encoder_ctz64"(uint64_t x) noexcept nogil
    # Byte planes of count values, plane j at planes + j * stride.
    void _split_bytes "encoder_split_bytes"(const uint64_t* u, Py_ssize_t count, int width,
                                            uint8_t* planes, Py_ssize_t stride) noexcept nogil

ctypedef fused column_t:
    int64_t
    int32_t
    uint8_t
    uint16_t
    uint32_t

cdef enum:
    # Values per block of the fused encode: 16 KiB of uint64 stays in L1 beside the planes.
    BLOCK = 2048

cdef uint64_t U64_MAX = 0xFFFFFFFFFFFFFFFF
cdef uint64_t I64_MAX = 0x7FFFFFFFFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_SUPPORTED = "int64, int32, uint8, uint16, uint32 (bool as uint8)"


# ---------------------------------------------------------------------------------------
# Arithmetic helpers


@cython.cdivision(True)
cdef inline uint64_t _gcd(uint64_t a, uint64_t b) noexcept nogil:
    """Binary (Stein) gcd; gcd(0, b) = b. Stops as soon as the odd part reaches 1."""
    cdef int shift
    cdef uint64_t t
    if a == 0:
        return b
    if b == 0:
        return a
    shift = ctz64(a | b)
    a >>= ctz64(a)
    while a != 1:
        b >>= ctz64(b)
        if a > b:
            t = a
            a = b
            b = t
        b -= a
        if b == 0:
            break
    return a << shift


cdef struct Divisor:
    # Exact division by step = odd << shift through a multiplicative inverse, which costs
    # a multiply instead of a 64-bit divide (tens of cycles); the tests of Granlund &
    # Montgomery (1994) tell when the quotient is exact, so other inputs still get floor
    # division.
    uint64_t step
    int shift
    uint64_t low_mask    # (1 << shift) - 1: these bits of a multiple of step are zero
    uint64_t inverse     # odd * inverse == 1 (mod 2**64)
    uint64_t limit       # unsigned: x is a multiple of odd iff x * inverse <= limit
    uint64_t half        # signed: x is a multiple of odd iff x * inverse + half <= 2 * half


@cython.cdivision(True)
cdef inline Divisor _divisor(uint64_t step) noexcept nogil:
    """Precompute exact division by step (step >= 1)."""
    cdef Divisor d
    cdef uint64_t odd, inverse
    cdef int k
    d.step = step
    d.shift = ctz64(step)
    odd = step >> d.shift
    d.low_mask = ((<uint64_t>1) << d.shift) - 1
    inverse = odd  # correct to 3 bits for any odd number; Newton doubles that each round
    for k in range(5):
        inverse *= 2 - odd * inverse
    d.inverse = inverse
    d.limit = U64_MAX // odd
    d.half = I64_MAX // odd
    return d


cdef inline bint _divides(const Divisor* d, uint64_t x) noexcept nogil:
    """True when step divides x."""
    return (x & d.low_mask) == 0 and (x >> d.shift) * d.inverse <= d.limit


@cython.cdivision(True)
cdef inline uint64_t _div_unsigned(uint64_t x, const Divisor* d) noexcept nogil:
    """floor(x / step) for unsigned x, like numpy's uint64 ``//``."""
    cdef uint64_t q
    if (x & d.low_mask) == 0:
        q = (x >> d.shift) * d.inverse
        if q <= d.limit:
            return q
    return x // d.step


@cython.cdivision(True)
cdef inline int64_t _div_signed(int64_t x, const Divisor* d) noexcept nogil:
    """floor(x / step) for signed x, like numpy's int64 ``//`` (step < 2**63)."""
    cdef uint64_t q
    cdef int64_t s = <int64_t>d.step, quotient
    if (<uint64_t>x & d.low_mask) == 0:
        q = <uint64_t>(x >> d.shift) * d.inverse
        if q + d.half <= 2 * d.half:
            return <int64_t>q
    quotient = x // s  # C truncates toward zero; numpy floors
    if quotient * s != x and x < 0:
        quotient -= 1
    return quotient


cdef inline uint64_t _magnitude(uint64_t a, uint64_t b) noexcept nogil:
    """|a - b| for two sign-extended values whose true difference fits int64."""
    cdef uint64_t d = a - b
    return (0 - d) if <int64_t>d < 0 else d


cdef inline uint64_t _zigzag(int64_t s) noexcept nogil:
    return (<uint64_t>s << 1) ^ <uint64_t>(s >> 63)


# ---------------------------------------------------------------------------------------
# Kernels. Sizes are validated by the Python functions at the bottom of this module.


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline column_t _min_from(const column_t[::1] values, Py_ssize_t i,
                               column_t lo) noexcept nogil:
    """min(lo, values[i:])."""
    # Four independent running minima: one compare-and-move chain is 2 cycles a value,
    # and SSE2 has no 64-bit compare to vectorize it with (2.5x faster on int64).
    cdef Py_ssize_t n = values.shape[0]
    cdef column_t a = lo, b = lo, c = lo, d = lo
    while i + 4 <= n:
        a = values[i] if values[i] < a else a
        b = values[i + 1] if values[i + 1] < b else b
        c = values[i + 2] if values[i + 2] < c else c
        d = values[i + 3] if values[i + 3] < d else d
        i += 4
    while i < n:
        a = values[i] if values[i] < a else a
        i += 1
    a = b if b < a else a
    c = d if d < c else c
    return c if c < a else a


@cython.boundscheck(False)
@cython.wraparound(False)
cdef uint64_t _scan_kernel(const column_t[::1] values, bint want_min,
                           column_t* lo_out, column_t* hi_out) noexcept nogil:
    """gcd of every |values[i] - values[0]| (0 when all are equal), min and max; n >= 1.

    That gcd is the step of both modes: consecutive deltas, differences to the first
    value and differences to the minimum all generate the same set of multiples. Once the
    gcd is 1 the step is 1 whatever follows, so the loop stops there; only the minimum
    (the frame-of-reference base) is finished when ``want_min`` asks for it, and the
    maximum is then left partial (the caller needs it only when the gcd is above 1).
    """
    cdef Py_ssize_t n = values.shape[0], i = 1
    cdef column_t first = values[0], lo = first, hi = first, v
    cdef uint64_t g, d
    cdef Divisor div
    while i < n and values[i] == first:
        i += 1
    if i == n:
        lo_out[0] = lo
        hi_out[0] = hi
        return 0
    g = _magnitude(<uint64_t>values[i], <uint64_t>first)
    div = _divisor(g)
    while g != 1 and i < n:
        v = values[i]
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
        d = _magnitude(<uint64_t>v, <uint64_t>first)
        if not _divides(&div, d):  # rare: the gcd only ever shrinks
            g = _gcd(g, d)
            div = _divisor(g)
        i += 1
    if want_min:
        lo = _min_from(values, i, lo)
    lo_out[0] = lo
    hi_out[0] = hi
    return g


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _delta_range(const column_t* values, Py_ssize_t start, Py_ssize_t stop,
                              const Divisor* div, uint64_t* out) noexcept nogil:
    """out[i - start] = zigzag((values[i] - values[i-1]) // step) for start <= i < stop,
    and 0 for i == 0. Reads values[start - 1] when start > 0."""
    cdef Py_ssize_t i, first = start
    if start == 0 and stop > 0:
        out[0] = 0
        first = 1
    if div.step == 1:
        for i in range(first, stop):
            out[i - start] = _zigzag(<int64_t>(<uint64_t>values[i] - <uint64_t>values[i - 1]))
    else:
        for i in range(first, stop):
            out[i - start] = _zigzag(_div_signed(
                <int64_t>(<uint64_t>values[i] - <uint64_t>values[i - 1]), div))


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _for_range(const column_t* values, Py_ssize_t start, Py_ssize_t stop,
                            uint64_t base, const Divisor* div, uint64_t* out) noexcept nogil:
    """out[i - start] = (values[i] - base) // step for start <= i < stop (unsigned)."""
    cdef Py_ssize_t i
    if div.step == 1:
        for i in range(start, stop):
            out[i - start] = <uint64_t>values[i] - base
    else:
        for i in range(start, stop):
            out[i - start] = _div_unsigned(<uint64_t>values[i] - base, div)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _transform_kernel(const column_t[::1] values, int mode, uint64_t base,
                            uint64_t step, uint64_t[::1] out) noexcept nogil:
    """out (n values, caller-allocated) = the mode's transform of values; n >= 1."""
    cdef Divisor div = _divisor(step)
    if mode == MODE_DELTA:
        _delta_range(&values[0], 0, values.shape[0], &div, &out[0])
    else:
        _for_range(&values[0], 0, values.shape[0], base, &div, &out[0])


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _split_kernel(const uint64_t[::1] u, uint8_t[:, ::1] planes) noexcept nogil:
    """planes (width x n, caller-allocated) = byte planes of u; n >= 1."""
    cdef Py_ssize_t n = u.shape[0]
    _split_bytes(&u[0], n, <int>planes.shape[0], &planes[0, 0], n)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _encode_kernel(const column_t[::1] values, int mode, uint64_t base, uint64_t step,
                         uint8_t[:, ::1] planes) noexcept nogil:
    """transform + split_planes through an L1-sized buffer instead of an n-value array."""
    cdef uint64_t buffer[BLOCK]
    cdef Py_ssize_t n = values.shape[0], start = 0, stop
    cdef int width = <int>planes.shape[0]
    cdef Divisor div = _divisor(step)
    while start < n:
        stop = min(n, start + BLOCK)
        if mode == MODE_DELTA:
            _delta_range(&values[0], start, stop, &div, buffer)
        else:
            _for_range(&values[0], start, stop, base, &div, buffer)
        _split_bytes(buffer, stop - start, width, &planes[0, start], n)
        start = stop


# ---------------------------------------------------------------------------------------
# Typed entry points: Cython dispatches on the memoryview's dtype.


def _scan_typed(const column_t[::1] values, bint want_min):
    cdef column_t lo, hi
    cdef uint64_t g
    with nogil:
        g = _scan_kernel(values, want_min, &lo, &hi)
    return g, lo, hi


def _transform_typed(const column_t[::1] values, int mode, uint64_t base, uint64_t step,
                     uint64_t[::1] out):
    with nogil:
        _transform_kernel(values, mode, base, step, out)


def _encode_typed(const column_t[::1] values, int mode, uint64_t base, uint64_t step,
                  uint8_t[:, ::1] planes):
    with nogil:
        _encode_kernel(values, mode, base, step, planes)


# ---------------------------------------------------------------------------------------
# Public functions: validate, allocate, call a kernel.


cdef object _column(values):
    """values as a 1-D contiguous native-order array of a supported dtype."""
    if not isinstance(values, np.ndarray):
        raise TypeError(f"values must be a numpy.ndarray, not {type(values).__name__}")
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, not {values.ndim}-D")
    dtype = values.dtype
    if dtype.kind == "b":
        values = values.view(np.uint8)
    elif not ((dtype.kind == "i" and dtype.itemsize in (4, 8))
              or (dtype.kind == "u" and dtype.itemsize in (1, 2, 4))):
        raise TypeError(f"values have dtype {dtype}; supported: {_SUPPORTED}")
    return np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))


cdef int _mode(mode) except -1:
    if mode != DELTA and mode != FOR:
        raise ValueError(f"mode must be {DELTA} (delta) or {FOR} (frame of reference), "
                         f"not {mode!r}")
    return mode


cdef uint64_t _step(step, int mode) except? 0:
    step = operator.index(step)
    if step < 1:
        raise ValueError(f"step must be >= 1, not {step}")
    if step >= (1 << 63 if mode == DELTA else 1 << 64):  # where numpy overflows too
        kind = "int64" if mode == DELTA else "uint64"
        raise OverflowError(f"step {step} does not fit the mode's {kind}")
    return step


cdef int _width(width) except -1:
    width = operator.index(width)
    if not 0 <= width <= 8:
        raise ValueError(f"width must be between 0 and 8 bytes, not {width}")
    return width


def scan(values, int mode):
    """Pick the parameters of a column's transform: ``(base, step)``.

    Parameters
    ----------
    values : numpy.ndarray
        1-D column of int64, int32, uint8, uint16 or uint32 (bool is read as uint8).
    mode : int
        ``0`` delta (base is the first value), ``1`` frame of reference (base is the minimum).

    Returns
    -------
    base, step : int
        ``step`` is the gcd of the differences, or 1 when that is 0 or a difference might
        not fit int64; ``(0, 1)`` for an empty column.

    Examples
    --------
    >>> import numpy as np
    >>> scan(np.array([3000, 1000, 5000], np.int64), 0)
    (3000, 2000)
    >>> scan(np.array([3000, 1000, 5000], np.int64), 1)
    (1000, 2000)
    """
    _mode(mode)
    values = _column(values)
    if values.shape[0] == 0:
        return 0, 1
    g, lo, hi = _scan_typed(values, mode == FOR)
    base = int(values[0]) if mode == DELTA else lo
    if g > 1 and values.dtype.itemsize == 8 and hi - lo >= (1 << 63):
        g = 1  # a difference might not fit int64: the reference keeps step 1
    return base, (g or 1)


def transform(values, int mode, base, step):
    """Transform a column into unsigned integers: ``uint64[n]``.

    delta: ``u[0] = 0``, ``u[i] = zigzag((values[i] - values[i-1]) // step)``;
    frame of reference: ``u[i] = (values[i] - base) // step``, wrapping modulo 2**64.

    Examples
    --------
    >>> import numpy as np
    >>> transform(np.array([3000, 1000, 5000], np.int64), 0, 3000, 2000).tolist()
    [0, 1, 4]
    >>> transform(np.array([3000, 1000, 5000], np.int64), 1, 1000, 2000).tolist()
    [1, 0, 2]
    """
    _mode(mode)
    values = _column(values)
    cdef uint64_t step_ = _step(step, mode)
    cdef uint64_t base_ = operator.index(base) & _MASK64
    out = np.empty(values.shape[0], np.uint64)
    if values.shape[0]:
        _transform_typed(values, mode, base_, step_, out)
    return out


def split_planes(u, width):
    """Byte planes of a transformed column: ``uint8[width, n]``, plane j = byte j of each value.

    Examples
    --------
    >>> import numpy as np
    >>> split_planes(np.array([1, 258], np.uint64), 2).tolist()
    [[1, 2], [0, 1]]
    """
    cdef int width_ = _width(width)
    if not isinstance(u, np.ndarray) or u.dtype != np.uint64 or u.ndim != 1:
        raise TypeError("u must be a 1-D numpy.ndarray of uint64")
    u = np.ascontiguousarray(u, dtype=np.dtype(np.uint64))
    planes = np.empty((width_, u.shape[0]), np.uint8)
    cdef const uint64_t[::1] u_view
    cdef uint8_t[:, ::1] planes_view
    if u.shape[0] and width_:
        u_view = u
        planes_view = planes
        with nogil:
            _split_kernel(u_view, planes_view)
    return planes


def encode_planes(values, int mode, base, step, width):
    """``split_planes(transform(values, mode, base, step), width)`` in one pass.

    The transformed values go through an L1-sized buffer instead of an n-value array;
    bytes above ``width`` are dropped, as in :func:`split_planes`.

    Examples
    --------
    >>> import numpy as np
    >>> encode_planes(np.array([3000, 1000, 5000], np.int64), 1, 1000, 2000, 1).tolist()
    [[1, 0, 2]]
    """
    _mode(mode)
    values = _column(values)
    cdef uint64_t step_ = _step(step, mode)
    cdef uint64_t base_ = operator.index(base) & _MASK64
    cdef int width_ = _width(width)
    planes = np.empty((width_, values.shape[0]), np.uint8)
    if values.shape[0] and width_:
        _encode_typed(values, mode, base_, step_, planes)
    return planes


# -- rank stage (spec: encoder.codecs.reference.rank_table / apply_rank) ------------------

cdef enum:
    RANK_SPAN = 1 << 16
    RANK_MAX = 255


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _count_small(const uint64_t[::1] u, uint32_t[::1] counts) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(u.shape[0]):
        if u[i] < RANK_SPAN:
            counts[u[i]] += 1


def rank_table(u):
    """Most frequent codes below 2**16 seen at least twice, most frequent first (ties: smaller
    first), at most 255; empty when a code is >= 2**63. Equals the reference exactly."""
    cdef const uint64_t[::1] uv = np.ascontiguousarray(u, dtype=np.uint64)
    cdef uint32_t[::1] counts
    if uv.shape[0] == 0 or np.asarray(uv).max() >= (1 << 63):
        return np.zeros(0, np.uint16)
    counts_arr = np.zeros(RANK_SPAN, np.uint32)
    counts = counts_arr
    with nogil:
        _count_small(uv, counts)
    candidates = np.flatnonzero(counts_arr >= 2)
    order = candidates[np.lexsort((candidates, -counts_arr[candidates].astype(np.int64)))]
    return order[:RANK_MAX].astype(np.uint16)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _apply_rank(const uint64_t[::1] u, const uint64_t[::1] lut, uint64_t k,
                      uint64_t[::1] r) noexcept nogil:
    cdef Py_ssize_t i
    cdef uint64_t span = lut.shape[0], x
    for i in range(u.shape[0]):
        x = u[i]
        r[i] = lut[x] if x < span else x + k


def apply_rank(u, table):
    """r = position in ``table`` for table codes, u + len(table) otherwise (the caller made sure
    every code is below 2**63, as ``rank_table`` does)."""
    cdef const uint64_t[::1] uv = np.ascontiguousarray(u, dtype=np.uint64)
    cdef uint64_t[::1] r
    cdef const uint64_t[::1] lut
    cdef uint64_t k
    table = np.asarray(table)
    k = table.size
    span = int(table.max()) + 1 if k else 0
    lut_arr = np.arange(span, dtype=np.uint64) + np.uint64(k)
    lut_arr[table.astype(np.int64)] = np.arange(k, dtype=np.uint64)
    out = np.empty(uv.shape[0], np.uint64)
    r = out
    lut = lut_arr
    with nogil:
        _apply_rank(uv, lut, k, r)
    return out
