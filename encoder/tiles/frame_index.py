"""The read side's frame index: every row of the ``frame`` stream but its grid.

Time, screen, size, pixel format and tile size of every frame, where it lies (block of the
``frame`` stream, row in that block), and each screen's rows and times (for ``frame_at``).
Built once per reader from the stream's small columns; the grids are read on demand.
"""
from __future__ import annotations

import numpy as np

from ..errors import CorruptShardError
from .layout import CHANNELS, FORMAT_NAMES, FRAME, MAX_SIDE, MAX_TILE, MIN_TILE


class FrameIndex:
    """The frames of one shard; ``shard`` is its block reader (``streams``, ``read``, ``block_rows``)."""

    def __init__(self, shard):
        if "frame" not in shard.streams:
            cols = {c: np.zeros(0, np.int64) for c in ("t", "screen", "width", "height", "format", "tile")}
            sizes = []
        else:
            declared = shard.streams["frame"]
            if list(declared.names) != [c.name for c in FRAME.columns] or declared != FRAME.arrow_schema:
                # a shard may declare any stream, but one named "frame" is the tile layer's
                raise CorruptShardError(f"the frame stream's schema is not the frame schema: {declared.names}",
                                        shard=shard.name, stream="frame")
            table = shard.read("frame", ["t", "screen", "width", "height", "format", "tile"])
            cols = {c: table.column(c).to_numpy() for c in table.column_names}
            sizes = shard.block_rows("frame")
        self.t = cols["t"].astype(np.int64)
        self.screen = cols["screen"].astype(np.int64)
        self.width = cols["width"].astype(np.int64)
        self.height = cols["height"].astype(np.int64)
        self.format = cols["format"].astype(np.int64)
        self.tile = cols["tile"].astype(np.int64)
        if len(self.t):
            where = {"shard": shard.name, "stream": "frame"}
            if ((self.width < 1) | (self.width > MAX_SIDE) | (self.height < 1) | (self.height > MAX_SIDE)).any():
                raise CorruptShardError(f"a frame's size lies outside [1, {MAX_SIDE}]", **where)
            if ((self.tile < MIN_TILE) | (self.tile > MAX_TILE)).any():
                raise CorruptShardError(f"a frame's tile size lies outside [{MIN_TILE}, {MAX_TILE}]", **where)
            if not np.isin(self.format, list(CHANNELS)).all():
                raise CorruptShardError("unknown pixel format code", **where)
        starts = np.zeros(len(sizes) + 1, np.int64)
        np.cumsum(sizes, out=starts[1:])
        self.block_of = np.repeat(np.arange(len(sizes)), sizes)
        self.row_in_block = np.arange(len(self.t)) - starts[self.block_of] if len(self.t) else self.t
        self.block_start = starts
        self.rows_of = {int(s): np.flatnonzero(self.screen == s) for s in np.unique(self.screen)}
        self.times = {s: self.t[rows] for s, rows in self.rows_of.items()}
        self.sorted = {s: bool(len(t) < 2 or (np.diff(t) >= 0).all()) for s, t in self.times.items()}

    def rows(self, screen: int) -> np.ndarray:
        return self.rows_of.get(int(screen), np.zeros(0, np.int64))

    def row(self, index: int, screen: int) -> int:
        rows = self.rows(screen)
        n = len(rows)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"frame index must be an integer, not {type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"screen {screen} has {n} frames, no frame {index}")
        return int(rows[index])

    def at(self, t_us: int, screen: int) -> int:
        """Index (within the screen) of the last frame with ``t <= t_us``."""
        times = self.times.get(int(screen))
        if times is None or not len(times):
            raise IndexError(f"screen {screen} has no frames")
        if self.sorted[int(screen)]:
            i = int(np.searchsorted(times, t_us, side="right")) - 1
        else:  # times not monotonic: the latest time <= t_us, the last written of equals
            ok = np.flatnonzero(times <= t_us)
            i = int(ok[np.flatnonzero(times[ok] == times[ok].max())[-1]]) if len(ok) else -1
        if i < 0:
            raise IndexError(f"screen {screen} has no frame at or before t={t_us} (first at {int(times.min())})")
        return i

    def shape(self, row: int) -> tuple:
        ch = CHANNELS[int(self.format[row])]
        h, w = int(self.height[row]), int(self.width[row])
        return (h, w) if ch == 1 else (h, w, ch)

    def info(self, row: int) -> dict:
        return {"t": int(self.t[row]), "screen": int(self.screen[row]), "width": int(self.width[row]),
                "height": int(self.height[row]), "format": FORMAT_NAMES[int(self.format[row])],
                "tile": int(self.tile[row])}

    def same_layout(self, a: int, b: int) -> bool:
        """Whether rows ``a`` and ``b`` have the same size, format and tile size."""
        return (self.width[a], self.height[a], self.format[a], self.tile[a]) == \
            (self.width[b], self.height[b], self.format[b], self.tile[b])
