"""Frames as image files for the viewer: PNG (lossless), WebP (lossless) or JPEG (lossy, fast).

Pillow encodes all three when it is installed (the ``test`` extra has it); without it only
PNG is available, written by :func:`png_bytes` with the standard library. Scaling uses
Pillow's area filter, or nearest-neighbour sampling without it.

>>> import numpy as np
>>> data = png_bytes(np.zeros((2, 3, 3), np.uint8))
>>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", len(data) < 100
(True, True)
>>> scaled(np.zeros((10, 20, 3), np.uint8), 0.5).shape
(5, 10, 3)
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from ..errors import EncoderError
from ..shard.pixels import rgb

#: Image format name -> MIME type and file extension.
MIME = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSION = {"png": "png", "webp": "webp", "jpeg": "jpg"}
#: Formats that keep every pixel.
LOSSLESS = ("png", "webp")


def have_pillow() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def default_format(lossless: bool = True) -> str:
    """WebP (lossless) or JPEG (lossy) with Pillow, PNG without it."""
    if not have_pillow():
        return "png"
    return "webp" if lossless else "jpeg"


def check_format(image_format: str) -> str:
    """``image_format`` if this installation can write it, else an :class:`EncoderError`."""
    if image_format not in MIME:
        raise EncoderError(f"unknown image format {image_format!r}; one of {', '.join(MIME)}")
    if image_format != "png" and not have_pillow():
        raise EncoderError(f"{image_format} frames need Pillow (pip install pillow); png works without it")
    return image_format


def png_bytes(image: np.ndarray, level: int = 3) -> bytes:
    """An 8-bit RGB (HxWx3) or gray (HxW) PNG of ``image``, from the standard library alone.

    Every row uses the ``Up`` filter (the difference with the row above), which suits
    screens: unchanged runs down a column compress to nothing.
    """
    image = np.ascontiguousarray(image, np.uint8)
    h, w = image.shape[:2]
    color = 2 if image.ndim == 3 else 0
    rows = image.reshape(h, -1)
    up = rows.copy()
    up[1:] -= rows[:-1]  # uint8 wraps, as PNG's filter arithmetic does
    raw = np.empty((h, rows.shape[1] + 1), np.uint8)
    raw[:, 0] = 2
    raw[:, 1:] = up

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
            + chunk(b"IEND", b""))


def scaled(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` resized by ``scale`` (at least 1x1 pixel; the same array at scale 1)."""
    if scale == 1:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if have_pillow():
        from PIL import Image
        filt = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
        return np.asarray(Image.fromarray(image).resize(size, filt))
    ys = np.minimum((np.arange(size[1]) + 0.5) / scale, h - 1).astype(np.intp)
    xs = np.minimum((np.arange(size[0]) + 0.5) / scale, w - 1).astype(np.intp)
    return np.ascontiguousarray(image[ys][:, xs])


def encode(image: np.ndarray, image_format: str, quality: int = 88) -> bytes:
    """``image`` (RGB HxWx3 uint8) as a file of ``image_format`` (``quality``: JPEG only)."""
    check_format(image_format)
    if not have_pillow():
        return png_bytes(image)
    from PIL import Image
    out = io.BytesIO()
    picture = Image.fromarray(image)
    if image_format == "png":
        picture.save(out, "PNG", compress_level=1)
    elif image_format == "webp":
        picture.save(out, "WEBP", lossless=True, method=0)
    else:
        picture.save(out, "JPEG", quality=quality)
    return out.getvalue()


def frame_rgb(reader, index: int, screen: int = 0, scale: float = 1.0) -> np.ndarray:
    """Frame ``index`` of ``screen`` as RGB, scaled."""
    pixel_format = reader.frame_info(index, screen)["format"]
    return scaled(rgb(reader.frame(index, screen), pixel_format), scale)


def frame_file(reader, index: int, image_format: str, screen: int = 0, scale: float = 1.0) -> bytes:
    """Frame ``index`` of ``screen`` as an image file of ``image_format``."""
    return encode(frame_rgb(reader, index, screen, scale), image_format)
