"""Ray Data: frames, shards written back, actions derived across shards, convert on Ray."""
from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

from encoder import ShardReader
from encoder.actions import derive

from loader.common import write_frames_shard


def collect(ds) -> pa.Table:
    return pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow", batch_size=None)))


def test_read_frames_yields_every_frame_with_its_time(local_ray, tmp_path):
    from encoder.ray import read_frames
    paths = [write_frames_shard(str(tmp_path / "a.enc"), frames=20), write_frames_shard(str(tmp_path / "b.enc"),
                                                                                       frames=7, seed=3)]
    rows = list(read_frames(paths, frames_per_task=6).iter_rows())
    assert [(r["shard"], r["index"]) for r in rows] == [(p, i) for p, n in zip(paths, (20, 7)) for i in range(n)]
    for p in paths:
        with ShardReader(p) as r:
            times = r.frame_times(0)
            for row in (x for x in rows if x["shard"] == p):
                assert row["t"] == times[row["index"]]
                np.testing.assert_array_equal(row["frame"], r.frame(row["index"]))
    t = int(ShardReader(paths[0]).frame_times(0)[5])
    assert [r["index"] for r in read_frames(paths[:1], start_us=t, end_us=t + 1).iter_rows()] == [5]


def test_write_shards_round_trips_a_dataset(local_ray, event_shards, tmp_path):
    from encoder.ray import read_shards, write_shards
    ds = read_shards(event_shards, "pointer", rows_per_task=250)
    written = write_shards(ds, tmp_path / "out", "pointer")
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == [os.path.basename(w["path"]) for w in written] and all(n.startswith("part-") for n in names)
    back = pa.concat_tables([ShardReader(w["path"]).read("pointer") for w in written])
    original = pa.concat_tables([ShardReader(p).read("pointer") for p in event_shards])
    assert back.equals(original) and sum(w["rows"] for w in written) == original.num_rows
    with pytest.raises(Exception, match="already holds"):
        write_shards(ds, tmp_path / "out", "pointer")


def test_derive_actions_equals_derive_per_shard(local_ray, event_shards):
    from encoder.ray import derive_actions
    got = collect(derive_actions(event_shards))
    expected = [derive(p) for p in event_shards]
    assert got.num_rows == sum(t.num_rows for t in expected) > 0
    for p, table in zip(event_shards, expected):
        mine = got.filter(pa.compute.equal(got.column("shard"), p)).drop_columns(["shard"])
        assert mine.equals(table)


def test_convert_on_ray_equals_one_process(local_ray, event_shards, tmp_path):
    from encoder.ray import convert
    one = convert(event_shards, tmp_path / "one")
    many = convert(event_shards, tmp_path / "ray", use_ray=True)
    assert [os.path.basename(r["shard"]) for r in many] == [os.path.basename(p) for p in event_shards]
    for a, b, src in zip(one, many, event_shards):
        with ShardReader(a["shard"]) as x, ShardReader(b["shard"]) as y, ShardReader(src) as z:
            assert x.metadata == y.metadata
            for s in z.streams:
                assert x.read(s).equals(y.read(s)) and x.read(s).equals(z.read(s))
