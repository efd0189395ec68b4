"""encoder.loader.dataset: epochs, resume, state checks, lengths, random access, fork."""
from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

import encoder
from encoder.loader import ShardDataset, ShardMapDataset, collate, partition
from loader.common import ident, same_sample


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
    with pytest.raises(encoder.EncoderError, match="other shards or options"):
        ShardDataset(shards, seed=2, prefetch_bytes=0, streams=()).load_state_dict(state)
    with pytest.raises(encoder.EncoderError, match="other shards or options"):
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


# -- random access ------------------------------------------------------------------------
def test_map_batches_equal_single_samples(shards):
    ds = ShardMapDataset(shards, streams=("pointer", "scroll"))
    sample_ids = [5, 0, len(ds) - 1, 5, 40]
    batch = ds.get_batch(sample_ids)
    items = ds.__getitems__(sample_ids)
    assert collate(items) is items.batch
    for b, sample_id in enumerate(sample_ids):
        same_sample(items[b], ds[sample_id])
        assert batch["shard"][b] == ds[sample_id]["shard"]
    stacked = collate([ds[i] for i in sample_ids])
    for k, v in batch.items():
        assert (v == stacked[k]) if isinstance(v, list) else np.array_equal(v, stacked[k])


def test_old_argument_names_still_work_with_a_warning(shards):
    with pytest.warns(DeprecationWarning, match="shards="):
        old = ShardDataset(sources=shards, seed=1, prefetch_bytes=0, streams=())
    assert [ident(s) for s in old] == [ident(s) for s in ShardDataset(shards, seed=1, prefetch_bytes=0, streams=())]
    with pytest.warns(DeprecationWarning, match="shards="):
        ds = ShardMapDataset(sources=shards[0], streams=("key",))
    with pytest.warns(DeprecationWarning, match="sample_ids="):
        batch = ds.get_batch(keys=[1, 2])
    same_sample(batch, ds.get_batch([1, 2]))
    with pytest.raises(TypeError, match="sample ids are integers"):
        ds["0"]


# -- processes ----------------------------------------------------------------------------
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
