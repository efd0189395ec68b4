"""Training data from shards: aligned samples of frames and events, partitioned and resumable.

:class:`ShardDataset` iterates samples (or batches) of a set of shards, split
deterministically over ranks and workers, shuffled by a global seeded permutation per epoch,
with ``state_dict`` / ``load_state_dict`` resume (torchdata's ``StatefulDataLoader`` protocol).
:class:`ShardMapDataset` gives random access by sample id. A sample pairs, at an anchor time,
the screen frame (or a stack of frames) with the event rows around it; see
:class:`SampleSpec` and docs/loader.md.

PyTorch is optional: without it the datasets are plain iterables; with it they are
``torch.utils.data`` datasets.

Modules: :mod:`~encoder.loader.shard_files` (paths, globs, URLs; per-process readers),
:mod:`~encoder.loader.index` (sample ids per shard), :mod:`~encoder.loader.partition`
(epoch order, ranks and workers), :mod:`~encoder.loader.spec` (what a sample holds),
:mod:`~encoder.loader.samples` (building samples and batches), :mod:`~encoder.loader.prefetch`
(bounded read-ahead), :mod:`~encoder.loader.dataset` (the datasets),
:mod:`~encoder.loader.resize` (the pixels a crop and resize reads), the crop and resize
kernels :mod:`~encoder.loader._numba` (Numba) and :mod:`~encoder.loader.reference` (their
NumPy spec; :func:`encoder.backends.loader_kernels` picks one),
:mod:`~encoder.loader.torch_compat`.
"""
from __future__ import annotations

from .. import backends
from ..errors import ShardUnavailableError

_KERNELS = ("crop", "resize_nearest", "resize_box")


def _numba_set() -> dict:
    from . import _numba
    return {n: getattr(_numba, n) for n in _KERNELS}


def _reference_set() -> dict:
    from . import reference
    return {n: getattr(reference, n) for n in _KERNELS}


def _warmup() -> None:
    from . import _numba
    _numba.warmup()


# The loader's kernels are all Numba ones: the native set is loaded on first use.
backends.declare("loader", native=dict, reference=_reference_set, lazy=_KERNELS, native_lazy=_numba_set, warmup=_warmup)

from .dataset import STATE_VERSION, SampleList, ShardDataset, ShardMapDataset, collate
from .index import ShardIndex
from .partition import Part, epoch_order, permutation
from .samples import SampleBuilder, unbatch
from .shard_files import expand
from .spec import SampleSpec
from .torch_compat import HAVE_TORCH, to_torch  # noqa: E402  (imports after the kernels are declared)


def warmup() -> None:
    """Compile (or load from Numba's cache) every kernel a loader worker runs.

    Call it once per worker (``worker_init_fn``) before timing anything. Does nothing under
    ``ENCODER_BACKEND=reference``.
    """
    backends.warmup()


__all__ = ["HAVE_TORCH", "Part", "STATE_VERSION", "SampleBuilder", "SampleList", "SampleSpec", "ShardDataset",
           "ShardIndex", "ShardMapDataset", "ShardUnavailableError", "collate", "epoch_order", "expand",
           "permutation", "to_torch", "unbatch", "warmup"]
