"""The pointer drawn into exported frames: an arrow at its position, rings where buttons went down.

Frames hold the screen without the pointer (X11 grabs leave it out), so a video of them
would not show where the person pointed. :class:`Cursor` draws, at a frame's time, a small
white arrow with a black outline at the last ``pointer`` row at or before it, and a ring at
each button press of the last :data:`CLICK_US` (red: left, green: middle, blue: right).

>>> import numpy as np
>>> cursor = Cursor(np.array([0]), np.array([5]), np.array([5]))
>>> image = np.full((40, 40, 3), 128, np.uint8)
>>> cursor.draw(image, 10)
>>> image[8, 6].tolist(), image[8, 4].tolist(), image[30, 30].tolist()
([255, 255, 255], [0, 0, 0], [128, 128, 128])
"""
from __future__ import annotations

import functools

import numpy as np

#: The arrow's outline, tip at (0, 0), in pixels (x, y).
ARROW = ((0, 0), (0, 17), (4, 13), (7, 20), (10, 19), (7, 12), (12, 12))
#: How long a click's ring stays (microseconds) and its radius and width (pixels).
CLICK_US, RING_RADIUS, RING_WIDTH = 400_000, 11, 3
BUTTON_COLORS = {1: (255, 50, 50), 2: (40, 210, 40), 3: (50, 130, 255)}


@functools.cache
def arrow_masks() -> tuple[np.ndarray, np.ndarray]:
    """``(fill, outline)``: bool masks of the arrow (even-odd rule) and the pixels around it.

    The masks have a one-pixel margin: the arrow's tip is at mask pixel (1, 1).
    """
    h, w = 23, 15
    ys, xs = np.mgrid[0:h, 0:w] - 0.5  # pixel centres, the tip at (1, 1)
    inside = np.zeros((h, w), bool)
    pts = ARROW + (ARROW[0],)
    for (x1, y1), (x2, y2) in zip(pts[:-1], pts[1:]):
        if y1 == y2:
            continue
        crosses = (ys >= min(y1, y2)) & (ys < max(y1, y2))
        x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (xs < x_at)
    inside[1, 1] = True  # the tip itself
    padded = np.pad(inside, 1)
    grown = np.zeros_like(inside)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return inside, grown & ~inside


def _paint(image: np.ndarray, mask: np.ndarray, x: int, y: int, color) -> None:
    """Set the pixels of ``mask`` (placed with its corner at x, y) to ``color``, clipped."""
    h, w = image.shape[:2]
    mh, mw = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + mw, w), min(y + mh, h)
    if x0 >= x1 or y0 >= y1:
        return
    part = mask[y0 - y:y1 - y, x0 - x:x1 - x]
    image[y0:y1, x0:x1][part] = color


@functools.cache
def ring_mask(radius: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    d = np.hypot(xs, ys)
    return (d <= radius) & (d > radius - width)


class Cursor:
    """The pointer path and button presses of a recording, drawn into frames by time.

    Times are microseconds (the shard's clock); positions are screen pixels.
    """

    def __init__(self, t, x, y, press_t=(), press_x=(), press_y=(), press_button=()):
        self.t, self.x, self.y = (np.asarray(a, np.int64) for a in (t, x, y))
        self.press_t, self.press_x, self.press_y, self.press_button = (
            np.asarray(a, np.int64) for a in (press_t, press_x, press_y, press_button))

    @classmethod
    def of(cls, reader) -> "Cursor":
        """The pointer rows and button presses of ``reader``."""
        t = x = y = ()
        if "pointer" in reader.streams:
            p = reader.read("pointer", ["t", "x", "y"])
            t, x, y = (p.column(c).to_numpy() for c in ("t", "x", "y"))
        presses = ((), (), (), ())
        if "button" in reader.streams:
            b = reader.read("button", ["t", "button", "pressed", "x", "y"])
            b = b.filter(b.column("pressed"))
            presses = tuple(b.column(c).to_numpy() for c in ("t", "x", "y", "button"))
        return cls(t, x, y, *presses)

    def position(self, t_us: int) -> tuple[int, int] | None:
        """Where the pointer was at ``t_us`` (its last row at or before), None before the first."""
        i = int(np.searchsorted(self.t, t_us, side="right")) - 1
        return None if i < 0 else (int(self.x[i]), int(self.y[i]))

    def draw(self, image: np.ndarray, t_us: int, scale: float = 1.0) -> None:
        """Draw the click rings and the arrow at ``t_us`` into RGB ``image`` (screen scaled by ``scale``)."""
        lo = int(np.searchsorted(self.press_t, t_us - CLICK_US, side="left"))
        hi = int(np.searchsorted(self.press_t, t_us, side="right"))
        ring = ring_mask(RING_RADIUS, RING_WIDTH)
        for i in range(lo, hi):
            cx, cy = round(self.press_x[i] * scale), round(self.press_y[i] * scale)
            color = BUTTON_COLORS.get(int(self.press_button[i]), (255, 60, 255))
            _paint(image, ring, cx - RING_RADIUS, cy - RING_RADIUS, color)
        where = self.position(t_us)
        if where is not None:
            fill, outline = arrow_masks()
            x, y = round(where[0] * scale), round(where[1] * scale)
            _paint(image, outline, x - 1, y - 1, (0, 0, 0))
            _paint(image, fill, x - 1, y - 1, (255, 255, 255))
