"""numcodecs codecs: ``encoder_events`` (an integer column) and ``encoder_frames`` (a chunk of frames).

``numcodecs.get_codec({"id": "encoder_events"})`` finds them through the package's
``numcodecs.codecs`` entry points once it is installed (numcodecs is optional:
``pip install 'hci-encoder[zarr]'``). Both are exact and produce the self-contained blobs of
:mod:`encoder.interop.blobs`. Without numcodecs the classes still encode and decode (they then
derive from ``object``); only the registry needs it.

Examples
--------
>>> import numpy as np
>>> codec = EncoderEvents(level=3)
>>> t = np.array([0, 8000, 16000, 33000, 41000], np.int64)
>>> codec.decode(codec.encode(t)).tolist()
[0, 8000, 16000, 33000, 41000]
>>> codec.get_config()
{'id': 'encoder_events', 'level': 3, 'transform': 'auto', 'dtype': None}
>>> frames = np.zeros((2, 16, 32, 4), np.uint8)
>>> EncoderFrames().decode(EncoderFrames().encode(frames)).shape
(2, 16, 32, 4)
"""
from __future__ import annotations

import numpy as np

from ..errors import SchemaError
from . import blobs

try:  # pragma: no branch - which arm runs depends on the environment
    from numcodecs.abc import Codec
except ImportError:  # numcodecs is optional: the codecs work without its registry
    Codec = object

__all__ = ["EncoderEvents", "EncoderFrames"]


def _raw(buf) -> np.ndarray:
    """A buffer that is not a numpy array (bytes, bytearray, array.array) as its bytes."""
    return np.frombuffer(blobs.as_bytes(buf), np.uint8) if not isinstance(buf, np.ndarray) else buf


def _copy_into(values: np.ndarray, out):
    """numcodecs' ``out`` convention: fill any writeable buffer of exactly the decoded size."""
    if out is None:
        return values
    target = out if isinstance(out, np.ndarray) else np.frombuffer(out, np.uint8)
    if not target.flags.writeable or not target.flags.c_contiguous or target.nbytes != values.nbytes:
        raise SchemaError(f"out must be a writeable contiguous buffer of {values.nbytes} bytes")
    target.reshape(-1).view(np.uint8)[:] = values.reshape(-1).view(np.uint8)
    return out


class EncoderEvents(Codec):
    """An integer column (timestamps, coordinates) through the event column pipeline, exact.

    Parameters
    ----------
    level : int
        zstd level of the byte planes (1-22; 3 by default).
    transform : {'auto', 'delta', 'for', 'delta-rank'}
        Which transform codes the values; ``'auto'`` tries each on the first 4096 values.
    dtype : str, optional
        The values' dtype (``'<i8'``...) for inputs that carry none (bytes, bytearray); a
        ``numpy.ndarray`` input must have it. Default: numpy arrays only (raw bytes as uint8).

    ``encode`` takes a 1-D array of int8..int64 or uint8..uint64; ``decode`` returns it with
    its dtype (or fills ``out``). Bad input raises :class:`~encoder.errors.SchemaError`, a
    truncated or damaged blob :class:`~encoder.errors.CorruptShardError`.
    """

    codec_id = "encoder_events"

    def __init__(self, level: int = 3, transform: str = "auto", dtype: str | None = None):
        if type(level) is not int or not 1 <= level <= 22:
            raise SchemaError(f"level must be an integer in [1, 22], not {level!r}")
        if transform not in blobs.TRANSFORMS:
            raise SchemaError(f"transform must be one of {list(blobs.TRANSFORMS)}, not {transform!r}")
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.newbyteorder("<") not in blobs.EVENT_DTYPES:
                raise SchemaError(f"dtype {dtype} is not an integer dtype of 1 to 8 bytes")
            dtype = dtype.str
        self.level, self.transform, self.dtype = level, transform, dtype

    def encode(self, buf) -> bytes:
        values = _raw(buf)
        if self.dtype is not None:
            if not isinstance(buf, np.ndarray):
                if values.size % np.dtype(self.dtype).itemsize:
                    raise SchemaError(f"{values.size} bytes are not a whole number of {self.dtype} values")
                values = values.view(self.dtype)
            elif values.dtype != np.dtype(self.dtype):
                raise SchemaError(f"values have dtype {values.dtype}, the codec is configured for {self.dtype}")
        return blobs.encode_events(values, level=self.level, transform=self.transform)

    def decode(self, buf, out=None):
        return _copy_into(blobs.decode_events(buf), out)

    def get_config(self) -> dict:
        return {"id": self.codec_id, "level": self.level, "transform": self.transform, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "EncoderEvents":
        return cls(**{k: v for k, v in config.items() if k != "id"})

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __repr__(self) -> str:
        dtype = "" if self.dtype is None else f", dtype={self.dtype!r}"
        return f"{type(self).__name__}(level={self.level}, transform={self.transform!r}{dtype})"


class EncoderFrames(Codec):
    """A chunk of screen frames, N x H x W x C ``uint8`` (C in 1, 3, 4) or N x H x W, exact.

    The frames go through the screen tiles: a tile equal to one seen before in the chunk
    costs a few bits, new tiles are packed in zstd pages (docs/tiles.md); the blob carries
    N, H, W, C and the dtype.

    Parameters
    ----------
    level : int
        zstd level of the tile pages (6 by default, as in shards).
    tile : int
        Tile side in pixels, 4 to 256 (16 by default).
    shape : list of int, optional
        ``[H, W]`` or ``[H, W, C]`` of one frame, for inputs that carry no shape (bytes);
        a ``numpy.ndarray`` input must match it. Default: numpy arrays only.
    """

    codec_id = "encoder_frames"

    def __init__(self, level: int = 6, tile: int = 16, shape=None):
        if type(level) is not int or not 1 <= level <= 22:
            raise SchemaError(f"level must be an integer in [1, 22], not {level!r}")
        if type(tile) is not int or not 4 <= tile <= 256:
            raise SchemaError(f"tile must be an integer in [4, 256], not {tile!r}")
        if shape is not None:
            shape = [int(s) for s in shape]
            if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in blobs.CHANNELS) or min(shape) < 1:
                raise SchemaError(f"shape must be [H, W] or [H, W, C] with C in {blobs.CHANNELS}, not {shape}")
        self.level, self.tile, self.shape = level, tile, shape

    def encode(self, buf) -> bytes:
        frames = _raw(buf)
        if self.shape is None and not isinstance(buf, np.ndarray):
            raise SchemaError(f"frames as {type(buf).__name__} need the codec's shape ([H, W] or [H, W, C])")
        if self.shape is not None:
            if not isinstance(buf, np.ndarray):
                if frames.size % int(np.prod(self.shape)):
                    raise SchemaError(f"{frames.size} bytes are not a whole number of {self.shape} frames")
                frames = frames.reshape(-1, *self.shape)
            elif list(frames.shape[1:]) != self.shape:
                raise SchemaError(f"frames of shape {frames.shape[1:]}, the codec is configured for {self.shape}")
        return blobs.encode_frames(frames, level=self.level, tile=self.tile)

    def decode(self, buf, out=None):
        return _copy_into(blobs.decode_frames(buf), out)

    def get_config(self) -> dict:
        return {"id": self.codec_id, "level": self.level, "tile": self.tile, "shape": self.shape}

    @classmethod
    def from_config(cls, config: dict) -> "EncoderFrames":
        return cls(**{k: v for k, v in config.items() if k != "id"})

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __repr__(self) -> str:
        shape = "" if self.shape is None else f", shape={self.shape!r}"
        return f"{type(self).__name__}(level={self.level}, tile={self.tile}{shape})"
