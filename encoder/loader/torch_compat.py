"""The optional PyTorch seam: base classes, worker info and the process group, or stand-ins.

PyTorch is an optional extra (``pip install 'hci-encoder[torch]'``). When it is importable the
datasets of :mod:`encoder.loader` derive from ``torch.utils.data.IterableDataset`` /
``Dataset`` and read ``get_worker_info()`` and ``torch.distributed``; when it is not, they
derive from ``object`` and iterate all the same. Nothing else in the package imports torch.
"""
from __future__ import annotations

try:  # pragma: no branch - which arm runs depends on the environment
    import torch
    from torch.utils.data import Dataset as MapBase
    from torch.utils.data import IterableDataset as IterableBase
    from torch.utils.data import get_worker_info as _get_worker_info
except ImportError:  # torch is optional: the datasets work without it
    torch = None

    class IterableBase:  # type: ignore[no-redef]
        """Stand-in for ``torch.utils.data.IterableDataset`` when torch is absent."""

    class MapBase:  # type: ignore[no-redef]
        """Stand-in for ``torch.utils.data.Dataset`` when torch is absent."""

    def _get_worker_info():
        return None

HAVE_TORCH = torch is not None


def worker_info() -> tuple[int, int]:
    """``(worker id, number of workers)`` of this DataLoader worker; ``(0, 1)`` outside one."""
    info = _get_worker_info()
    if info is None:
        return 0, 1
    return int(info.id), int(info.num_workers)


def in_worker() -> bool:
    """True inside a PyTorch DataLoader worker process."""
    return _get_worker_info() is not None


def distributed_info() -> tuple[int, int] | None:
    """``(rank, world size)`` of the initialised default process group, else ``None``."""
    if torch is None:
        return None
    dist = getattr(torch, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return int(dist.get_rank()), int(dist.get_world_size())


def to_torch(batch):
    """NumPy arrays of a sample or batch (nested dicts, lists) as tensors, without copying.

    Strings and lists of strings (``shard``) are left as they are.
    """
    import numpy as np
    if torch is None:
        raise ImportError("to_torch needs PyTorch: pip install 'hci-encoder[torch]'")
    if isinstance(batch, dict):
        return {k: to_torch(v) for k, v in batch.items()}
    if isinstance(batch, np.ndarray) and batch.dtype != object:
        return torch.from_numpy(batch)
    if isinstance(batch, np.generic):
        return torch.as_tensor(batch)
    return batch


__all__ = ["HAVE_TORCH", "IterableBase", "MapBase", "distributed_info", "in_worker", "to_torch", "worker_info"]
