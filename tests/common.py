"""Helpers shared by the tests: exact comparison of decoded streams with their source."""
import numpy as np
import pyarrow as pa

from encoder.streams import STREAMS, validate


def assert_same_stream(name, table: pa.Table, source) -> None:
    """Every column of ``table`` equals the validated ``source`` exactly (dtype included)."""
    spec = STREAMS[name]
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
