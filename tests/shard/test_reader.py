"""ShardReader: time ranges read only the overlapping blocks; paths, bytes and file objects."""
import io

import numpy as np
import pyarrow as pa
import pytest

import encoder

EVENT_STREAMS = ["pointer", "button", "scroll", "key", "focus", "command", "marker"]


def session(n=5000, seed=0):
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
