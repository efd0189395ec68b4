"""Ray Data over shards: the same rows as the shards read directly, split by block."""
from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

from encoder import ShardReader
from encoder.loader.manifest import build_manifest
from encoder.ray import plan_reads


def collect(ds) -> pa.Table:
    return pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow", batch_size=None)))


def direct(paths, stream, columns=None, start_us=None, end_us=None) -> pa.Table:
    tables = []
    for p in paths:
        with ShardReader(p) as r:
            t = r.read(stream, columns, start_us=start_us, end_us=end_us)
        tables.append(t.append_column("shard", pa.array([p] * t.num_rows, pa.string())))
    return pa.concat_tables(tables)


def test_plan_splits_large_shards_by_block(event_shards, tmp_path):
    plans = plan_reads(event_shards, "pointer", parallelism=6)
    assert len({p.shard for p in plans}) == 3 and len(plans) >= 6
    for shard in event_shards:
        mine = [p for p in plans if p.shard == shard]
        with ShardReader(shard) as r:
            assert [i for p in mine for i in p.blocks] == list(range(len(r.block_rows("pointer"))))
            assert sum(p.rows for p in mine) == r.num_rows("pointer")
    manifest = build_manifest(os.path.dirname(event_shards[0]), tmp_path / "m.parquet")
    assert plan_reads(event_shards, "pointer", rows_per_task=1) == \
        plan_reads(event_shards, "pointer", rows_per_task=1, manifest=manifest)


def test_read_shards_equals_the_shards_read_directly(local_ray, event_shards):
    from encoder.ray import read_shards
    ds = read_shards(event_shards, "pointer", parallelism=8)
    got = collect(ds)
    assert got.equals(direct(event_shards, "pointer"))
    assert ds.count() == sum(ShardReader(p).num_rows("pointer") for p in event_shards)
    assert ds.sum("x") == int(np.sum(direct(event_shards, "pointer").column("x").to_numpy(), dtype=np.int64))


def test_columns_and_time_range(local_ray, event_shards):
    from encoder.ray import read_shards
    with ShardReader(event_shards[2]) as r:
        lo, hi = r.time_range("key")
    start, end = lo + (hi - lo) // 3, lo + 2 * (hi - lo) // 3
    got = collect(read_shards(event_shards, "key", columns=["t", "code"], start_us=start, end_us=end,
                              rows_per_task=100))
    assert got.equals(direct(event_shards, "key", ["t", "code"], start, end))
    assert got.num_rows > 0
    none = collect(read_shards(event_shards, "pointer", columns=["x"], shard_column=None))
    assert none.column_names == ["x"] and none.num_rows == direct(event_shards, "pointer").num_rows


def test_read_shards_plans_from_the_manifest(local_ray, event_shards, tmp_path, monkeypatch):
    import shutil
    from encoder.ray import datasource, read_shards
    for p in event_shards:
        shutil.copy(p, tmp_path)
    build_manifest(tmp_path)
    names = sorted(str(p) for p in tmp_path.glob("*.enc"))
    monkeypatch.setattr(datasource, "open_shard", lambda *a: pytest.fail("the driver opened a shard"))
    ds = read_shards(str(tmp_path), "scroll")  # planned on the driver without opening a shard
    monkeypatch.undo()
    assert collect(ds).equals(direct(names, "scroll"))
