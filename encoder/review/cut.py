"""``cut``: a copy of a shard without the rows and frames of some time ranges.

Every row of every stream whose ``t`` lies in a dropped range is removed (string and binary
columns with it), and so is every frame whose time lies there. The frames that remain are
written anew (:mod:`encoder.review.rewrite`), so the output's tile store holds only tiles that
a kept frame shows: a tile the input stored for a dropped frame alone is gone, not merely
unreferenced. The metadata is kept, plus a ``cut`` entry that says which ranges were removed
(in seconds and on the session clock) and how many rows and frames, never what they held.

What a cut cannot remove: pixels of a kept frame. Text typed during a dropped range that a
later frame still shows stays in that frame (``redact`` blacks it out); a focus row before a
range still says which window had the focus through it.

>>> import numpy as np, os, tempfile, encoder
>>> folder = tempfile.mkdtemp()
>>> src, out = os.path.join(folder, "in.enc"), os.path.join(folder, "out.enc")
>>> with encoder.ShardWriter(src) as w:
...     w.write("pointer", {"t": np.arange(10) * 1_000_000, "x": np.arange(10), "y": np.arange(10)})
>>> report = cut(src, out, [parse_range("2-5")])
>>> encoder.ShardReader(out).read("pointer").column("t").to_pylist()
[0, 1000000, 5000000, 6000000, 7000000, 8000000, 9000000]
>>> report.rows_removed
{'pointer': 3}
"""
from __future__ import annotations

from .._version import __version__
from ..errors import EncoderError
from ..shard import ShardReader
from .ranges import TimeRange, any_contains, origin_us, parse_range
from .rewrite import Report, rewrite

__all__ = ["cut", "parse_range"]


def cut(path, out, drop: list[TimeRange], *, encryption_key_file=None, overwrite: bool = False) -> Report:
    """Write ``path`` without the time ranges ``drop`` into ``out`` (atomically, verified).

    Parameters
    ----------
    path, out : str or os.PathLike
        The input shard (only read) and the output file (refused when it exists, unless
        ``overwrite``; never the input).
    drop : list of TimeRange
        Ranges in seconds from the shard's first row (:func:`~encoder.review.ranges.parse_range`),
        ``start <= t < end``.
    encryption_key_file : str, optional
        Key of an encrypted input (default ``$ENCODER_KEY`` / ``$ENCODER_KEY_FILE``); the output
        is encrypted with the same key.

    Returns
    -------
    Report
        Rows per stream, frames per screen, unique tiles and bytes, before and after.
    """
    if not drop:
        raise EncoderError("nothing to cut: give at least one range to drop (--drop FROM-TO)")
    with ShardReader(path, encryption_key_file=encryption_key_file) as reader:
        origin = origin_us(reader)
    ranges = list(drop)
    entry = {"tool": "encoder cut", "version": __version__, "origin_us": origin,
             "seconds": [r.as_json() for r in ranges],
             "t_us": [[lo if r.start_s is not None else None, hi if r.end_s is not None else None]
                      for r in ranges for lo, hi in [r.bounds_us(origin)]]}

    def rows(stream, table):
        return ~any_contains(ranges, table.column("t").to_numpy(), origin)

    def frame_keep(info):
        return not any_contains(ranges, [info["t"]], origin)[0]

    def note(check, report):  # the output is checked before it is renamed into place
        if any(check.num_rows(s) and any_contains(ranges, check.read(s, ["t"]).column("t").to_numpy(),
                                                  origin).any() for s in check.streams):
            raise EncoderError("cut: the output still holds rows in a dropped range (a bug)", shard=check.name)

    return rewrite(path, out, rows=rows, frame_keep=frame_keep, entry=("cut", entry),
                   encryption_key_file=encryption_key_file, overwrite=overwrite, after=note)
