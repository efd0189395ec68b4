import numpy as np
import pyarrow as pa
import pytest

import encoder
from encoder.streams import STREAMS, Column, Stream, validate


def pointer(n=4):
    return {"t": np.arange(n, dtype=np.int64), "x": np.arange(n, dtype=np.int32), "y": np.zeros(n, np.int32)}


def test_every_stream_of_the_design_is_declared():
    assert set(STREAMS) == {"pointer", "button", "scroll", "key", "focus", "command", "marker", "frame", "element"}
    for spec in STREAMS.values():
        assert spec.arrow_schema.field("t").type == pa.int64()


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.pop("x"), ["'pointer'", "'x'", "missing"]),
    (lambda d: d.update(z=d["x"]), ["'pointer'", "unknown", "z"]),
    (lambda d: d.update(x=d["x"][:2]), ["'pointer'", "'x'", "2 rows"]),
    (lambda d: d.update(t=np.array([0.0, np.nan, 2.0, 3.0])), ["'pointer'", "'t'", "NaN"]),
    (lambda d: d.update(t=np.array([0.0, 1.0, 2.0, 3.0])), ["'t'", "float64", "microseconds"]),
    (lambda d: d.update(x=np.array([0, 1, 2, 2**40])), ["'x'", "do not fit int32"]),
    (lambda d: d.update(y=np.zeros((4, 1), np.int32)), ["'y'", "1-D"]),
    (lambda d: d.update(x=np.array(["a", "b", "c", "d"])), ["'x'", "is not int32"]),
])
def test_schema_errors_name_stream_and_column(mutate, words):
    data = pointer()
    mutate(data)
    with pytest.raises(encoder.SchemaError) as info:
        validate(STREAMS["pointer"], data)
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)


def test_safe_integer_conversions_are_accepted():
    out = validate(STREAMS["pointer"], {"t": [1, 2], "x": np.array([1, -2], np.int64), "y": np.array([3, 4], np.uint8)})
    assert out["x"].dtype == np.int32 and out["y"].dtype == np.int32 and out["t"].dtype == np.int64


def test_arrow_tables_and_optional_columns():
    table = pa.table({"t": pa.array([5, 6], pa.int64()), "code": pa.array([65, 65], pa.uint32()),
                      "pressed": [True, False], "modifiers": pa.array([0, 1], pa.uint16())})
    out = validate(STREAMS["key"], table)
    assert out["text"].null_count == 2 and out["text"].type == pa.string()


def test_nulls_only_where_declared():
    with pytest.raises(encoder.SchemaError, match="nulls"):
        validate(STREAMS["focus"], {"t": [1], "app": [None], "title": ["x"], "window": [1], "x": [0], "y": [0],
                                    "width": [1], "height": [1]})
    with pytest.raises(encoder.SchemaError, match="nulls"):
        validate(STREAMS["pointer"], {"t": pa.array([1, None]), "x": [1, 2], "y": [1, 2]})


def test_stream_declarations_are_checked():
    with pytest.raises(encoder.SchemaError):
        Stream("bad", (Column("x", "int32"),))
    with pytest.raises(encoder.SchemaError):
        Column("n", "int32", nullable=True)
    with pytest.raises(encoder.SchemaError):
        Column("n", "float32")
    spec = STREAMS["key"]
    assert Stream.from_json("key", spec.to_json()) == spec
