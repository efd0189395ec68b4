"""Event tuples and what they become: the columns the recorder hands to the shard writer."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from encoder.capture.events import STREAM_OF, to_columns
from encoder.streams import KINDS, STREAMS

ROWS = {  # one row per stream as the recorder builds them: t first, then schema order
    "pointer": (1, -5, 7),
    "button": (2, 3, True, 5, 7),
    "scroll": (3, 0, -1, 5, 7),                         # no ``precise``: X wheels step
    "key": (4, 0x61, True, 0x4, "a"),
    "focus": (5, "XTerm", None, 0x1200007, 0, 0, 640, 480),
    "marker": (6, "recorder.stats", "{}", 12),
}


def test_columns_take_the_stream_schema():
    assert set(ROWS) == set(STREAM_OF.values())
    for stream, row in ROWS.items():
        spec = STREAMS[stream]
        columns = to_columns(stream, [row, row])
        assert list(columns) == [c.name for c in spec.columns], stream
        for col in spec.columns:
            got, dtype = columns[col.name], KINDS[col.kind][0]
            if dtype is not None:
                assert isinstance(got, np.ndarray) and got.dtype == dtype, (stream, col)
            else:
                assert isinstance(got, pa.Array) and got.type == col.arrow_type, (stream, col)
            assert len(got) == 2
    assert not to_columns("scroll", [ROWS["scroll"]])["precise"].any()
    assert to_columns("focus", [ROWS["focus"]])["title"].to_pylist() == [None]
    assert to_columns("key", [ROWS["key"]])["text"].to_pylist() == ["a"]
