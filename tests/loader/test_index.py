"""encoder.loader.index: the anchors of each shard, and shards that fail when the index is built."""
from __future__ import annotations

import logging
import pathlib

import numpy as np
import pytest

import encoder
from encoder.loader import ShardDataset, ShardIndex, ShardMapDataset, ShardUnavailableError
from loader.common import ident


def test_event_anchors(shards):
    reader = encoder.ShardReader(shards[0])
    t = np.unique(np.concatenate([reader.read(s, ["t"]).column("t").to_numpy()
                                  for s in ("pointer", "button", "scroll", "key")]))
    every = ShardMapDataset(shards[0], anchor_gap_us=0, streams=())
    assert np.array_equal(every.index.times[0], t)
    gapped = ShardMapDataset(shards[0], anchor_gap_us=250_000, streams=())
    times = gapped.index.times[0]
    assert (np.diff(times) > 0).all() and len(np.unique((times - t[0]) // 250_000)) == len(times)
    assert set(times.tolist()) <= set(t.tolist())


def test_broken_shard_raises_naming_it(shards, tmp_path):
    truncated = tmp_path / "truncated.enc"
    truncated.write_bytes(pathlib.Path(shards[0]).read_bytes()[:-100])
    with pytest.raises(encoder.CorruptShardError) as info:
        ShardDataset([shards[1], str(truncated)])
    assert "truncated.enc" in str(info.value) and info.value.shard == str(truncated)
    missing = str(tmp_path / "missing.enc")
    with pytest.raises(ShardUnavailableError, match="missing.enc") as info:
        ShardDataset([shards[1], missing])
    assert isinstance(info.value, OSError) and info.value.shard == missing
    with pytest.raises(ShardUnavailableError, match="matches no shard"):
        ShardDataset(str(tmp_path / "nothing-*.enc"))


def test_skip_at_index_time_counts_and_logs(shards, tmp_path, caplog):
    truncated = tmp_path / "truncated.enc"
    truncated.write_bytes(pathlib.Path(shards[0]).read_bytes()[:-100])
    missing = str(tmp_path / "missing.enc")
    with caplog.at_level(logging.WARNING, logger="encoder.loader"):
        ds = ShardDataset([shards[1], str(truncated), missing, shards[2]], on_error="skip", prefetch_bytes=0)
    assert ds.stats["shards_skipped"] == 2 and ds.stats["shards"] == 2
    assert [name for name, _ in ds.stats["skipped"]] == [str(truncated), missing]
    assert "truncated.enc" in caplog.text and "missing.enc" in caplog.text
    assert {s for s, _ in map(ident, ds)} == {shards[1], shards[2]}


def test_sample_ids_locate_their_shard(shards):
    index = ShardMapDataset(shards, streams=()).index
    assert index.shards == shards and index.offsets[0] == 0 and index.offsets[-1] == index.total
    ends = [c - 1 for c in index.counts().tolist()]  # the last sample of each shard
    last = [int(o) - 1 for o in index.offsets[1:]]
    shard, local = index.locate(last)
    assert shard.tolist() == [0, 1, 2] and local.tolist() == ends
    assert [index.shard_of(i) for i in last] == list(zip(range(3), ends))
    assert index.shard_of(0) == (0, 0)
    with pytest.raises(IndexError, match="outside"):
        index.locate([index.total])


def test_old_names_of_the_index_warn(shards):
    index = ShardMapDataset(shards, streams=()).index
    with pytest.warns(DeprecationWarning, match="shards"):
        assert index.sources is index.shards
    with pytest.warns(DeprecationWarning, match="sample_id="):
        assert index.shard_of(key=0) == (0, 0)
    with pytest.warns(DeprecationWarning, match="sample_ids="):
        assert index.locate(keys=[0])[0].tolist() == [0]
    with pytest.warns(DeprecationWarning, match="shards="):
        old = ShardIndex(sources=index.shards, times=index.times, frames=index.frames, options=index.options)
    assert old.digest() == index.digest()
