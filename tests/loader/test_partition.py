"""encoder.loader.partition: equal parts per rank and worker, the seeded epoch order."""
from __future__ import annotations

import numpy as np
import pytest

from encoder.loader import ShardDataset, partition
from loader.common import ident


def run_part(ds_kwargs, rank, world, worker, workers):
    ds = ShardDataset(rank=rank, world_size=world, worker=worker, num_workers=workers, **ds_kwargs)
    return [ident(s) for s in ds]


@pytest.mark.parametrize("remainder", ["pad", "drop"])
def test_two_ranks_two_workers_cover_the_epoch(shards, remainder):
    kwargs = dict(shards=shards, seed=3, remainder=remainder, prefetch_bytes=0, streams=("pointer",))
    full = ShardDataset(rank=0, world_size=1, **kwargs)
    n = full.index.total
    assert n % 2 == 1  # the fixture's sample count is odd: pad and drop both have work to do
    parts = {(r, w): run_part(dict(index=full.index, **{k: v for k, v in kwargs.items() if k != "shards"}), r, 2, w, 2)
             for r in range(2) for w in range(2)}
    per_rank = [len(parts[(r, 0)]) + len(parts[(r, 1)]) for r in range(2)]
    assert per_rank[0] == per_rank[1]
    for w in range(2):  # worker w yields as many samples on every rank
        assert len(parts[(0, w)]) == len(parts[(1, w)])
    seen = [x for p in parts.values() for x in p]
    all_ids = {(full.index.shards[s], int(t)) for s in range(len(full.index.shards)) for t in full.index.times[s]}
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
    assert sorted(np.concatenate([p.sample_ids for p in parts]).tolist()) == [0, 0, 1, 2]
    assert partition.plan(order, rank=0, world_size=4, worker=0, num_workers=1, remainder="drop").sample_ids.size == 0


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


def test_part_keys_is_a_deprecated_alias():
    part = partition.plan(np.arange(5), rank=0, world_size=1, worker=0, num_workers=1)
    with pytest.warns(DeprecationWarning, match="sample_ids"):
        assert part.keys is part.sample_ids
    with pytest.warns(DeprecationWarning, match="sample_ids="):
        old = partition.Part(keys=part.sample_ids, rank=0, world_size=1, worker=0, num_workers=1, per_rank=5,
                             padded=0)
    assert old.sample_ids is part.sample_ids and old.per_rank == 5
