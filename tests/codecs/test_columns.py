"""Column codecs: exact round trips of every kind, and untrusted parameters rejected."""
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import encoder
from encoder.codecs import columns, reference
from encoder.codecs import decode_column, encode_column

from strategies import column_values


def roundtrip(kind, values):
    params, sections = encode_column(kind, values)
    assert all(len(memoryview(s).cast("B")) <= columns.MAX_SECTION for s in sections)
    out = decode_column(kind, params, [bytes(memoryview(s).cast("B")) for s in sections], len(values))
    return params, out


@pytest.mark.parametrize("kind", ["int64", "int32", "uint8", "uint16", "uint32", "bool"])
@given(data=st.data())
def test_numeric_roundtrip(kind, data):
    values = data.draw(column_values(kind))
    _, out = roundtrip(kind, values)
    assert out.dtype == values.dtype and np.array_equal(out, values)


@pytest.mark.parametrize("kind", ["string", "binary"])
@given(data=st.data())
def test_variable_roundtrip(kind, data):
    values = data.draw(column_values(kind, nullable=True))
    _, out = roundtrip(kind, values)
    assert out.equals(values)


@pytest.mark.parametrize("values", [
    np.array([], np.int64), np.array([7], np.int64), np.full(10, -3, np.int32),
    np.array([-2**63, 2**63 - 1, 0, -1], np.int64),                  # deltas overflow int64
    np.array([0, 1000, 1000, 999_000, 5, 2**62], np.int64),           # equal, decreasing, huge jump
    np.array([100, 65535, 101, 102, 65535], np.int32),                # sentinel mid-session
    (np.arange(200_000, dtype=np.int64) * 1000),                      # many rows, common step
])
def test_edge_columns(values):
    _, out = roundtrip("int64" if values.dtype == np.int64 else "int32", values)
    assert np.array_equal(out, values) and out.dtype == values.dtype


def test_common_step_is_divided_out():
    t = np.cumsum(np.random.default_rng(0).integers(0, 50, 10_000)) * 1000
    params, _ = roundtrip("int64", t)
    assert params["s"] % 1000 == 0 and params["w"] == 1


@pytest.mark.parametrize("rows", [100, 5000, 65536])
def test_ranked_codes_roundtrip(rows):
    # a remote-desktop clock: most gaps are one of a few ticks, some are long pauses
    rng = np.random.default_rng(rows)
    gaps = np.where(rng.random(rows) < 0.9, rng.choice([0, 109, 110, 156], rows), rng.integers(0, 9000, rows))
    t = np.cumsum(gaps) * 1000
    params, out = roundtrip("int64", t)
    assert np.array_equal(out, t)
    if rows > 100:
        assert params.get("r", 0) > 0  # the rank stage was chosen
    params, out = roundtrip("int64", t[::-1].copy())  # decreasing: negative deltas
    assert np.array_equal(out, t[::-1])
    table = reference.rank_table(np.array([5, 5, 3, 3, 3, 7, 70000, 70000], np.uint64))
    assert table.tolist() == [3, 5]  # most frequent first; singletons and values >= 2**16 left out
    u = np.array([3, 5, 7, 0, 70000], np.uint64)
    assert reference.undo_rank(reference.apply_rank(u, table), table).tolist() == u.tolist()


def test_one_outlier_does_not_widen_other_planes():
    x = np.random.default_rng(1).integers(0, 200, 50_000).astype(np.int32)
    x[25_000] = 1 << 20
    params, sections = encode_column("int32", x)
    assert params["w"] == 3  # the outlier needs 3 bytes...
    import zstandard
    sizes = [len(zstandard.ZstdCompressor(level=1).compress(s)) for s in sections]
    assert sizes[1] < 100 and sizes[2] < 100  # ...but its planes cost almost nothing


@pytest.mark.parametrize("params, sections, rows", [
    ({"c": "planes", "m": 0, "b": 0, "s": 1, "w": 9}, [b"\0"] * 9, 1),
    ({"c": "planes", "m": 0, "b": 0, "s": 0, "w": 1}, [b"\0"], 1),
    ({"c": "planes", "m": 2, "b": 0, "s": 1, "w": 1}, [b"\0"], 1),
    ({"c": "planes", "m": 0, "b": "0", "s": 1, "w": 1}, [b"\0"], 1),
    ({"c": "planes", "m": 0, "b": 0, "s": 1, "w": 2}, [b"\0", b"\0\0"], 1),
    ({"c": "planes", "m": 0, "b": 0, "s": 1, "w": 2, "g": 1}, [b"\0"], 1),
    ({"c": "zzz"}, [], 1),
    ([], [], 1),
])
def test_bad_integer_params_raise(params, sections, rows):
    with pytest.raises(encoder.CorruptShardError):
        decode_column("int64", params, sections, rows)


def test_bad_string_params_raise():
    params, sections = encode_column("string", pa.array(["a", "bb", "a"]))
    bad_index = dict(params, idx={"c": "const", "v": 5})
    with pytest.raises(encoder.CorruptShardError, match="out of range"):
        decode_column("string", bad_index, sections[1:], 3)  # the const replaces the index section
    with pytest.raises(encoder.CorruptShardError, match="lengths add up"):
        decode_column("string", params, sections[:-1] + [b"abcd"], 3)
    with pytest.raises(encoder.CorruptShardError, match="UTF-8"):
        decode_column("string", params, sections[:-1] + [b"\xff\xfe\xfd"], 3)
    with pytest.raises(encoder.CorruptShardError, match="cannot hold"):
        decode_column("binary", params, sections, 3)


def test_reference_kernels_are_the_spec():
    v = np.array([10, 13, 13, 7], np.int64)
    base, step = reference.scan(v, reference.DELTA)
    u = reference.transform(v, reference.DELTA, base, step)
    assert (base, step) == (10, 3) and u.tolist() == [0, 2, 0, 3]  # zigzag(+1, 0, -2)
    assert reference.split_planes(np.array([0x0102], np.uint64), 2).tolist() == [[2], [1]]


@given(st.lists(st.sampled_from([0, 1, 3, 109, 110, 156, 312, 70_000, 2**40]), max_size=400))
def test_native_rank_equals_reference(codes):
    from encoder import _codec
    u = np.array(codes, np.uint64)
    table = _codec.rank_table(u)
    assert np.array_equal(table, reference.rank_table(u)) and table.dtype == np.uint16
    assert np.array_equal(_codec.apply_rank(u, table), reference.apply_rank(u, table))


def test_columns_encode_on_several_threads_at_once():
    """Writers on several threads at once (the zarr codec encodes chunks in parallel) each get
    their own trial compressor: a shared one raised ZstdError mid-compression."""
    import threading
    rng = np.random.default_rng(5)
    columns_in = [np.cumsum(rng.integers(0, 1000, 20_000)).astype(np.int64) for _ in range(4)]
    expected = [encode_column("int64", c, "s", "c", {}, None) for c in columns_in]
    barrier, errors, results = threading.Barrier(4), [], {}

    def work(k):
        try:
            barrier.wait()
            for _ in range(40):
                results[k] = encode_column("int64", columns_in[k], "s", "c", {}, None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, (params, sections) in results.items():
        assert params == expected[k][0] and [bytes(s) for s in sections] == [bytes(s) for s in expected[k][1]]
