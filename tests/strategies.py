"""Hypothesis strategies shared by the tests: columns and whole streams of every kind."""
import numpy as np
import pyarrow as pa
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from encoder.streams import KINDS, STREAMS

_INT_DTYPES = {k: v[0] for k, v in KINDS.items() if v[0] is not None and v[0].kind in "iu"}


def int_values(dtype, max_size=300):
    """Integer arrays with the shapes real telemetry has: runs, jumps, sentinels, extremes."""
    info = np.iinfo(dtype)
    element = st.one_of(st.integers(info.min, info.max), st.integers(-3, 3).filter(lambda v: info.min <= v),
                        st.sampled_from([info.min, info.max, 0, 65535 if info.max >= 65535 else info.max]))
    raw = hnp.arrays(dtype, st.integers(0, max_size), elements=element)
    walk = st.builds(lambda steps, start: np.cumsum(np.asarray(steps, np.int64)).astype(dtype) + dtype.type(start),
                     st.lists(st.integers(-50, 50).map(lambda v: v * 1000), max_size=max_size),
                     st.integers(0, 100))
    return st.one_of(raw, walk)


def string_values(max_size=60, nullable=True):
    item = st.text(max_size=12)
    if nullable:
        item = st.one_of(st.none(), item)
    return st.lists(st.one_of(item, st.sampled_from(["xterm", "firefox", "é✓"])), max_size=max_size).map(
        lambda v: pa.array(v, pa.string()))


def column_values(kind, size=None, nullable=False):
    if kind == "bool":
        return hnp.arrays(np.bool_, size if size is not None else st.integers(0, 300))
    if kind == "string":
        base = string_values(nullable=nullable)
    elif kind == "binary":
        base = st.lists(st.one_of(st.none(), st.binary(max_size=20)) if nullable else st.binary(max_size=20),
                        max_size=60).map(lambda v: pa.array(v, pa.binary()))
    else:
        return int_values(_INT_DTYPES[kind]) if size is None else hnp.arrays(
            _INT_DTYPES[kind], size, elements=st.integers(np.iinfo(_INT_DTYPES[kind]).min,
                                                          np.iinfo(_INT_DTYPES[kind]).max))
    return base


@st.composite
def stream_tables(draw, name, max_rows=200):
    """A dict of columns valid for stream ``name``."""
    spec = STREAMS[name]
    rows = draw(st.integers(0, max_rows))
    out = {}
    for col in spec.columns:
        if col.kind in ("string", "binary"):
            pool = draw(st.lists(st.one_of(st.none(), st.text(max_size=8)) if col.nullable else st.text(max_size=8),
                                 min_size=1, max_size=5))
            values = [pool[i % len(pool)] for i in draw(st.lists(st.integers(0, 10), min_size=rows, max_size=rows))]
            if col.kind == "binary":
                values = [None if v is None else v.encode() for v in values]
            out[col.name] = pa.array(values, col.arrow_type)
        else:
            out[col.name] = draw(column_values(col.kind, size=rows))
    return out
