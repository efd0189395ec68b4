"""encoder.loader._numba against encoder.loader.reference: the same bytes, whatever ENCODER_BACKEND says."""
from __future__ import annotations

import numpy as np
import pytest

from encoder import backends
from encoder.loader import reference
from encoder.loader.resize import nearest_map, source_ranges

BACKENDS = ["native", "reference"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(37, 53, 4), (16, 16, 3), (9, 31, 1)])
@pytest.mark.parametrize("size", [(5, 7), (16, 16), (40, 70)])
def test_kernels_equal_their_reference(backend, shape, size):
    kernels = backends.loader_kernels(backend)
    rng = np.random.default_rng(sum(shape) + sum(size))
    src = rng.integers(0, 256, shape, dtype=np.uint8)
    box = (1, 2, shape[0] - 1, shape[1] - 3)
    for kernel, ref in ((kernels.resize_box, reference.crop_resize_box),
                        (kernels.resize_nearest, reference.crop_resize_nearest)):
        dst = np.zeros(size + shape[2:], np.uint8)
        if kernel is kernels.resize_box:
            y_lo, y_hi = source_ranges(box[0], box[2], size[0])
            x_lo, x_hi = source_ranges(box[1], box[3], size[1])
            kernel(src, y_lo, y_hi, x_lo, x_hi, np.empty((shape[1], shape[2]), np.uint32), dst)
        else:
            kernel(src, nearest_map(box[0], box[2], size[0]), nearest_map(box[1], box[3], size[1]), dst)
        assert np.array_equal(dst, ref(src, box, size)), kernel
    exact = np.zeros((shape[0] // 2, shape[1] // 2, shape[2]), np.uint8)
    y_lo, y_hi = source_ranges(0, exact.shape[0] * 2, exact.shape[0])
    x_lo, x_hi = source_ranges(0, exact.shape[1] * 2, exact.shape[1])
    kernels.resize_box(src, y_lo, y_hi, x_lo, x_hi, np.empty((shape[1], shape[2]), np.uint32), exact)
    quads = src[:exact.shape[0] * 2, :exact.shape[1] * 2].astype(np.int64)
    mean = quads.reshape(exact.shape[0], 2, exact.shape[1], 2, -1).sum(axis=(1, 3))
    assert np.array_equal(exact, (mean + 2) // 4)


@pytest.mark.parametrize("seed", range(12))
def test_native_and_reference_write_the_same_bytes(seed):
    """Random frames, crop boxes and output sizes (shrinking and enlarging), 1 to 4 channels:
    every kernel writes every byte of ``dst`` and both backends write the same ones."""
    native, ref = backends.loader_kernels("native"), backends.loader_kernels("reference")
    rng = np.random.default_rng(seed)
    h, w, c = int(rng.integers(1, 90)), int(rng.integers(1, 130)), int(rng.choice([1, 3, 4]))
    src = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    top, left = int(rng.integers(0, h)), int(rng.integers(0, w))
    height, width = int(rng.integers(1, h - top + 1)), int(rng.integers(1, w - left + 1))
    out = (int(rng.integers(1, 2 * height + 2)), int(rng.integers(1, 2 * width + 2)), c)

    def both(call, shape=out):
        written = []
        for kernels, fill in ((native, 0), (ref, 255)):  # different garbage: a byte left unwritten shows
            dst = np.full(shape, fill, np.uint8)
            call(kernels, dst)
            written.append(dst)
        assert np.array_equal(written[0], written[1])
        return written[0]

    cropped = both(lambda k, dst: k.crop(src, np.int64(top), np.int64(left), dst), (height, width, c))
    assert np.array_equal(cropped, src[top:top + height, left:left + width])
    ys, xs = nearest_map(top, height, out[0]), nearest_map(left, width, out[1])
    nearest = both(lambda k, dst: k.resize_nearest(src, ys, xs, dst))
    assert np.array_equal(nearest, reference.crop_resize_nearest(src, (top, left, height, width), out[:2]))
    (y_lo, y_hi), (x_lo, x_hi) = source_ranges(top, height, out[0]), source_ranges(left, width, out[1])
    acc = np.empty((w, c), np.uint32)
    box = both(lambda k, dst: k.resize_box(src, y_lo, y_hi, x_lo, x_hi, acc, dst))
    assert np.array_equal(box, reference.crop_resize_box(src, (top, left, height, width), out[:2]))


def test_warmup_compiles_every_kernel():
    import numba

    from encoder.loader import _numba
    _numba.warmup()
    for name in ("crop", "resize_nearest", "resize_box"):
        assert numba.config.DISABLE_JIT or getattr(_numba, name).signatures, name
        assert getattr(backends.loader_kernels("native"), name) is getattr(_numba, name)
        assert getattr(backends.loader_kernels("reference"), name) is getattr(reference, name)
