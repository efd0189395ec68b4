"""Stored pixel formats of screen frames, turned into the channel orders images are saved in.

A frame keeps its pixels as captured (``ShardReader.frame_info(...)["format"]`` says what the
bytes mean: ``bgra``, ``rgba``, ``bgr``, ``rgb`` or ``gray``). Image writers want RGB(A):
:func:`rgba_or_rgb` keeps every byte (alpha and gray included, the ``--frames png`` export),
:func:`rgb` gives the 3-channel RGB image that agent-training data sets read (trajectories).

>>> import numpy as np
>>> bgra = np.array([[[1, 2, 3, 255]]], np.uint8)
>>> rgb(bgra, "bgra").tolist(), rgba_or_rgb(bgra, "bgra").tolist()
([[[3, 2, 1]]], [[[3, 2, 1, 255]]])
>>> rgb(np.array([[7]], np.uint8), "gray").tolist()
[[[7, 7, 7]]]
"""
from __future__ import annotations

import numpy as np

from ..errors import SchemaError

#: Stored pixel format -> the channel order that makes it RGB(A) (None: already is). Pillow
#: infers the mode from a uint8 array's shape: HxWx4 RGBA, HxWx3 RGB, HxW L (gray).
RGBA_ORDER = {"bgra": [2, 1, 0, 3], "rgba": None, "bgr": [2, 1, 0], "rgb": None, "gray": None}
#: Stored pixel format -> the channels that make it RGB, alpha dropped (None: gray, repeated).
RGB_ORDER = {"bgra": [2, 1, 0], "rgba": [0, 1, 2], "bgr": [2, 1, 0], "rgb": None, "gray": None}
#: Channels of a frame of each format (0: a 2-D HxW array).
CHANNELS = {"bgra": 4, "rgba": 4, "bgr": 3, "rgb": 3, "gray": 0}


def _checked(frame: np.ndarray, pixel_format: str) -> None:
    if pixel_format not in CHANNELS:
        raise SchemaError(f"unknown pixel format {pixel_format!r}; frames are one of {sorted(CHANNELS)}")
    channels = CHANNELS[pixel_format]
    shape_ok = frame.ndim == 2 if channels == 0 else (frame.ndim == 3 and frame.shape[2] == channels)
    if frame.dtype != np.uint8 or not shape_ok:
        raise SchemaError(f"a {pixel_format} frame is uint8 HxW{'x%d' % channels if channels else ''}, "
                          f"not {frame.dtype} {frame.shape}")


def rgba_or_rgb(frame: np.ndarray, pixel_format: str) -> np.ndarray:
    """``frame`` with exactly its bytes, channels in RGB(A) order (gray stays HxW); C-contiguous."""
    _checked(frame, pixel_format)
    order = RGBA_ORDER[pixel_format]
    return np.ascontiguousarray(frame if order is None else frame[..., order])


def rgb(frame: np.ndarray, pixel_format: str) -> np.ndarray:
    """``frame`` as HxWx3 uint8 RGB: alpha dropped, gray repeated in the three channels."""
    _checked(frame, pixel_format)
    order = RGB_ORDER[pixel_format]
    if pixel_format == "gray":
        return np.repeat(frame[:, :, None], 3, axis=2)
    return np.ascontiguousarray(frame if order is None else frame[..., order])
