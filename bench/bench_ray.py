"""Figures of docs/benchmarks.md ("Ray Data and the manifest"): ``python bench/bench_ray.py``.

1. the manifest: 200 small shards; ``encoder index`` build time, ShardDataset construction
   without and with the manifest (best of 3 each, interleaved);
2. Ray Data on 2 local workers vs one process: the pointer rows of 8 shards read (and summed),
   and the actions derived, best of 3; Ray's start is timed apart.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ray_data"))
from conftest import write_blocks_shard  # noqa: E402

from encoder import ShardReader  # noqa: E402
from encoder.actions import derive  # noqa: E402
from encoder.loader import ShardDataset  # noqa: E402
from encoder.loader.manifest import Manifest  # noqa: E402
from encoder.testing.synthetic import write_sample  # noqa: E402


def best(fn, rounds=3):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def manifest_figures(folder):
    for i in range(200):
        write_sample(os.path.join(folder, f"s{i:03d}.enc"), seconds=10, seed=i)
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"manifest: 200 shards, {size / 200 / 1024:.0f} KiB each")
    for kind in ("ends", "full"):
        t, _ = best(lambda: Manifest.build(folder, checksum_kind=kind))
        print(f"  encoder index (checksum {kind}): {t * 1000:.0f} ms")
    Manifest.build(folder)
    for label, kwargs in (("without manifest", {"manifest": False}), ("with manifest", {})):
        t, ds = best(lambda: ShardDataset(folder, frames=False, **kwargs))
        print(f"  ShardDataset({label}): {t * 1000:.0f} ms, {ds.index.total} samples")
    m = Manifest.read(os.path.join(folder, "manifest.parquet"))
    names = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".enc"))
    for verify in ("stat", "checksum"):
        t, _ = best(lambda: m.stale(names, verify=verify))
        print(f"  stale check ({verify}): {t * 1000:.1f} ms")


def ray_figures(folder):
    paths = [write_blocks_shard(os.path.join(folder, f"r{i}.enc"), 1800, seed=i, block_rows=65536)
             for i in range(8)]
    rows = sum(ShardReader(p).num_rows("pointer") for p in paths)
    print(f"ray: 8 shards, {rows:,} pointer rows, {sum(map(os.path.getsize, paths)) / 2**20:.1f} MiB")

    def one_process():
        return sum(int(np.sum(ShardReader(p).read("pointer").column("x").to_numpy(), dtype=np.int64)) for p in paths)

    t1, s1 = best(one_process)
    print(f"  one process read+sum: {t1 * 1000:.0f} ms, {rows / t1 / 1e6:.1f} M rows/s")
    td1, _ = best(lambda: [derive(p) for p in paths])
    print(f"  one process derive: {td1 * 1000:.0f} ms")
    import ray
    from encoder.ray import derive_actions, read_shards
    warnings.simplefilter("ignore", DeprecationWarning)
    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    print(f"  ray.init: {time.perf_counter() - t:.1f} s")
    def on_ray():  # the blocks' sums, added on the driver (Dataset.sum's hash aggregation costs seconds)
        batches = read_shards(paths, "pointer", columns=["x"], shard_column=None).iter_batches(
            batch_format="pyarrow", batch_size=None)
        return sum(int(np.sum(b.column("x").to_numpy(), dtype=np.int64)) for b in batches)

    best(on_ray, rounds=1)  # workers started
    t2, s2 = best(on_ray)
    assert s1 == s2, (s1, s2)
    print(f"  ray 2 workers read+sum: {t2 * 1000:.0f} ms, {rows / t2 / 1e6:.1f} M rows/s ({t1 / t2:.2f}x)")
    td2, _ = best(lambda: derive_actions(paths).count())
    print(f"  ray 2 workers derive: {td2 * 1000:.0f} ms ({td1 / td2:.2f}x)")
    ray.shutdown()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        manifest_figures(a)
        ray_figures(b)
