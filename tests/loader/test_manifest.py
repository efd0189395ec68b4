"""The dataset manifest: the same index as opening every shard, stale entries named, rebuilt on request."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest

from encoder import ShardReader
from encoder.errors import EncoderError
from encoder.loader import ShardDataset, ShardMapDataset
from encoder.loader.manifest import MANIFEST_NAME, Manifest, build_manifest, checksum

from loader.common import ident, same_sample, write_frames_shard, write_sessions


@pytest.fixture
def folder(tmp_path, shards, frame_shard):
    """Event-only shards and a frame shard in one folder, with its manifest."""
    for path in [*shards, frame_shard]:
        shutil.copy(path, tmp_path / os.path.basename(path))
    build_manifest(tmp_path)
    return tmp_path


def test_manifest_describes_every_shard(folder):
    table = pq.read_table(folder / MANIFEST_NAME)
    assert table.column("path").to_pylist() == ["f.enc", "s0.enc", "s1.enc", "s2.enc"]
    for row in table.to_pylist():
        path = folder / row["path"]
        with ShardReader(str(path)) as reader:
            assert dict(row["rows"]) == {s: reader.num_rows(s) for s in reader.streams}
            assert row["size"] == os.path.getsize(path) and row["checksum"] == checksum(str(path))
            assert row["format_version"] == ".".join(map(str, reader.version))
            ranges = [reader.time_range(s) for s in reader.streams if reader.time_range(s)]
            assert (row["t_min"], row["t_max"]) == (min(r[0] for r in ranges), max(r[1] for r in ranges))
            if row["path"] == "f.enc":
                assert dict(row["frames"]) == {0: reader.frame_count(0)} and row["samples"] == 40
            else:
                assert row["frames"] == [] and row["sample_frame"] is None and row["samples"] > 0
    small = folder / "s0.enc"  # under 128 KiB: both ends are the whole file
    assert os.path.getsize(small) < 2 * 65536 and checksum(str(small), "full") == checksum(str(small))


@pytest.mark.parametrize("kind", [ShardDataset, ShardMapDataset])
def test_dataset_from_the_manifest_equals_the_one_that_opens_every_shard(folder, kind, monkeypatch):
    opened = ShardDataset(str(folder), manifest=False, frames=False, seed=3)
    from encoder.loader import index as index_module
    real, names = index_module.open_shard, []
    monkeypatch.setattr(index_module, "open_shard", lambda name, *a: names.append(name) or real(name, *a))
    fast = kind(str(folder), frames=False, **({"seed": 3} if kind is ShardDataset else {}))  # auto-detected
    # the manifest holds the default (frame) anchors: only the shard with frames is opened for event anchors
    assert [os.path.basename(n) for n in names] == ["f.enc"]
    assert fast.index.shards == opened.index.shards and fast.index.digest() == opened.index.digest()
    for a, b in zip(fast.index.times, opened.index.times):
        np.testing.assert_array_equal(a, b)
    if kind is ShardDataset:
        for a, b in zip(fast, opened):
            assert ident(a) == ident(b)
            same_sample(a, b)


def test_frame_anchors_come_from_the_manifest(folder):
    names = [str(folder / "f.enc")]
    fast = ShardDataset(names, manifest=folder / MANIFEST_NAME, shuffle=False)
    slow = ShardDataset(names, manifest=False, shuffle=False)
    np.testing.assert_array_equal(fast.index.frames[0], slow.index.frames[0])
    assert fast.index.digest() == slow.index.digest()


def test_other_anchor_options_open_the_shards(folder):
    ds = ShardDataset(str(folder), frames=False, anchor_gap_us=500_000)
    assert ds.index.digest() == ShardDataset(str(folder), frames=False, anchor_gap_us=500_000,
                                             manifest=False).index.digest()


def test_stale_entries_are_named(folder, tmp_path_factory):
    # a shard rewritten with another size
    write_sessions(tmp_path_factory.mktemp("other"), (3,), first_seed=9, prefix="x")
    other = tmp_path_factory.getbasetemp()
    replacement = next(other.rglob("x0.enc"))
    shutil.copy(replacement, folder / "s1.enc")
    with pytest.raises(EncoderError, match="s1.enc.*stale manifest entry: size changed") as info:
        ShardDataset(str(folder), frames=False)
    assert str(info.value.shard).endswith("s1.enc")
    build_manifest(folder)
    # same size and mtime, other bytes: the checksum tells
    path = folder / "s2.enc"
    st = os.stat(path)
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(EncoderError, match="s2.enc.*checksum changed"):
        ShardDataset(str(folder), frames=False)
    shutil.copy(replacement, path)
    build_manifest(folder)
    # a new shard, then a missing one
    shutil.copy(replacement, folder / "s9.enc")
    with pytest.raises(EncoderError, match="s9.enc.*not in the manifest"):
        ShardDataset(str(folder), frames=False)
    build_manifest(folder)
    os.unlink(folder / "s9.enc")
    with pytest.raises(EncoderError, match="s9.enc.*missing"):
        ShardDataset(str(folder), frames=False)


def test_rebuild_indexes_the_stale_shards_and_rewrites_the_manifest(folder, tmp_path_factory):
    extra = write_frames_shard(str(tmp_path_factory.mktemp("extra") / "g.enc"), frames=12)
    shutil.copy(extra, folder / "g.enc")
    os.unlink(folder / "s0.enc")
    ds = ShardDataset(str(folder), on_stale="rebuild", shuffle=False, frames=False)
    assert [os.path.basename(s) for s in ds.index.shards] == ["f.enc", "g.enc", "s1.enc", "s2.enc"]
    assert pq.read_table(folder / MANIFEST_NAME).column("path").to_pylist() == ["f.enc", "g.enc", "s1.enc", "s2.enc"]
    assert ShardDataset(str(folder), frames=False).index.digest() == \
        ShardDataset(str(folder), frames=False, manifest=False).index.digest()


def test_reuse_keeps_fresh_entries_and_a_bad_file_is_refused(folder):
    old = Manifest.read(folder / MANIFEST_NAME)
    again = Manifest.build(folder, reuse=old)
    assert again.entries == old.entries
    (folder / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(EncoderError, match="cannot read the manifest"):
        ShardDataset(str(folder), manifest=folder / "bad.parquet")
    with pytest.raises(ValueError, match="on_stale"):
        ShardDataset(str(folder), on_stale="ignore", frames=False)
