"""Which samples each rank and worker reads in an epoch, in which order.

For an epoch the ``N`` sample ids are put in one global order: a seeded permutation of the
ids (``shuffle=True``) or the ids in shard order. The order is then made a multiple of the
world size, so that **every rank gets exactly the same number of samples** (an uneven epoch
would leave ranks waiting for each other in a collective):

* ``remainder='pad'`` (default, as ``DistributedSampler``): the first ids of the order are
  repeated at its end (cyclically if the world is larger than N);
* ``remainder='drop'``: the tail of the order is left out for this epoch.

Rank ``r`` takes the ``r``-th contiguous slice of ``R = len(order) / world_size`` ids, and
splits it between its ``W`` workers in contiguous runs of ``R // W`` or ``R // W + 1`` ids
(the first ``R % W`` workers take one more). The part of worker ``w`` of rank ``r`` is number
``r * W + w`` of the ``world_size * W`` parts, in the order of the global order. All ranks must
use the same number of workers; then worker ``w`` yields as many samples on every rank, and
so do the batches built from them. Parts are cut from sample ids, not from shards, so one
shard read by many workers (or fewer shards than workers) is split evenly.

The permutation does not depend on NumPy's generators (whose streams may change between
releases): each id gets the 64-bit SplitMix64 hash of itself xor a salt of ``(seed, epoch)``,
and the ids are sorted by it (a stable sort; SplitMix64 is a bijection, so there are no
ties). The same ``seed``, ``epoch`` and index give the same order on every machine and version.
``shuffle_block`` keeps runs of that many consecutive samples of a shard together (read
locality: one page decode serves several samples) and permutes the runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._deprecation import renamed_arguments, renamed_attribute


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of uint64 values (a bijection), element-wise, wrapping."""
    z = x.astype(np.uint64, copy=True)
    z += np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _epoch_salt(seed: int, epoch: int) -> np.uint64:
    s = splitmix64(np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], np.uint64))
    return splitmix64(s ^ np.array([int(epoch) & 0xFFFFFFFFFFFFFFFF], np.uint64))[0]


def permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """A seeded permutation of ``range(n)`` (int64), stable across machines and versions.

    >>> permutation(10, seed=0, epoch=0).tolist()
    [0, 9, 1, 6, 3, 5, 4, 2, 8, 7]
    """
    salt = _epoch_salt(seed, epoch)
    with np.errstate(over="ignore"):
        hashes = splitmix64(np.arange(n, dtype=np.uint64) ^ salt)
    return np.argsort(hashes, kind="stable").astype(np.int64)


def epoch_order(offsets: np.ndarray, *, seed: int, epoch: int, shuffle: bool,
                shuffle_block: int = 1) -> np.ndarray:
    """The global order of the sample ids ``0..offsets[-1]-1`` for one epoch (int64)."""
    n = int(offsets[-1])
    if not shuffle or n == 0:
        return np.arange(n, dtype=np.int64)
    if shuffle_block <= 1:
        return permutation(n, seed, epoch)
    # Runs of shuffle_block consecutive ids, never across a shard boundary.
    starts, lengths = [], []
    for lo, hi in zip(offsets[:-1].tolist(), offsets[1:].tolist()):
        first = np.arange(lo, hi, shuffle_block, dtype=np.int64)
        starts.append(first)
        lengths.append(np.minimum(shuffle_block, hi - first))
    starts, lengths = np.concatenate(starts), np.concatenate(lengths)
    runs = permutation(len(starts), seed, epoch)
    run_len = lengths[runs]
    first = np.repeat(starts[runs], run_len)
    within = np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(run_len) - run_len, run_len)
    return first + within


@dataclass(frozen=True)
class Part:
    """The sample ids one worker of one rank reads in an epoch, and where they sit in the order."""

    sample_ids: np.ndarray    # int64, in reading order
    rank: int
    world_size: int
    worker: int
    num_workers: int
    per_rank: int             # samples of every rank in this epoch
    padded: int               # ids repeated ('pad') or left out ('drop') in this epoch, over all ranks

    keys = renamed_attribute("keys", "sample_ids")

    @property
    def part(self) -> int:
        return self.rank * self.num_workers + self.worker


def rank_count(n: int, world_size: int, remainder: str) -> int:
    """Samples of each rank per epoch."""
    if remainder == "pad":
        return -(-n // world_size) if n else 0
    if remainder == "drop":
        return n // world_size
    raise ValueError(f"remainder must be 'pad' or 'drop', not {remainder!r}")


def worker_range(per_rank: int, num_workers: int, worker: int) -> tuple[int, int]:
    """``[lo, hi)`` of a worker within its rank's slice."""
    base, extra = divmod(per_rank, num_workers)
    lo = worker * base + min(worker, extra)
    return lo, lo + base + (worker < extra)


def plan(order: np.ndarray, *, rank: int, world_size: int, worker: int, num_workers: int,
         remainder: str = "pad") -> Part:
    """The :class:`Part` of ``(rank, worker)`` from an epoch's global ``order``."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside [0, {world_size})")
    if not 0 <= worker < num_workers:
        raise ValueError(f"worker {worker} is outside [0, {num_workers})")
    n = len(order)
    per_rank = rank_count(n, world_size, remainder)
    total = per_rank * world_size
    if total > n:  # pad: repeat the first ids, cyclically when the world exceeds n
        order = np.concatenate([order, np.resize(order, total - n)])
    lo, hi = worker_range(per_rank, num_workers, worker)
    start = rank * per_rank
    return Part(order[start + lo:start + hi], rank, world_size, worker, num_workers, per_rank, abs(total - n))


# Part(keys=...) still builds, with a warning.
Part.__init__ = renamed_arguments(keys="sample_ids")(Part.__init__)

__all__ = ["Part", "epoch_order", "permutation", "plan", "rank_count", "splitmix64", "worker_range"]
