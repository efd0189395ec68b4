"""ShardReader: time ranges read only the overlapping blocks; paths, bytes and file objects."""
import io

import numpy as np
import pytest

import encoder
from common import event_session as session

EVENT_STREAMS = ["pointer", "button", "scroll", "key", "focus", "command", "marker"]


def test_time_range_reads_only_overlapping_blocks(tmp_path):
    src = session(20_000)
    data = encoder.encode({"pointer": src["pointer"]}, block_rows=2000)
    r = encoder.ShardReader(data)
    t = src["pointer"]["t"]
    lo, hi = int(np.quantile(t, 0.3)), int(np.quantile(t, 0.6))
    got = r.read("pointer", ["x", "t"], start_us=lo, end_us=hi)
    keep = (t >= lo) & (t < hi)
    assert got.column_names == ["x", "t"]
    assert np.array_equal(got.column("t").to_numpy(), t[keep])
    assert np.array_equal(got.column("x").to_numpy(), src["pointer"]["x"][keep])
    # blocks entirely outside the range are never touched: corrupt them and read again
    broken = bytearray(data)
    outside = [b for b in r.blocks if b.t_max < lo]
    assert outside
    for b in outside:  # zero the first chunk (the t column) of each
        local, head = encoder.shard.format.unpack_block_header(data, b.offset, "x")
        start = b.offset + local["columns"][0][1][0][0]
        broken[start:start + 8] = bytes(8)
    assert encoder.ShardReader(bytes(broken)).read("pointer", start_us=lo, end_us=hi).num_rows == keep.sum()
    with pytest.raises(encoder.CorruptShardError):
        encoder.ShardReader(bytes(broken)).read("pointer")


def test_sources_bytes_file_object_and_path(tmp_path):
    data = encoder.encode(session(100))
    path = tmp_path / "x.enc"
    path.write_bytes(data)
    with open(path, "rb") as f:
        for source in (data, bytearray(data), memoryview(data), io.BytesIO(data), f, str(path), path):
            assert encoder.ShardReader(source).read("pointer").num_rows == 100
