"""Ray Data over shards: many shards read, written, converted and derived on a cluster (docs/ray.md).

Needs the optional extra ``encoder[ray]`` (``pip install "ray[data]"``); ``import encoder``
does not import Ray, and this package imports it only when one of its functions runs.

* :func:`read_shards`: one stream's rows of many shards as a ``ray.data.Dataset`` of Arrow
  blocks; read tasks split large shards by block (each task reads a run of blocks of one shard);
* :func:`read_frames`: the frames of one screen, rows ``{shard, index, t, frame}``;
* :func:`write_shards`: a dataset's rows written as shards, one per write task;
* :func:`derive_actions`: :func:`encoder.actions.derive` of every shard, with a ``shard`` column;
* :func:`convert`: shards re-encoded or recordings imported, one output per input.

A manifest (``encoder index DIR``) found beside the shards gives the read plan without
opening every shard on the driver.
"""
from __future__ import annotations

from .convert import convert, convert_one, output_name
from .datasink import write_shards
from .datasource import derive_actions, plan_reads, read_frames, read_shards

__all__ = ["convert", "convert_one", "derive_actions", "output_name", "plan_reads", "read_frames", "read_shards",
           "write_shards"]
