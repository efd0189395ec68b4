"""``convert``: many inputs written into one folder, one shard per input, in one process or on Ray.

An input is a shard (re-encoded: every stream's rows and every frame written anew by
:func:`encoder.review.rewrite.rewrite`, which verifies the output; the current format
version and writer settings) or a recording of another tool (``agentnet``, ``ducktrack``:
:data:`encoder.importers.IMPORTERS`). Each input is converted by :func:`convert_one`, whether
in this process or in a Ray task, so both give the same shards.
"""
from __future__ import annotations

import os

from .._version import __version__
from ..errors import EncoderError
from ..importers import IMPORTERS
from ..review.rewrite import rewrite
from ..shard.format import MAGIC
from .datasource import require_ray

#: What an input may be: a shard, or one of the importers' formats.
FORMATS = ("auto", "shard", *sorted(IMPORTERS))


def is_shard(path) -> bool:
    """Whether ``path`` is a file that starts with the shard magic."""
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def output_name(src) -> str:
    """The output's file name: the shard's own name, or the recording folder's name + ``.enc``."""
    src = os.path.normpath(os.path.abspath(os.fspath(src)))
    if os.path.isfile(src) and not is_shard(src):  # a recording's events.jsonl: named after its folder
        src = os.path.dirname(src)
    if os.path.isfile(src):
        return os.path.splitext(os.path.basename(src))[0] + ".enc"
    return os.path.basename(src) + ".enc"


def convert_one(src, out_dir, *, source_format: str = "auto", overwrite: bool = False,
                encryption_key_file=None, options: dict | None = None) -> dict:
    """Convert ``src`` into ``out_dir/output_name(src)``; returns ``{"source", "shard", "format", "rows",
    "frames", "bytes"}``. ``options`` go to the importer (e.g. ``frames=True`` for agentnet)."""
    src, out_dir = os.fspath(src), os.fspath(out_dir)
    kind = source_format
    if kind == "auto":
        if not is_shard(src):
            raise EncoderError(f"{src} is not a shard: name the recording's format with --from "
                               f"({', '.join(sorted(IMPORTERS))})")
        kind = "shard"
    if kind not in FORMATS:
        raise EncoderError(f"unknown input format {kind!r}; one of {', '.join(FORMATS)}")
    out = os.path.join(out_dir, output_name(src))
    if kind == "shard":
        report = rewrite(src, out, entry=("converted", {"tool": "encoder convert", "version": __version__}),
                         encryption_key_file=encryption_key_file, overwrite=overwrite)
        rows, frames = report.rows_after, sum(report.frames_after.values())
    else:
        if os.path.exists(out) and not overwrite:
            raise EncoderError(f"{out} exists: pass --overwrite to replace it")
        summary = IMPORTERS[kind](src, out, **(options or {}))
        rows, frames = dict(summary["rows"]), int(summary["frames"] or 0)
    return {"source": src, "shard": out, "format": kind, "rows": rows, "frames": frames,
            "bytes": os.path.getsize(out)}


def convert(sources, out_dir, *, use_ray: bool = False, source_format: str = "auto", overwrite: bool = False,
            encryption_key_file=None, options: dict | None = None, ray_remote_args: dict | None = None) -> list[dict]:
    """:func:`convert_one` of every input (in this process, or one Ray task each with
    ``use_ray``); returns their reports in ``sources`` order.

    Raises
    ------
    EncoderError
        Two inputs that would write the same output name (before anything is written).
    """
    sources = [os.fspath(s) for s in sources]
    names = [output_name(s) for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise EncoderError(f"several inputs would be written as {', '.join(twice)} in {out_dir}: "
                           "convert them into separate folders")
    os.makedirs(out_dir, exist_ok=True)
    kwargs = {"source_format": source_format, "overwrite": overwrite, "encryption_key_file": encryption_key_file,
              "options": options}
    if not use_ray:
        return [convert_one(s, out_dir, **kwargs) for s in sources]
    ray = require_ray()
    task = ray.remote(**({"num_cpus": 1} | (ray_remote_args or {})))(convert_one)
    return ray.get([task.remote(s, os.path.abspath(out_dir), **kwargs) for s in sources])


__all__ = ["FORMATS", "convert", "convert_one", "is_shard", "output_name"]
