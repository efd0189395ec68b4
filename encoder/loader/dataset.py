"""The datasets: :class:`ShardDataset` (iterable, partitioned, resumable) and :class:`ShardMapDataset`.

Both build their :class:`~encoder.loader.index.ShardIndex` when created (in the main
process, before any worker forks) and open shards lazily, per process. With PyTorch
installed they are ``torch.utils.data.IterableDataset`` / ``Dataset``; without it they are
plain Python objects that iterate / index all the same.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import EncoderError
from . import manifest as manifests, partition, torch_compat
from .._deprecation import renamed_arguments
from .index import ShardIndex
from .prefetch import Prefetcher
from .samples import SampleBuilder, unbatch
from .shard_files import ReaderPool, expand
from .spec import SampleSpec

#: Version of the dict :meth:`ShardDataset.state_dict` returns.
STATE_VERSION = 1


class _Shards:
    """What both datasets share: shard files, index, sample spec, per-process readers."""

    def _setup(self, shards, *, spec, spec_options, index, on_error, open_options, max_open_shards,
               frame_cache_bytes, event_cache_bytes, index_threads, recycle_buffers=4, reader_options=None,
               manifest=None, on_stale="raise"):
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        if spec is not None and spec_options:
            raise TypeError(f"give either spec= or sample options, not both ({sorted(spec_options)})")
        self.spec = spec if spec is not None else SampleSpec(**spec_options)
        self.on_error = on_error
        self.open_options = dict(open_options or {})
        self.reader_options = dict(reader_options or {})
        self.max_open_shards, self.frame_cache_bytes = max_open_shards, frame_cache_bytes
        self.event_cache_bytes, self.recycle_buffers = event_cache_bytes, recycle_buffers
        if index is None:
            if shards is None:
                raise TypeError("give shards (paths, globs, folders, URLs) or index=")
            names = expand(shards, on_error=on_error)
            build = dict(on_error=on_error, open_options=self.open_options, reader_options=self.reader_options,
                         threads=index_threads)
            found = manifests.resolve(shards, manifest)  # docs/loader.md, "Manifest"
            index = (ShardIndex.build(names, self.spec.anchor_options(), **build) if found is None else
                     manifests.index_from_manifest(found, names, self.spec.anchor_options(), on_stale=on_stale,
                                                   **build))
        elif index.options != self.spec.anchor_options():
            raise ValueError("index= was built with other anchor options than this dataset's spec")
        self.index = index
        self._builder_obj = None
        self._builder_pid = None

    def _builder(self) -> SampleBuilder:
        """This process's builder (a new one after fork: nothing open is shared)."""
        if self._builder_obj is None or self._builder_pid != os.getpid():
            pool = ReaderPool(self.max_open_shards, frame_cache_bytes=self.frame_cache_bytes,
                              open_options=self.open_options, frames=self.spec.uses_frames,
                              reader_options=self.reader_options)
            self._builder_obj = SampleBuilder(self.index, self.spec, pool,
                                              event_cache_bytes=self.event_cache_bytes, on_error=self.on_error,
                                              recycle=self.recycle_buffers)
            self._builder_pid = os.getpid()
        return self._builder_obj

    @property
    def stats(self) -> dict:
        """Counters of this process: samples, shards, skipped shards, replaced samples, readers opened."""
        builder = self._builder_obj if self._builder_pid == os.getpid() else None
        return {
            "samples": self.index.total,
            "shards": len(self.index.shards),
            "shards_skipped": len(self.index.skipped),
            "skipped": list(self.index.skipped),
            "samples_replaced": builder.replaced if builder else 0,
            "failures": list(builder.failures) if builder else [],
            "readers_opened": builder.pool.opened if builder else 0,
        }

    def close(self) -> None:
        """Close this process's open shards (they reopen on the next read)."""
        if self._builder_obj is not None and self._builder_pid == os.getpid():
            self._builder_obj.pool.close()
        self._builder_obj = None

    def __getstate__(self):  # pickled into spawned workers: no reader, no lock travels
        state = dict(self.__dict__)
        state["_builder_obj"], state["_builder_pid"] = None, None
        return state


class ShardDataset(_Shards, torch_compat.IterableBase):
    """Samples of a set of shards, partitioned over ranks and workers, shuffled, resumable.

    Parameters
    ----------
    shards : str, path, or a list of them
        Shard paths, globs, folders or fsspec URLs (:func:`~encoder.loader.shard_files.expand`);
        every rank must pass the same. (Formerly ``sources=``, deprecated.)
    rank, world_size : int, optional
        This process's rank among ``world_size``; by default from ``torch.distributed`` when
        it is initialised, else 0 and 1.
    worker, num_workers : int, optional
        Explicit worker partition for loaders other than PyTorch's (each process passes its
        ``worker``). Inside a PyTorch DataLoader leave ``worker`` out: it comes from
        ``get_worker_info()``; give ``num_workers`` (the DataLoader's) for an exact ``len()``.
    seed : int
        Seed of the shuffle; the order of epoch ``e`` depends only on ``seed``, ``e`` and the index.
    shuffle : bool
        A global permutation of the sample ids per epoch (else shard order).
    shuffle_block : int
        Keep runs of this many consecutive samples of a shard together in the permutation
        (fewer page decodes per sample; samples of a run are correlated).
    remainder : {'pad', 'drop'}
        How the epoch is made equal for every rank: repeat the first samples of the order,
        or leave out its tail (see :mod:`encoder.loader.partition`).
    batch_size : int, optional
        Yield batches assembled in place (dicts of arrays with a leading dimension) instead
        of samples; use with ``DataLoader(batch_size=None)``.
    drop_last : bool
        With ``batch_size``: leave out each worker's last, partial batch.
    on_error : {'raise', 'skip'}
        A corrupt, missing or unreachable shard raises an error naming it, or is skipped:
        left out of the index if it fails to open when the index is built, otherwise each
        sample that fails is replaced by the next readable one (so counts stay equal);
        both are logged (``logging.getLogger('encoder.loader')``) and counted in :attr:`stats`.
    prefetch_bytes : int, optional
        Read-ahead budget of each iterator: samples are built on a thread until their arrays
        hold this many bytes (0: no thread). By default 0 inside a PyTorch DataLoader worker
        (the DataLoader already reads ahead, ``prefetch_factor`` batches per worker, and its
        queue's feeder thread overlaps the transfer) and 64 MiB elsewhere (a plain loop, where
        the training step runs while the next samples are decoded: zstd and the Numba kernels
        release the GIL). Memory per worker stays below
        ``prefetch_bytes + (recycle_buffers + 2) frame batches + frame_cache_bytes +
        event_cache_bytes`` plus the readers' indexes.
    max_open_shards : int
        Readers kept open per process (least recently used closed first).
    frame_cache_bytes : int
        Decoded tile pages kept per process, shared by the open readers.
    event_cache_bytes : int
        Decoded event blocks kept per process.
    recycle_buffers : int
        Frame batch buffers kept for reuse once the consumer has dropped every reference to
        them (a fresh buffer costs page faults: ~1 ms per 1080p frame); 0 allocates each time.
    open_options : dict, optional
        Options of ``fsspec.open`` for URLs (default: 1 MiB blocks, read-ahead cache).
    reader_options : dict, optional
        Keyword arguments of :class:`~encoder.ShardReader` (the key of encrypted shards, ...).
    index : ShardIndex, optional
        A prebuilt index (instead of ``shards``), e.g. shared with a validation dataset.
    spec : SampleSpec, optional
        What a sample holds; or give its fields as keyword arguments (``streams=``,
        ``frame_stack=``, ``resize=``, ...).
    manifest : str, Manifest or False, optional
        A manifest (``encoder index DIR``) to build the index from instead of opening every
        shard; by default ``DIR/manifest.parquet`` when ``shards`` is one folder holding it;
        ``False``: never. A stale entry raises an error naming the shard, or with
        ``on_stale="rebuild"`` is indexed again and the manifest rewritten.

    Examples
    --------
    >>> import tempfile, os
    >>> from encoder.testing.synthetic import write_sample
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_sample(os.path.join(folder, "a.enc"), seconds=10, seed=1)
    >>> ds = ShardDataset(folder, seed=0, streams=("pointer", "key"))
    >>> sample = next(iter(ds))
    >>> sorted(k for k in sample if not k.startswith(("pointer", "key")))
    ['sample_id', 'shard', 't_us']
    >>> sample["pointer.x"].shape, bool(sample["pointer.len"] <= 512)
    ((512,), True)
    """

    @renamed_arguments(sources="shards")
    def __init__(self, shards=None, *, rank: int | None = None, world_size: int | None = None,
                 worker: int | None = None, num_workers: int | None = None, seed: int = 0,
                 shuffle: bool = True, shuffle_block: int = 1, remainder: str = "pad",
                 batch_size: int | None = None, drop_last: bool = False, on_error: str = "raise",
                 prefetch_bytes: int | None = None, max_open_shards: int = 8, frame_cache_bytes: int = 256 << 20,
                 event_cache_bytes: int = 64 << 20, recycle_buffers: int = 4, open_options: dict | None = None,
                 reader_options: dict | None = None, index: ShardIndex | None = None, index_threads: int = 4,
                 spec: SampleSpec | None = None, manifest=None, on_stale: str = "raise", **spec_options):
        if remainder not in ("pad", "drop"):
            raise ValueError(f"remainder must be 'pad' or 'drop', not {remainder!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if (rank is None) != (world_size is None):
            raise ValueError("give both rank and world_size, or neither")
        if worker is not None and num_workers is None:
            raise ValueError("an explicit worker needs num_workers")
        if shuffle_block < 1:
            raise ValueError("shuffle_block must be at least 1")
        self._setup(shards, spec=spec, spec_options=spec_options, index=index, on_error=on_error,
                    open_options=open_options, max_open_shards=max_open_shards,
                    frame_cache_bytes=frame_cache_bytes, event_cache_bytes=event_cache_bytes,
                    index_threads=index_threads, recycle_buffers=recycle_buffers, reader_options=reader_options,
                    manifest=manifest, on_stale=on_stale)
        self.rank, self.world_size = rank, world_size
        self.worker, self.num_workers = worker, num_workers
        self.seed, self.shuffle, self.shuffle_block = int(seed), bool(shuffle), int(shuffle_block)
        self.remainder, self.batch_size, self.drop_last = remainder, batch_size, drop_last
        self.prefetch_bytes = prefetch_bytes
        self.epoch = 0
        self._resume: dict | None = None   # a loaded state, applied by the next __iter__
        self._live: dict | None = None     # the position of the current (or last) iteration

    # -- topology -----------------------------------------------------------------------
    def topology(self) -> tuple[int, int, int, int]:
        """``(rank, world_size, worker, num_workers)`` of the calling process."""
        rank, world = self.rank, self.world_size
        if rank is None:
            rank, world = torch_compat.distributed_info() or (0, 1)
        if self.worker is not None:
            worker, workers = self.worker, self.num_workers
        else:
            worker, workers = torch_compat.worker_info()
            if self.num_workers is not None and workers > 1 and workers != self.num_workers:
                raise EncoderError(f"the DataLoader has {workers} workers, the dataset was told {self.num_workers}")
        return rank, world, worker, workers

    def __getstate__(self):
        state = super().__getstate__()
        if state["rank"] is None:  # a spawned worker has no process group: freeze it now
            dist = torch_compat.distributed_info()
            if dist is not None:
                state["rank"], state["world_size"] = dist
        return state

    # -- epochs -------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from the next iteration (call it before every epoch).

        A state loaded for this same epoch stays pending; one for another epoch is dropped.
        """
        epoch = int(epoch)
        if self._resume is not None and self._resume["epoch"] != epoch:
            self._resume = None
        if self._live is not None and self._live["epoch"] != epoch:
            self._live = None
        self.epoch = epoch

    def part(self, epoch: int | None = None, topology: tuple | None = None) -> partition.Part:
        """The sample ids the calling process (or ``topology``) reads in ``epoch``, in order."""
        epoch = self.epoch if epoch is None else epoch
        rank, world, worker, workers = topology or self.topology()
        order = partition.epoch_order(self.index.offsets, seed=self.seed, epoch=epoch, shuffle=self.shuffle,
                                      shuffle_block=self.shuffle_block)
        return partition.plan(order, rank=rank, world_size=world, worker=worker, num_workers=workers,
                              remainder=self.remainder)

    def __len__(self) -> int:
        """Samples of this rank per epoch, or its batches when ``batch_size`` is set."""
        rank, world, _, _ = self.topology()
        per_rank = partition.rank_count(self.index.total, world, self.remainder)
        if not self.batch_size:
            return per_rank
        workers = self.num_workers or 1
        total = 0
        for w in range(workers):
            lo, hi = partition.worker_range(per_rank, workers, w)
            total += (hi - lo) // self.batch_size if self.drop_last else -(-(hi - lo) // self.batch_size)
        return total

    # -- state --------------------------------------------------------------------------
    def _identity(self) -> dict:
        return {"seed": self.seed, "shuffle": self.shuffle, "shuffle_block": self.shuffle_block,
                "remainder": self.remainder, "index": self.index.digest(), "samples": self.index.total}

    def state_dict(self) -> dict:
        """Where this process's iteration stands: epoch, topology, samples yielded so far.

        Taken after ``k`` samples of an epoch and given to :meth:`load_state_dict` of a new
        dataset (same shards, options and topology), the next iteration yields exactly the
        samples after those ``k``. With ``torchdata``'s ``StatefulDataLoader`` each worker's
        state is kept and restored by the loader.
        """
        if self._live is not None:
            live = self._live
        elif self._resume is not None:
            return dict(self._resume)
        else:
            rank, world, worker, workers = self.topology()
            live = {"epoch": self.epoch, "rank": rank, "world_size": world, "worker": worker,
                    "num_workers": workers, "position": 0}
        return {"version": STATE_VERSION, **self._identity(),
                **{k: live[k] for k in ("epoch", "rank", "world_size", "worker", "num_workers", "position")}}

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state`` on the next iteration (see :meth:`state_dict`)."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise EncoderError(f"not a ShardDataset state of version {STATE_VERSION}: {state!r:.200}")
        mine = self._identity()
        diff = {k: (state.get(k), v) for k, v in mine.items() if state.get(k) != v}
        if diff:
            raise EncoderError(f"the state was saved by a dataset with other shards or options: "
                               f"(saved, now) = {diff}")
        self._resume = dict(state)
        self._live = None
        self.epoch = int(state["epoch"])

    # -- iteration ----------------------------------------------------------------------
    def __iter__(self):
        topology = self.topology()
        part = self.part(self.epoch, topology)
        start = 0
        if self._resume is not None:
            state, self._resume = self._resume, None
            saved = tuple(state[k] for k in ("rank", "world_size", "worker", "num_workers"))
            if saved != topology:
                raise EncoderError(f"the state was saved by (rank, world_size, worker, num_workers) = {saved}, "
                                   f"this is {topology}: resume with the same topology")
            start = int(state["position"])
            if not 0 <= start <= len(part.sample_ids):
                raise EncoderError(f"state position {start} outside this part of {len(part.sample_ids)} samples")
        rank, world, worker, workers = topology
        live = self._live = {"epoch": self.epoch, "rank": rank, "world_size": world, "worker": worker,
                             "num_workers": workers, "position": start, "size": len(part.sample_ids)}
        return self._iterate(part.sample_ids, start, live)

    def _positions(self, sample_ids: np.ndarray, start: int):
        """``(position after, item)`` for this part from ``start`` (samples, or batches)."""
        builder = self._builder()
        step = self.batch_size or 1
        for p in range(start, len(sample_ids), step):
            q = min(p + step, len(sample_ids))
            if self.batch_size and self.drop_last and q - p < step:
                break
            if self.batch_size:
                yield q, builder.build(sample_ids[p:q])
            else:
                yield q, builder.sample(int(sample_ids[p]))

    def _prefetch_budget(self) -> int:
        if self.prefetch_bytes is not None:
            return int(self.prefetch_bytes)
        return 0 if torch_compat.in_worker() else 64 << 20

    def _iterate(self, sample_ids: np.ndarray, start: int, live: dict):
        budget = self._prefetch_budget()
        if budget <= 0:
            for position, item in self._positions(sample_ids, start):
                live["position"] = position  # counted before the consumer sees the item
                yield item
            if self.batch_size and self.drop_last:
                live["position"] = len(sample_ids)
            return
        prefetcher = Prefetcher(self._positions(sample_ids, start), budget)
        try:
            for position, item in prefetcher:
                live["position"] = position
                yield item
            if self.batch_size and self.drop_last:
                live["position"] = len(sample_ids)
        finally:
            prefetcher.close()


class SampleList(list):
    """The samples of :meth:`ShardMapDataset.__getitems__` (views into one batch), with the
    batch itself as :attr:`batch`: :func:`collate` returns it without copying."""

    batch: dict


class ShardMapDataset(_Shards, torch_compat.MapBase):
    """Random access to the samples of a set of shards: ``ds[sample_id]``, ``ds.__getitems__(sample_ids)``.

    Sample ids are the index's (``0 <= sample_id < len(ds)``, shard order). Use it with a
    sampler (``DistributedSampler``, torchdata's stateful samplers) for partitioning and
    resume; a batch of samples is read grouped by shard, frames straight into the batch.
    Parameters as for :class:`ShardDataset` (shards, sample options, ``on_error`` and caches).

    Examples
    --------
    >>> import tempfile, os
    >>> from encoder.testing.synthetic import write_sample
    >>> path = os.path.join(tempfile.mkdtemp(), "a.enc")
    >>> _ = write_sample(path, seconds=10, seed=1)
    >>> ds = ShardMapDataset(path, streams=("key",))
    >>> batch = ds.get_batch([0, 2])
    >>> batch["key.code"].shape[0], bool(ds[2]["t_us"] == batch["t_us"][1])
    (2, True)
    """

    @renamed_arguments(sources="shards")
    def __init__(self, shards=None, *, on_error: str = "raise", max_open_shards: int = 8,
                 frame_cache_bytes: int = 256 << 20, event_cache_bytes: int = 64 << 20, recycle_buffers: int = 4,
                 open_options: dict | None = None, reader_options: dict | None = None,
                 index: ShardIndex | None = None, index_threads: int = 4, spec: SampleSpec | None = None,
                 manifest=None, on_stale: str = "raise", **spec_options):
        self._setup(shards, spec=spec, spec_options=spec_options, index=index, on_error=on_error,
                    open_options=open_options, max_open_shards=max_open_shards,
                    frame_cache_bytes=frame_cache_bytes, event_cache_bytes=event_cache_bytes,
                    index_threads=index_threads, recycle_buffers=recycle_buffers, reader_options=reader_options,
                    manifest=manifest, on_stale=on_stale)

    def __len__(self) -> int:
        return self.index.total

    def _sample_id(self, sample_id) -> int:
        if isinstance(sample_id, (bool, np.bool_)) or not isinstance(sample_id, (int, np.integer)):
            raise TypeError(f"sample ids are integers, not {type(sample_id).__name__}")
        sample_id = int(sample_id)
        n = self.index.total
        if not -n <= sample_id < n:
            raise IndexError(f"sample {sample_id} is outside [0, {n})")
        return sample_id % n

    def __getitem__(self, sample_id) -> dict:
        return self._builder().sample(self._sample_id(sample_id))

    @renamed_arguments(keys="sample_ids")
    def get_batch(self, sample_ids) -> dict:
        """The samples ``sample_ids`` as one batch (arrays with a leading dimension, built in place)."""
        return self._builder().build([self._sample_id(i) for i in sample_ids])

    def __getitems__(self, sample_ids) -> SampleList:
        batch = self.get_batch(sample_ids)
        samples = SampleList(unbatch(batch))
        samples.batch = batch
        return samples


def collate(samples) -> dict:
    """A batch from samples: the batch of a :class:`SampleList` as it is, else arrays stacked.

    ``shard`` becomes a list of str. Pass ``collate_fn=encoder.loader.collate`` to a
    DataLoader over a :class:`ShardMapDataset` for batches without a second copy (then
    :func:`~encoder.loader.torch_compat.to_torch` gives tensors that share the memory).
    """
    if isinstance(samples, SampleList):
        return samples.batch
    if isinstance(samples, dict):  # already a batch (ShardDataset with batch_size)
        return samples
    samples = list(samples)
    if not samples:
        raise ValueError("no samples to collate")
    out = {}
    for k in samples[0]:
        values = [s[k] for s in samples]
        out[k] = values if isinstance(values[0], str) else np.stack(values)
    return out


__all__ = ["STATE_VERSION", "SampleList", "ShardDataset", "ShardMapDataset", "collate"]
