"""Drawing panes (:mod:`.panes`) over a frame's base grid on the read side.

Each pane's window is assembled into a buffer of its own (its cells are aligned to its
content, not to the frame), then the pane's rectangle is copied into the frame. Sequential
reads keep the buffers: a pane whose cells did not move redraws only the cells whose ids
changed, and the places where base tiles were just written under it.
"""
from __future__ import annotations

import numpy as np

#: Above this many cells to redraw, a pane's whole rectangle is copied in one go.
_FEW = 64


def _inter(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


class PaneCanvas:
    """The buffers of one reader's panes (one screen at a time)."""

    def __init__(self, tile: int, channels: int):
        self.tile, self.channels = tile, channels
        self.held: dict[int, tuple] = {}   # number -> (Pane, buffer)

    def draw(self, out: np.ndarray, panes: dict, assemble, assemble_at, under: list | None = None) -> None:
        """Draw ``panes`` into ``out`` (rows of bytes) whose base grid was just written whole
        (``under`` None) or at the tile rectangles ``under``. ``assemble(buf, ids)`` and
        ``assemble_at(buf, ids, cells)`` write tiles of ids into a buffer."""
        t, ch = self.tile, self.channels
        for number in [n for n in self.held if n not in panes]:
            del self.held[number]
        for number, pane in sorted(panes.items()):
            rows, cols = pane.ids.shape
            held = self.held.get(number)
            same = held is not None and held[0].ids.shape == pane.ids.shape and \
                (held[0].cx, held[0].cy, held[0].r0, held[0].c0) == (pane.cx, pane.cy, pane.r0, pane.c0)
            gx, gy = pane.cx + pane.c0 * t, pane.cy + pane.r0 * t
            if not same:
                buf = np.empty((rows * t, cols * t * ch), np.uint8)
                assemble(buf, pane.ids.reshape(-1))
                self.held[number] = (pane, buf)
                self._copy(out, buf, pane.rect, gx, gy)
                continue
            old, buf = held
            rects = [] if under is None else [_inter(r, pane.rect) for r in under]
            if held[0] is not pane:
                cells = np.flatnonzero(old.ids.reshape(-1) != pane.ids.reshape(-1))
                if len(cells):
                    assemble_at(buf, pane.ids.reshape(-1), cells.astype(np.int64))
                    r, c = np.divmod(cells, cols)
                    rects += [(gx + int(x) * t, gy + int(y) * t, gx + int(x) * t + t, gy + int(y) * t + t)
                              for y, x in zip(r.tolist(), c.tolist())] if len(cells) <= _FEW else [pane.rect]
                self.held[number] = (pane, buf)
            if under is None or len(rects) > _FEW:
                rects = [pane.rect]
            for rect in rects:
                self._copy(out, buf, _inter(rect, pane.rect), gx, gy)

    def uncovered(self, panes: dict) -> list:
        """(x, y, w, h) of the rectangles of drawn panes that ``panes`` no longer has there."""
        out = []
        for number, (pane, _) in self.held.items():
            now = panes.get(number)
            if now is None or now.rect != pane.rect:
                x0, y0, x1, y1 = pane.rect
                out.append((x0, y0, x1 - x0, y1 - y0))
        return out

    def _copy(self, out: np.ndarray, buf: np.ndarray, rect, gx: int, gy: int) -> None:
        x0, y0, x1, y1 = rect
        if x1 > x0 and y1 > y0:
            ch = self.channels
            out[y0:y1, x0 * ch:x1 * ch] = buf[y0 - gy:y1 - gy, (x0 - gx) * ch:(x1 - gx) * ch]


def tile_rects(positions: np.ndarray, cols: int, tile: int) -> list:
    """Screen rectangles of grid positions (tiles of the base grid)."""
    r, c = np.divmod(np.asarray(positions), cols)
    return [(x * tile, y * tile, x * tile + tile, y * tile + tile) for y, x in zip(r.tolist(), c.tolist())]
