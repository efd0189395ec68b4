"""encoder.loader.samples: event windows, projection, frames, crop and resize, read errors, buffers."""
from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

import encoder
from encoder import backends
from encoder.loader import SampleBuilder, SampleSpec, ShardDataset, ShardMapDataset
from encoder.loader import reference
from encoder.loader.shard_files import ReaderPool
from loader.common import FRAME_H, FRAME_W, ident, needs_frames


# -- events -------------------------------------------------------------------------------
def expected_window(reader, stream, columns, t, spec):
    table = reader.read(stream, list(columns), start_us=t - spec.before_us, end_us=t + spec.after_us)
    cols = {c: table.column(c).to_numpy() for c in columns}
    order = np.argsort(cols["t"], kind="stable")
    cols = {c: v[order] for c, v in cols.items()}
    n, cap = len(cols["t"]), spec.max_rows[stream]
    if n > cap:
        m = int(np.searchsorted(cols["t"], t))
        share = round(cap * spec.before_us / (spec.before_us + spec.after_us))
        before = min(m, max(share, cap - (n - m)))
        cols = {c: v[m - before:m - before + cap] for c, v in cols.items()}
    return cols


@pytest.mark.parametrize("max_rows", [None, 7])
def test_event_windows_equal_the_reader(shards, max_rows):
    options = {} if max_rows is None else {"max_rows": max_rows}
    ds = ShardMapDataset(shards, **options)
    spec = ds.spec
    readers = {p: encoder.ShardReader(p) for p in shards}
    rng = np.random.default_rng(0)
    truncated = 0
    for sample_id in rng.choice(len(ds), 25, replace=False).tolist() + [0, len(ds) - 1]:
        sample = ds[sample_id]
        t = int(sample["t_us"])
        assert sample["sample_id"] == sample_id
        for stream in spec.streams:
            want = expected_window(readers[sample["shard"]], stream, spec.columns[stream], t, spec)
            n = int(sample[f"{stream}.len"])
            assert n == len(want["t"]), stream
            truncated += n == spec.max_rows[stream]
            for c in spec.columns[stream]:
                got = sample[f"{stream}.{c}"]
                assert got.shape == (spec.max_rows[stream],)
                expect = want[c] - t if c == "t" else want[c]
                assert np.array_equal(got[:n], expect), (stream, c)
                assert not got[n:].any()
    if max_rows:
        assert truncated  # the truncation rule was exercised


def test_projection(shards):
    ds = ShardMapDataset(shards[0], streams=("key", "focus"), columns={"key": ("code",), "focus": ("app", "x")},
                         max_rows={"key": 3, "focus": 2})
    sample = ds[5]
    assert sorted(sample) == ["focus.app", "focus.len", "focus.t", "focus.x", "key.code", "key.len", "key.t",
                              "sample_id", "shard", "t_us"]
    assert sample["key.code"].shape == (3,) and sample["focus.app"].dtype == object
    with pytest.raises(encoder.SchemaError, match="no column"):
        SampleSpec(streams=("key",), columns={"key": ("nope",)})


def test_builder_takes_sample_ids_and_the_process_backend(shards):
    ds = ShardMapDataset(shards[0], streams=("key",))
    builder = SampleBuilder(ds.index, ds.spec, ReaderPool())
    assert builder.kernels.name == backends.NAME  # ENCODER_BACKEND=reference runs the loader on the reference
    assert int(builder.sample(3)["sample_id"]) == 3
    assert builder.build([4, 1])["sample_id"].tolist() == [4, 1]
    with pytest.warns(DeprecationWarning, match="sample_id="):
        assert int(builder.sample(key=3)["t_us"]) == int(ds[3]["t_us"])
    with pytest.warns(DeprecationWarning, match="sample_ids="):
        assert builder.build(keys=[4, 1])["sample_id"].tolist() == [4, 1]
    builder.pool.close()


# -- frames -------------------------------------------------------------------------------
@needs_frames
def test_frames_in_samples(frame_shard):
    reader = encoder.ShardReader(frame_shard)
    ds = ShardMapDataset(frame_shard, frame_stack=3, stack_stride=2)
    assert len(ds) == reader.frame_count()
    times = reader.frame_times()
    for sample_id in (0, 1, 5, len(ds) - 1):
        s = ds[sample_id]
        assert s["t_us"] == times[sample_id]
        want = [max(0, sample_id - 4), max(0, sample_id - 2), sample_id]
        assert s["frame_index"].tolist() == want
        assert s["frame_t"].tolist() == [int(times[i] - times[sample_id]) for i in want]
        for k, i in enumerate(want):
            assert np.array_equal(s["frames"][k], reader.frame(i))
    batch = ds.get_batch([3, 9, 3])
    assert batch["frames"].shape == (3, 3, FRAME_H, FRAME_W, 4)
    assert np.array_equal(batch["frames"][2], batch["frames"][0])


@needs_frames
@pytest.mark.parametrize("method", ["box", "nearest"])
def test_crop_and_resize_match_the_reference(frame_shard, method):
    reader = encoder.ShardReader(frame_shard)
    crop = (3, 5, 30, 41)
    ds = ShardMapDataset(frame_shard, crop=crop, resize=(13, 17), resize_method=method, streams=())
    ref = reference.crop_resize_box if method == "box" else reference.crop_resize_nearest
    for sample_id in (0, 7):
        got = ds[sample_id]["frames"][0]
        assert np.array_equal(got, ref(reader.frame(sample_id), crop, (13, 17)))
    cropped = ShardMapDataset(frame_shard, crop=crop, streams=())[4]["frames"][0]
    assert np.array_equal(cropped, reader.frame(4)[3:33, 5:46])
    with pytest.raises(encoder.EncoderError, match="does not fit"):
        ShardMapDataset(frame_shard, crop=(0, 0, FRAME_H + 1, 4), streams=())[0]


@needs_frames
def test_frame_and_event_shards_do_not_mix_in_a_batch(frame_shard, shards):
    ds = ShardMapDataset([frame_shard, shards[0]], streams=("key",))
    n_frames = ds.index.counts()[0]
    with pytest.raises(encoder.EncoderError, match="frames"):
        ds.get_batch([0, n_frames])
    assert "frames" not in ds[n_frames] and "frames" in ds[0]
    plain = ShardMapDataset([frame_shard, shards[0]], streams=("key",), frames=False)
    assert "frames" not in plain.get_batch([0, int(n_frames)])


@needs_frames
def test_batch_buffers_are_reused_only_when_released(frame_shard):
    ds = ShardMapDataset(frame_shard, streams=())
    kept = ds.get_batch([0, 1])
    copy = kept["frames"].copy()
    other = ds.get_batch([5, 6])
    assert not np.shares_memory(kept["frames"], other["frames"])
    assert np.array_equal(kept["frames"], copy)  # a batch the caller keeps is never overwritten
    address = other["frames"].__array_interface__["data"][0]
    del other
    again = ds.get_batch([7, 8])
    assert again["frames"].__array_interface__["data"][0] == address  # a dropped one is used again
    assert np.array_equal(again["frames"][1, 0], encoder.ShardReader(frame_shard).frame(8))
    view = again["frames"][0]
    del again
    assert not np.shares_memory(ds.get_batch([2, 3])["frames"], view)  # a view keeps it alive


# -- read errors --------------------------------------------------------------------------
def corrupt_copy(src, dst, *, stream="pointer", column="x"):
    """Flip a byte inside the first chunk of ``column`` of ``stream`` (its checksum fails)."""
    shutil.copy(src, dst)
    reader = encoder.ShardReader(dst)
    block = reader._blocks[stream][0]
    index = [c.name for c in reader._schemas[stream].columns].index(column)
    at = block["offset"] + block["columns"][index][1][0][0] + 4
    reader.close()
    with open(dst, "r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))
    return dst


def test_corrupt_block_at_read_time(shards, tmp_path, caplog):
    bad = corrupt_copy(shards[0], str(tmp_path / "bad.enc"))
    kwargs = dict(seed=2, prefetch_bytes=1 << 20, streams=("pointer",))
    ds = ShardDataset([bad, shards[1]], **kwargs)  # the index reads only t: it builds
    with pytest.raises(encoder.CorruptShardError) as info:
        list(ds)
    assert info.value.shard == bad and "bad.enc" in str(info.value)
    skipping = ShardDataset([bad, shards[1]], on_error="skip", **kwargs)
    with caplog.at_level(logging.WARNING, logger="encoder.loader"):
        got = list(skipping)
    assert len(got) == len(skipping)  # replaced, so the count stays
    assert skipping.stats["samples_replaced"] > 0 and all(s == shards[1] for s, _ in map(ident, got))
    assert "bad.enc" in caplog.text
    state_after = ShardDataset([bad, shards[1]], on_error="skip", **kwargs)
    it = iter(state_after)
    head = [ident(next(it)) for _ in range(7)]
    state = state_after.state_dict()
    resumed = ShardDataset([bad, shards[1]], on_error="skip", **kwargs)
    resumed.load_state_dict(state)
    assert head + [ident(s) for s in resumed] == [ident(s) for s in got]


def test_a_lost_tile_page_costs_only_the_frames_that_use_it(tmp_path):
    """A repaired shard that lost a tile page: the index builds, the samples of frames that need
    the lost tiles are replaced and counted, every other sample is read; the shard is kept."""
    from encoder.shard.repair import repair
    path = tmp_path / "frames.enc"
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (64, 96, 4), np.uint8)
    with encoder.ShardWriter(path) as w:
        w.configure_frames(page_bytes=16 * 16 * 4 * 6, block_frames=8)
        for k in range(40):
            image[rng.integers(0, 64), :] = rng.integers(0, 255, 4)  # a changed row each frame
            w.add_frame(k * 100_000, image)
    with encoder.ShardReader(path) as r:
        pages = [b for b in r.blocks if b.stream == "tile"]
    data = bytearray(path.read_bytes())
    data[pages[len(pages) // 2].offset + 2000] ^= 0xFF
    path.write_bytes(bytes(data))
    repair(path)
    with encoder.ShardReader(path) as r:
        lost = set(r.lost_frames().tolist())
    assert 0 < len(lost) < 40
    ds = ShardDataset([str(path)], on_error="skip", seed=0, prefetch_bytes=0, streams=())
    got = list(ds)
    assert len(got) == 40 and ds.stats["shards_skipped"] == 0
    # every lost frame failed (and was counted, once per attempt), no other did, none was yielded
    assert {sample_id for _, sample_id, _ in ds.stats["failures"]} == lost
    assert ds.stats["samples_replaced"] >= len(lost)
    assert not lost & {int(i) for sample in got for i in np.ravel(sample["frame_index"])}
