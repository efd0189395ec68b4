"""Panes: parts of a screen whose content moved, drawn from tiles that move with the content.

When a region scrolls by a number of pixels that is not a multiple of the tile size, every
screen-aligned tile of it changes although its content was seen one frame earlier. A *pane*
cuts such a region into tiles aligned to its content instead: cell ``(r, c)`` of a pane has
its top left pixel at ``(cx + c * tile, cy + r * tile)`` on the screen, and a scroll only
moves that origin; the cells that stay in view keep their tile ids, and only the cells that
scroll into view (or whose content changed) need tiles. A pane covers ``rect`` (screen
pixels ``[x0, x1) x [y0, y1)``) and is drawn over the frame's base grid, clipped to it; it
keeps the ids of the *window* of cells that ``rect`` touches (``r0``, ``c0`` and the shape
of ``ids``). Every id is a tile of the shard's content store, so a frame is still its grids
plus tiles: no frame depends on another frame's pixels, and random access costs what it did.

On disk (format 1.3, docs/tiles.md "Motion"), a frame row whose panes changed has a grid blob
of kind 2 (full) or 3 (delta): the kind byte, a varint length, the *pane section*, then the
base grid blob of kind 0 or 1 as before. A row of kind 1 keeps the screen's panes as they
were; kind 0 has none. The pane section is a varint count of records, each a varint pane
number and an op byte: 0 removes the pane, 1 sets it: zigzag varints ``x0, y0``, varints
``width, height``, zigzag ``cx, cy, r0, c0``, varints ``rows, cols``, a varint length and
the window's ids as a grid blob: full (kind 0), or a delta (kind 1) against the pane's
previous ids moved into the new window (cells new to the window must be in the delta).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import GRID_DELTA, GRID_FULL, Varints, put_varint, zigzag

#: Row kinds that carry a pane section before the base grid.
GRID_FULL_PANES, GRID_DELTA_PANES = 2, 3
#: Panes per screen and pane numbers (the reader refuses more).
MAX_PANES, MAX_PANE_ID = 16, 255
_REMOVE, _SET = 0, 1


@dataclass(frozen=True)
class Pane:
    """One pane of a frame: where it is drawn, where its cells lie, and their tile ids."""
    rect: tuple          # (x0, y0, x1, y1), screen pixels
    cx: int              # screen pixel of cell (0, 0)'s left edge
    cy: int
    r0: int              # the window's first cell row and column
    c0: int
    ids: np.ndarray      # int64[rows, cols]


def window_of(rect, cx: int, cy: int, tile: int) -> tuple[int, int, int, int]:
    """(r0, c0, rows, cols): the cells that ``rect`` touches in a grid at (cx, cy)."""
    x0, y0, x1, y1 = rect
    r0, c0 = (y0 - cy) // tile, (x0 - cx) // tile
    return r0, c0, (y1 - 1 - cy) // tile - r0 + 1, (x1 - 1 - cx) // tile - c0 + 1


def rewindow(ids: np.ndarray, r0: int, c0: int, new_r0: int, new_c0: int, rows: int, cols: int) -> np.ndarray:
    """``ids`` (a window at cell (r0, c0)) moved into a window of ``rows x cols`` cells at
    (new_r0, new_c0); cells the old window lacks are -1."""
    out = np.full((rows, cols), -1, np.int64)
    ra, rb = max(r0, new_r0), min(r0 + ids.shape[0], new_r0 + rows)
    ca, cb = max(c0, new_c0), min(c0 + ids.shape[1], new_c0 + cols)
    if ra < rb and ca < cb:
        out[ra - new_r0:rb - new_r0, ca - new_c0:cb - new_c0] = ids[ra - r0:rb - r0, ca - c0:cb - c0]
    return out


def encode_section(changes: list, before: dict, k) -> bytes:
    """The pane section of ``changes``: ``(number, Pane)`` to set, ``(number, None)`` to remove;
    ``before`` holds the panes as the previous row of the screen left them (delta base)."""
    out = bytearray()
    put_varint(out, len(changes))
    for number, pane in changes:
        put_varint(out, number)
        if pane is None:
            out.append(_REMOVE)
            continue
        out.append(_SET)
        x0, y0, x1, y1 = pane.rect
        rows, cols = pane.ids.shape
        for v in (zigzag(x0), zigzag(y0), x1 - x0, y1 - y0, zigzag(pane.cx), zigzag(pane.cy), zigzag(pane.r0),
                  zigzag(pane.c0), rows, cols):
            put_varint(out, v)
        old = before.get(number)
        ids = pane.ids.reshape(-1)
        if old is None:
            blob = k.encode_full(ids)
        else:
            base = rewindow(old.ids, old.r0, old.c0, pane.r0, pane.c0, rows, cols).reshape(-1)
            changed = np.flatnonzero(base != ids).astype(np.int32)
            blob = k.encode_delta(changed, ids[changed])
        put_varint(out, len(blob))
        out += blob
    return bytes(out)


def join(section: bytes | None, grid: bytes) -> bytes:
    """A row's blob: the base ``grid`` alone, or kind 2/3, the section, then the grid."""
    if section is None:
        return grid
    head = bytearray([GRID_FULL_PANES if grid[0] == GRID_FULL else GRID_DELTA_PANES])
    put_varint(head, len(section))
    return bytes(head) + section + grid


def split(blob: np.ndarray, bad) -> tuple[np.ndarray | None, np.ndarray]:
    """(pane section or None, base grid blob) of a row's blob."""
    if len(blob) == 0 or int(blob[0]) not in (GRID_FULL_PANES, GRID_DELTA_PANES):
        return None, blob
    r = Varints(blob, 1, len(blob), lambda message: bad(f"pane section: {message}"))
    size = r.varint()
    if size > len(blob) - r.pos:
        raise bad("pane section longer than its row")
    grid = blob[r.pos + size:]
    expected = GRID_FULL if int(blob[0]) == GRID_FULL_PANES else GRID_DELTA
    if len(grid) == 0 or int(grid[0]) != expected:
        raise bad(f"a row of kind {int(blob[0])} needs a base grid of kind {expected}")
    return blob[r.pos:r.pos + size], grid


def apply_section(section: np.ndarray, panes: dict, k, limit: int, width: int, height: int, tile: int,
                  bad) -> dict:
    """The panes after ``section`` (``panes``: before it; not modified); checks everything."""
    r = Varints(section, 0, len(section), lambda message: bad(f"pane section: {message}"))
    panes = dict(panes)
    count = r.varint()
    if count > 2 * MAX_PANES:
        raise bad(f"pane section of {count} records")
    for _ in range(count):
        number = r.varint()
        if number > MAX_PANE_ID or r.pos >= r.end:
            raise bad("pane number above 255 or op missing")
        op = int(section[r.pos])
        r.pos += 1
        if op == _REMOVE:
            if panes.pop(number, None) is None:
                raise bad(f"pane {number} removed but not there")
            continue
        if op != _SET:
            raise bad(f"unknown pane op {op}")
        x0, y0, w, h = r.signed(), r.signed(), r.varint(), r.varint()
        cx, cy, r0, c0 = r.signed(), r.signed(), r.signed(), r.signed()
        rows, cols = r.varint(), r.varint()
        rect = (x0, y0, x0 + w, y0 + h)
        if w < 1 or h < 1 or x0 < 0 or y0 < 0 or x0 + w > width or y0 + h > height:
            raise bad(f"pane {number} rectangle {rect} outside the {width}x{height} frame")
        if (r0, c0, rows, cols) != window_of(rect, cx, cy, tile):
            raise bad(f"pane {number}: its window does not match its rectangle")
        size = r.varint()
        if size > r.end - r.pos:
            raise bad(f"pane {number}: grid longer than the section")
        blob = section[r.pos:r.pos + size]
        r.pos += size
        old = panes.get(number)
        if len(blob) and int(blob[0]) == GRID_FULL:
            ids = np.empty(rows * cols, np.int64)
        elif old is None:
            raise bad(f"pane {number}: a delta grid for a pane that is not there")
        else:
            ids = rewindow(old.ids, old.r0, old.c0, r0, c0, rows, cols).reshape(-1)
        k.decode_grid(blob, ids, limit)
        if (ids < 0).any():
            raise bad(f"pane {number}: cells new to its window have no tile")
        panes[number] = Pane(rect, cx, cy, r0, c0, ids.reshape(rows, cols))
    if r.pos != r.end:
        raise bad("bytes left after the pane section")
    if len(panes) > MAX_PANES:
        raise bad(f"{len(panes)} panes on one screen")
    return panes


def all_ids(ids: np.ndarray, panes: dict) -> np.ndarray:
    """The base grid's ids and every pane's, in one array (to find the pages a frame needs)."""
    if not panes:
        return ids
    return np.concatenate([ids] + [p.ids.reshape(-1) for p in panes.values()])
