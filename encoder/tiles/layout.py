"""How screen frames lie in a shard: pixel formats, limits, the ``tile`` page stream, and the
checks of a frame handed to the writer (:func:`image_layout`, :func:`hint_candidates`).

A frame of ``height x width`` pixels of ``channels`` bytes is cut into a grid of
``ceil(height / tile) x ceil(width / tile)`` tiles, numbered in raster order. A tile's
content is its ``tile x tile x channels`` bytes, row-major; pixels outside the frame (right
and bottom edges) are zero, so every tile of a store has the same size.

Two streams hold a session's frames:

* ``tile`` (declared by the writer; one page per block, so one page is one zstd frame):
  ``t`` (time of the last frame that added a tile to the page), ``channels``, ``tile`` (px),
  ``first`` (id of the page's first tile), ``count`` (tiles in the page) and ``page``: the
  ``count`` tiles concatenated in id order. The tiles of one ``(channels, tile)`` pair form
  a *store*; its ids run 0, 1, 2, ... across the store's pages without a gap.
* ``frame`` (one row per frame): ``t``, ``screen``, ``width``, ``height``, ``format`` (a
  :data:`FORMATS` code), ``tile`` and ``grid``, the frame's tile ids coded by
  :func:`encoder.tiles.reference.encode_full` (a *full* grid) or
  :func:`encoder.tiles.reference.encode_delta` (the ids that differ from the previous frame
  of the same screen). The first row of a screen in every block of the ``frame`` stream is
  a full grid, so one block decodes without any other.
"""
from __future__ import annotations

import numpy as np

from ..errors import LimitError, SchemaError
from ..streams.schema import STREAMS, Column, Stream

#: Pixel format name -> (code stored in the ``frame`` rows, bytes per pixel).
#: Pixels are stored exactly as given; the name only says what the bytes mean.
FORMATS: dict[str, tuple[int, int]] = {
    "gray": (1, 1), "rgb": (2, 3), "bgr": (3, 3), "rgba": (4, 4), "bgra": (5, 4),
}
FORMAT_NAMES: dict[int, str] = {code: name for name, (code, _) in FORMATS.items()}
CHANNELS: dict[int, int] = {code: ch for code, ch in FORMATS.values()}

#: Largest frame side accepted by the writer and by the reader (pixels).
MAX_SIDE = 16384
#: Tile sizes (pixels) a writer may choose; 16 measured best on real 1080p desktops.
MIN_TILE, MAX_TILE, DEFAULT_TILE = 4, 256, 16
#: Largest raw page: the container's bound on a decompressed chunk (encoder.codecs.MAX_SECTION).
MAX_PAGE_BYTES = 2 << 20
#: Tile ids are below this (they fit the uint32 a grid decoder keeps).
MAX_TILE_ID = (1 << 32) - 1
#: Screens are numbered 0..255.
MAX_SCREEN = 255

#: Kinds of grid blob (first byte).
GRID_FULL, GRID_DELTA = 0, 1

FRAME: Stream = STREAMS["frame"]
TILE = Stream("tile", (Column("t", "int64"), Column("channels", "uint8"), Column("tile", "uint16"),
                       Column("first", "int64"), Column("count", "uint32"), Column("page", "binary")))


def grid_shape(height: int, width: int, tile: int) -> tuple[int, int]:
    """Rows and columns of the tile grid of a ``height x width`` frame."""
    return -(-height // tile), -(-width // tile)


def candidates_of(rects, height: int, width: int, tile: int) -> np.ndarray:
    """Which tiles (``bool[n]``) a list of ``(x, y, w, h)`` rectangles touches, clipped to the frame."""
    rows, cols = grid_shape(height, width, tile)
    mask = np.zeros((rows, cols), bool)
    for x, y, w, h in rects:
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 > x0 and y1 > y0:
            mask[y0 // tile:(y1 - 1) // tile + 1, x0 // tile:(x1 - 1) // tile + 1] = True
    return mask.reshape(-1)


def put_varint(out: bytearray, value: int) -> None:
    """Append ``value`` (>= 0) as a LEB128 varint (grid blobs, pane sections)."""
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def zigzag(value: int) -> int:
    """A signed number as the unsigned one a varint holds: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ..."""
    return value << 1 if value >= 0 else ((-value) << 1) - 1


def unzigzag(u: int) -> int:
    return (u >> 1) ^ -(u & 1)


class Varints:
    """Varints read from ``blob[pos:end]``, every read checked; ``bad(message)`` makes the
    exception to raise (the caller says what the bytes are)."""

    def __init__(self, blob, pos: int, end: int, bad):
        self.blob, self.pos, self.end, self.bad = blob, pos, end, bad

    def varint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= self.end:
                raise self.bad(f"varint truncated at byte {self.pos}")
            byte = int(self.blob[self.pos])
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 56:
                raise self.bad(f"varint longer than 9 bytes at byte {self.pos}")

    def signed(self) -> int:
        return unzigzag(self.varint())


def image_layout(image, pixel_format: str | None, default_4: str) -> tuple[np.ndarray, int, int, int, int]:
    """Validate a frame; returns (rows of bytes, height, width, format code, channels)."""
    if not isinstance(image, np.ndarray):
        raise SchemaError(f"a frame must be a numpy array, not {type(image).__name__}", stream="frame")
    if image.dtype != np.uint8:
        raise SchemaError(f"a frame must have dtype uint8, not {image.dtype}", stream="frame")
    if image.ndim == 2:
        channels = 1
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        channels = image.shape[2]
    else:
        raise SchemaError(f"a frame must be HxW (gray), HxWx3 or HxWx4, not shape {image.shape}",
                          stream="frame")
    height, width = image.shape[:2]
    if height < 1 or width < 1:
        raise SchemaError(f"empty frame of shape {image.shape}", stream="frame")
    if height > MAX_SIDE or width > MAX_SIDE:
        raise LimitError(f"frame of {width}x{height} exceeds {MAX_SIDE}x{MAX_SIDE}", stream="frame")
    if not image.flags.c_contiguous:
        raise SchemaError("a frame must be C-contiguous (pass np.ascontiguousarray(image))", stream="frame")
    if pixel_format is None:
        pixel_format = {1: "gray", 3: "rgb", 4: default_4}[channels]
    if pixel_format not in FORMATS:
        raise SchemaError(f"pixel_format must be one of {sorted(FORMATS)}, not {pixel_format!r}", stream="frame")
    code, expected = FORMATS[pixel_format]
    if expected != channels:
        raise SchemaError(f"pixel_format {pixel_format!r} has {expected} channels, the frame {channels}",
                          stream="frame")
    return image.reshape(height, width * channels), height, width, code, channels


def hint_candidates(changed, height: int, width: int, tile: int) -> np.ndarray:
    """The grid positions (``uint8``, 1: maybe changed) that ``changed`` rectangles (x, y, w, h) touch."""
    try:
        rects = [tuple(int(v) for v in r) for r in changed]
    except (TypeError, ValueError):
        raise SchemaError("changed must be a list of (x, y, w, h) integer rectangles", stream="frame") from None
    for r in rects:
        if len(r) != 4 or r[2] < 0 or r[3] < 0:
            raise SchemaError(f"changed rectangle {r} is not (x, y, w, h) with w, h >= 0", stream="frame")
    return candidates_of(rects, height, width, tile).view(np.uint8)
