"""zarr v3 array-to-bytes codecs: ``encoder_frames`` (chunks of frames) and ``encoder_events`` (1-D).

zarr finds them by name through the package's ``zarr.codecs`` entry points (zarr is optional:
``pip install 'hci-encoder[zarr]'``; :func:`register` does the same by hand). Each replaces
zarr's ``bytes`` codec (the array-to-bytes step) and is usually the only codec of the array:
its chunks are the self-contained blobs of :mod:`encoder.interop.blobs`, already compressed.

* ``encoder_frames``: ``uint8`` arrays of frames, chunks ``(K, H, W, C)`` with C in 1, 3, 4
  (or ``(K, H, W)``); configuration ``level`` (zstd level of the tile pages), ``tile``.
* ``encoder_events``: 1-D integer arrays (int8..int64, uint8..uint64); configuration
  ``level``, ``transform`` (``auto``, ``delta``, ``for``, ``delta-rank``).

docs/codecs.md shows both with ``zarr.create_array(..., serializer=EncoderFramesCodec())``.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from ..errors import CorruptShardError, SchemaError
from . import blobs

try:  # pragma: no branch - which arm runs depends on the environment
    from zarr.abc.codec import ArrayBytesCodec
    from zarr.core.common import parse_named_configuration
    HAVE_ZARR = True
except ImportError:  # zarr is optional; the classes below then refuse to be created
    ArrayBytesCodec = object
    HAVE_ZARR = False

__all__ = ["EncoderEventsCodec", "EncoderFramesCodec", "register"]


def _need_zarr() -> None:
    if not HAVE_ZARR:
        raise ImportError("the zarr codecs need zarr>=3: pip install 'hci-encoder[zarr]'")


def _level(value) -> int:
    if type(value) is not int or not 1 <= value <= 22:
        raise SchemaError(f"level must be an integer in [1, 22], not {value!r}")
    return value


class _BlobCodec(ArrayBytesCodec):
    """What both codecs share: a name, a configuration, blobs coded off the event loop."""

    is_fixed_size = False
    codec_name = ""

    @classmethod
    def from_dict(cls, data: dict):
        _, configuration = parse_named_configuration(data, cls.codec_name, require_configuration=False)
        return cls(**(configuration or {}))

    def to_dict(self) -> dict:
        return {"name": self.codec_name, "configuration": self.configuration()}

    def configuration(self) -> dict:
        raise NotImplementedError

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        raise NotImplementedError  # variable-sized output, like any compressor

    async def _decode_single(self, chunk_bytes, chunk_spec):
        return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_array, chunk_spec):
        return await asyncio.to_thread(self._encode_sync, chunk_array, chunk_spec)

    def _encode_sync(self, chunk_array, chunk_spec):
        blob = self.encode_chunk(chunk_array.as_numpy_array())
        return chunk_spec.prototype.buffer.from_bytes(blob)

    def _decode_sync(self, chunk_bytes, chunk_spec):
        values = self.decode_chunk(chunk_bytes.as_numpy_array())
        shape, dtype = tuple(chunk_spec.shape), chunk_spec.dtype.to_native_dtype()
        if values.size != int(np.prod(shape)) or values.dtype.newbyteorder("=") != dtype.newbyteorder("="):
            raise CorruptShardError(f"chunk holds {values.size} values of {values.dtype}, the array's chunks are "
                                    f"{shape} of {dtype}", shard="<zarr chunk>")
        return chunk_spec.prototype.nd_buffer.from_numpy_array(values.astype(dtype, copy=False).reshape(shape))


@dataclass(frozen=True)
class EncoderFramesCodec(_BlobCodec):
    """Chunks of screen frames through the tile deduplication and zstd pages, exact.

    Parameters
    ----------
    level : int
        zstd level of the tile pages (6 by default).
    tile : int
        Tile side in pixels, 4 to 256 (16 by default).
    """

    codec_name = "encoder_frames"
    level: int = 6
    tile: int = 16

    def __init__(self, *, level: int = 6, tile: int = 16) -> None:
        _need_zarr()
        if type(tile) is not int or not 4 <= tile <= 256:
            raise SchemaError(f"tile must be an integer in [4, 256], not {tile!r}")
        object.__setattr__(self, "level", _level(level))
        object.__setattr__(self, "tile", tile)

    def configuration(self) -> dict:
        return {"level": self.level, "tile": self.tile}

    def validate(self, *, shape, dtype, chunk_grid) -> None:
        native = dtype.to_native_dtype()
        chunks = tuple(getattr(chunk_grid, "chunk_shape", shape))
        if native != np.uint8 or len(shape) not in (3, 4) or (len(shape) == 4 and chunks[3] not in blobs.CHANNELS):
            raise SchemaError(f"encoder_frames holds uint8 arrays of frames (K, H, W, C) with C in "
                              f"{blobs.CHANNELS} or (K, H, W); got {native} of shape {shape}, chunks {chunks}")

    def encode_chunk(self, frames: np.ndarray) -> bytes:
        return blobs.encode_frames(frames, level=self.level, tile=self.tile)

    def decode_chunk(self, blob) -> np.ndarray:
        return blobs.decode_frames(blob)


@dataclass(frozen=True)
class EncoderEventsCodec(_BlobCodec):
    """1-D integer chunks (timestamps, coordinates) through the event column pipeline, exact.

    Parameters
    ----------
    level : int
        zstd level of the byte planes (3 by default).
    transform : str
        ``'auto'`` (the default), ``'delta'``, ``'for'`` or ``'delta-rank'``.
    """

    codec_name = "encoder_events"
    level: int = 3
    transform: str = "auto"

    def __init__(self, *, level: int = 3, transform: str = "auto") -> None:
        _need_zarr()
        if transform not in blobs.TRANSFORMS:
            raise SchemaError(f"transform must be one of {list(blobs.TRANSFORMS)}, not {transform!r}")
        object.__setattr__(self, "level", _level(level))
        object.__setattr__(self, "transform", transform)

    def configuration(self) -> dict:
        return {"level": self.level, "transform": self.transform}

    def validate(self, *, shape, dtype, chunk_grid) -> None:
        native = dtype.to_native_dtype()
        if len(shape) != 1 or native.newbyteorder("<") not in blobs.EVENT_DTYPES:
            raise SchemaError(f"encoder_events holds 1-D integer arrays (int8..int64, uint8..uint64); "
                              f"got {native} of shape {shape}")

    def encode_chunk(self, values: np.ndarray) -> bytes:
        return blobs.encode_events(values.reshape(-1), level=self.level, transform=self.transform)

    def decode_chunk(self, blob) -> np.ndarray:
        return blobs.decode_events(blob)


def register() -> None:
    """Register both codecs with zarr by hand (the entry points do it for an installed package)."""
    _need_zarr()
    from zarr.registry import register_codec
    register_codec(EncoderFramesCodec.codec_name, EncoderFramesCodec)
    register_codec(EncoderEventsCodec.codec_name, EncoderEventsCodec)
