"""Helpers shared by the tests: exact comparison of decoded streams with their source."""
import numpy as np
import pyarrow as pa

from encoder.streams import STREAMS, builtin_streams, validate


def assert_same_stream(name, table: pa.Table, source, streams=STREAMS) -> None:
    """Every column of ``table`` equals the validated ``source`` exactly (dtype included);
    ``streams``: the built-in streams of the shard's version."""
    spec = streams[name]
    expected = validate(spec, source)
    assert table.schema == spec.arrow_schema, (table.schema, spec.arrow_schema)
    for col in spec.columns:
        got, want = table.column(col.name), expected[col.name]
        if isinstance(want, np.ndarray):
            got = got.to_numpy()
            assert got.dtype == want.dtype, (name, col.name, got.dtype, want.dtype)
            assert np.array_equal(got, want), (name, col.name)
        else:
            assert got.combine_chunks().equals(want), (name, col.name)


def event_session(n=5000, seed=0) -> dict:
    """Pointer, key and focus columns of a seeded session (wide values, nulls, wrapping ids)."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(-2, 40, n)) * 1000
    return {
        "pointer": {"t": t, "x": np.cumsum(rng.integers(-9, 10, n)).astype(np.int32),
                    "y": rng.integers(-1080, 1080, n).astype(np.int32)},
        "key": {"t": t[: n // 10], "code": rng.integers(0, 2**32, n // 10, dtype=np.uint32),
                "pressed": rng.random(n // 10) < 0.5, "modifiers": rng.integers(0, 16, n // 10).astype(np.uint16),
                "text": pa.array([None if i % 3 else chr(97 + i % 26) for i in range(n // 10)], pa.string())},
        "focus": {"t": t[:3], "app": ["xterm", "firefox", "xterm"], "title": ["~", None, "~/src"],
                  "window": [1, 2**40, 1], "x": [0, -1920, 0], "y": [0, 0, 0], "width": [800] * 3,
                  "height": [600] * 3},
    }


def assert_golden(reader, metadata: dict, source: dict) -> None:
    """A golden shard decodes to exactly ``source`` with ``metadata``, and verifies."""
    assert {k: reader.metadata[k] for k in metadata} == metadata
    assert set(reader.streams) == set(source)
    for name, columns in source.items():
        assert_same_stream(name, reader.read(name), columns, builtin_streams(reader.version))
    reader.verify()
