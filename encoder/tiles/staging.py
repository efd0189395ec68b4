"""Reused memory for the tiles a frame stages (the caller's thread).

Every changed frame copies its changed tiles out of the image (``gather``, ``gather_cells``)
and looks them up before ``add_frame`` returns; the arrays are done with when it does. A new
array per frame is fresh memory each time under the recorder's allocator settings (a 128 KiB
``mmap`` threshold, docs/capture.md): 76 of the 159 pages the 2 fps browser sequence faulted in
per frame. One buffer reused frame after frame costs its high-water mark, at most ``limit``
bytes; a frame that stages more takes new arrays for the rest.
"""
from __future__ import annotations

import numpy as np

#: Bytes of staged tiles a frame takes from the reused buffer (a busy 1080p frame stages
#: 0.2-2 MB; the rest, rare, gets new arrays).
LIMIT = 2 << 20


class Staging:
    """The staging buffer of one frame writer; ``limit`` 0: a new array every time (a frame
    thread still holds a frame's tiles while the next one is staged)."""

    def __init__(self, kernels, limit: int = LIMIT):
        self.k, self.limit = kernels, limit
        self.buffer: np.ndarray | None = None
        self.used = 0

    def start(self) -> None:
        """A new frame: the previous frame's staged tiles are done with."""
        self.used = 0

    def _out(self, count: int, size: int) -> np.ndarray | None:
        end = self.used + count * size
        if end > self.limit or not self.limit:
            return None
        if self.buffer is None:  # touched only as far as frames use it
            self.buffer = np.empty(self.limit, np.uint8)
        out = self.buffer[self.used:end].reshape(count, size)
        self.used = end
        return out

    def gather(self, rows: np.ndarray, channels: int, tile: int, positions: np.ndarray) -> np.ndarray:
        return self.k.gather(rows, channels, tile, positions, out=self._out(len(positions), tile * tile * channels))

    def gather_cells(self, rows: np.ndarray, channels: int, tile: int, cx: int, cy: int, r, c) -> np.ndarray:
        return self.k.gather_cells(rows, channels, tile, cx, cy, r, c, out=self._out(len(r), tile * tile * channels))
