"""Writing a Ray dataset as shards: :func:`write_shards` (a ``ray.data.Datasink``).

Each write task writes the rows of its blocks as one shard of one stream, named from the
task's index (``part-00003.enc``), so a rerun of the same pipeline writes the same names.
A shard is written beside its name and renamed into place once closed: a failed task leaves
no partial file.
"""
from __future__ import annotations

import functools
import os

import pyarrow as pa

from ..errors import EncoderError
from ..review.rewrite import stream_spec
from ..shard import ShardWriter
from ..streams import STREAMS
from .datasource import require_ray


def write_blocks(blocks, path: str, stream: str, *, drop=("shard",), metadata: dict | None = None,
                 block_rows: int = 65536, level: int = 1) -> dict | None:
    """Write the rows of ``blocks`` (Arrow tables of ``stream``'s columns; ``drop`` columns left
    out) as the shard ``path``; returns ``{"path", "rows"}``, or None (no file) when there are no rows."""
    temp, rows, writer = path + ".partial", 0, None
    try:
        for block in blocks:
            table = block if isinstance(block, pa.Table) else pa.Table.from_pandas(block, preserve_index=False)
            table = table.drop_columns([c for c in drop if c in table.column_names])
            if not table.num_rows:
                continue
            if writer is None:
                writer = ShardWriter(temp, metadata=metadata or {}, flush_seconds=None, background=False,
                                     block_rows=block_rows, level=level)
                if stream not in STREAMS:
                    writer.declare(stream_spec(stream, table.schema))
            writer.write(stream, table)
            rows += table.num_rows
        if writer is None:
            return None
        writer.close()
        os.replace(temp, path)
    except BaseException:
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return {"path": path, "rows": rows}


@functools.cache
def _sink_class():
    require_ray()
    from ray.data import Datasink

    class ShardDatasink(Datasink):
        """One shard per write task: ``folder/{prefix}-{task index:05d}.enc``."""

        def __init__(self, folder: str, stream: str, prefix: str, options: dict):
            self.folder, self.stream, self.prefix, self.options = folder, stream, prefix, options
            self.written: list[dict] = []

        def get_name(self) -> str:
            return f"EncoderShards({self.stream})"

        def on_write_start(self, schema=None) -> None:
            os.makedirs(self.folder, exist_ok=True)

        def write(self, blocks, ctx):
            path = os.path.join(self.folder, f"{self.prefix}-{ctx.task_idx:05d}.enc")
            return write_blocks(blocks, path, self.stream, **self.options)

        def on_write_complete(self, write_result) -> None:
            self.written = sorted((r for r in write_result.write_returns if r), key=lambda r: r["path"])

    return ShardDatasink


def write_shards(ds, folder, stream: str, *, prefix: str = "part", drop=("shard",), metadata: dict | None = None,
                 block_rows: int = 65536, level: int = 1, ray_remote_args: dict | None = None) -> list[dict]:
    """Write the rows of ``ds`` (columns of ``stream``; ``drop`` columns left out) as shards in
    ``folder``, one per write task, named ``{prefix}-{task:05d}.enc``.

    Returns
    -------
    list of dict
        ``{"path", "rows"}`` of each shard written, by path.

    Raises
    ------
    EncoderError
        ``folder`` already holds shards of that prefix (nothing is overwritten).
    """
    folder = os.fspath(folder)
    if os.path.isdir(folder) and any(f.startswith(prefix + "-") and f.endswith(".enc") for f in os.listdir(folder)):
        raise EncoderError(f"{folder} already holds {prefix}-*.enc shards: write into an empty folder")
    sink = _sink_class()(folder, stream, prefix, {"drop": tuple(drop), "metadata": metadata,
                                                  "block_rows": block_rows, "level": level})
    ds.write_datasink(sink, ray_remote_args=ray_remote_args)
    return sink.written


__all__ = ["write_blocks", "write_shards"]
