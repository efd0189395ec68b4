"""Motion on the capture side: find regions that scrolled and keep them as panes.

:class:`Motion` replaces the plain compare of a screen's frame with its previous frame when
something changed. It finds a vertical scroll by any number of pixels the way VNC's
CopyRect encoders do: a hash of every 64-pixel strip of every changed row, in this frame
and in the previous one, votes for the shift that maps the most rows of one onto rows of
the other (only rows whose hash is unique in the previous frame vote, so blank lines do not);
the strips that agree on the winning shift, widened pixel by pixel, and the rows that match
under it give the rectangle. Without a vertical winner, the same vote on columns (hashes of
64-row bands) finds a horizontal scroll, and without either, a move along both axes (a window
dragged) is looked for: dx from the columns' pixel sums, then the vote on strips moved by dx.
That rectangle becomes a pane (:mod:`.panes`) whose cells are those of the base grid (so
they keep their ids), moved by the shift; a pane that scrolls again moves its cells along. Every cell is then compared exactly, pixel by pixel, with the
previous frame under its shift: the hashes only propose, nothing is assumed to have moved.

The frame thread's half, :class:`PaneIds`, turns the caller's pane updates into tile ids.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import grid_shape
from .panes import MAX_PANE_ID, Pane, rewindow, window_of
from .staging import Staging

#: Changed tiles below which a frame is not searched for motion (typing, a cursor), and the
#: area (in tiles) a moved rectangle needs to become or move a pane.
MIN_TILES, MIN_AREA = 48, 48
#: Strips side by side a vertical motion needs (fewer when the changed box is narrower): a
#: narrow column of a terminal that happens to match is not worth a pane.
MIN_STRIPS = 3
#: Most frames a changed box that showed no motion is skipped for (after repeated misses).
BACKOFF = 8
#: Width of the strips whose row hashes vote (pixels), and the rows a shift needs; columns
#: are hashed over every SAMPLE-th row of their band (horizontal scrolls are rare: 1/8 the cost).
STRIP, MIN_ROWS, SAMPLE = 64, 24, 8
#: Normalised correlation of the column profiles a diagonal move needs before its strips are
#: hashed (corpus: moves found 0.36-1.0, nearly all > 0.65; searches in vain median 0.16-0.41,
#: half of them or more refused; 0.5 refused more but lost moves, +3 % bytes in `windows`).
PEAK = 0.3
#: Panes per screen the writer keeps; an unmoved pane is dissolved when this share of its cells changed.
MAX_PANES, DISSOLVE = 4, 0.5


def _inter(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


_NO_FLAGS = np.zeros((0, 0), np.uint8)  # compare_shifted with nothing to compare: a copy alone


def _area(r) -> int:
    return max(0, r[2] - r[0]) * max(0, r[3] - r[1])


def _shift(r, dx: int, dy: int):
    return (r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy)


@dataclass
class _Geometry:
    rect: tuple
    cx: int
    cy: int


class Motion:
    """Caller-side motion state of one screen (its panes' geometry)."""

    def __init__(self, kernels, height: int, width: int, channels: int, tile: int, staging=None):
        self.k, self.height, self.width, self.channels, self.tile = kernels, height, width, channels, tile
        self.staging = staging or Staging(kernels, 0)   # where staged tiles go (encoder.tiles.staging)
        self.rows, self.cols = grid_shape(height, width, tile)
        self.panes: dict[int, _Geometry] = {}
        self._hidden: tuple = ((), None)
        # Row hashes of the previous frame (strips of STRIP px from x = 0), valid where known:
        # a frame's hashes serve as the next frame's "previous" ones, so a scroll hashes once.
        # The strips sit on the screen's grid, not at the changed box's edge: boxes that move
        # (an animation beside a scroll) keep the hashes the frames before computed.
        # Known per tile row: a changed tile forgets the strips it touches in its rows.
        self._hashes = np.zeros((height, width // STRIP), np.uint64)
        self._known = np.zeros((self.rows, width // STRIP), bool)
        self._fresh = None   # (y0, y1, s0, s1, hashes) of this frame, once computed
        self._frame, self._missed = 0, (None, 0, 0)   # (box, misses in a row, next frame to search it)
        self.stats = {"motion_frames": 0, "panes_created": 0, "panes_dissolved": 0, "pane_tiles": 0}

    def stage(self, rows: np.ndarray, prev: np.ndarray, candidates) -> tuple:
        """(base positions, their tiles, pane updates) of a frame; leaves ``prev`` equal to it.

        Pane updates are ``("drop", number)`` or ``("set", number, rect, cx, cy, from_base,
        cells, tiles)``: ``cells`` (flat, in the pane's new window) need the ``tiles``, every
        other cell keeps the id it had (in the pane, or in the base grid when ``from_base``).
        """
        k, ch, tile = self.k, self.channels, self.tile
        positions = k.stage(rows, prev, ch, tile, candidates, copy=False)
        if not len(positions):
            return positions, np.empty((0, tile * tile * ch), np.uint8), []
        bbox, dirty = self._bbox(positions), self._dirty(positions)
        try:
            return self._changed(rows, prev, candidates, positions, bbox, dirty)
        finally:  # the strips changed tiles touch: their hashes are this frame's, or unknown
            self._known &= ~dirty[:, :self._known.shape[1]]
            if self._fresh is not None:
                y0, y1, s0, s1, hashes = self._fresh
                self._hashes[y0:y1, s0:s1] = hashes
                self._known[y0 // self.tile:-(-y1 // self.tile), s0:s1] = True
                self._fresh = None

    def _changed(self, rows, prev, candidates, positions, bbox, dirty) -> tuple:
        k, ch, tile = self.k, self.channels, self.tile
        touched = [n for n, g in self.panes.items() if _area(_inter(g.rect, bbox)) and
                   self._meets(g.rect, positions)]
        moves, created, evicted = {}, None, []
        found = None
        self._frame += 1
        if len(positions) >= MIN_TILES and not (bbox == self._missed[0] and self._frame < self._missed[2]):
            found = self._detect(rows, prev, dirty, bbox)
            if found is not None and _area(found[0]) < MIN_AREA * tile * tile:
                found = None  # a small moving part (a ticker, a sparkline): its tiles cost less than a pane
            if found is None:  # the same box again (an animation) is searched less and less often
                misses = self._missed[1] + 1 if bbox == self._missed[0] else 1
                self._missed = (bbox, misses, self._frame + min(BACKOFF, (1 << misses) - 1))
            else:
                self._missed = (None, 0, 0)
        if found is not None:
            rect, dx, dy = found
            target = self._target(rect)
            if target is not None:
                moves[target] = (dx, dy)
            else:
                # Panes of an older layout (a window since moved or resized) that the motion
                # overlaps go back to the base grid now, and the motion makes a pane from the
                # next scroll on (the base ids under them are stale until this frame).
                evicted = [n for n, g in self.panes.items()
                           if any(_area(_inter(g.rect, r)) for r in (rect, _shift(rect, -dx, -dy)))]
                if not evicted and len(self.panes) < MAX_PANES:
                    created = min(set(range(MAX_PANE_ID + 1)) - set(self.panes))
                    self.panes[created] = _Geometry(rect, 0, 0)
                    moves[created] = (dx, dy)
        if not touched and not moves and not evicted:  # the plain path: no pane in the way
            tiles = self.staging.gather(rows, ch, tile, positions)
            k.scatter(prev, ch, tile, positions, tiles)
            return positions, tiles, []
        self.stats["motion_frames"] += bool(moves)
        ops, dropped, copied = [], [], []
        for number in evicted:
            ops.append(("drop", number))
            dropped.append(self.panes.pop(number).rect)
            self.stats["panes_dissolved"] += 1
        numbers = sorted(set(touched) - set(evicted) | set(moves))
        for number in numbers:
            g = self.panes[number]
            dx, dy = moves.get(number, (0, 0))
            from_base = number == created
            valid = (0, 0, self.width, self.height) if from_base else g.rect
            cx, cy = g.cx + dx, g.cy + dy
            r0, c0, nr, nc = window_of(g.rect, cx, cy, tile)
            flags = np.zeros((nr, nc), np.uint8)
            sure = _inter(g.rect, _shift(valid, dx, dy))  # pixels whose source lies in the old content
            region = sure if number in moves else _inter(sure, bbox)
            # A lone moving pane's pixels go to prev in the comparison's pass (while in cache);
            # with several panes, one's copy could land where another's comparison reads.
            fused = len(numbers) == 1 and number in moves
            if _area(region) or fused:
                k.compare_shifted(rows, prev, ch, tile, region, dx, dy, cx + c0 * tile, cy + r0 * tile, flags,
                                  copy=g.rect if fused else None)
            self._flag_outside(flags, g.rect, sure, cx + c0 * tile, cy + r0 * tile)
            cells = np.flatnonzero(flags).astype(np.int32)
            if number not in moves and len(cells) > DISSOLVE * flags.size:
                ops.append(("drop", number))  # its content was replaced: back to the base grid
                dropped.append(g.rect)
                del self.panes[number]
                self.stats["panes_dissolved"] += 1
                continue
            copied.append((g.rect if number in moves else _inter(g.rect, bbox), fused))
            if number not in moves and not len(cells):
                continue
            tiles = self.staging.gather_cells(rows, ch, tile, cx, cy, r0 + cells // nc, c0 + cells % nc)
            ops.append(("set", number, g.rect, cx, cy, from_base, cells, tiles))
            self.panes[number] = _Geometry(g.rect, cx, cy)
            self.stats["pane_tiles"] += len(cells)
            self.stats["panes_created"] += from_base
        copied = [(rect, fused) for rect, fused in copied if _area(rect)]
        for rect, fused in copied:  # the panes' pixels are done with: prev takes them (the
            if not fused:           # kernel's copy, not NumPy's: see compare_shifted)
                k.compare_shifted(rows, prev, ch, tile, (0, 0, 0, 0), 0, 0, 0, 0, _NO_FLAGS, copy=rect)
        # The base tiles: those that changed, but not under a pane, and those under dropped
        # panes (their base ids are stale). Prev changed since the first comparison only where
        # panes were copied: the tiles touching them are compared again, the others are known.
        wanted = np.zeros(self.rows * self.cols, bool)
        wanted[positions] = True
        wanted &= ~self._hidden_mask()
        forced = self._touching(dropped)
        again = wanted & ~forced & self._touching([rect for rect, _ in copied])
        wanted[again] = False
        wanted[k.stage(rows, prev, ch, tile, again, copy=False)] = True
        wanted |= forced
        base = np.flatnonzero(wanted).astype(np.int32)
        tiles = self.staging.gather(rows, ch, tile, base)
        k.scatter(prev, ch, tile, base, tiles)
        return base, tiles, ops

    # -- geometry -----------------------------------------------------------------------
    def _bbox(self, positions: np.ndarray) -> tuple:
        ty, tx = np.divmod(positions, self.cols)
        t = self.tile
        return (int(tx.min()) * t, int(ty[0]) * t, min(self.width, (int(tx.max()) + 1) * t),
                min(self.height, (int(ty[-1]) + 1) * t))

    def _tile_mask(self, rect, inside: bool) -> np.ndarray:
        """Grid positions (bool[rows, cols]) inside ``rect`` (whole tiles) or touching it."""
        t = self.tile
        x0, y0, x1, y1 = rect
        ys = np.arange(self.rows) * t
        xs = np.arange(self.cols) * t
        if inside:
            ry = (ys >= y0) & (np.minimum(ys + t, self.height) <= y1)
            rx = (xs >= x0) & (np.minimum(xs + t, self.width) <= x1)
        else:
            ry = (ys < y1) & (ys + t > y0)
            rx = (xs < x1) & (xs + t > x0)
        return ry[:, None] & rx[None, :]

    def _meets(self, rect, positions: np.ndarray) -> bool:
        return bool(self._tile_mask(rect, False).reshape(-1)[positions].any())

    def _touching(self, rects: list) -> np.ndarray:
        mask = np.zeros((self.rows, self.cols), bool)
        for r in rects:
            mask |= self._tile_mask(r, False)
        return mask.reshape(-1)

    def _hidden_mask(self) -> np.ndarray:
        """Base positions wholly under a pane: never compared, never stored while it is there."""
        rects = tuple(sorted(g.rect for g in self.panes.values()))
        if self._hidden[0] != rects or self._hidden[1] is None:
            mask = np.zeros((self.rows, self.cols), bool)
            for r in rects:
                mask |= self._tile_mask(r, True)
            self._hidden = (rects, mask.reshape(-1))
        return self._hidden[1]

    def _flag_outside(self, flags: np.ndarray, rect, sure, gx: int, gy: int) -> None:
        """Flag the cells holding a pixel of ``rect`` outside ``sure`` (content not seen before)."""
        t = self.tile
        x0, y0, x1, y1 = rect
        if not _area(sure):
            flags[...] = 1
            return
        sx0, sy0, sx1, sy1 = sure
        for a, b, c, d in ((x0, y0, x1, sy0), (x0, sy1, x1, y1), (x0, y0, sx0, y1), (sx1, y0, x1, y1)):
            if b < d and a < c:
                flags[(b - gy) // t:(d - 1 - gy) // t + 1, (a - gx) // t:(c - 1 - gx) // t + 1] = 1

    def _target(self, rect):
        """The pane that a motion found in ``rect`` moves: the one it mostly covers and that
        mostly covers it (None: no such pane)."""
        best = None
        for number, g in self.panes.items():
            common = _area(_inter(g.rect, rect))
            if common * 2 >= _area(rect) and common * 2 >= _area(g.rect):
                if best is None or common > best[0]:
                    best = (common, number)
        return None if best is None else best[1]

    # -- detection ----------------------------------------------------------------------
    def _detect(self, rows: np.ndarray, prev: np.ndarray, dirty: np.ndarray, bbox: tuple):
        """(rect, dx, dy) of a vertical scroll in the changed box, else of a horizontal one, or None."""
        x0, y0, x1, y1 = bbox
        k, ch = self.k, self.channels
        s0, s1 = -(-x0 // STRIP), x1 // STRIP   # the strips inside the box
        old = None
        if s1 > s0 and y1 - y0 >= 2 * MIN_ROWS:
            at = s0 * STRIP
            cur, old = self._row_hashes(rows, prev, dirty, y0, y1, s0, s1)
            self._fresh = (y0, y1, s0, s1, cur)
            vote = _vote(k, cur, old, MIN_STRIPS)
            if vote is not None:
                shift, sa, sb, ma, mb, ra, rb = vote
                left, right = self._widen(rows, prev, (at + sa * STRIP, at + sb * STRIP), (y0 + ma, y0 + mb),
                                          shift, (x0, x1), across=True)
                return (left, y0 + ra, right, y0 + rb), 0, -shift
        if (y1 - y0) // STRIP and x1 - x0 >= 2 * MIN_ROWS:
            bands = (y1 - y0) // STRIP
            vote = _vote(k, k.col_hashes(rows, ch, y0, STRIP, bands, x0, x1, SAMPLE),
                         k.col_hashes(prev, ch, y0, STRIP, bands, x0, x1, SAMPLE))
            if vote is not None:
                shift, sa, sb, ma, mb, ra, rb = vote
                top, bottom = self._widen(rows, prev, (y0 + sa * STRIP, y0 + sb * STRIP), (x0 + ma, x0 + mb),
                                          shift, (y0, y1), across=False)
                return (x0 + ra, top, x0 + rb, bottom), -shift, 0
        return self._diagonal(rows, prev, bbox, old)

    def _diagonal(self, rows: np.ndarray, prev: np.ndarray, bbox: tuple, old: np.ndarray | None = None):
        """(rect, dx, dy) of a region moved along both axes (a window dragged), or None. The
        strips of one axis no longer line up, so ``dx`` comes first, from the column profiles
        of the box (pixel sums over every SAMPLE-th row: a move inside the box shifts them by
        dx, whatever dy; the peak of their cross-correlation, static content's at 0 left out),
        then the vertical vote on this frame's strips moved by ``dx`` gives ``dy``. ``old``: the
        previous frame's hashes of the strips inside the box, when the vertical search has them."""
        x0, y0, x1, y1 = bbox
        k, ch, width = self.k, self.channels, self.width
        if x1 - x0 < (MIN_STRIPS + 1) * STRIP or y1 - y0 < 2 * MIN_ROWS:
            return None
        profiles = [np.diff(k.col_sums(f, ch, y0, y1, SAMPLE, x0, x1)) for f in (rows, prev)]
        profiles = [p - p.mean() for p in profiles]
        n = 1 << (2 * len(profiles[0]) - 1).bit_length()   # room for every shift, a fast FFT size
        spectra = [np.fft.rfft(p, n) for p in profiles]
        corr = np.fft.irfft(spectra[0] * np.conj(spectra[1]), n)   # corr[d] ~ sum new[x + d] * old[x]
        corr[:3], corr[-2:] = -np.inf, -np.inf                     # |dx| <= 2: static content, or no move
        dx = int(np.argmax(corr))
        energy = float(profiles[0] @ profiles[0]) * float(profiles[1] @ profiles[1])
        if not energy or corr[dx] < PEAK * np.sqrt(energy):
            return None   # no shift explains the profiles (or they are flat): not worth hashing strips
        dx = dx - n if dx > n // 2 else dx
        s0, s1 = max(-(-x0 // STRIP), -(-(x0 - dx) // STRIP)), min(x1 // STRIP, (x1 - dx) // STRIP)
        if s1 - s0 < MIN_STRIPS:  # (strips of both frames inside the box and the image)
            return None
        cur = k.row_hashes(rows, ch, s0 * STRIP + dx, STRIP, s1 - s0, y0, y1)   # new strips at old ones + dx
        if old is None:
            old = k.row_hashes(prev, ch, s0 * STRIP, STRIP, s1 - s0, y0, y1)
        else:  # the box's strips from its first whole one: these are among them
            first = -(-x0 // STRIP)
            old = old[:, s0 - first:s1 - first]
        vote = _vote(k, cur, np.ascontiguousarray(old), MIN_STRIPS)
        if vote is None:
            return None
        shift, sa, sb, ma, mb, ra, rb = vote
        at = s0 * STRIP + dx
        left, right = self._widen(rows, prev, (at + sa * STRIP, at + sb * STRIP), (y0 + ma, y0 + mb), shift,
                                  (max(x0, dx), min(x1, width + dx)), across=True, dx=dx)
        return (left, y0 + ra, right, y0 + rb), dx, -shift

    def _row_hashes(self, rows, prev, dirty, y0: int, y1: int, s0: int, s1: int) -> tuple:
        """Row hashes of the strips ``s0:s1`` over rows ``y0:y1``, this frame's and the previous
        one's. A strip that no changed tile touches in a row has the same pixels in both frames:
        it is hashed once, or not at all when the previous frame's hash is remembered."""
        k, ch, t = self.k, self.channels, self.tile
        cached = self._hashes[y0:y1, s0:s1]
        # per row from per tile row (y0 is a tile row's first row)
        known, dirty = (np.repeat(m[y0 // t:-(-y1 // t), s0:s1], t, axis=0)[:y1 - y0]
                        for m in (self._known, dirty))
        cur = k.row_hashes(rows, ch, s0 * STRIP, STRIP, s1 - s0, y0, y1, out=cached.copy(), todo=dirty | ~known)
        old = np.where(known, cached, cur)
        return cur, k.row_hashes(prev, ch, s0 * STRIP, STRIP, s1 - s0, y0, y1, out=old, todo=dirty & ~known)

    def _dirty(self, positions: np.ndarray) -> np.ndarray:
        """bool[tile rows, strips + 1]: the strips of each tile row that a changed tile touches
        (the last column: the part of a strip at the right edge, never hashed)."""
        t = self.tile
        ty, tx = np.divmod(positions, self.cols)
        first = tx * t // STRIP
        last = (np.minimum((tx + 1) * t, self.width) - 1) // STRIP
        grid = np.zeros((self.rows, self.width // STRIP + 1), bool)  # + the strip a tile overhangs into
        for off in range(-(-t // STRIP) + 1):
            ok = first + off <= last
            grid[ty[ok], first[ok] + off] = True
        return grid

    def _widen(self, rows, prev, edges: tuple, span: tuple, shift: int, limits: tuple, across: bool,
               dx: int = 0):
        """Move the strips' ``edges`` outwards, pixel by pixel, while the lines across them
        (columns of a vertical scroll, rows of a horizontal one) match under the shift over
        ``span``, within ``limits`` (``dx``: the columns of a vertical shift also moved by it)."""
        ch = self.channels
        a, b = span

        def equal(lo: int, hi: int) -> np.ndarray:
            if across:  # which columns of [lo, hi) match over the rows a..b
                differs = (rows[a:b, lo * ch:hi * ch] !=
                           prev[a + shift:b + shift, (lo - dx) * ch:(hi - dx) * ch]).any(axis=0)
                return ~differs.reshape(hi - lo, ch).any(axis=1)
            differs = rows[lo:hi, a * ch:b * ch] != prev[lo:hi, (a + shift) * ch:(b + shift) * ch]
            return ~differs.any(axis=1)
        left, right = edges
        lo = max(limits[0], left - STRIP)
        if lo < left:
            same = equal(lo, left)[::-1]
            left -= len(same) if same.all() else int(np.argmin(same))
        hi = min(limits[1], right + STRIP)
        if hi > right:
            same = equal(right, hi)
            right += len(same) if same.all() else int(np.argmin(same))
        return left, right


def _vote(k, cur: np.ndarray, old: np.ndarray, min_strips: int = 1):
    """The shift of lines (rows, or columns) that most strips agree on, from their hashes
    (``[line, strip]``, this frame and the previous): ``(shift, first strip, end strip,
    first matched line, end of matched lines, first line, end line)`` with ``cur[line] ==
    old[line + shift]`` over the strips, the lines widened by the shift on the side that
    scrolled into view; None without a clear winner. Only lines whose hash is unique in the
    previous frame (per strip) vote, so repeated lines (blank ones) do not."""
    n, strips = cur.shape
    tally = k.shift_votes(cur, old)
    total = tally.sum(axis=0)
    best = int(np.argmax(total))
    if total[best] < MIN_ROWS:
        return None
    voted = tally[:, best] >= MIN_ROWS
    if not voted.any():
        return None
    shift = best - n
    runs = np.flatnonzero(np.diff(np.concatenate([[0], voted.astype(np.int8), [0]])))
    widest = int(np.argmax(runs[1::2] - runs[::2]))
    sa, sb = int(runs[::2][widest]), int(runs[1::2][widest])
    if sb - sa < min(min_strips, strips):  # a narrow column that moved: not worth a pane
        return None
    match = np.zeros(n, bool)
    lo, hi = max(0, -shift), min(n, n - shift)   # the lines whose source line exists
    match[lo:hi] = (cur[lo:hi, sa:sb] == old[lo + shift:hi + shift, sa:sb]).all(axis=1)
    # A line that also equals itself unmoved (a flat background) matches any shift: it is no
    # evidence of this one (but it belongs to the region).
    if int((match & ~(cur[:, sa:sb] == old[:, sa:sb]).all(axis=1)).sum()) < MIN_ROWS:
        return None
    matched = np.flatnonzero(match)
    ma, mb = int(matched[0]), int(matched[-1]) + 1
    ra, rb = (ma, min(n, mb + shift)) if shift > 0 else (max(0, ma + shift), mb)  # + what came into view
    return shift, sa, sb, ma, mb, ra, rb


class PaneIds:
    """The frame thread's panes of one screen: the tile ids of every pane's window."""

    def __init__(self, tile: int):
        self.tile = tile
        self.panes: dict[int, Pane] = {}

    def apply(self, ops: list, base_ids: np.ndarray | None, grid: tuple, add_tiles) -> list:
        """Apply a frame's pane updates; ``base_ids`` are the previous frame's base ids (grid
        ``(rows, cols)``), ``add_tiles(tiles) -> ids`` stores tiles. Returns the changes
        ``[(number, Pane or None)]`` for the frame's row."""
        changes = []
        self.panes = dict(self.panes)  # rows waiting to be written keep the dict they saw
        for op in ops:
            if op[0] == "drop":
                del self.panes[op[1]]
                changes.append((op[1], None))
                continue
            _, number, rect, cx, cy, from_base, cells, tiles = op
            r0, c0, nr, nc = window_of(rect, cx, cy, self.tile)
            if from_base:
                ids = rewindow(base_ids.reshape(grid), 0, 0, r0, c0, nr, nc)
            else:
                old = self.panes[number]
                ids = rewindow(old.ids, old.r0, old.c0, r0, c0, nr, nc)
            flat = ids.reshape(-1)
            if len(cells):
                flat[cells] = add_tiles(tiles)
            if (flat < 0).any():
                raise AssertionError(f"internal: pane {number} has cells without a tile")
            pane = self.panes[number] = Pane(rect, cx, cy, r0, c0, ids)
            changes.append((number, pane))
        return changes

    def refresh(self, cells: dict, changes: list | None, store_again) -> tuple[list, int]:
        """Give the ``cells`` (pane number -> flat cells) of panes the ids of their tiles stored
        again (``store_again(ids) -> ids``, -1 for a tile the content store no longer holds:
        that cell keeps its id). Returns the frame's ``changes`` with those panes in, and how
        many cells took a new id. The tiles are the same: only the pages they lie in change."""
        self.panes = dict(self.panes)  # rows waiting to be written keep the dict they saw
        changes = list(changes or [])
        count = 0
        for number, flat in sorted(cells.items()):
            pane = self.panes[number]
            ids = pane.ids.copy()
            new = store_again(ids.reshape(-1)[flat])
            held = new >= 0
            ids.reshape(-1)[flat[held]] = new[held]
            count += int(held.sum())
            pane = self.panes[number] = Pane(pane.rect, pane.cx, pane.cy, pane.r0, pane.c0, ids)
            at = [i for i, (n, _) in enumerate(changes) if n == number]  # one entry per pane and row
            if at:
                changes[at[0]] = (number, pane)
            else:
                changes.append((number, pane))
        return changes, count
