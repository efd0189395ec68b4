"""encoder.loader.torch_compat: without PyTorch, and inside it (DataLoader workers, torch.distributed,
StatefulDataLoader resume)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from encoder.loader import ShardDataset, ShardMapDataset, collate, to_torch
from loader.common import write_sessions

try:
    import torch
    from torch.utils.data import DataLoader, IterableDataset
except ImportError:  # the tests of the datasets inside PyTorch are skipped, the one without it runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


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


# -- inside PyTorch -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch_shards(tmp_path_factory):
    return write_sessions(tmp_path_factory.mktemp("torch-shards"), (10, 6, 13), first_seed=20, prefix="t")


def ids(batch) -> list:
    return list(zip(batch["shard"], batch["t_us"].tolist()))


@needs_torch
def test_is_a_torch_dataset(torch_shards):
    ds = ShardDataset(torch_shards, streams=("key",))
    assert isinstance(ds, IterableDataset)
    assert isinstance(ShardMapDataset(torch_shards, streams=()), torch.utils.data.Dataset)


@needs_torch
def test_two_ranks_two_dataloader_workers_cover_every_sample_once(torch_shards):
    seen, per_rank = [], []
    for rank in range(2):
        ds = ShardDataset(torch_shards, rank=rank, world_size=2, num_workers=2, seed=1, remainder="drop",
                          streams=("pointer",), prefetch_bytes=1 << 20)
        loader = DataLoader(ds, batch_size=4, num_workers=2)
        got = [x for batch in loader for x in ids(batch)]
        assert all(isinstance(b["pointer.x"], torch.Tensor) for b in loader)
        per_rank.append(len(got))
        seen += got
        assert len(got) == len(ds)
    n = ShardDataset(torch_shards, streams=()).index.total
    assert per_rank[0] == per_rank[1]
    assert len(seen) == len(set(seen)) == n - n % 2


@needs_torch
def test_rank_comes_from_torch_distributed(torch_shards, tmp_path):
    import torch.distributed as dist
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ds = ShardDataset(torch_shards, streams=())
        assert ds.topology() == (0, 1, 0, 1)
        assert len(ds) == ds.index.total
    finally:
        dist.destroy_process_group()


# torchdata 0.11 calls torch.set_vital, which torch 2.13 deprecates (not ours to fix).
@needs_torch
@pytest.mark.filterwarnings("ignore:'set_vital' is deprecated:UserWarning")
@pytest.mark.parametrize("workers", [0, 2])
def test_stateful_dataloader_resumes_exactly(torch_shards, workers):
    tdl = pytest.importorskip("torchdata.stateful_dataloader")
    kwargs = dict(seed=7, streams=("pointer", "key"), num_workers=workers or None, prefetch_bytes=1 << 20)

    def loader(ds):
        return tdl.StatefulDataLoader(ds, batch_size=3, num_workers=workers, snapshot_every_n_steps=1)

    full = [ids(b) for b in loader(ShardDataset(torch_shards, **kwargs))]
    first = loader(ShardDataset(torch_shards, **kwargs))
    it = iter(first)
    k = 5
    head = [ids(next(it)) for _ in range(k)]
    state = first.state_dict()
    del it
    resumed = loader(ShardDataset(torch_shards, **kwargs))
    resumed.load_state_dict(state)
    rest = [ids(b) for b in resumed]
    assert head == full[:k]
    assert head + rest == full
    assert [ids(b) for b in resumed] == full  # the next epoch is whole again


@needs_torch
def test_map_dataset_in_a_dataloader(torch_shards):
    ds = ShardMapDataset(torch_shards, streams=("key",))
    loader = DataLoader(ds, batch_size=6, shuffle=False, collate_fn=lambda s: to_torch(collate(s)))
    batches = list(loader)
    assert sum(len(b["shard"]) for b in batches) == len(ds)
    first = ds.get_batch(range(6))
    assert torch.equal(batches[0]["key.code"], torch.from_numpy(first["key.code"]))
    default = next(iter(DataLoader(ds, batch_size=6)))  # torch's own collate works too
    assert torch.equal(default["key.code"], batches[0]["key.code"])


@needs_torch
def test_spawned_workers_get_the_dataset_by_pickle(torch_shards):
    ds = ShardDataset(torch_shards, seed=2, streams=("key",), num_workers=1)
    expected = [x for b in DataLoader(ShardDataset(torch_shards, seed=2, streams=("key",)), batch_size=8)
                for x in ids(b)]
    loader = DataLoader(ds, batch_size=8, num_workers=1, multiprocessing_context="spawn")
    assert [x for b in loader for x in ids(b)] == expected


@needs_torch
def test_batch_mode_with_batch_size_none(torch_shards):
    ds = ShardDataset(torch_shards, seed=3, streams=("scroll",), batch_size=5, num_workers=2)
    batches = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert len(batches) == len(ds)
    assert all(isinstance(b["scroll.dy"], torch.Tensor) and b["scroll.dy"].shape[1] == 64 for b in batches)
    flat = [x for b in batches for x in ids(b)]
    assert len(flat) == len(set(flat)) == ds.index.total
    assert np.all([b["t_us"].dtype == torch.int64 for b in batches])
