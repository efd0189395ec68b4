"""ShardWriter, checked by reading back: round trips, flushing, declared streams, limits, background errors."""
import io
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import encoder
from encoder.streams import Column, Stream
from common import assert_same_stream
from common import event_session as session
from strategies import stream_tables

EVENT_STREAMS = ["pointer", "button", "scroll", "key", "focus", "command", "marker"]


@given(data=st.data())
def test_every_stream_roundtrips_exactly(data):
    streams = {name: data.draw(stream_tables(name)) for name in
               data.draw(st.lists(st.sampled_from(EVENT_STREAMS), unique=True, min_size=1))}
    decoded = encoder.decode(encoder.encode(streams, block_rows=data.draw(st.sampled_from([1, 7, 65536]))))
    assert set(decoded) == set(streams)
    for name, table in decoded.items():
        assert_same_stream(name, table, streams[name])


@pytest.mark.parametrize("background", [True, False])
def test_writer_and_reader_on_a_file(tmp_path, background):
    src = session()
    path = tmp_path / "s.enc"
    with encoder.ShardWriter(path, block_rows=1000, background=background,
                             metadata={"screens": [{"id": 0, "width": 1920, "height": 1080}]}) as w:
        for name, cols in src.items():
            n = len(cols["t"])
            for start in range(0, n, 333):  # many small writes, blocks cut by size
                w.write(name, {k: v[start:start + 333] for k, v in cols.items()})
        assert w.rows["pointer"] == 5000
    with encoder.ShardReader(path) as r:
        assert set(r.streams) == set(src)
        assert r.metadata["screens"][0]["width"] == 1920 and "unix_us_at_t0" in r.metadata["clock"]
        assert r.num_rows("pointer") == 5000 and len(r.block_rows("pointer")) == 5
        for name in src:
            assert_same_stream(name, r.read(name), src[name])
        assert r.verify() == {name: len(c["t"]) for name, c in src.items()}


def test_flush_by_time_and_explicit_flush(tmp_path):
    path = tmp_path / "t.enc"
    w = encoder.ShardWriter(path, flush_seconds=0.0)
    for i in range(3):
        w.write("pointer", {"t": [i], "x": [i], "y": [i]})
    w.flush()
    size = os.path.getsize(path)
    assert size > 3 * 64  # three blocks are on disk before close
    w.close()
    w.close()  # idempotent
    assert encoder.ShardReader(path).block_rows("pointer") == [1, 1, 1]
    with pytest.raises(encoder.EncoderError, match="closed"):
        w.write("pointer", {"t": [9], "x": [9], "y": [9]})


def test_declared_streams_and_errors(tmp_path):
    tiles = Stream("tile", (Column("t", "int64"), Column("page", "binary")))
    buf = io.BytesIO()
    with encoder.ShardWriter(buf) as w:
        w.declare(tiles, level=6, block_rows=2)
        w.write("tile", {"t": [1, 2, 3], "page": [b"a" * 100, b"", b"c"]})
        with pytest.raises(encoder.SchemaError, match="unknown stream"):
            w.write("nope", {"t": [1]})
        with pytest.raises(encoder.SchemaError, match="stream name"):
            w.declare(Stream("Bad Name", (Column("t", "int64"),)))
        with pytest.raises(encoder.SchemaError, match="different schema"):
            w.declare(Stream("pointer", (Column("t", "int64"),)))
    r = encoder.ShardReader(buf.getvalue())
    assert r.block_rows("tile") == [2, 1]
    assert r.read_block("tile", 1).to_pylist() == [{"t": 3, "page": b"c"}]
    with pytest.raises(encoder.SchemaError, match="not in this shard"):
        r.read("pointer")
    with pytest.raises(encoder.SchemaError, match="no column"):
        r.read("tile", ["nope"])


def test_empty_shard_and_empty_writes():
    data = encoder.encode({"pointer": {"t": [], "x": [], "y": []}})
    r = encoder.ShardReader(data)
    assert r.read("pointer").num_rows == 0 and r.time_range("pointer") is None
    assert encoder.decode(encoder.encode({})) == {}


def test_limits_are_enforced():
    with pytest.raises(encoder.LimitError):
        encoder.ShardWriter(io.BytesIO(), block_rows=10**6)
    with encoder.ShardWriter(io.BytesIO(), background=False) as w, pytest.raises(encoder.LimitError):
        w.write("command", {"t": [0, 1], "kind": ["shell", "shell"], "text": ["x" * (5 << 20), "y"]})


def test_background_errors_reach_the_caller(tmp_path):
    class Full(io.RawIOBase):  # a disk with 1000 bytes free
        free = 1000

        def writable(self):
            return True

        def write(self, b):
            if len(b) > self.free:
                raise OSError(28, "No space left on device")
            self.free -= len(b)
            return len(b)

    w = encoder.ShardWriter(Full(), block_rows=10)
    with pytest.raises(OSError, match="No space"):
        for _ in range(50):
            w.write("pointer", {"t": np.arange(10), "x": np.arange(10), "y": np.arange(10)})
            w.flush()


def test_pending_and_written_raw_bytes(tmp_path):
    """What a live byte rate needs: raw bytes still in memory, raw bytes in the file."""
    w = encoder.ShardWriter(tmp_path / "a.enc", background=False, flush_seconds=None)
    columns = {"t": np.arange(10, dtype=np.int64), "x": np.zeros(10, np.int32), "y": np.zeros(10, np.int32)}
    w.write("pointer", columns)
    assert w.pending_bytes == 160 and w.raw_bytes_written == 0   # buffered, not written
    image = np.zeros((32, 48, 4), np.uint8)
    w.add_frame(0, image)   # 2 x 3 tiles, all the same: one new tile in the open page
    assert w.pending_bytes == 160 + 16 * 16 * 4
    w.flush()
    assert w.pending_bytes == 0 and w.raw_bytes_written >= 160 + 16 * 16 * 4
    w.close()
