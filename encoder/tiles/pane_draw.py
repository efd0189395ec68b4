"""Drawing panes (:mod:`.panes`) over a frame's base grid on the read side.

A pane's cells are aligned to its content, not to the frame: each cell is copied straight
into the frame, clipped to the pane's rectangle (``draw_cells``, Numba). Sequential reads keep
the panes of the previous frame: a pane whose cells did not move redraws only the cells whose
ids changed and those over base tiles that were just written under it. A pane whose content
moved inside the same rectangle (a scroll) first moves the pixels it already shows
(:meth:`PaneCanvas.shift`, VNC's CopyRect on the read side) and then draws only the cells that
moved into view or changed: a row copy instead of a tile-by-tile redraw of the whole pane.
"""
from __future__ import annotations

import numpy as np

from .panes import rewindow


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _same_place(old, pane) -> bool:
    return old.ids.shape == pane.ids.shape and \
        (old.cx, old.cy, old.r0, old.c0, old.rect) == (pane.cx, pane.cy, pane.r0, pane.c0, pane.rect)


def visible(pane, tile: int) -> tuple:
    """Each cell's part inside the pane's rectangle: ``left``, ``right`` (per column) and
    ``top``, ``bottom`` (per row, as a column so that they broadcast to the window's shape)."""
    rows, cols = pane.ids.shape
    gx, gy = pane.cx + pane.c0 * tile, pane.cy + pane.r0 * tile
    x0, y0, x1, y1 = pane.rect
    return (np.maximum(gx + tile * np.arange(cols), x0), np.minimum(gx + tile * np.arange(1, cols + 1), x1),
            np.maximum(gy + tile * np.arange(rows), y0)[:, None],
            np.minimum(gy + tile * np.arange(1, rows + 1), y1)[:, None])


class PaneCanvas:
    """The panes last drawn into one buffer (one screen at a time)."""

    def __init__(self, tile: int):
        self.tile = tile
        self.held: dict = {}   # number -> the Pane drawn
        self.moved: dict = {}  # number -> (rectangle shifted into place, the pane it held)

    def shift(self, out: np.ndarray, panes: dict, channels: int) -> None:
        """Before a frame's base tiles are written into ``out`` (which still holds the previous
        frame): move the pixels of each pane whose content moved within the same rectangle.

        Only a pane that overlaps no other pane, before or now, is moved: its pixels are then
        its own drawing of the previous frame, cell for cell.
        """
        self.moved = {}
        for number, pane in panes.items():
            old = self.held.get(number)
            if old is None or old.rect != pane.rect or (old.cx, old.cy) == (pane.cx, pane.cy):
                continue
            others = [p.rect for n, p in self.held.items() if n != number] + \
                [p.rect for n, p in panes.items() if n != number]
            if any(_overlap(pane.rect, r) for r in others):
                continue
            dx, dy = pane.cx - old.cx, pane.cy - old.cy
            x0, y0, x1, y1 = pane.rect
            into = (max(x0, x0 + dx), max(y0, y0 + dy), min(x1, x1 + dx), min(y1, y1 + dy))
            if into[2] <= into[0] or into[3] <= into[1]:
                continue
            a, b, c, d = into
            step = abs(dy)
            if step < 16:  # NumPy sees the overlap and copies through a buffer: exact either way
                step = d - b
            # bands of |dy| rows whose source and destination do not overlap: copied directly,
            # the band nearest the move's end first so that no band reads rows already written
            starts = range(b, d, step) if dy <= 0 else reversed(range(b, d, step))
            for y in starts:
                e = min(y + step, d)
                out[y:e, a * channels:c * channels] = out[y - dy:e - dy, (a - dx) * channels:(c - dx) * channels]
            self.moved[number] = (into, old)

    def draw(self, out: np.ndarray, panes: dict, draw, positions: np.ndarray | None = None, cols: int = 0) -> None:
        """Draw ``panes`` into ``out`` whose base grid was just written whole (``positions``
        None) or only at ``positions`` (flat, in a base grid of ``cols`` columns); ``draw(out,
        pane, cells)`` draws cells."""
        t = self.tile
        for number in [n for n in self.held if n not in panes]:
            del self.held[number]
        under = None
        if positions is not None and len(panes):
            under = _Written(positions, cols, t, out.shape[0])
        for number, pane in sorted(panes.items()):
            old = self.held.get(number)
            self.held[number] = pane
            rows, cols_ = pane.ids.shape
            moved = self.moved.get(number)
            if under is None or old is None or (moved is None and not _same_place(old, pane)):
                draw(out, pane, np.arange(rows * cols_, dtype=np.int64))
                continue
            mask = under.cells(pane)
            if moved is not None:
                (a, b, c, d), old = moved
                left, right, top, bottom = visible(pane, t)
                inside = (left >= a) & (right <= c) & (top >= b) & (bottom <= d)
                mask |= (rewindow(old.ids, old.r0, old.c0, pane.r0, pane.c0, rows, cols_) != pane.ids) | ~inside
            elif old is not pane:
                mask |= old.ids != pane.ids
            cells = np.flatnonzero(mask)
            if len(cells):
                draw(out, pane, cells.astype(np.int64))
        self.moved = {}

    def uncovered(self, panes: dict) -> list:
        """(x, y, w, h) of the rectangles of drawn panes that ``panes`` no longer has there."""
        out = []
        for number, pane in self.held.items():
            now = panes.get(number)
            if now is None or now.rect != pane.rect:
                x0, y0, x1, y1 = pane.rect
                out.append((x0, y0, x1 - x0, y1 - y0))
        return out


class _Written:
    """The base tiles just written under the panes: which cells of a pane lie over one."""

    def __init__(self, positions: np.ndarray, cols: int, tile: int, height: int):
        self.tile = tile
        self.rects = None
        self.table = None
        if len(positions) <= 64:  # a few tiles: their rectangles
            r, c = np.divmod(np.asarray(positions), cols)
            self.rects = [(x * tile, y * tile, (x + 1) * tile, (y + 1) * tile) for y, x in zip(r.tolist(), c.tolist())]
        else:  # many: a summed-area table answers any rectangle at once
            written = np.zeros(((height + tile - 1) // tile, cols), bool)
            written.reshape(-1)[positions] = True
            self.table = np.zeros((written.shape[0] + 1, cols + 1), np.int32)
            np.cumsum(np.cumsum(written, 0), 1, out=self.table[1:, 1:])

    def cells(self, pane) -> np.ndarray:
        """bool[rows, cols] of ``pane``'s window: True over a written base tile."""
        t = self.tile
        if self.rects is not None:
            gx, gy = pane.cx + pane.c0 * t, pane.cy + pane.r0 * t
            x0, y0, x1, y1 = pane.rect
            mask = np.zeros(pane.ids.shape, bool)
            for a, b, c, d in self.rects:
                a, b, c, d = max(a, x0), max(b, y0), min(c, x1), min(d, y1)
                if c > a and d > b:
                    mask[(b - gy) // t:(d - 1 - gy) // t + 1, (a - gx) // t:(c - 1 - gx) // t + 1] = True
            return mask
        left, right, top, bottom = visible(pane, t)  # the base tiles under each cell's visible part
        c0, c1, r0, r1 = left // t, (right - 1) // t + 1, top // t, (bottom - 1) // t + 1
        s = self.table
        return (s[r1, c1] - s[r0, c1] - s[r1, c0] + s[r0, c0]) > 0
