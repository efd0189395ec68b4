"""Pixel-side helpers of the screen sources: rectangles and blacking out excluded windows.

Rectangles are ``(x, y, width, height)`` in virtual-desktop pixels (the X root window);
a screen (monitor) at ``(left, top)`` sees them shifted by its origin.
"""
from __future__ import annotations

import numpy as np


def clip(rect, left: int, top: int, width: int, height: int):
    """``rect`` in a screen's own coordinates, clipped to it; None when they do not meet."""
    x, y, w, h = rect
    x0, y0 = max(x - left, 0), max(y - top, 0)
    x1, y1 = min(x + w - left, width), min(y + h - top, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def bounding(rects):
    """The smallest rectangle holding all of ``rects`` (None for none)."""
    if not rects:
        return None
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    return (x0, y0, x1 - x0, y1 - y0)


def area(rects) -> int:
    return sum(r[2] * r[3] for r in rects)


def coalesce(rects, limit: int = 8, waste: float = 2.0):
    """At most ``limit`` rectangles covering ``rects`` (fewer grabs, each a round trip).

    Nearby rectangles are merged pairwise while the merged box costs at most ``waste``
    times the area it replaces, then the cheapest merges continue until ``limit`` is met.

    >>> coalesce([(0, 0, 10, 10), (10, 0, 10, 10), (500, 500, 4, 4)])
    [(0, 0, 20, 10), (500, 500, 4, 4)]
    """
    boxes = [tuple(r) for r in rects if r[2] > 0 and r[3] > 0]
    if len(boxes) > 64:  # pathological damage (video): one box, no quadratic search
        return [bounding(boxes)]
    changed = True
    while len(boxes) > 1 and (changed or len(boxes) > limit):
        changed = False
        best = None
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                box = bounding([boxes[i], boxes[j]])
                cost = box[2] * box[3] - boxes[i][2] * boxes[i][3] - boxes[j][2] * boxes[j][3]
                if best is None or cost < best[0]:
                    best = (cost, i, j, box)
        cost, i, j, box = best
        separate = boxes[i][2] * boxes[i][3] + boxes[j][2] * boxes[j][3]
        if box[2] * box[3] <= waste * separate or len(boxes) > limit:
            boxes[i] = box
            del boxes[j]
            changed = True
    return boxes


def blackout(image: np.ndarray, rects, left: int = 0, top: int = 0) -> list:
    """Zero every pixel (all channels) of ``image`` inside ``rects``; returns the rects hit.

    ``image`` is one screen (H x W x C) whose top-left corner is at ``(left, top)`` of the
    virtual desktop; ``rects`` are in desktop coordinates. Returns them clipped, in screen
    coordinates (for ``add_frame(changed=...)``).

    >>> img = np.full((4, 6, 4), 255, np.uint8)
    >>> blackout(img, [(4, 2, 10, 10)])
    [(4, 2, 2, 2)]
    >>> int(img[2:, 4:].max()), int(img[:2].min())
    (0, 255)
    """
    height, width = image.shape[:2]
    hit = []
    for rect in rects:
        c = clip(rect, left, top, width, height)
        if c is not None:
            x, y, w, h = c
            image[y:y + h, x:x + w] = 0
            hit.append(c)
    return hit
