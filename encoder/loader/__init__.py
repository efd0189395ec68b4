"""Training data from shards: aligned samples of frames and events, partitioned and resumable.

:class:`ShardDataset` iterates samples (or batches) of a set of shards, split
deterministically over ranks and workers, shuffled by a global seeded permutation per epoch,
with ``state_dict`` / ``load_state_dict`` resume (torchdata's ``StatefulDataLoader`` protocol).
:class:`ShardMapDataset` gives random access by sample key. A sample pairs, at an anchor time,
the screen frame (or a stack of frames) with the event rows around it; see
:class:`SampleSpec` and docs/loader.md.

PyTorch is optional: without it the datasets are plain iterables; with it they are
``torch.utils.data`` datasets.

Modules: :mod:`~encoder.loader.sources` (paths, globs, URLs; per-process readers),
:mod:`~encoder.loader.index` (sample keys per shard), :mod:`~encoder.loader.partition`
(epoch order, ranks and workers), :mod:`~encoder.loader.spec` (what a sample holds),
:mod:`~encoder.loader.samples` (building samples and batches), :mod:`~encoder.loader.prefetch`
(bounded read-ahead), :mod:`~encoder.loader.dataset` (the datasets),
:mod:`~encoder.loader._kernels` (Numba crop and resize), :mod:`~encoder.loader.torch_compat`.
"""
from __future__ import annotations

from .dataset import STATE_VERSION, SampleList, ShardDataset, ShardMapDataset, collate
from .index import ShardIndex
from .partition import Part, epoch_order, permutation
from .samples import SampleBuilder, unbatch
from .sources import ShardUnavailableError, expand
from .spec import SampleSpec
from .torch_compat import HAVE_TORCH, to_torch


def warmup() -> None:
    """Compile (or load from Numba's cache) every kernel a loader worker runs.

    Call it once per worker (``worker_init_fn``) before timing anything.
    """
    import encoder
    from . import _kernels
    from ..tiles import kernels as tile_kernels

    encoder.warmup()
    _kernels.warmup()
    native = tile_kernels.load()
    if hasattr(native, "warmup"):
        native.warmup()


__all__ = ["HAVE_TORCH", "Part", "STATE_VERSION", "SampleBuilder", "SampleList", "SampleSpec", "ShardDataset",
           "ShardIndex", "ShardMapDataset", "ShardUnavailableError", "collate", "epoch_order", "expand",
           "permutation", "to_torch", "unbatch", "warmup"]
