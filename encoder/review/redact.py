"""``redact``: a copy of a shard with rectangles of its frames blacked out.

Each :class:`~encoder.review.ranges.Rect` is painted black in every frame (or in the frames
of its time range, or of one screen): colour channels 0 and, in 4-channel frames, alpha 255
(opaque black; the recorder's own excluded areas are all four channels 0, so the two can
be told apart). The streams are copied unchanged. Every frame is written anew
(:mod:`encoder.review.rewrite`), so the output's tile store holds no tile of the original
pixels inside a rectangle, unless a frame outside the rectangle's time range or screen shows
them. The metadata is kept, plus a ``redact`` entry listing the rectangles.

>>> import numpy as np, os, tempfile, encoder
>>> folder = tempfile.mkdtemp()
>>> src, out = os.path.join(folder, "in.enc"), os.path.join(folder, "out.enc")
>>> with encoder.ShardWriter(src) as w:
...     w.add_frame(0, np.full((32, 48, 4), 200, np.uint8))
>>> report = redact(src, out, [parse_rect("8,4,16,8")])
>>> frame = encoder.ShardReader(out).frame(0)
>>> frame[4, 8].tolist(), frame[12, 8].tolist(), frame[3, 8].tolist()
([0, 0, 0, 255], [200, 200, 200, 200], [200, 200, 200, 200])
"""
from __future__ import annotations

import numpy as np

from .._version import __version__
from ..errors import EncoderError
from ..shard import ShardReader
from ..tiles.layout import FORMATS
from .ranges import Rect, origin_us, parse_rect
from .rewrite import Report, rewrite

__all__ = ["black", "parse_rect", "redact"]


def black(pixel_format: str) -> np.ndarray:
    """The fill of a redacted pixel in ``pixel_format``: opaque black.

    >>> black("bgra").tolist(), black("rgb").tolist(), black("gray").tolist()
    ([0, 0, 0, 255], [0, 0, 0], [0])
    """
    channels = FORMATS[pixel_format][1]
    fill = np.zeros(channels, np.uint8)
    if channels == 4:
        fill[3] = 255
    return fill


def redact(path, out, rects: list[Rect], *, screen: int | None = None, encryption_key_file=None,
           overwrite: bool = False) -> Report:
    """Write ``path`` with ``rects`` blacked out of its frames into ``out`` (atomically, verified).

    Parameters
    ----------
    path, out : str or os.PathLike
        The input shard (only read) and the output file (refused when it exists, unless
        ``overwrite``; never the input).
    rects : list of Rect
        Rectangles in pixels, each with an optional time range in seconds from the shard's
        first row (:func:`~encoder.review.ranges.parse_rect`). A rectangle must lie inside
        every frame it applies to, and apply to at least one.
    screen : int, optional
        Only the frames of this screen (default: every screen).
    encryption_key_file : str, optional
        Key of an encrypted input; the output is encrypted with the same key.
    """
    if not rects:
        raise EncoderError("nothing to redact: give at least one rectangle (--rect X,Y,W,H)")
    with ShardReader(path, encryption_key_file=encryption_key_file) as reader:
        origin = origin_us(reader)
        frames = _frame_table(reader)
    for rect in rects:
        _check(rect, frames, origin, screen)
    entry = {"tool": "encoder redact", "version": __version__, "origin_us": origin, "screen": screen,
             "fill": "opaque black (colour 0, alpha 255)", "rects": [r.as_json() for r in rects]}

    def applies(rect: Rect, info: dict) -> bool:
        if screen is not None and info["screen"] != screen:
            return False
        return rect.during is None or bool(rect.during.contains([info["t"]], origin)[0])

    def edit(info, image):
        hits = [r for r in rects if applies(r, info)]
        if not hits:
            return image
        image = image.copy()  # the decoder's buffer holds the previous frame for the next one
        fill = black(info["format"])
        for r in hits:
            region = image[r.y:r.y + r.height, r.x:r.x + r.width]
            region[...] = fill if image.ndim == 3 else fill[0]
        return image

    return rewrite(path, out, frames=edit, entry=("redact", entry), encryption_key_file=encryption_key_file,
                   overwrite=overwrite)


def _frame_table(reader: ShardReader) -> dict:
    if "frame" not in reader.streams:
        return {c: np.zeros(0, np.int64) for c in ("t", "screen", "width", "height")}
    table = reader.read("frame", ["t", "screen", "width", "height"])
    return {c: table.column(c).to_numpy().astype(np.int64) for c in table.column_names}


def _check(rect: Rect, frames: dict, origin: int, screen: int | None) -> None:
    """Refuse a rectangle that applies to no frame, or reaches outside a frame it applies to."""
    hit = np.ones(len(frames["t"]), bool) if screen is None else frames["screen"] == screen
    if rect.during is not None:
        hit &= rect.during.contains(frames["t"], origin)
    if not hit.any():
        where = "" if screen is None else f" of screen {screen}"
        when = "" if rect.during is None else f" in {rect.during.text()} s"
        if len(frames["t"]):
            span = f" (the frames span {(frames['t'].min() - origin) / 1e6:.3f}-" \
                   f"{(frames['t'].max() - origin) / 1e6:.3f} s from the first row)"
        else:
            span = " (the shard holds no frames)"
        raise EncoderError(f"rectangle {rect.text()}: no frame{where}{when}{span}")
    outside = hit & ((rect.x + rect.width > frames["width"]) | (rect.y + rect.height > frames["height"]))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise EncoderError(f"rectangle {rect.text()} reaches outside the {frames['width'][i]}x"
                           f"{frames['height'][i]} frame of screen {frames['screen'][i]} at "
                           f"{(frames['t'][i] - origin) / 1e6:.3f} s: it must lie inside every frame it applies to")
