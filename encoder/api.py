"""One-shot helpers: a whole session to bytes and back."""
from __future__ import annotations

import io
from typing import Iterable, Mapping

import pyarrow as pa

from .shard import ShardReader, ShardWriter


def encode(streams: Mapping, *, metadata: dict | None = None, block_rows: int = 65536,
           level: int = 1) -> bytes:
    """Encode ``{stream name: pyarrow.Table or dict of arrays}`` into shard bytes.

    Examples
    --------
    >>> import numpy as np, encoder
    >>> data = encoder.encode({"pointer": {"t": [0, 8000, 16000], "x": [3, 4, 6], "y": [0, -1, -1]}})
    >>> encoder.decode(data)["pointer"].column("x").to_pylist()
    [3, 4, 6]
    """
    out = io.BytesIO()
    with ShardWriter(out, metadata=metadata, block_rows=block_rows, flush_seconds=None, level=level,
                     background=False) as writer:
        for name, table in streams.items():
            writer.write(name, table)
    return out.getvalue()


def decode(data, streams: Iterable[str] | None = None) -> dict[str, pa.Table]:
    """Decode shard bytes (or a path, or a file object) into ``{stream name: pyarrow.Table}``."""
    with ShardReader(data) as reader:
        names = list(reader.streams) if streams is None else list(streams)
        return {name: reader.read(name) for name in names}
