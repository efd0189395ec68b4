"""Native column kernels (encoder._codec, encoder.codecs._numba) == the NumPy reference.

Byte for byte, on corner cases, random data and Hypothesis examples.
"""
from __future__ import annotations

import ast
import doctest
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import int_values

from encoder import _codec
from encoder.codecs import _numba
from encoder.codecs import reference as ref

DTYPES = [np.int64, np.int32, np.uint8, np.uint16, np.uint32]
MODES = [ref.DELTA, ref.FOR]
I64_MIN, I64_MAX = np.iinfo(np.int64).min, np.iinfo(np.int64).max
U64_MAX = (1 << 64) - 1


def assert_same(native: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and bytes."""
    assert native.dtype == expected.dtype
    assert native.shape == expected.shape
    assert native.tobytes() == expected.tobytes()


def check_column(values: np.ndarray) -> None:
    """Every kernel, both modes, every width: native output equals the reference's."""
    for mode in MODES:
        base, step = ref.scan(values, mode)
        assert _codec.scan(values, mode) == (base, step)
        u = ref.transform(values, mode, base, step)
        assert_same(_codec.transform(values, mode, base, step), u)
        for width in range(1, 9):
            planes = ref.split_planes(u, width)
            assert_same(_codec.split_planes(u, width), planes)
            assert_same(_codec.encode_planes(values, mode, base, step, width), planes)
        full = ref.split_planes(u, 8)
        decoded = _numba.decode_planes(full, mode, base, step, values.dtype)
        assert_same(decoded, ref.decode_planes(full, mode, base, step, values.dtype))
        assert_same(decoded, values)  # and the round trip is lossless


def check_decode(planes: np.ndarray, mode: int, base: int, step: int, dtype) -> None:
    assert_same(_numba.decode_planes(planes, mode, base, step, dtype),
                ref.decode_planes(planes, mode, base, step, dtype))


def _random(dtype, n: int, seed: int) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max, n, dtype=dtype, endpoint=True)


def _cases(dtype) -> dict[str, np.ndarray]:
    """Named columns that stress the corners of scan/transform for one dtype."""
    info = np.iinfo(dtype)
    lo, hi = int(info.min), int(info.max)
    rng = np.random.default_rng(7)
    arr = lambda xs: np.array(xs, dtype=dtype)  # noqa: E731
    cases = {
        "empty": arr([]),
        "one": arr([hi]),
        "one_min": arr([lo]),
        "two": arr([lo, hi]),
        "two_equal": arr([5, 5]),
        "two_down": arr([hi, lo]),
        "extremes": arr([lo, hi, lo, hi, 0, hi, lo]),
        "equal_run": arr([9] * 100),
        "equal_runs_then_jump": arr([3] * 50 + [hi] * 50 + [3] * 10),
        "decreasing": arr(np.arange(min(hi, 5000), min(hi, 5000) - 200, -1)[:200].clip(lo, hi)),
        "sentinel_mid": arr([min(hi, 65535) if i == 37 else i % 50 for i in range(100)]),
        "random_small": _random(dtype, 17, 1),
        "random_1k": _random(dtype, 1000, 2),
        "steps_of_4": arr(rng.integers(0, hi // 8, 300) * 4),
        "steps_of_3": arr(rng.integers(0, hi // 6, 300) * 3),
        "constant_step": arr(np.arange(0, 250 * 3, 3).clip(lo, hi)),
    }
    if info.bits >= 32:
        cases["steps_of_1000"] = arr(1_000_000 + rng.integers(-500, 5000, 500).cumsum() * 1000)
        cases["huge_jump"] = arr([1000, 2000, 3000, hi - 1000, 4000, 5000])
    if dtype == np.int64:
        t = 1_700_000_000_000_000 + np.arange(0, 10_000, 1000)
        cases.update({
            "timestamps_us_x1000": t,
            "timestamps_jitter": t + rng.integers(0, 3, t.size),
            "span_2_63_minus_1": arr([0, I64_MAX]),
            "span_2_63": arr([-1, I64_MAX]),           # max - min == 2**63: step must stay 1
            "span_2_63_even": arr([-2, 2**62 * 2 - 2]),  # even differences, still step 1
            "span_wide_even": arr([I64_MIN, 0, I64_MAX - 1]),
            "span_min_max_x2": arr([I64_MIN, I64_MIN + 2, I64_MAX - 1]),
            "neg_steps_of_6": arr([-6, -12, -600, 6000, -6]),
            "min_only": arr([I64_MIN, I64_MIN]),
            "wrap_around_deltas": arr([I64_MAX, I64_MIN, I64_MAX, I64_MIN]),
            "power_of_two_steps": arr([0, 2**40, 2**41, -(2**45)]),
            "step_2_62": arr([-(2**62), 0, 2**62]),
        })
    return cases


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_native_equals_reference_on_corner_cases(dtype):
    for name, values in _cases(dtype).items():
        try:
            check_column(values)
        except AssertionError as exc:
            raise AssertionError(f"case {name!r}: {values[:10]!r}") from exc


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 2047, 2048, 2049, 10_000])
def test_native_equals_reference_on_random_data(dtype, n):
    check_column(_random(dtype, n, seed=n))


def test_bool_is_read_as_uint8():
    values = np.random.default_rng(3).random(500) < 0.3
    for mode in MODES:
        base, step = ref.scan(values, mode)
        assert _codec.scan(values, mode) == (base, step)
        assert_same(_codec.transform(values, mode, base, step),
                    ref.transform(values, mode, base, step))


def test_readonly_and_strided_inputs():
    values = np.arange(0, 3000, 3, dtype=np.int64)[::-2]  # strided and decreasing
    check_column(np.ascontiguousarray(values))
    assert _codec.scan(values, ref.DELTA) == ref.scan(values, ref.DELTA)
    assert_same(_codec.transform(values, ref.FOR, 6, 6), ref.transform(values, ref.FOR, 6, 6))
    frozen = np.ascontiguousarray(values)
    frozen.flags.writeable = False
    assert_same(_codec.transform(frozen, ref.DELTA, 0, 6), ref.transform(frozen, ref.DELTA, 0, 6))
    u = ref.transform(frozen, ref.DELTA, 0, 6)
    u.flags.writeable = False
    assert_same(_codec.split_planes(u, 2), ref.split_planes(u, 2))
    big_endian = values.astype(">i8")
    assert _codec.scan(big_endian, ref.FOR) == ref.scan(big_endian, ref.FOR)


@pytest.mark.parametrize("mode", MODES)
def test_transform_with_steps_that_do_not_divide(mode):
    """Floor division, as the reference, when the step is not the scanned one."""
    values = np.array([-7, 5, I64_MIN, I64_MAX, 0, -1, 3, 2**62, -(2**62) - 3], np.int64)
    limit = (1 << 63) - 1 if mode == ref.DELTA else U64_MAX
    for step in [2, 3, 7, 1000, 1024, 3 << 20, 2**62 + 1, limit]:
        assert_same(_codec.transform(values, mode, -13, step),
                    ref.transform(values, mode, -13, step))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("width", range(0, 9))
@pytest.mark.parametrize("dtype", ["i8", "i4", "u1", "u2", "u4",  # the schema's
                                   "i1", "i2", "u8", "?", "f8", ">i4"])  # the cast path
def test_decode_equals_reference(mode, width, dtype):
    rng = np.random.default_rng(width)
    for n in (0, 1, 2, 1000):
        planes = rng.integers(0, 256, (width, n), dtype=np.uint8)
        for base, step in [(0, 1), (-5, 1), (I64_MIN, 3), (U64_MAX, 1000), (12345, U64_MAX)]:
            check_decode(planes, mode, base, step, dtype)


def test_decode_accepts_readonly_and_strided_planes():
    raw = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8)
    planes = np.frombuffer(raw.tobytes(), np.uint8).reshape(3, 1000)  # read-only, like sections
    check_decode(planes, ref.DELTA, 7, 3, np.int32)
    check_decode(raw.reshape(1000, 3).T, ref.FOR, 7, 3, np.int64)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no compiled signatures without the JIT")
def test_decode_compiles_no_signature_at_run_time():
    _numba.warmup()
    before = len(_numba._decode_kernel.signatures)
    planes = np.ones((2, 10), np.uint8)
    for dtype in ["i8", "i4", "u1", "u2", "u4", "i1", "i2", "u8", "?", "f4"]:
        for mode in MODES:
            _numba.decode_planes(planes, mode, np.int64(-3), np.uint64(2), dtype)
    _numba.decode_planes(planes[:, ::2], ref.DELTA, 1, 1, np.int64)
    _numba.decode_planes(planes.copy(order="F"), ref.FOR, 1, 1, np.int64)
    assert len(_numba._decode_kernel.signatures) == before == 4


def test_errors():
    values = np.arange(5, dtype=np.int64)
    with pytest.raises(TypeError):
        _codec.scan(values.astype(np.float64), ref.DELTA)
    with pytest.raises(TypeError):
        _codec.scan(values.astype(np.uint64), ref.DELTA)
    with pytest.raises(TypeError):
        _codec.scan(list(values), ref.DELTA)
    with pytest.raises(ValueError):
        _codec.scan(values.reshape(1, 5), ref.DELTA)
    with pytest.raises(ValueError):
        _codec.scan(values, 2)
    with pytest.raises(ValueError):
        _codec.transform(values, ref.FOR, 0, 0)
    with pytest.raises(OverflowError):  # numpy's int64 floor division overflows the same way
        _codec.transform(values, ref.DELTA, 0, 1 << 63)
    with pytest.raises(OverflowError):
        _codec.transform(values, ref.FOR, 0, 1 << 64)
    with pytest.raises(ValueError):
        _codec.split_planes(values.view(np.uint64), 9)
    with pytest.raises(TypeError):
        _codec.split_planes(values, 2)
    with pytest.raises(ValueError):
        _codec.encode_planes(values, ref.FOR, 0, 1, -1)
    with pytest.raises(TypeError):
        _numba.decode_planes(np.zeros((2, 3), np.int8), ref.FOR, 0, 1, np.int64)
    with pytest.raises(ValueError):
        _numba.decode_planes(np.zeros((9, 3), np.uint8), ref.FOR, 0, 1, np.int64)
    with pytest.raises(ValueError):
        _numba.decode_planes(np.zeros((2, 3), np.uint8), 5, 0, 1, np.int64)
    with pytest.raises(OverflowError):
        _numba.decode_planes(np.zeros((2, 3), np.uint8), ref.FOR, 0, 1 << 64, np.int64)


@pytest.mark.parametrize("module", [_codec, _numba], ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0


def test_stub_lists_the_public_api():
    stub = ast.parse((Path(_codec.__file__).parent / "_codec.pyi").read_text())
    declared = {node.name for node in stub.body if isinstance(node, ast.FunctionDef)}
    declared |= {node.target.id for node in stub.body if isinstance(node, ast.AnnAssign)}
    public = {name for name in dir(_codec) if not name.startswith("_")} - {"np", "operator"}
    assert declared == public


# --- properties ------------------------------------------------------------------------

def _stepped(dtype):
    """Multiples of an arbitrary step (odd, even, powers of two): the exact-division paths."""
    info = np.iinfo(dtype)
    return st.builds(
        lambda step, multiples: (np.asarray(multiples, np.int64) * step)
        .clip(int(info.min), int(info.max)).astype(dtype),
        st.one_of(st.integers(1, 10_000), st.sampled_from([2**20, 3 << 30, 2**40 + 1])),
        st.lists(st.integers(-1000, 1000), max_size=300))


# Example counts come from the HYPOTHESIS_PROFILE chosen in conftest.py.
@given(st.sampled_from(DTYPES).flatmap(lambda d: st.one_of(int_values(np.dtype(d)), _stepped(d))))
def test_property_native_equals_reference(values):
    check_column(values)


@given(planes=st.integers(0, 8).flatmap(
           lambda w: hnp.arrays(np.uint8, st.tuples(st.just(w), st.integers(0, 50)))),
       mode=st.sampled_from(MODES),
       base=st.integers(I64_MIN, U64_MAX),
       step=st.integers(0, U64_MAX),
       dtype=st.sampled_from(["i8", "i4", "u1", "u2", "u4"]))
def test_property_decode_equals_reference(planes, mode, base, step, dtype):
    check_decode(planes, mode, base, step, dtype)
