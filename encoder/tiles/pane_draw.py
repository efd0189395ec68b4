"""Drawing panes (:mod:`.panes`) over a frame's base grid on the read side.

A pane's cells are aligned to its content, not to the frame: each cell is copied straight
into the frame, clipped to the pane's rectangle (``draw_cells``, Numba). Sequential reads keep
the panes of the previous frame: a pane whose cells did not move redraws only the cells whose
ids changed and those over base tiles that were just written under it.
"""
from __future__ import annotations

import numpy as np


def _inter(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


class PaneCanvas:
    """The panes last drawn into one buffer (one screen at a time)."""

    def __init__(self, tile: int):
        self.tile = tile
        self.held: dict = {}   # number -> the Pane drawn

    def draw(self, out: np.ndarray, panes: dict, draw, under: list | None = None) -> None:
        """Draw ``panes`` into ``out`` whose base grid was just written whole (``under`` None)
        or only at the tile rectangles ``under``; ``draw(out, pane, cells)`` draws cells."""
        t = self.tile
        for number in [n for n in self.held if n not in panes]:
            del self.held[number]
        for number, pane in sorted(panes.items()):
            old = self.held.get(number)
            self.held[number] = pane
            rows, cols = pane.ids.shape
            same = old is not None and old.ids.shape == pane.ids.shape and \
                (old.cx, old.cy, old.r0, old.c0, old.rect) == (pane.cx, pane.cy, pane.r0, pane.c0, pane.rect)
            if under is None or not same:
                draw(out, pane, np.arange(rows * cols, dtype=np.int64))
                continue
            mask = np.zeros((rows, cols), bool)
            if old is not pane:
                mask |= old.ids != pane.ids
            gx, gy = pane.cx + pane.c0 * t, pane.cy + pane.r0 * t
            for x0, y0, x1, y1 in (_inter(r, pane.rect) for r in under):
                if x1 > x0 and y1 > y0:
                    mask[(y0 - gy) // t:(y1 - 1 - gy) // t + 1, (x0 - gx) // t:(x1 - 1 - gx) // t + 1] = True
            cells = np.flatnonzero(mask)
            if len(cells):
                draw(out, pane, cells.astype(np.int64))

    def uncovered(self, panes: dict) -> list:
        """(x, y, w, h) of the rectangles of drawn panes that ``panes`` no longer has there."""
        out = []
        for number, pane in self.held.items():
            now = panes.get(number)
            if now is None or now.rect != pane.rect:
                x0, y0, x1, y1 = pane.rect
                out.append((x0, y0, x1 - x0, y1 - y0))
        return out


def tile_rects(positions: np.ndarray, cols: int, tile: int) -> list:
    """Screen rectangles of grid positions (tiles of the base grid)."""
    r, c = np.divmod(np.asarray(positions), cols)
    return [(x * tile, y * tile, x * tile + tile, y * tile + tile) for y, x in zip(r.tolist(), c.tolist())]
