"""Throughput of the native column kernels beside the NumPy reference, on 1M-value columns.

Run: ``python -m pytest bench/bench_kernels.py --benchmark-only`` (one group per kernel and
column, native and reference side by side; ``values_per_s`` and ``bytes_per_s`` of input
in ``extra_info``). Columns are seeded and shaped like real telemetry:

* ``t_us``: int64 microsecond timestamps, 1-16 ms apart with jitter (step 1);
* ``t_ms``: the same rounded to milliseconds (step 1000, the exact-division path);
* ``xy``: int32 pointer coordinates, a random walk on a 3840-pixel screen;

and the ``pointer`` stream of the real Balabit recordings (``t`` there is milliseconds
stored as microseconds: step 1000), skipped when ``../shared/data`` is absent.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from encoder import _codec
from encoder.codecs import _numba
from encoder.codecs import reference as ref

N = 1_000_000


def _columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    t_us = 1_700_000_000_000_000 + np.cumsum(rng.integers(1000, 16_000, N))
    steps = rng.integers(-6, 7, N).astype(np.int32)
    xy = np.clip(1920 + np.cumsum(steps), 0, 3839).astype(np.int32)
    return {"t_us": t_us, "t_ms": t_us // 1000 * 1000, "xy": xy}


COLUMNS = _columns()
IMPLS = {
    "native": (_codec.scan, _codec.transform, _codec.split_planes, _numba.decode_planes),
    "reference": (ref.scan, ref.transform, ref.split_planes, ref.decode_planes),
}


def _prepared(name: str, mode: int):
    values = COLUMNS[name]
    base, step = ref.scan(values, mode)
    u = ref.transform(values, mode, base, step)
    width = max(1, (int(u.max()).bit_length() + 7) // 8)
    return values, base, step, u, width


def _record(benchmark, n: int, item_bytes: int, **info) -> None:
    seconds = benchmark.stats.stats.median
    benchmark.extra_info.update(info, values_per_s=round(n / seconds),
                                bytes_per_s=round(n * item_bytes / seconds))


@pytest.fixture(autouse=True)
def _compiled():
    _numba.warmup()


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("mode", [ref.DELTA, ref.FOR], ids=["delta", "for"])
@pytest.mark.parametrize("column", list(COLUMNS))
def test_scan(benchmark, column, mode, impl):
    values = COLUMNS[column]
    benchmark.group = f"scan {column} mode={mode}"
    result = benchmark(IMPLS[impl][0], values, mode)
    assert result == ref.scan(values, mode)
    _record(benchmark, values.size, values.itemsize, step=result[1])


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("mode", [ref.DELTA, ref.FOR], ids=["delta", "for"])
@pytest.mark.parametrize("column", list(COLUMNS))
def test_transform(benchmark, column, mode, impl):
    values, base, step, u, _ = _prepared(column, mode)
    benchmark.group = f"transform {column} mode={mode}"
    out = benchmark(IMPLS[impl][1], values, mode, base, step)
    assert out.tobytes() == u.tobytes()
    _record(benchmark, values.size, values.itemsize, step=step)


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("column", list(COLUMNS))
def test_split_planes(benchmark, column, impl):
    _, _, _, u, width = _prepared(column, ref.DELTA)
    benchmark.group = f"split_planes {column} delta"
    planes = benchmark(IMPLS[impl][2], u, width)
    assert planes.tobytes() == ref.split_planes(u, width).tobytes()
    _record(benchmark, u.size, 8, width=width)


@pytest.mark.parametrize("impl", ["fused", "native", "reference"])
@pytest.mark.parametrize("column", list(COLUMNS))
def test_encode(benchmark, column, impl):
    """transform + split_planes: the fused one-pass kernel against the two calls."""
    values, base, step, u, width = _prepared(column, ref.DELTA)
    benchmark.group = f"transform+split_planes {column} delta"
    if impl == "fused":
        run = lambda: _codec.encode_planes(values, ref.DELTA, base, step, width)  # noqa: E731
    else:
        _, transform, split, _ = IMPLS[impl]
        run = lambda: split(transform(values, ref.DELTA, base, step), width)  # noqa: E731
    planes = benchmark(run)
    assert planes.tobytes() == ref.split_planes(u, width).tobytes()
    _record(benchmark, values.size, values.itemsize, width=width)


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("mode", [ref.DELTA, ref.FOR], ids=["delta", "for"])
@pytest.mark.parametrize("column", list(COLUMNS))
def test_decode_planes(benchmark, column, mode, impl):
    values, base, step, u, width = _prepared(column, mode)
    planes = ref.split_planes(u, width)
    benchmark.group = f"decode_planes {column} mode={mode} width={width}"
    out = benchmark(IMPLS[impl][3], planes, mode, base, step, values.dtype)
    assert out.tobytes() == values.tobytes()
    _record(benchmark, values.size, values.itemsize, width=width)


@pytest.mark.parametrize("width", [1, 2, 4, 8])
def test_decode_width(benchmark, width):
    """Native decode against the plane count (delta, step 1, int64 output)."""
    planes = np.random.default_rng(width).integers(0, 256, (width, N), dtype=np.uint8)
    benchmark.group = "decode_planes by width"
    benchmark(_numba.decode_planes, planes, ref.DELTA, 0, 1, np.int64)
    _record(benchmark, N, 8, width=width)


def test_decode_first_call(benchmark):
    """A fresh interpreter: import plus warmup (kernel loaded from Numba's on-disk cache)."""
    code = "import encoder.codecs._numba as m; m.warmup()"
    subprocess.run([sys.executable, "-c", code], check=True)  # fill the cache
    benchmark.group = "decode first call"
    benchmark.pedantic(subprocess.run, args=([sys.executable, "-c", code],),
                       kwargs={"check": True}, rounds=3, iterations=1)


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize("op", ["encode", "decode"])
@pytest.mark.parametrize("column", ["t", "x", "y"])
def test_real_pointer(benchmark, event_datasets, column, op, impl):
    """The column pipeline on a real recording: scan + transform + split, or decode (delta)."""
    if "balabit-mouse" not in event_datasets:
        pytest.skip("the Balabit recording is not in the shared data")
    values = np.ascontiguousarray(event_datasets["balabit-mouse"]["pointer"].column(column).to_numpy())
    scan, transform, split, decode = IMPLS[impl]
    base, step = ref.scan(values, ref.DELTA)
    u = ref.transform(values, ref.DELTA, base, step)
    width = max(1, (int(u.max()).bit_length() + 7) // 8)
    planes = ref.split_planes(u, width)
    benchmark.group = f"real pointer.{column} {op}"
    if op == "encode":
        def encode():
            b, s = scan(values, ref.DELTA)
            return split(transform(values, ref.DELTA, b, s), width)
        assert benchmark(encode).tobytes() == planes.tobytes()
    else:
        out = benchmark(decode, planes, ref.DELTA, base, step, values.dtype)
        assert out.tobytes() == values.tobytes()
    _record(benchmark, values.size, values.itemsize, width=width, step=step)
