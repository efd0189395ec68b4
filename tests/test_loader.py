"""encoder.loader without PyTorch: partitioning, order, resume, sample contents, errors, URLs."""
from __future__ import annotations

import functools
import http.server
import logging
import multiprocessing
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import encoder
from encoder.loader import SampleSpec, ShardDataset, ShardMapDataset, ShardUnavailableError, collate
from encoder.loader import _kernels, partition
from encoder.loader.prefetch import Prefetcher
from encoder.sample import generate_session, session_metadata, to_tables, write_sample

HAVE_FRAMES = hasattr(encoder.ShardWriter, "add_frame")
needs_frames = pytest.mark.skipif(not HAVE_FRAMES, reason="ShardWriter.add_frame (issue 3) is not in this tree")

FRAME_H, FRAME_W = 40, 56


def write_frames_shard(path, *, seconds=12, seed=7, frames=40, fps=10, height=FRAME_H, width=FRAME_W):
    """A session with events and synthetic frames: a few pixels change per frame."""
    session = generate_session(seconds, seed)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    t0 = int(session["pointer"]["t"].min())
    with encoder.ShardWriter(path, metadata=session_metadata(seconds, seed), background=False) as w:
        for name, table in to_tables(session).items():
            w.write(name, table)
        for k in range(frames):
            for _ in range(3):
                image[rng.integers(0, height), rng.integers(0, width)] = rng.integers(0, 256, 4)
            w.add_frame(t0 + k * (1_000_000 // fps), image)
    return path


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Three event-only shards of different lengths."""
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for i, seconds in enumerate((12, 8, 15)):
        path = str(folder / f"s{i}.enc")
        write_sample(path, seconds=seconds, seed=i + 1)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def frame_shard(tmp_path_factory):
    if not HAVE_FRAMES:
        pytest.skip("ShardWriter.add_frame (issue 3) is not in this tree")
    return write_frames_shard(str(tmp_path_factory.mktemp("frames") / "f.enc"))


def ident(sample) -> tuple:
    return sample["shard"], int(sample["t_us"])


def run_part(ds_kwargs, rank, world, worker, workers):
    ds = ShardDataset(rank=rank, world_size=world, worker=worker, num_workers=workers, **ds_kwargs)
    return [ident(s) for s in ds]


def same_sample(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


# -- partition --------------------------------------------------------------------------
@pytest.mark.parametrize("remainder", ["pad", "drop"])
def test_two_ranks_two_workers_cover_the_epoch(shards, remainder):
    kwargs = dict(sources=shards, seed=3, remainder=remainder, prefetch_bytes=0, streams=("pointer",))
    full = ShardDataset(rank=0, world_size=1, **kwargs)
    n = full.index.total
    assert n % 2 == 1  # the fixture's sample count is odd: pad and drop both have work to do
    parts = {(r, w): run_part(dict(index=full.index, **{k: v for k, v in kwargs.items() if k != "sources"}), r, 2, w, 2)
             for r in range(2) for w in range(2)}
    per_rank = [len(parts[(r, 0)]) + len(parts[(r, 1)]) for r in range(2)]
    assert per_rank[0] == per_rank[1]
    for w in range(2):  # worker w yields as many samples on every rank
        assert len(parts[(0, w)]) == len(parts[(1, w)])
    seen = [x for p in parts.values() for x in p]
    all_ids = {(full.index.sources[s], int(t)) for s in range(len(full.index.sources)) for t in full.index.times[s]}
    assert len(all_ids) == n
    if remainder == "drop":
        assert len(seen) == len(set(seen)) == n - n % 2
        assert set(seen) <= all_ids
    else:
        assert set(seen) == all_ids
        assert len(seen) == 2 * -(-n // 2)


def test_partition_is_by_sample_not_by_shard(shards):
    """One shard, 2 ranks x 2 workers: every worker reads a share of it."""
    base = ShardDataset(shards[1], prefetch_bytes=0, streams=(), seed=0, remainder="drop")
    n = base.index.total
    parts = [run_part(dict(index=base.index, streams=(), seed=0, remainder="drop", prefetch_bytes=0), r, 2, w, 2)
             for r in range(2) for w in range(2)]
    assert all(len(p) >= (n // 2) // 2 for p in parts)
    flat = [x for p in parts for x in p]
    assert len(flat) == len(set(flat)) == n - n % 2


def test_pad_with_more_parts_than_samples():
    order = np.arange(3)
    parts = [partition.plan(order, rank=r, world_size=4, worker=0, num_workers=2) for r in range(4)]
    assert [p.per_rank for p in parts] == [1] * 4
    assert sorted(np.concatenate([p.keys for p in parts]).tolist()) == [0, 0, 1, 2]
    assert partition.plan(order, rank=0, world_size=4, worker=0, num_workers=1, remainder="drop").keys.size == 0


def test_permutation_is_stable_and_a_permutation():
    p = partition.permutation(1000, seed=5, epoch=2)
    assert sorted(p.tolist()) == list(range(1000))
    # Pinned: the order must not change with NumPy's generators or between machines.
    assert partition.permutation(10, seed=0, epoch=0).tolist() == [0, 9, 1, 6, 3, 5, 4, 2, 8, 7]
    offsets = np.array([0, 5, 5, 12, 13])
    blocked = partition.epoch_order(offsets, seed=1, epoch=0, shuffle=True, shuffle_block=4)
    assert sorted(blocked.tolist()) == list(range(13))
    # Runs of 4 (shorter at a shard's end) stay together: [0..3], [4], [5..8], [9..11], [12].
    runs = {tuple(r) for r in np.split(blocked, np.flatnonzero(np.diff(blocked) != 1) + 1)}
    pieces = {(0, 1, 2, 3), (4,), (5, 6, 7, 8), (9, 10, 11), (12,)}
    assert all(any(set(r) <= set(p) or set(p) <= set(r) for p in pieces) for r in runs)


# -- order --------------------------------------------------------------------------------
def test_order_depends_on_seed_and_epoch_only(shards):
    def order(seed, epoch, **kw):
        ds = ShardDataset(shards, seed=seed, prefetch_bytes=0, streams=(), **kw)
        ds.set_epoch(epoch)
        return [ident(s) for s in ds]

    a = order(1, 0)
    assert a == order(1, 0)
    assert a != order(1, 1) and a != order(2, 0)
    assert sorted(a) == sorted(order(1, 1))
    plain = order(1, 0, shuffle=False)
    assert plain == sorted(plain, key=lambda x: (shards.index(x[0]), x[1]))
    # Shuffled across shards: the first samples do not all come from one shard.
    assert len({s for s, _ in a[:12]}) > 1


def test_set_epoch_changes_the_next_iteration(shards):
    ds = ShardDataset(shards, seed=1, prefetch_bytes=0, streams=())
    first = [ident(s) for s in ds]
    ds.set_epoch(1)
    second = [ident(s) for s in ds]
    ds.set_epoch(0)
    assert [ident(s) for s in ds] == first and second != first


# -- resume -------------------------------------------------------------------------------
@pytest.mark.parametrize("prefetch", [0, 1 << 20])
@pytest.mark.parametrize("k", [0, 1, 17, -1])
def test_resume_after_k_samples_yields_exactly_the_rest(shards, prefetch, k):
    kwargs = dict(seed=9, prefetch_bytes=prefetch, streams=("pointer", "key"))
    ds = ShardDataset(shards, **kwargs)
    ds.set_epoch(2)
    it = iter(ds)
    n = len(ds)
    k = n - 1 if k == -1 else k
    head = [next(it) for _ in range(k)]
    state = ds.state_dict()
    assert state["position"] == k and state["epoch"] == 2
    head += list(it)  # the first run goes on to the end
    fresh = ShardDataset(shards, **kwargs)
    fresh.load_state_dict(state)
    fresh.set_epoch(2)  # a training loop calls it again: the loaded state stays
    rest = list(fresh)
    assert [ident(s) for s in rest] == [ident(s) for s in head[k:]]
    for a, b in zip(rest, head[k:]):
        same_sample(a, b)
    assert [ident(s) for s in fresh] == [ident(s) for s in head]  # then whole epochs again


def test_resume_in_batches_and_per_worker(shards):
    kwargs = dict(seed=4, batch_size=5, prefetch_bytes=1 << 20, streams=("pointer",), rank=1, world_size=2,
                  worker=1, num_workers=2)
    ds = ShardDataset(shards, **kwargs)
    batches = list(ds)
    ds2 = ShardDataset(shards, **kwargs)
    it = iter(ds2)
    next(it), next(it)
    state = ds2.state_dict()
    assert state["position"] == 10 and (state["rank"], state["worker"]) == (1, 1)
    it.close()
    ds3 = ShardDataset(shards, **kwargs)
    ds3.load_state_dict(state)
    rest = list(ds3)
    assert len(rest) == len(batches) - 2
    for a, b in zip(rest, batches[2:]):
        assert a["shard"] == b["shard"] and np.array_equal(a["pointer.x"], b["pointer.x"])


def test_state_is_checked(shards):
    ds = ShardDataset(shards, seed=1, prefetch_bytes=0, streams=())
    it = iter(ds)
    next(it)
    state = ds.state_dict()
    with pytest.raises(encoder.EncoderError, match="other sources or options"):
        ShardDataset(shards, seed=2, prefetch_bytes=0, streams=()).load_state_dict(state)
    with pytest.raises(encoder.EncoderError, match="other sources or options"):
        ShardDataset(shards[:2], seed=1, prefetch_bytes=0, streams=()).load_state_dict(state)
    other = ShardDataset(shards, seed=1, prefetch_bytes=0, streams=(), rank=0, world_size=2)
    other.load_state_dict(state)
    with pytest.raises(encoder.EncoderError, match="same topology"):
        iter(other)
    other.load_state_dict(state)
    other.set_epoch(5)  # another epoch: the loaded state is dropped
    assert other.state_dict()["position"] == 0


def test_len_and_batches(shards):
    ds = ShardDataset(shards, prefetch_bytes=0, streams=(), rank=0, world_size=2, batch_size=4, num_workers=2,
                      worker=0)
    n = ds.index.total
    per_rank = -(-n // 2)
    lo, hi = partition.worker_range(per_rank, 2, 0)
    assert len(list(ds)) == -(-(hi - lo) // 4)
    total = sum(len(list(ShardDataset(index=ds.index, streams=(), prefetch_bytes=0, rank=0, world_size=2,
                                      batch_size=4, num_workers=2, worker=w))) for w in range(2))
    assert len(ds) == total


# -- sample contents ----------------------------------------------------------------------
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
    for key in rng.choice(len(ds), 25, replace=False).tolist() + [0, len(ds) - 1]:
        sample = ds[key]
        t = int(sample["t_us"])
        assert sample["sample_id"] == key
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


def test_projection(shards):
    ds = ShardMapDataset(shards[0], streams=("key", "focus"), columns={"key": ("code",), "focus": ("app", "x")},
                         max_rows={"key": 3, "focus": 2})
    sample = ds[5]
    assert sorted(sample) == ["focus.app", "focus.len", "focus.t", "focus.x", "key.code", "key.len", "key.t",
                              "sample_id", "shard", "t_us"]
    assert sample["key.code"].shape == (3,) and sample["focus.app"].dtype == object
    with pytest.raises(encoder.SchemaError, match="no column"):
        SampleSpec(streams=("key",), columns={"key": ("nope",)})


def test_map_batches_equal_single_samples(shards):
    ds = ShardMapDataset(shards, streams=("pointer", "scroll"))
    keys = [5, 0, len(ds) - 1, 5, 40]
    batch = ds.get_batch(keys)
    items = ds.__getitems__(keys)
    assert collate(items) is items.batch
    for b, key in enumerate(keys):
        same_sample(items[b], ds[key])
        assert batch["shard"][b] == ds[key]["shard"]
    stacked = collate([ds[k] for k in keys])
    for k, v in batch.items():
        assert (v == stacked[k]) if isinstance(v, list) else np.array_equal(v, stacked[k])


# -- frames -------------------------------------------------------------------------------
@needs_frames
def test_frames_in_samples(frame_shard):
    reader = encoder.ShardReader(frame_shard)
    ds = ShardMapDataset(frame_shard, frame_stack=3, stack_stride=2)
    assert len(ds) == reader.frame_count()
    times = reader.frame_times()
    for key in (0, 1, 5, len(ds) - 1):
        s = ds[key]
        assert s["t_us"] == times[key]
        want = [max(0, key - 4), max(0, key - 2), key]
        assert s["frame_index"].tolist() == want
        assert s["frame_t"].tolist() == [int(times[i] - times[key]) for i in want]
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
    ref = _kernels.reference_resize_box if method == "box" else _kernels.reference_resize_nearest
    for key in (0, 7):
        got = ds[key]["frames"][0]
        assert np.array_equal(got, ref(reader.frame(key), crop, (13, 17)))
    cropped = ShardMapDataset(frame_shard, crop=crop, streams=())[4]["frames"][0]
    assert np.array_equal(cropped, reader.frame(4)[3:33, 5:46])
    with pytest.raises(encoder.EncoderError, match="does not fit"):
        ShardMapDataset(frame_shard, crop=(0, 0, FRAME_H + 1, 4), streams=())[0]


@pytest.mark.parametrize("shape", [(37, 53, 4), (16, 16, 3), (9, 31, 1)])
@pytest.mark.parametrize("size", [(5, 7), (16, 16), (40, 70)])
def test_kernels_equal_their_reference(shape, size):
    rng = np.random.default_rng(sum(shape) + sum(size))
    src = rng.integers(0, 256, shape, dtype=np.uint8)
    box = (1, 2, shape[0] - 1, shape[1] - 3)
    for kernel, ref in ((_kernels.resize_box, _kernels.reference_resize_box),
                        (_kernels.resize_nearest, _kernels.reference_resize_nearest)):
        dst = np.zeros(size + shape[2:], np.uint8)
        if kernel is _kernels.resize_box:
            y_lo, y_hi = _kernels.source_ranges(box[0], box[2], size[0])
            x_lo, x_hi = _kernels.source_ranges(box[1], box[3], size[1])
            kernel(src, y_lo, y_hi, x_lo, x_hi, np.empty((shape[1], shape[2]), np.uint32), dst)
        else:
            kernel(src, _kernels.nearest_map(box[0], box[2], size[0]), _kernels.nearest_map(box[1], box[3], size[1]),
                   dst)
        assert np.array_equal(dst, ref(src, box, size)), kernel
    exact = np.zeros((shape[0] // 2, shape[1] // 2, shape[2]), np.uint8)
    y_lo, y_hi = _kernels.source_ranges(0, exact.shape[0] * 2, exact.shape[0])
    x_lo, x_hi = _kernels.source_ranges(0, exact.shape[1] * 2, exact.shape[1])
    _kernels.resize_box(src, y_lo, y_hi, x_lo, x_hi, np.empty((shape[1], shape[2]), np.uint32), exact)
    quads = src[:exact.shape[0] * 2, :exact.shape[1] * 2].astype(np.int64)
    mean = quads.reshape(exact.shape[0], 2, exact.shape[1], 2, -1).sum(axis=(1, 3))
    assert np.array_equal(exact, (mean + 2) // 4)


@needs_frames
def test_frame_and_event_shards_do_not_mix_in_a_batch(frame_shard, shards):
    ds = ShardMapDataset([frame_shard, shards[0]], streams=("key",))
    n_frames = ds.index.counts()[0]
    with pytest.raises(encoder.EncoderError, match="frames"):
        ds.get_batch([0, n_frames])
    assert "frames" not in ds[n_frames] and "frames" in ds[0]
    plain = ShardMapDataset([frame_shard, shards[0]], streams=("key",), frames=False)
    assert "frames" not in plain.get_batch([0, int(n_frames)])


# -- errors -------------------------------------------------------------------------------
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


# -- processes, memory, sources ------------------------------------------------------------
def _child_epoch(ds, queue):
    queue.put([ident(s) for s in ds])


def test_fork_after_use_reads_in_the_child(shards):
    ds = ShardDataset(shards, seed=6, prefetch_bytes=1 << 20, streams=("pointer", "key"))
    expected = [ident(s) for s in ds]  # the parent has readers open now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_epoch, args=(ds, queue))
    child.start()
    got = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and got == expected
    assert [ident(s) for s in ds] == expected  # and the parent still reads


def test_prefetch_stays_within_its_budget():
    item = {"a": np.zeros(1000, np.uint8)}
    source = ((i, dict(item)) for i in range(50))
    pf = Prefetcher(source, budget=3500)
    got = []
    for position, _ in pf:
        got.append(position)
        threading.Event().wait(0.001)
    pf.close()
    assert got == list(range(50)) and pf.peak <= 3500

    def failing():
        yield 1, dict(item)
        raise encoder.CorruptShardError("boom", shard="x.enc")

    pf = Prefetcher(failing(), budget=1 << 20)
    assert next(pf)[0] == 1
    with pytest.raises(encoder.CorruptShardError, match="x.enc"):
        next(pf)
    pf.close()


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that honours single ``Range: bytes=a-b`` requests."""

    def log_message(self, *args):
        pass

    def send_head(self):
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not spec or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        lo, _, hi = spec.removeprefix("bytes=").partition("-")
        lo, hi = int(lo), min(int(hi) if hi else size - 1, size - 1)
        f = open(path, "rb")
        f.seek(lo)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {lo}-{hi}/{size}")
        self.send_header("Content-Length", str(hi - lo + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return _Slice(f, hi - lo + 1)


class _Slice:
    def __init__(self, f, n):
        self.f, self.n = f, n

    def read(self, size=-1):
        size = self.n if size < 0 else min(size, self.n)
        data = self.f.read(size)
        self.n -= len(data)
        return data

    def close(self):
        self.f.close()


@pytest.fixture
def http_folder(shards):
    pytest.importorskip("fsspec")
    pytest.importorskip("aiohttp")
    folder = os.path.dirname(shards[0])
    handler = functools.partial(_RangeHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fsspec_urls_over_http(shards, http_folder):
    urls = [f"{http_folder}/{os.path.basename(p)}" for p in shards]
    remote = ShardDataset(urls, seed=5, prefetch_bytes=0, streams=("pointer", "key"))
    local = ShardDataset(shards, seed=5, prefetch_bytes=0, streams=("pointer", "key"))
    assert remote.index.counts().tolist() == local.index.counts().tolist()
    for a, b in zip(remote, local):
        assert a["shard"] == urls[shards.index(b["shard"])]
        a = dict(a, shard=b["shard"])
        same_sample(a, b)
    with pytest.raises(ShardUnavailableError, match="nope.enc"):
        ShardDataset([urls[0], f"{http_folder}/nope.enc"])
    skipping = ShardDataset([urls[0], f"{http_folder}/nope.enc"], on_error="skip")
    assert skipping.stats["shards_skipped"] == 1


def test_expand_globs_and_folders(shards, tmp_path):
    folder = os.path.dirname(shards[0])
    from encoder.loader import expand
    assert expand(os.path.join(folder, "s*.enc")) == sorted(shards)
    assert expand(folder) == sorted(p for p in expand(os.path.join(folder, "*.enc")))
    assert expand([shards[1], shards[0], shards[1]]) == [shards[1], shards[0]]


def test_import_without_torch(shards):
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")
        sys.meta_path.insert(0, Block())
        import encoder, encoder.loader
        from encoder.loader import ShardDataset, HAVE_TORCH
        assert not HAVE_TORCH and "torch" not in sys.modules
        ds = ShardDataset({shards!r}, streams=("key",))
        assert ShardDataset.__mro__[-2].__module__ == "encoder.loader.torch_compat"
        print(sum(1 for _ in ds) == len(ds))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


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
