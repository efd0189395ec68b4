# cython: language_level=3, embedsignature=True
"""Native capture-path kernels of the screen tiles: compare, gather, hash, store, grid coding.

Each public function returns exactly what its NumPy reference in
:mod:`encoder.tiles.reference` returns (same positions, ids, page bytes and grid bytes);
that module's docstring is the contract. The Python-level functions validate dtypes,
shapes and sizes and allocate the outputs; the kernels below them take raw pointers into
validated buffers, touch no Python object and release the GIL, so the capture loop and
the frame-encoding thread run in parallel. Bounds and wraparound checks are off per
kernel, only where the caller has validated every size.

Images are 2-D ``uint8`` arrays of ``height x (width * channels)`` bytes, C-contiguous.
"""
cimport cython
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp, memcpy, memset

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* XXH64 (seed 0), after the reference implementation by Yann Collet (BSD-2). */
    #define ENC_P1 0x9E3779B185EBCA87ULL
    #define ENC_P2 0xC2B2AE3D27D4EB4FULL
    #define ENC_P3 0x165667B19E3779F9ULL
    #define ENC_P4 0x85EBCA77C2B2AE63ULL
    #define ENC_P5 0x27D4EB2F165667C5ULL
    static inline uint64_t enc_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
    static inline uint64_t enc_read64(const uint8_t* p) { uint64_t v; memcpy(&v, p, 8); return v; }
    static inline uint32_t enc_read32(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }
    static inline uint64_t enc_round(uint64_t acc, uint64_t in) {
        acc += in * ENC_P2; acc = enc_rotl(acc, 31); return acc * ENC_P1;
    }
    static inline uint64_t enc_merge(uint64_t acc, uint64_t v) {
        acc ^= enc_round(0, v); return acc * ENC_P1 + ENC_P4;
    }
    static inline uint64_t enc_xxh64(const uint8_t* p, size_t n) {
        const uint8_t* end = p + n;
        uint64_t h;
        if (n >= 32) {
            const uint8_t* limit = end - 32;
            uint64_t v1 = ENC_P1 + ENC_P2, v2 = ENC_P2, v3 = 0, v4 = 0 - ENC_P1;
            do {
                v1 = enc_round(v1, enc_read64(p)); v2 = enc_round(v2, enc_read64(p + 8));
                v3 = enc_round(v3, enc_read64(p + 16)); v4 = enc_round(v4, enc_read64(p + 24));
                p += 32;
            } while (p <= limit);
            h = enc_rotl(v1, 1) + enc_rotl(v2, 7) + enc_rotl(v3, 12) + enc_rotl(v4, 18);
            h = enc_merge(h, v1); h = enc_merge(h, v2); h = enc_merge(h, v3); h = enc_merge(h, v4);
        } else {
            h = ENC_P5;
        }
        h += (uint64_t)n;
        while (p + 8 <= end) { h ^= enc_round(0, enc_read64(p)); h = enc_rotl(h, 27) * ENC_P1 + ENC_P4; p += 8; }
        if (p + 4 <= end) { h ^= (uint64_t)enc_read32(p) * ENC_P1; h = enc_rotl(h, 23) * ENC_P2 + ENC_P3; p += 4; }
        while (p < end) { h ^= (*p) * ENC_P5; h = enc_rotl(h, 11) * ENC_P1; p++; }
        h ^= h >> 33; h *= ENC_P2; h ^= h >> 29; h *= ENC_P3; h ^= h >> 32;
        return h;
    }
    /* Strip hash of the motion vote (it only proposes: exact comparisons decide). NH, as in
       UMAC: each 8-byte word w adds (lo32(w) + K[2i]) * (hi32(w) + K[2i+1]) mod 2^64, the
       keys cycling every 32 words; one SSE2 multiply takes two words (1.2x the multiply chain
       per word it replaced, in cache). Tail bytes (n mod 8) are chained in, then XXH64's
       avalanche. The scalar loop gives the same value (ARM64, 32-bit x86). */
    static const uint32_t ENC_NH_KEYS[64] = {
        0x7B1DCDAFu, 0xE220A839u, 0xA1B965F4u, 0x6E789E6Au, 0x8009454Fu, 0x06C45D18u, 0x724C81ECu, 0xF88BB8A8u,
        0x51A8749Bu, 0x1B39896Au, 0x747EA2EAu, 0x53CB9F0Cu, 0x1F4532E1u, 0x2C829ABEu, 0xC916AB3Cu, 0xC584133Au,
        0x41C98AC3u, 0x3EE57890u, 0x368CB0A6u, 0xF3B8488Cu, 0x3CB13D09u, 0x657EECDDu, 0x055BDEF6u, 0xC2D326E0u,
        0xE0BBDB7Bu, 0x8621A03Fu, 0x983AA92Fu, 0x8E1F7555u, 0x00CC4D19u, 0xB54E0F16u, 0x971D80ABu, 0x84BB3F97u,
        0x75521255u, 0x7D29825Cu, 0x2B7F7F86u, 0xC3CF1710u, 0x83914F64u, 0x3466E9A0u, 0x5A4485ACu, 0xD81A8D2Bu,
        0x100B9ED7u, 0xDB01602Bu, 0x1825F10Du, 0xA9038A92u, 0x0DCA2F6Au, 0xEDF5F1D9u, 0x7BD2634Cu, 0x54496AD6u,
        0xF5407269u, 0xDD7C01D4u, 0xDB4C4F7Bu, 0x935E82F1u, 0x92233300u, 0x69B82EBCu, 0x7DE1D510u, 0x40D29EB5u,
        0xB45C6316u, 0xA2F09DABu, 0x0F4D3872u, 0xEE521D7Au, 0x72F3454Fu, 0xF16952EEu, 0xA8E40225u, 0x377D35DEu
    };
    #if defined(__SSE2__) && (defined(__x86_64__) || defined(_M_X64))
    #define ENC_NH_SSE2 1
    #include <emmintrin.h>
    #endif
    static inline uint64_t enc_strip_hash(const uint8_t* p, size_t n) {
        size_t words = n / 8, i = 0;
        uint64_t acc = 0, w, lo, hi;
    #if defined(ENC_NH_SSE2)
        __m128i a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128(), x, y;
        for (; i + 4 <= words; i += 4) {
            x = _mm_add_epi32(_mm_loadu_si128((const __m128i*)(p + 8 * i)),
                              _mm_loadu_si128((const __m128i*)(ENC_NH_KEYS + (2 * i) % 64)));
            a0 = _mm_add_epi64(a0, _mm_mul_epu32(x, _mm_srli_epi64(x, 32)));
            y = _mm_add_epi32(_mm_loadu_si128((const __m128i*)(p + 8 * i + 16)),
                              _mm_loadu_si128((const __m128i*)(ENC_NH_KEYS + (2 * i + 4) % 64)));
            a1 = _mm_add_epi64(a1, _mm_mul_epu32(y, _mm_srli_epi64(y, 32)));
        }
        a0 = _mm_add_epi64(a0, a1);
        acc = (uint64_t)_mm_cvtsi128_si64(a0) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(a0, a0));
    #endif
        for (; i < words; i++) {
            memcpy(&w, p + 8 * i, 8);
            lo = (uint32_t)((uint32_t)w + ENC_NH_KEYS[(2 * i) % 64]);
            hi = (uint32_t)((uint32_t)(w >> 32) + ENC_NH_KEYS[(2 * i + 1) % 64]);
            acc += lo * hi;
        }
        for (i = 8 * words; i < n; i++) acc = (acc ^ p[i]) * ENC_P1;
        acc ^= (uint64_t)n;
        acc ^= acc >> 33; acc *= ENC_P2; acc ^= acc >> 29; acc *= ENC_P3; acc ^= acc >> 32;
        return acc;
    }
    #if defined(ENC_NH_SSE2)
    /* 64 bytes from s to d through four 16-byte registers, stored by STORE (cached or not). */
    #define ENC_MOVE64(STORE, d, s) do { \
            __m128i a_ = _mm_loadu_si128((const __m128i*)(s)); \
            __m128i b_ = _mm_loadu_si128((const __m128i*)((s) + 16)); \
            __m128i c_ = _mm_loadu_si128((const __m128i*)((s) + 32)); \
            __m128i d_ = _mm_loadu_si128((const __m128i*)((s) + 48)); \
            STORE((__m128i*)(d), a_); STORE((__m128i*)((d) + 16), b_); \
            STORE((__m128i*)((d) + 32), c_); STORE((__m128i*)((d) + 48), d_); \
        } while (0)
    #endif
    /* A row copied with 16-byte vector moves. glibc's memcpy copies a few KB with `rep movsb`,
       which ran 4-10x slower here when the destination lay a few bytes past the source modulo
       4 KiB (encoder record's previous frame sits 16 bytes past a page, the X server's shared
       memory on one; docs/tiles.md, "Motion"). */
    static inline void enc_copy_row(uint8_t* dst, const uint8_t* src, size_t n) {
        size_t i = 0;
    #if defined(ENC_NH_SSE2)
        for (; i + 64 <= n; i += 64)
            ENC_MOVE64(_mm_storeu_si128, dst + i, src + i);
        for (; i + 16 <= n; i += 16)
            _mm_storeu_si128((__m128i*)(dst + i), _mm_loadu_si128((const __m128i*)(src + i)));
    #endif
        memcpy(dst + i, src + i, n - i);
    }
    /* A whole frame copied out of the reader's buffer into a new array (a frame handed to the
       caller) with non-temporal stores: the new array's lines are not read in first (a cached
       store fetches every line it writes), and a frame the caller may never look at does not
       evict the reader's buffer and pages. 1080p, this machine: 0.6-0.7 ms against 0.9-1.3 ms
       for memcpy while the caller holds the previous frame (docs/tiles.md, "Reading"). Below
       1 MiB the frame fits in cache and a plain memcpy is faster. */
    static inline void enc_stream_copy(uint8_t* dst, const uint8_t* src, size_t n) {
        size_t i = 0;
    #if defined(ENC_NH_SSE2)
        if (n >= ((size_t)1 << 20)) {
            i = (16 - ((uintptr_t)dst & 15)) & 15;
            memcpy(dst, src, i);
            for (; i + 64 <= n; i += 64)
                ENC_MOVE64(_mm_stream_si128, dst + i, src + i);
            _mm_sfence();
        }
    #endif
        memcpy(dst + i, src + i, n - i);
    }
    /* Bytes added into 32-bit sums. `restrict`: a uint8_t pointer may alias anything, and
       without it the loop is vectorised less well (every 8th row of 1080p: 0.13-0.15 against 0.18 ms). */
    static inline void enc_add_bytes(uint32_t* restrict acc, const uint8_t* restrict p, size_t n) {
        for (size_t i = 0; i < n; i++)
            acc[i] += p[i];
    }
    """
    uint64_t xxh64 "enc_xxh64"(const uint8_t* p, size_t n) noexcept nogil
    uint64_t strip_hash "enc_strip_hash"(const uint8_t* p, size_t n) noexcept nogil
    void copy_row "enc_copy_row"(uint8_t* dst, const uint8_t* src, size_t n) noexcept nogil
    void stream_copy "enc_stream_copy"(uint8_t* dst, const uint8_t* src, size_t n) noexcept nogil
    void add_bytes "enc_add_bytes"(uint32_t* acc, const uint8_t* p, size_t n) noexcept nogil

GRID_FULL = 0
GRID_DELTA = 1

cdef enum:
    GRID_FULL_C = 0
    GRID_DELTA_C = 1
    # An arena chunk holds about this many bytes of tiles (allocated on first use).
    CHUNK_BYTES = 4 << 20
    # Entries of a new store's hash table (it doubles while over half full).
    FIRST_TABLE = 1024


# ---------------------------------------------------------------------------------------
# Compare and gather (the caller's thread)


cdef inline bint _differs(const uint8_t* a, const uint8_t* b, Py_ssize_t n) noexcept nogil:
    """Whether n bytes differ: 8-byte words OR-ed together (no call, no early exit: for the
    64-byte row of a 16 px tile this beats memcmp's call and setup)."""
    cdef uint64_t acc = 0, x, y
    cdef Py_ssize_t i = 0
    while i + 8 <= n:
        memcpy(&x, a + i, 8)
        memcpy(&y, b + i, 8)
        acc |= x ^ y
        i += 8
    while i < n:
        acc |= a[i] ^ b[i]
        i += 1
    return acc != 0


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef Py_ssize_t _stage(const uint8_t* image, uint8_t* prev, Py_ssize_t height,
                       Py_ssize_t row_bytes, Py_ssize_t channels, Py_ssize_t tile,
                       const uint8_t* candidates, int32_t* out, int32_t* first, bint copy) noexcept nogil:
    """Write to ``out`` the ascending positions of the tiles of ``image`` that differ from
    ``prev`` (only ``candidates[p] != 0`` when given) and copy them into ``prev``.

    Both images are ``height x row_bytes``; ``out`` holds one int32 per tile, ``first``
    one per tile column (scratch). A band of ``tile`` rows is first compared in one memcmp
    (most bands of a frame did not change: the unchanged frame reads each byte once, at
    memory speed); in a band that changed, each row is compared whole, and only a row that
    differs is compared tile by tile, once, while the band is still in cache.
    """
    cdef Py_ssize_t span = tile * channels, width = row_bytes // channels
    cdef Py_ssize_t cols = (width + tile - 1) // tile, rows = (height + tile - 1) // tile
    cdef Py_ssize_t ty, tx, y, y0, y1, x0, xb, p, remaining, count = 0
    cdef const uint8_t* row
    cdef uint8_t* old
    for ty in range(rows):
        y0 = ty * tile
        y1 = min(y0 + tile, height)
        remaining = cols  # tiles of the band that may still turn out changed
        if candidates != NULL:
            remaining = 0
            for tx in range(cols):
                remaining += candidates[ty * cols + tx] != 0
            if remaining == 0:
                continue
        if memcmp(image + y0 * row_bytes, prev + y0 * row_bytes, (y1 - y0) * row_bytes) == 0:
            continue
        for tx in range(cols):
            first[tx] = -1  # not changed (yet), or not a candidate
        for y in range(y0, y1):
            if remaining == 0:  # every tile of the band is known to have changed
                break
            row = image + y * row_bytes
            old = prev + y * row_bytes
            if memcmp(row, old, row_bytes) == 0:
                continue
            for tx in range(cols):
                if first[tx] >= 0 or (candidates != NULL and candidates[ty * cols + tx] == 0):
                    continue
                x0 = tx * span
                xb = min(span, row_bytes - x0)
                if _differs(row + x0, old + x0, xb):
                    first[tx] = y
                    remaining -= 1
        for tx in range(cols):
            if first[tx] < 0:
                continue
            out[count] = <int32_t>(ty * cols + tx)
            count += 1
            if not copy:
                continue
            x0 = tx * span
            xb = min(span, row_bytes - x0)
            for y in range(first[tx], y1):  # rows above the first difference are equal already
                memcpy(prev + y * row_bytes + x0, image + y * row_bytes + x0, xb)
    return count


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _gather(const uint8_t* image, Py_ssize_t height, Py_ssize_t row_bytes,
                  Py_ssize_t channels, Py_ssize_t tile, const int32_t* positions,
                  Py_ssize_t count, uint8_t* out) noexcept nogil:
    """Copy the tiles at ``positions`` (valid for this image) into ``out``, one after the
    other, ``tile * tile * channels`` bytes each, zero where the tile overhangs the frame."""
    cdef Py_ssize_t span = tile * channels, width = row_bytes // channels
    cdef Py_ssize_t cols = (width + tile - 1) // tile
    cdef Py_ssize_t k, r, y, x0, xb, ty, tx
    cdef uint8_t* dst
    for k in range(count):
        ty = positions[k] // cols
        tx = positions[k] - ty * cols
        x0 = tx * span
        xb = min(span, row_bytes - x0)
        dst = out + k * span * tile
        for r in range(tile):
            y = ty * tile + r
            if y < height:
                memcpy(dst, image + y * row_bytes + x0, xb)
                if xb < span:
                    memset(dst + xb, 0, span - xb)
            else:
                memset(dst, 0, span)
            dst += span


cdef object _image(image, str name):
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 2:
        raise TypeError(f"{name} must be a 2-D uint8 numpy array (rows of bytes)")
    if not image.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    return image


cdef object _tiles_out(out, Py_ssize_t count, Py_ssize_t size):
    """``out`` checked to be a writeable C-contiguous ``uint8[count, size]``, or a new one."""
    if out is None:
        return np.empty((count, size), np.uint8)
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != (count, size) \
            or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writeable C-contiguous uint8 array of shape ({count}, {size})")
    return out


cdef Py_ssize_t _grid_tiles(Py_ssize_t height, Py_ssize_t row_bytes, int channels, int tile) except -1:
    if channels not in (1, 3, 4):
        raise ValueError(f"channels must be 1, 3 or 4, not {channels}")
    if tile < 1:
        raise ValueError(f"tile must be >= 1, not {tile}")
    if row_bytes % channels:
        raise ValueError(f"row of {row_bytes} bytes is not a whole number of {channels}-byte pixels")
    cdef Py_ssize_t width = row_bytes // channels
    return ((height + tile - 1) // tile) * ((width + tile - 1) // tile)


@cython.boundscheck(False)  # every index below was checked
@cython.wraparound(False)
def stage(image, prev, int channels, int tile, candidates=None, bint copy=True):
    """Positions (``int32``, ascending) of the tiles of ``image`` that differ from ``prev``.

    Copies those tiles into ``prev`` (the previous frame of the screen, same shape) unless
    ``copy`` is false. With ``candidates`` (``uint8`` or ``bool``, one per tile) only those
    tiles are compared.

    Examples
    --------
    >>> import numpy as np
    >>> prev = np.zeros((4, 8), np.uint8); image = prev.copy(); image[3, 7] = 1
    >>> stage(image, prev, 1, 4).tolist(), int(prev[3, 7])
    ([1], 1)
    """
    _image(image, "image")
    _image(prev, "prev")
    if prev.shape[0] != image.shape[0] or prev.shape[1] != image.shape[1]:
        raise ValueError(f"prev has shape {prev.shape}, image {image.shape}")
    if copy and not prev.flags.writeable:
        raise ValueError("prev must be writeable")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    cdef Py_ssize_t n = _grid_tiles(height, row_bytes, channels, tile)
    cdef const uint8_t[:, ::1] img = image
    cdef const uint8_t[:, ::1] old = prev
    cdef const uint8_t[::1] cand
    cdef const uint8_t* cand_ptr = NULL
    if candidates is not None:
        candidates = np.ascontiguousarray(candidates).view(np.uint8)
        if candidates.shape != (n,):
            raise ValueError(f"candidates must hold {n} flags, not {candidates.shape}")
        cand = candidates
        if n:
            cand_ptr = &cand[0]
    out = np.empty(n, np.int32)
    scratch = np.empty(n, np.int32)  # >= one per tile column
    cdef int32_t[::1] pos = out
    cdef int32_t[::1] first = scratch
    cdef Py_ssize_t count = 0
    if n and height and row_bytes:
        with nogil:
            count = _stage(&img[0, 0], <uint8_t*>&old[0, 0], height, row_bytes, channels, tile, cand_ptr,
                           &pos[0], &first[0], copy)
    return out[:count]


@cython.boundscheck(False)  # every index below was checked
@cython.wraparound(False)
def gather(image, int channels, int tile, positions, out=None):
    """The padded tiles at ``positions``: ``uint8[len(positions), tile*tile*channels]``
    (written into ``out`` when given: an array of that shape, reused memory)."""
    _image(image, "image")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    cdef Py_ssize_t n = _grid_tiles(height, row_bytes, channels, tile)
    positions = np.ascontiguousarray(positions, np.int32)
    if positions.ndim != 1:
        raise ValueError("positions must be 1-D")
    cdef Py_ssize_t count = positions.shape[0]
    if count and (positions.min() < 0 or positions.max() >= n):
        raise ValueError(f"positions outside [0, {n})")
    out = _tiles_out(out, count, tile * tile * channels)
    cdef const uint8_t[:, ::1] img = image
    cdef const int32_t[::1] pos = positions
    cdef uint8_t[:, ::1] dst = out
    if count:
        with nogil:
            _gather(&img[0, 0], height, row_bytes, channels, tile, &pos[0], count, &dst[0, 0])
    return out


# ---------------------------------------------------------------------------------------
# Motion (the caller's thread): content that moved keeps its tiles (docs/tiles.md, "Motion")


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _scatter(uint8_t* image, Py_ssize_t height, Py_ssize_t row_bytes, Py_ssize_t channels,
                   Py_ssize_t tile, const int32_t* positions, Py_ssize_t count,
                   const uint8_t* tiles) noexcept nogil:
    """The inverse of ``_gather``: write the tiles back at their positions, cropped to the image."""
    cdef Py_ssize_t span = tile * channels, width = row_bytes // channels
    cdef Py_ssize_t cols = (width + tile - 1) // tile
    cdef Py_ssize_t k, r, y, x0, xb, ty, tx
    for k in range(count):
        ty = positions[k] // cols
        tx = positions[k] - ty * cols
        x0 = tx * span
        xb = min(span, row_bytes - x0)
        for r in range(tile):
            y = ty * tile + r
            if y >= height:
                break
            memcpy(image + y * row_bytes + x0, tiles + (k * tile + r) * span, xb)


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _compare_shifted(const uint8_t* image, uint8_t* prev, Py_ssize_t row_bytes,
                           Py_ssize_t channels, Py_ssize_t tile, Py_ssize_t x0, Py_ssize_t y0,
                           Py_ssize_t x1, Py_ssize_t y1, Py_ssize_t dx, Py_ssize_t dy,
                           Py_ssize_t cx, Py_ssize_t cy, Py_ssize_t ncols, uint8_t* flags,
                           Py_ssize_t kx0, Py_ssize_t ky0, Py_ssize_t kx1, Py_ssize_t ky1) noexcept nogil:
    """Flag the cells of a grid (``flags[r * ncols + c]``; cell (0, 0) has its top left pixel
    at (cx, cy)) holding a pixel of the rectangle [x0, x1) x [y0, y1) that differs from the
    pixel (x - dx, y - dy) of ``prev``. A row is compared whole first (one memcmp), cell by
    cell only when it differs.

    Then the rectangle [kx0, kx1) x [ky0, ky1) of ``image`` is copied into ``prev`` (empty:
    nothing), each row right after its comparison, while it is in cache. Rows go in the
    direction of the move (upwards when content moved down) so that no row of ``prev`` is
    written before the comparisons that read it, as a memmove would.
    """
    cdef Py_ssize_t y, r, c, c_first, c_last, a, b, lo, hi, step, n
    cdef const uint8_t* row
    cdef const uint8_t* old
    cdef uint8_t* cells
    cdef bint copying = kx1 > kx0 and ky1 > ky0
    c_first = (x0 - cx) // tile
    c_last = (x1 - 1 - cx) // tile
    lo, hi = y0, y1
    if copying:
        lo, hi = min(y0, ky0), max(y1, ky1)
    step = -1 if dy > 0 else 1
    y = hi - 1 if dy > 0 else lo
    for n in range(hi - lo):
        if y0 <= y < y1:
            row = image + y * row_bytes + x0 * channels
            old = prev + (y - dy) * row_bytes + (x0 - dx) * channels
            if memcmp(row, old, (x1 - x0) * channels) != 0:
                r = (y - cy) // tile
                cells = flags + r * ncols
                for c in range(c_first, c_last + 1):
                    if cells[c]:
                        continue
                    a = max(x0, cx + c * tile)
                    b = min(x1, cx + (c + 1) * tile)
                    if _differs(row + (a - x0) * channels, old + (a - x0) * channels, (b - a) * channels):
                        cells[c] = 1
        if copying and ky0 <= y < ky1:
            copy_row(prev + y * row_bytes + kx0 * channels, image + y * row_bytes + kx0 * channels,
                     (kx1 - kx0) * channels)
        y += step


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _gather_cells(const uint8_t* image, Py_ssize_t height, Py_ssize_t row_bytes,
                        Py_ssize_t channels, Py_ssize_t tile, Py_ssize_t cx, Py_ssize_t cy,
                        const int32_t* rows, const int32_t* cols, Py_ssize_t count,
                        uint8_t* out) noexcept nogil:
    """The tiles of grid cells (cell (r, c) has its top left pixel at (cx + c*tile, cy + r*tile)),
    zero where a cell overhangs the image on any side."""
    cdef Py_ssize_t span = tile * channels, width = row_bytes // channels
    cdef Py_ssize_t k, r, y, x, xa, xb
    cdef uint8_t* dst
    for k in range(count):
        x = cx + cols[k] * tile
        xa = max(x, 0)
        xb = min(x + tile, width)
        dst = out + k * span * tile
        for r in range(tile):
            y = cy + rows[k] * tile + r
            if y < 0 or y >= height or xb <= xa:
                memset(dst, 0, span)
            else:
                if xa > x:
                    memset(dst, 0, (xa - x) * channels)
                memcpy(dst + (xa - x) * channels, image + y * row_bytes + xa * channels, (xb - xa) * channels)
                if x + tile > xb:
                    memset(dst + (xb - x) * channels, 0, (x + tile - xb) * channels)
            dst += span


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _row_hashes(const uint8_t* image, Py_ssize_t row_bytes, Py_ssize_t channels, Py_ssize_t x0,
                      Py_ssize_t strip, Py_ssize_t strips, Py_ssize_t y0, Py_ssize_t y1,
                      const uint8_t* todo, uint64_t* out) noexcept nogil:
    """``strip_hash`` of each strip of ``strip`` pixels of each row (only where ``todo`` is set,
    when it is not NULL: the rest of ``out`` is left as it is)."""
    cdef Py_ssize_t y, s, i, n = strip * channels
    for y in range(y0, y1):
        for s in range(strips):
            i = (y - y0) * strips + s
            if todo == NULL or todo[i]:
                out[i] = strip_hash(image + y * row_bytes + (x0 + s * strip) * channels, n)


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _col_hashes(const uint8_t* image, Py_ssize_t row_bytes, Py_ssize_t channels, Py_ssize_t x0,
                      Py_ssize_t x1, Py_ssize_t y0, Py_ssize_t band, Py_ssize_t bands, Py_ssize_t step,
                      uint64_t* out) noexcept nogil:
    """``_row_hashes`` turned on its side: a hash of each band of ``band`` rows of each column,
    every ``step``-th row of the band (rows read in order, one accumulator per column, so memory
    is read sequentially)."""
    cdef Py_ssize_t b, y, x, c, n = x1 - x0
    cdef const uint8_t* p
    cdef const uint32_t* q
    cdef uint64_t h, v
    cdef uint64_t* acc = <uint64_t*>malloc(max(n, 1) * sizeof(uint64_t))
    if acc == NULL:
        return
    for b in range(bands):
        for x in range(n):
            acc[x] = <uint64_t>(band * channels)
        y = y0 + b * band
        while y < y0 + (b + 1) * band:
            p = image + y * row_bytes + x0 * channels
            y += step
            if channels == 4:
                q = <const uint32_t*>p  # rows of a C-contiguous uint8 array: unaligned loads are fine on x86/ARM64
                for x in range(n):
                    h = (acc[x] ^ q[x]) * 0x9E3779B185EBCA87ULL
                    acc[x] = h ^ (h >> 29)
            else:
                for x in range(n):
                    v = 0
                    for c in range(channels):
                        v = v | (<uint64_t>p[x * channels + c] << (8 * c))
                    h = (acc[x] ^ v) * 0x9E3779B185EBCA87ULL
                    acc[x] = h ^ (h >> 29)
        for x in range(n):
            out[x * bands + b] = acc[x]
    free(acc)


def col_hashes(image, int channels, int y0, int band, int bands, int x0, int x1, int step=1):
    """``uint64[x1 - x0, bands]``: a hash of each band of ``band`` rows from y0 on (every
    ``step``-th row of it), per column."""
    _image(image, "image")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    _grid_tiles(height, row_bytes, channels, 1)
    if band < 1 or bands < 0 or y0 < 0 or y0 + band * bands > height or x0 < 0 or x1 * channels > row_bytes \
            or x1 < x0 or step < 1:
        raise ValueError("bands or columns outside the image")
    out = np.empty((x1 - x0, bands), np.uint64)
    cdef const uint8_t[:, ::1] img = image
    cdef uint64_t[:, ::1] o = out
    if bands and x1 > x0:
        with nogil:
            _col_hashes(&img[0, 0], row_bytes, channels, x0, x1, y0, band, bands, step, &o[0, 0])
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
cdef void _col_sums(const uint8_t* image, Py_ssize_t row_bytes, Py_ssize_t channels, Py_ssize_t x0,
                    Py_ssize_t x1, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t step, uint32_t* acc,
                    int64_t* out) noexcept nogil:
    """Rows added byte by byte into ``acc`` (one uint32 per byte of the span: the loop
    vectorises, rows are read in order), then each pixel's bytes summed."""
    cdef Py_ssize_t y, i, c, n = (x1 - x0) * channels
    cdef int64_t v
    memset(acc, 0, n * sizeof(uint32_t))
    y = y0
    while y < y1:
        add_bytes(acc, image + y * row_bytes + x0 * channels, n)
        y += step
    for i in range(x1 - x0):
        v = 0
        for c in range(channels):
            v += acc[i * channels + c]
        out[i] = v


def col_sums(image, int channels, int y0, int y1, int step, int x0, int x1):
    """``int64[x1 - x0]``: per pixel column, the sum of its bytes over rows y0, y0 + step, ...
    below y1 (a window's column profile: motion's search for a diagonal move)."""
    _image(image, "image")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    _grid_tiles(height, row_bytes, channels, 1)
    if y0 < 0 or y1 > height or y1 < y0 or x0 < 0 or x1 * channels > row_bytes or x1 < x0 or step < 1:
        raise ValueError("rows or columns outside the image")
    if (y1 - y0 + step - 1) // step > 16843009:  # 255 * rows must fit a uint32
        raise ValueError("too many rows to sum")
    out = np.zeros(x1 - x0, np.int64)
    scratch = np.empty(max(1, (x1 - x0) * channels), np.uint32)
    cdef const uint8_t[:, ::1] img = image
    cdef int64_t[::1] o = out
    cdef uint32_t[::1] acc = scratch
    if y1 > y0 and x1 > x0:
        with nogil:
            _col_sums(&img[0, 0], row_bytes, channels, x0, x1, y0, y1, step, &acc[0], &o[0])
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def shift_votes(cur, old):
    """``int32[strips, 2n]``: for each strip (column of ``cur`` and ``old``, ``uint64[n,
    strips]`` line hashes), how many lines ``y`` find their hash at exactly one line ``j`` of
    ``old``'s strip, with ``j != y``, counted at ``j - y + n``."""
    if not isinstance(cur, np.ndarray) or not isinstance(old, np.ndarray) or cur.dtype != np.uint64 \
            or old.dtype != np.uint64 or cur.ndim != 2 or cur.shape != old.shape:
        raise TypeError("cur and old must be uint64 arrays of one 2-D shape")
    cur = np.ascontiguousarray(cur)
    old = np.ascontiguousarray(old)
    cdef Py_ssize_t n = cur.shape[0], strips = cur.shape[1]
    cdef Py_ssize_t size = 16, s, y, slot, j
    while size < 2 * n:
        size *= 2
    out = np.zeros((strips, 2 * n), np.int32)
    keys = np.empty(size, np.uint64)
    rows = np.empty(size, np.int64)
    cdef const uint64_t[:, ::1] c = cur
    cdef const uint64_t[:, ::1] o = old
    cdef int32_t[:, ::1] votes = out
    cdef uint64_t[::1] k = keys
    cdef int64_t[::1] r = rows
    cdef uint64_t h
    cdef Py_ssize_t mask = size - 1
    with nogil:
        for s in range(strips):
            for slot in range(size):
                r[slot] = -1  # empty
            for y in range(n):  # the old lines: row index, or -2 when the hash repeats
                h = o[y, s]
                slot = <Py_ssize_t>((h * 0x9E3779B97F4A7C15ULL) >> 40) & mask
                while r[slot] != -1 and k[slot] != h:
                    slot = (slot + 1) & mask
                if r[slot] == -1:
                    k[slot] = h
                    r[slot] = y
                else:
                    r[slot] = -2
            for y in range(n):
                h = c[y, s]
                slot = <Py_ssize_t>((h * 0x9E3779B97F4A7C15ULL) >> 40) & mask
                while r[slot] != -1 and k[slot] != h:
                    slot = (slot + 1) & mask
                j = r[slot]
                if j >= 0 and j != y:
                    votes[s, j - y + n] += 1
    return out


def scatter(image, int channels, int tile, positions, tiles):
    """Write ``tiles`` (as :func:`gather` returns them) back at ``positions`` of ``image``."""
    _image(image, "image")
    if not image.flags.writeable:
        raise ValueError("image must be writeable")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    cdef Py_ssize_t n = _grid_tiles(height, row_bytes, channels, tile)
    positions = np.ascontiguousarray(positions, np.int32)
    tiles = np.ascontiguousarray(tiles, np.uint8)
    cdef Py_ssize_t count = positions.shape[0]
    if positions.ndim != 1 or tiles.shape != (count, tile * tile * channels):
        raise ValueError(f"{count} positions need tiles of shape ({count}, {tile * tile * channels}), "
                         f"not {tiles.shape}")
    if count and (positions.min() < 0 or positions.max() >= n):
        raise ValueError(f"positions outside [0, {n})")
    cdef uint8_t[:, ::1] img = image
    cdef const int32_t[::1] pos = positions
    cdef const uint8_t[:, ::1] src = tiles
    if count:
        with nogil:
            _scatter(&img[0, 0], height, row_bytes, channels, tile, &pos[0], count, &src[0, 0])


def copy_out(src, dst):
    """Copy ``src`` into ``dst`` (both C-contiguous ``uint8``, the same size): a frame handed
    out of the reader's buffer, stored past the cache when it is large (``enc_stream_copy``)."""
    cdef const uint8_t[::1] s = np.ascontiguousarray(src, np.uint8).reshape(-1)
    if not isinstance(dst, np.ndarray) or dst.dtype != np.uint8 or not dst.flags.c_contiguous:
        raise ValueError("dst must be a C-contiguous uint8 array")
    cdef uint8_t[::1] d = dst.reshape(-1)
    if d.shape[0] != s.shape[0]:
        raise ValueError(f"dst holds {d.shape[0]} bytes, src {s.shape[0]}")
    if s.shape[0]:
        with nogil:
            stream_copy(&d[0], &s[0], <size_t>s.shape[0])


def compare_shifted(image, prev, int channels, int tile, rect, int dx, int dy, int cx, int cy, flags,
                    copy=None):
    """Flag (``flags``, ``uint8[rows, cols]``, set to 1) the cells of a grid whose cell (0, 0)
    has its top left pixel at (cx, cy) that hold a pixel of ``rect`` (x0, y0, x1, y1) differing
    from the pixel (x - dx, y - dy) of ``prev``. The rectangle, moved by (-dx, -dy), must lie in
    the image, and every cell it touches in ``flags``.

    ``copy`` (x0, y0, x1, y1), within the image: then copy that rectangle of ``image`` into
    ``prev``, as if after the comparison (a pane's pixels, in the same pass while they are in
    cache)."""
    _image(image, "image")
    _image(prev, "prev")
    if prev.shape[0] != image.shape[0] or prev.shape[1] != image.shape[1]:
        raise ValueError(f"prev has shape {prev.shape}, image {image.shape}")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    _grid_tiles(height, row_bytes, channels, tile)
    cdef Py_ssize_t width = row_bytes // channels
    cdef Py_ssize_t x0 = rect[0], y0 = rect[1], x1 = rect[2], y1 = rect[3]
    if not isinstance(flags, np.ndarray) or flags.dtype != np.uint8 or flags.ndim != 2 \
            or not flags.flags.c_contiguous or not flags.flags.writeable:
        raise TypeError("flags must be a writeable C-contiguous 2-D uint8 array")
    if x1 <= x0 or y1 <= y0:
        x0 = y0 = x1 = y1 = 0  # nothing to compare (maybe something to copy)
    elif x0 < 0 or y0 < 0 or x1 > width or y1 > height or x0 - dx < 0 or y0 - dy < 0 \
            or x1 - dx > width or y1 - dy > height:
        raise ValueError(f"rectangle {tuple(rect)} moved by ({-dx}, {-dy}) leaves the {width}x{height} image")
    elif x0 < cx or y0 < cy or (x1 - 1 - cx) // tile >= flags.shape[1] or (y1 - 1 - cy) // tile >= flags.shape[0]:
        raise ValueError(f"rectangle {tuple(rect)} leaves the grid of {flags.shape} cells at ({cx}, {cy})")
    cdef Py_ssize_t kx0 = 0, ky0 = 0, kx1 = 0, ky1 = 0
    if copy is not None:
        kx0, ky0, kx1, ky1 = copy[0], copy[1], copy[2], copy[3]
        if kx1 > kx0 and ky1 > ky0:
            if kx0 < 0 or ky0 < 0 or kx1 > width or ky1 > height:
                raise ValueError(f"copy rectangle {tuple(copy)} leaves the {width}x{height} image")
            if not prev.flags.writeable:
                raise ValueError("prev must be writeable")
    if y1 <= y0 and (kx1 <= kx0 or ky1 <= ky0):
        return
    cdef const uint8_t[:, ::1] img = image
    cdef const uint8_t[:, ::1] old = prev
    cdef uint8_t[:, ::1] f = flags
    cdef uint8_t* fp = &f[0, 0] if f.shape[0] and f.shape[1] else NULL  # NULL: nothing is compared
    with nogil:
        _compare_shifted(&img[0, 0], <uint8_t*>&old[0, 0], row_bytes, channels, tile, x0, y0, x1, y1, dx, dy,
                         cx, cy, f.shape[1], fp, kx0, ky0, kx1, ky1)


def gather_cells(image, int channels, int tile, int cx, int cy, rows, cols, out=None):
    """The tiles of grid cells ``(rows[k], cols[k])`` of a grid whose cell (0, 0) has its top
    left pixel at (cx, cy): ``uint8[k, tile*tile*channels]``, zero outside the image
    (written into ``out`` when given, as :func:`gather`)."""
    _image(image, "image")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    _grid_tiles(height, row_bytes, channels, tile)
    rows = np.ascontiguousarray(rows, np.int32)
    cols = np.ascontiguousarray(cols, np.int32)
    if rows.ndim != 1 or rows.shape != cols.shape:
        raise ValueError("rows and cols must be 1-D of one length")
    cdef Py_ssize_t count = rows.shape[0]
    out = _tiles_out(out, count, tile * tile * channels)
    cdef const uint8_t[:, ::1] img = image
    cdef const int32_t[::1] r = rows
    cdef const int32_t[::1] c = cols
    cdef uint8_t[:, ::1] dst = out
    if count:
        with nogil:
            _gather_cells(&img[0, 0], height, row_bytes, channels, tile, cx, cy, &r[0], &c[0], count, &dst[0, 0])
    return out


def row_hashes(image, int channels, int x0, int strip, int strips, int y0, int y1, out=None, todo=None):
    """``uint64[y1 - y0, strips]``: a hash of each strip of ``strip`` pixels from x0 on, per row.

    With ``todo`` (bool of that shape) only its strips are hashed, into ``out`` (same shape),
    whose other values are kept."""
    _image(image, "image")
    cdef Py_ssize_t height = image.shape[0], row_bytes = image.shape[1]
    _grid_tiles(height, row_bytes, channels, 1)
    if strip < 1 or strips < 0 or x0 < 0 or (x0 + strip * strips) * channels > row_bytes \
            or y0 < 0 or y1 > height or y1 < y0:
        raise ValueError("strips or rows outside the image")
    if (todo is None) != (out is None):
        raise ValueError("todo and out go together")
    if out is None:
        out = np.empty((y1 - y0, strips), np.uint64)
    elif out.shape != (y1 - y0, strips) or todo.shape != out.shape or todo.dtype != np.bool_:
        raise ValueError("out and todo must be (rows, strips), todo bool")
    cdef const uint8_t[:, ::1] img = image
    cdef uint64_t[:, ::1] o = out
    cdef const uint8_t[:, ::1] t
    cdef const uint8_t* tp = NULL
    if todo is not None and strips and y1 > y0:
        t = todo.view(np.uint8)
        tp = &t[0, 0]
    if strips and y1 > y0:
        with nogil:
            _row_hashes(&img[0, 0], row_bytes, channels, x0, strip, strips, y0, y1, tp, &o[0, 0])
    return out


@cython.boundscheck(False)  # every index below was checked
@cython.wraparound(False)
def tile_hash(tile):
    """XXH64 (seed 0) of a tile's bytes, as the store computes it.

    Examples
    --------
    >>> tile_hash(b"") == 0xEF46DB3751D8E999
    True
    """
    cdef const uint8_t[::1] data = np.frombuffer(memoryview(tile).cast("B"), np.uint8) \
        if not isinstance(tile, np.ndarray) else np.ascontiguousarray(tile).reshape(-1).view(np.uint8)
    cdef uint64_t h
    cdef uint8_t empty = 0
    with nogil:
        h = xxh64(&data[0] if data.shape[0] else &empty, data.shape[0])
    return h


# ---------------------------------------------------------------------------------------
# The content store


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline Py_ssize_t _page_of(const int64_t* firsts, Py_ssize_t pages, int64_t tile_id) noexcept nogil:
    """The last k with firsts[k] <= tile_id (firsts ascending, firsts[0] == 0 <= tile_id)."""
    cdef Py_ssize_t lo = 0, hi = pages, mid
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if firsts[mid] <= tile_id:
            lo = mid
        else:
            hi = mid
    return lo


cdef struct Entry:
    uint64_t hash
    int64_t id      # -1: empty


cdef class TileStore:
    """The shard-wide content store of one tile size, and its open page.

    Lookup is an open-addressing hash table (linear probing) of the live tiles: the last
    ``capacity`` ids, kept in an arena of ``capacity`` slots (id ``i`` lives in slot
    ``i % capacity``) that grows by chunks as tiles arrive. When id ``i`` takes the slot of
    id ``i - capacity``, that one leaves the table (backward-shift deletion, so no
    tombstones). A hash match counts only when the bytes match too. New tiles are also
    copied into the open page (``page_tiles`` at most); :meth:`take_page` hands it over.

    Memory: at most ``capacity * (tile_bytes + 8)`` bytes of arena and slot hashes, a table
    of 16-byte entries kept at most half full (under ``4 * capacity`` entries), one page.
    """
    cdef readonly Py_ssize_t tile_bytes, capacity, page_tiles, page_count, live
    cdef readonly int64_t next_id, page_first
    cdef uint64_t mask
    cdef Entry* table
    cdef Py_ssize_t table_size
    cdef uint8_t** chunks
    cdef uint64_t** chunk_hash
    cdef Py_ssize_t chunk_tiles, n_chunks, max_chunks
    cdef uint8_t* page

    def __cinit__(self, Py_ssize_t tile_bytes, Py_ssize_t capacity, Py_ssize_t page_tiles,
                  hash_mask=0xFFFFFFFFFFFFFFFF):
        if tile_bytes < 1 or capacity < 1 or page_tiles < 1:
            raise ValueError("tile_bytes, capacity and page_tiles must be >= 1")
        self.tile_bytes, self.capacity, self.page_tiles = tile_bytes, capacity, page_tiles
        self.mask = <uint64_t>int(hash_mask)
        self.chunk_tiles = max(1, min(capacity, CHUNK_BYTES // tile_bytes))
        self.max_chunks = (capacity + self.chunk_tiles - 1) // self.chunk_tiles
        self.chunks = <uint8_t**>calloc(self.max_chunks, sizeof(uint8_t*))
        self.chunk_hash = <uint64_t**>calloc(self.max_chunks, sizeof(uint64_t*))
        self.table_size = FIRST_TABLE
        self.table = <Entry*>malloc(self.table_size * sizeof(Entry))
        self.page = <uint8_t*>malloc(page_tiles * tile_bytes)
        if self.chunks == NULL or self.chunk_hash == NULL or self.table == NULL or self.page == NULL:
            raise MemoryError()
        cdef Py_ssize_t i
        for i in range(self.table_size):
            self.table[i].id = -1

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.chunks != NULL:
            for i in range(self.n_chunks):
                free(self.chunks[i])
                free(self.chunk_hash[i])
        free(self.chunks)
        free(self.chunk_hash)
        free(self.table)
        free(self.page)

    @property
    def hash_mask(self):
        return self.mask

    @property
    def memory_bytes(self):
        """Bytes this store holds now (arena chunks, slot hashes, table, page)."""
        return (self.n_chunks * self.chunk_tiles * (self.tile_bytes + 8)
                + self.table_size * sizeof(Entry) + self.page_tiles * self.tile_bytes)

    # -- kernels (GIL released by the caller) ------------------------------------------------
    cdef inline uint8_t* _slot(self, int64_t tile_id) noexcept nogil:
        cdef Py_ssize_t s = tile_id % self.capacity
        return self.chunks[s // self.chunk_tiles] + (s % self.chunk_tiles) * self.tile_bytes

    cdef inline uint64_t* _slot_hash(self, int64_t tile_id) noexcept nogil:
        cdef Py_ssize_t s = tile_id % self.capacity
        return self.chunk_hash[s // self.chunk_tiles] + (s % self.chunk_tiles)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef Py_ssize_t _find(self, const uint8_t* tile, uint64_t h) noexcept nogil:
        """Table position of the live tile with these bytes, or -1."""
        cdef Py_ssize_t m = self.table_size - 1, i = <Py_ssize_t>(h & <uint64_t>m)
        cdef Entry* e
        while True:
            e = &self.table[i]
            if e.id < 0:
                return -1
            if e.hash == h and memcmp(self._slot(e.id), tile, self.tile_bytes) == 0:
                return i
            i = (i + 1) & m

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _place(self, uint64_t h, int64_t tile_id) noexcept nogil:
        cdef Py_ssize_t m = self.table_size - 1, i = <Py_ssize_t>(h & <uint64_t>m)
        while self.table[i].id >= 0:
            i = (i + 1) & m
        self.table[i].hash = h
        self.table[i].id = tile_id

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef void _remove(self, int64_t tile_id) noexcept nogil:
        """Delete the entry of ``tile_id`` by backward shift (none: a newer copy took it over)."""
        cdef Py_ssize_t m = self.table_size - 1
        cdef uint64_t h = self._slot_hash(tile_id)[0]
        cdef Py_ssize_t i = <Py_ssize_t>(h & <uint64_t>m), j, home
        while self.table[i].id != tile_id:
            if self.table[i].id < 0:
                return
            i = (i + 1) & m
        j = i
        while True:
            j = (j + 1) & m
            if self.table[j].id < 0:
                break
            home = <Py_ssize_t>(self.table[j].hash & <uint64_t>m)
            # the entry at j may move to the hole at i unless its home lies in (i, j]
            if (i <= j and (home <= i or home > j)) or (i > j and home <= i and home > j):
                self.table[i] = self.table[j]
                i = j
        self.table[i].id = -1

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef int _grow_table(self) noexcept nogil:
        """Double the table and re-insert the live tiles; 0, or -1 when out of memory."""
        cdef Py_ssize_t old_size = self.table_size, i
        cdef Entry* old = self.table
        cdef Entry* grown = <Entry*>malloc(2 * old_size * sizeof(Entry))
        if grown == NULL:
            return -1
        self.table = grown
        self.table_size = 2 * old_size
        for i in range(self.table_size):
            grown[i].id = -1
        for i in range(old_size):
            if old[i].id >= 0:
                self._place(old[i].hash, old[i].id)
        free(old)
        return 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef Py_ssize_t _add(self, const uint8_t* tiles, Py_ssize_t count, int64_t* ids,
                         Py_ssize_t start, int64_t min_id, const int64_t* firsts,
                         const uint8_t* allowed, Py_ssize_t pages) noexcept nogil:
        """The kernel of :meth:`add`; returns stop, or -1 when out of memory."""
        cdef Py_ssize_t i, s, c, at
        cdef const uint8_t* tile
        cdef uint64_t h
        cdef int64_t new, found
        for i in range(start, count):
            tile = tiles + i * self.tile_bytes
            h = xxh64(tile, self.tile_bytes) & self.mask
            at = self._find(tile, h)
            if at >= 0:
                found = self.table[at].id
                if found >= min_id or (allowed != NULL and allowed[_page_of(firsts, pages, found)]):
                    ids[i] = found
                    continue
            if self.page_count == self.page_tiles:
                return i
            new = self.next_id
            if new >= self.capacity:  # the oldest live tile leaves the lookup, its slot is reused
                self._remove(new - self.capacity)
            else:
                s = new
                c = s // self.chunk_tiles
                if c == self.n_chunks:  # first use of this chunk
                    self.chunks[c] = <uint8_t*>malloc(self.chunk_tiles * self.tile_bytes)
                    self.chunk_hash[c] = <uint64_t*>malloc(self.chunk_tiles * sizeof(uint64_t))
                    if self.chunks[c] == NULL or self.chunk_hash[c] == NULL:
                        free(self.chunks[c])
                        free(self.chunk_hash[c])
                        self.chunks[c] = NULL
                        return -1
                    self.n_chunks += 1
                self.live += 1
                if 2 * self.live > self.table_size and self._grow_table() < 0:
                    return -1
            memcpy(self._slot(new), tile, self.tile_bytes)
            self._slot_hash(new)[0] = h
            if at >= 0:
                # a copy older than min_id: this one replaces it in the table (the old id keeps
                # its slot until the ring reuses it, but lookups now find the new copy)
                at = self._find(tile, h)  # the eviction above may have moved or removed it
            if at >= 0:
                self.table[at].id = new
            else:
                self._place(h, new)
            memcpy(self.page + self.page_count * self.tile_bytes, tile, self.tile_bytes)
            self.page_count += 1
            self.next_id = new + 1
            ids[i] = new
        return count

    # -- Python API ----------------------------------------------------------------------------
    @cython.boundscheck(False)  # every index below was checked
    @cython.wraparound(False)
    def add(self, tiles, ids, Py_ssize_t start=0, int64_t min_id=0, firsts=None, allowed=None):
        """Set ``ids[i]`` (int64) for ``start <= i < stop`` and return ``stop``.

        ``tiles`` is ``uint8[count, tile_bytes]``, C-contiguous. A tile found with an id
        below ``min_id`` is stored again (a new id, in the open page), and lookups find the
        new copy from then on, unless ``allowed[k]`` is set for the page ``k`` holding it
        (``firsts``: first id of every page, ascending from 0; ``allowed``: one flag per
        page). Readers of later frames then need no other page. Stops before the first new
        tile that finds the open page full; take the page and call again from ``stop``.
        """
        if not isinstance(tiles, np.ndarray) or tiles.dtype != np.uint8 or tiles.ndim != 2 \
                or not tiles.flags.c_contiguous:
            raise TypeError("tiles must be a C-contiguous uint8[count, tile_bytes] array")
        if tiles.shape[1] != self.tile_bytes:
            raise ValueError(f"tiles of {tiles.shape[1]} bytes in a store of {self.tile_bytes}-byte tiles")
        if not isinstance(ids, np.ndarray) or ids.dtype != np.int64 or ids.ndim != 1 \
                or not ids.flags.c_contiguous or ids.shape[0] != tiles.shape[0]:
            raise TypeError("ids must be a C-contiguous int64 array, one per tile")
        cdef Py_ssize_t count = tiles.shape[0], stop
        if not 0 <= start <= count:
            raise ValueError(f"start {start} outside [0, {count}]")
        if count == start:
            return count
        if self.next_id + (count - start) > (1 << 32) - 1:
            raise OverflowError("a tile store holds at most 2**32 - 1 tiles: rotate shards sooner")
        cdef const uint8_t[:, ::1] src = tiles
        cdef int64_t[::1] out = ids
        cdef const int64_t[::1] page_firsts
        cdef const uint8_t[::1] page_allowed
        cdef const int64_t* firsts_ptr = NULL
        cdef const uint8_t* allowed_ptr = NULL
        cdef Py_ssize_t pages = 0
        if allowed is not None:
            page_firsts = np.ascontiguousarray(firsts, np.int64)
            page_allowed = np.ascontiguousarray(allowed).view(np.uint8)
            pages = page_firsts.shape[0]
            if pages == 0 or page_allowed.shape[0] != pages or page_firsts[0] != 0:
                raise ValueError("firsts and allowed need one entry per page, firsts[0] == 0")
            firsts_ptr = &page_firsts[0]
            allowed_ptr = &page_allowed[0]
        with nogil:
            stop = self._add(&src[0, 0], count, &out[0], start, min_id, firsts_ptr, allowed_ptr, pages)
        if stop < 0:
            raise MemoryError("tile store: out of memory")
        return stop

    def copy_tiles(self, ids, out):
        """Copy the bytes of the tiles ``ids`` that the store still holds (the last ``capacity``
        ids) into the rows of ``out`` (``uint8[len(ids), tile_bytes]``); returns which it held
        (``bool[len(ids)]``; the other rows are left as they are)."""
        cdef const int64_t[::1] want = np.ascontiguousarray(ids, np.int64).reshape(-1)
        cdef Py_ssize_t n = want.shape[0], i
        if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != (n, self.tile_bytes) \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"out must be a writeable uint8[{n}, {self.tile_bytes}] array")
        held = np.zeros(n, np.uint8)
        cdef uint8_t[::1] h = held
        cdef uint8_t[:, ::1] o = out
        cdef int64_t tile_id, oldest = self.next_id - self.capacity
        with nogil:
            for i in range(n):
                tile_id = want[i]
                if 0 <= tile_id < self.next_id and tile_id >= oldest:
                    memcpy(&o[i, 0], self._slot(tile_id), self.tile_bytes)
                    h[i] = 1
        return held.view(bool)

    def take_page(self):
        """``(first id, count, bytes)`` of the open page, which then starts afresh."""
        cdef Py_ssize_t count = self.page_count
        data = PyBytes_FromStringAndSize(<char*>self.page, count * self.tile_bytes)
        first = self.page_first
        self.page_first += count
        self.page_count = 0
        return first, count, data


# ---------------------------------------------------------------------------------------
# Grid blobs


cdef inline uint8_t* _varint(uint8_t* out, uint64_t value) noexcept nogil:
    while value >= 0x80:
        out[0] = <uint8_t>((value & 0x7F) | 0x80)
        out += 1
        value >>= 7
    out[0] = <uint8_t>value
    return out + 1


cdef inline uint64_t _zigzag(int64_t v) noexcept nogil:
    return (<uint64_t>v << 1) ^ <uint64_t>(v >> 63)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _encode_full(const int64_t* ids, Py_ssize_t n, uint8_t* out) noexcept nogil:
    """Key blob of n ids into out (1 + 10 n bytes); returns its length."""
    cdef uint8_t* p = out
    cdef int64_t last = -1
    cdef Py_ssize_t i
    p[0] = GRID_FULL_C
    p += 1
    for i in range(n):
        p = _varint(p, _zigzag(ids[i] - last - 1))
        last = ids[i]
    return p - out


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _encode_delta(const int32_t* positions, const int64_t* ids, Py_ssize_t m,
                              uint8_t* out) noexcept nogil:
    """Delta blob of m (ascending position, id) pairs into out (11 + 30 m bytes)."""
    cdef Py_ssize_t i = 0, j, runs = 0, end = 0
    cdef int64_t last = -1
    cdef uint8_t* p = out
    for j in range(m):  # count the runs first: their number leads the blob
        if j == 0 or positions[j] != positions[j - 1] + 1:
            runs += 1
    p[0] = GRID_DELTA_C
    p = _varint(p + 1, <uint64_t>runs)
    while i < m:
        j = i + 1
        while j < m and positions[j] == positions[j - 1] + 1:
            j += 1
        p = _varint(p, <uint64_t>(positions[i] - end))
        p = _varint(p, <uint64_t>(j - i - 1))
        while i < j:
            p = _varint(p, _zigzag(ids[i] - last - 1))
            last = ids[i]
            i += 1
        end = positions[j - 1] + 1
    return p - out


@cython.boundscheck(False)  # every index below was checked
@cython.wraparound(False)
def encode_full(ids):
    """Key grid blob of all ``ids`` (int64) of a frame, raster order."""
    cdef const int64_t[::1] v = np.ascontiguousarray(ids, np.int64)
    cdef Py_ssize_t n = v.shape[0], size
    cdef uint8_t* buf = <uint8_t*>malloc(1 + 10 * n)
    if buf == NULL:
        raise MemoryError()
    try:
        with nogil:
            size = _encode_full(&v[0] if n else NULL, n, buf)
        return PyBytes_FromStringAndSize(<char*>buf, size)
    finally:
        free(buf)


@cython.boundscheck(False)  # every index below was checked
@cython.wraparound(False)
def encode_delta(positions, ids):
    """Delta grid blob: new ``ids`` (int64) at ascending ``positions`` (int32)."""
    cdef const int32_t[::1] pos = np.ascontiguousarray(positions, np.int32)
    cdef const int64_t[::1] v = np.ascontiguousarray(ids, np.int64)
    cdef Py_ssize_t m = pos.shape[0], size
    if v.shape[0] != m:
        raise ValueError(f"{m} positions but {v.shape[0]} ids")
    if m > 1 and bool((np.diff(np.asarray(pos)) <= 0).any()):
        raise ValueError("positions must be strictly ascending")
    if m and pos[0] < 0:
        raise ValueError("positions must be >= 0")
    cdef uint8_t* buf = <uint8_t*>malloc(11 + 30 * m)
    if buf == NULL:
        raise MemoryError()
    try:
        with nogil:
            size = _encode_delta(&pos[0] if m else NULL, &v[0] if m else NULL, m, buf)
        return PyBytes_FromStringAndSize(<char*>buf, size)
    finally:
        free(buf)
