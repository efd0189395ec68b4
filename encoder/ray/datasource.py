"""Reading shards with Ray Data: :func:`read_shards`, :func:`read_frames`, :func:`derive_actions`.

The driver plans the reads (:func:`plan_reads`: which blocks of which shard each read task
reads) from a manifest when there is one, else from each shard's footer; the read tasks open
their shard on a worker and read only their blocks (``ShardReader.read_block``), so one large
shard is read by several tasks at once. Ray is imported only when a function here runs: the
Datasource classes are made on first use (:func:`_classes`).
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SchemaError
from ..loader import manifest as manifests
from ..loader.shard_files import close_quietly, expand, open_shard

#: Frames per read task of :func:`read_frames` (a 1080p BGRA frame is 8 MiB decoded).
FRAMES_PER_TASK = 16


def require_ray():
    """``ray`` and ``ray.data``, or an ImportError that says how to install them."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("encoder.ray needs Ray Data: pip install 'hci-encoder[ray]' "
                          "(or pip install 'ray[data]')") from exc
    return ray


@dataclass(frozen=True)
class ReadPlan:
    """What one read task reads: ``blocks`` (indexes into the stream's blocks) of ``shard``."""
    shard: str
    blocks: tuple
    rows: int
    raw_bytes: int


def _stream_blocks(names: list, stream: str, manifest, reader_options: dict | None) -> dict:
    """shard -> ``[rows, t_min, t_max, raw_bytes]`` of each block of ``stream`` (absent: no such stream)."""
    if manifest is not None:
        manifest.check(names, reader_options=reader_options)
        return {n: b for n in names if (b := manifest.blocks(n, stream)) is not None}
    out = {}
    for name in names:
        reader, handle = open_shard(name, None, reader_options)
        try:
            if stream in reader.streams:
                out[name] = [[b.rows, b.t_min, b.t_max, b.raw_bytes] for b in reader.blocks if b.stream == stream]
        finally:
            reader.close()
            close_quietly(handle)
    return out


def plan_reads(names: list, stream: str, *, start_us=None, end_us=None, parallelism: int = 1,
               rows_per_task: int | None = None, manifest=None, reader_options: dict | None = None) -> list[ReadPlan]:
    """Read tasks over ``stream`` of ``names``: runs of consecutive blocks of one shard of at
    most ``rows_per_task`` rows (default: the rows overlapping the range / ``parallelism``), at
    least one block each; blocks outside ``[start_us, end_us)`` are left out. Shard order, then
    block order, so the tasks' rows concatenated are the shards' rows read one after the other."""
    lo = -(1 << 63) if start_us is None else int(start_us)
    hi = (1 << 63) if end_us is None else int(end_us)
    wanted = {}
    for name, blocks in _stream_blocks(names, stream, manifest, reader_options).items():
        wanted[name] = [(i, b) for i, b in enumerate(blocks) if b[0] and b[1] < hi and b[2] >= lo]
    total = sum(b[0] for blocks in wanted.values() for _, b in blocks)
    limit = rows_per_task or max(1, math.ceil(total / max(1, parallelism)))
    plans = []
    for name in names:
        run: list = []
        for i, b in wanted.get(name, ()):
            if run and sum(x[0] for _, x in run) + b[0] > limit:
                plans.append(_plan(name, run))
                run = []
            run.append((i, b))
        if run:
            plans.append(_plan(name, run))
    return plans


def _plan(name: str, run: list) -> ReadPlan:
    return ReadPlan(name, tuple(i for i, _ in run), sum(b[0] for _, b in run), sum(b[3] for _, b in run))


def _read_blocks(plan: ReadPlan, stream: str, columns, start_us, end_us, shard_column, reader_options):
    """The rows of ``plan``, one Arrow table per block (run on a worker)."""
    ranged = start_us is not None or end_us is not None
    lo = -(1 << 63) if start_us is None else int(start_us)
    hi = (1 << 63) if end_us is None else int(end_us)
    reader, handle = open_shard(plan.shard, None, reader_options)
    try:
        schema = reader.streams[stream]
        names = list(schema.names) if columns is None else list(columns)
        unknown = [c for c in names if c not in schema.names]
        if unknown:
            raise SchemaError(f"no columns {unknown}; it has {schema.names}", shard=plan.shard, stream=stream)
        need = names + (["t"] if ranged and "t" not in names else [])
        for i in plan.blocks:
            table = reader.read_block(stream, i, need)
            if ranged:
                t = table.column("t")
                table = table.filter(pc.and_(pc.greater_equal(t, lo), pc.less(t, hi))).select(names)
            if shard_column:
                table = table.append_column(shard_column, pa.array([plan.shard] * table.num_rows, pa.string()))
            yield table
    finally:
        reader.close()
        close_quietly(handle)


def _read_frames(shard: str, indices: tuple, screen: int, start_us, end_us, reader_options):
    """Rows ``{shard, index, t, frame}`` of frames ``indices`` of ``screen`` (run on a worker)."""
    from ray.data.block import BlockAccessor
    reader, handle = open_shard(shard, None, reader_options)
    try:
        index = np.arange(*indices, dtype=np.int64)
        t = reader.frame_times(screen)[index].astype(np.int64)
        keep = np.ones(len(t), bool)
        if start_us is not None:
            keep &= t >= start_us
        if end_us is not None:
            keep &= t < end_us
        index, t = index[keep], t[keep]
        if not len(index):
            return
        images = [reader.frame(int(i), screen) for i in index]
        same = all(im.shape == images[0].shape for im in images)
        frame = np.stack(images) if same else np.array(images + [None], object)[:-1]  # ragged: one per row
        yield BlockAccessor.batch_to_block({"shard": np.array([shard] * len(index)), "index": index, "t": t,
                                            "frame": frame})
    finally:
        reader.close()
        close_quietly(handle)


def _derive(shard: str, screen: int, rules, reader_options):
    from ..actions import derive
    reader, handle = open_shard(shard, None, reader_options)
    try:
        table = derive(reader, screen=screen, rules=rules)
    finally:
        reader.close()
        close_quietly(handle)
    yield table.append_column("shard", pa.array([shard] * table.num_rows, pa.string()))


@functools.cache
def _classes():
    """The Datasource classes (made on first use, so that importing this module needs no Ray)."""
    require_ray()
    from ray.data import Datasource
    from ray.data.block import BlockMetadata
    from ray.data.datasource import ReadTask

    class _Tasks(Datasource):
        """A Datasource of prepared read tasks: ``items`` of (read function, arguments, rows, bytes, shard)."""

        def __init__(self, name: str, items: list):
            self._name, self._items = name, items

        def get_name(self) -> str:
            return self._name

        def estimate_inmemory_data_size(self):
            return sum(item[3] or 0 for item in self._items) or None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            tasks = []
            for fn, args, rows, nbytes, shard in self._items:
                meta = BlockMetadata(num_rows=rows, size_bytes=nbytes, exec_stats=None, input_files=[shard])
                tasks.append(ReadTask(functools.partial(fn, *args), meta, per_task_row_limit=per_task_row_limit))
            return tasks

    return _Tasks


def _dataset(name: str, items: list, parallelism: int, ray_remote_args: dict | None):
    import ray.data
    return ray.data.read_datasource(_classes()(name, items), override_num_blocks=max(1, len(items)),
                                    ray_remote_args=ray_remote_args)


def _names_and_manifest(paths, manifest):
    return expand(paths), manifests.resolve(paths, manifest)


def read_shards(paths, stream: str, columns=None, start_us: int | None = None, end_us: int | None = None, *,
                shard_column: str | None = "shard", parallelism: int | None = None, rows_per_task: int | None = None,
                manifest=None, reader_options: dict | None = None, ray_remote_args: dict | None = None):
    """Rows of ``stream`` of many shards as a ``ray.data.Dataset`` of Arrow blocks.

    Parameters
    ----------
    paths : str, path, or a list of them
        Shard paths, globs or folders (:func:`encoder.loader.shard_files.expand`).
    stream, columns, start_us, end_us
        As :meth:`encoder.ShardReader.read`: rows with ``start_us <= t < end_us``, the columns
        asked for (default: all), in write order within a shard, shards in ``paths`` order.
    shard_column : str or None
        Name of a string column holding each row's shard (None: no such column).
    parallelism, rows_per_task : int, optional
        How finely shards are split: runs of whole blocks of one shard of at most
        ``rows_per_task`` rows (default: the rows over ``parallelism``, itself by default
        twice the cluster's CPUs).
    manifest : str, Manifest or False, optional
        As :class:`~encoder.loader.ShardDataset`'s: auto-detected for one folder.
    reader_options : dict, optional
        Keyword arguments of :class:`~encoder.ShardReader` (an encryption key ...).

    Returns
    -------
    ray.data.Dataset
    """
    ray = require_ray()
    names, found = _names_and_manifest(paths, manifest)
    if parallelism is None:
        parallelism = 2 * max(1, int(ray.cluster_resources().get("CPU", 1))) if ray.is_initialized() else 8
    plans = plan_reads(names, stream, start_us=start_us, end_us=end_us, parallelism=parallelism,
                       rows_per_task=rows_per_task, manifest=found, reader_options=reader_options)
    columns = None if columns is None else list(columns)
    exact = start_us is None and end_us is None
    items = [(_read_blocks, (p, stream, columns, start_us, end_us, shard_column, reader_options),
              p.rows if exact else None, p.raw_bytes, p.shard) for p in plans]
    return _dataset(f"EncoderShards({stream})", items, parallelism, ray_remote_args)


def read_frames(paths, screen: int = 0, start_us: int | None = None, end_us: int | None = None, *,
                frames_per_task: int = FRAMES_PER_TASK, manifest=None, reader_options: dict | None = None,
                ray_remote_args: dict | None = None):
    """The frames of ``screen`` of many shards: rows ``{shard, index, t, frame}`` (``frame`` an
    H x W (x C) uint8 tensor as stored, ``t`` in µs), ``frames_per_task`` frames per read task."""
    require_ray()
    names, found = _names_and_manifest(paths, manifest)
    if found is not None:
        found.check(names, reader_options=reader_options)
        counts = {n: dict(found.entry(n)["frames"] or []).get(screen, 0) for n in names}
    else:
        counts = {}
        for name in names:
            reader, handle = open_shard(name, None, reader_options)
            try:
                counts[name] = reader.frame_count(screen) if "frame" in reader.streams else 0
            finally:
                reader.close()
                close_quietly(handle)
    items = [(_read_frames, (n, (i, min(i + frames_per_task, counts[n])), screen, start_us, end_us, reader_options),
              None, None, n) for n in names for i in range(0, counts[n], frames_per_task)]
    return _dataset(f"EncoderFrames({screen})", items, len(items), ray_remote_args)


def derive_actions(paths, *, screen: int = 0, rules=None, reader_options: dict | None = None,
                   ray_remote_args: dict | None = None):
    """:func:`encoder.actions.derive` of every shard of ``paths`` (one read task each) as a
    ``ray.data.Dataset`` of the actions table plus a ``shard`` column: the same rows as the
    per-shard tables concatenated in ``paths`` order."""
    require_ray()
    names = expand(paths)
    items = [(_derive, (n, screen, rules, reader_options), None, os.path.getsize(n) if os.path.exists(n) else None, n)
             for n in names]
    return _dataset("EncoderActions", items, len(items), ray_remote_args)


__all__ = ["FRAMES_PER_TASK", "ReadPlan", "derive_actions", "plan_reads", "read_frames", "read_shards",
           "require_ray"]
