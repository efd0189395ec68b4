"""encoder: lossless, columnar shards of human-computer-interaction telemetry.

>>> import encoder
>>> encoder.backend in ("native", "reference")
True
"""
__version__ = "0.1.0"

from .api import decode, encode
from .codecs.kernels import BACKEND as backend
from .errors import (CorruptShardError, EncoderError, EncryptionUnavailableError, KeyRequiredError, LimitError,
                     SchemaError, UnsupportedVersionError)
from .shard import BlockInfo, ShardReader, ShardWriter
from .streams import STREAMS, Column, Stream


def warmup() -> None:
    """Compile or load every JIT kernel now (call it in each loader worker before timing)."""
    if backend == "native":
        from .codecs import _numba
        from .tiles import _numba as _tiles_numba
        _numba.warmup()
        _tiles_numba.warmup()


__all__ = [
    "BlockInfo", "Column", "CorruptShardError", "EncoderError", "EncryptionUnavailableError", "KeyRequiredError",
    "LimitError", "STREAMS", "SchemaError",
    "ShardReader", "ShardWriter", "Stream", "UnsupportedVersionError", "backend", "decode", "encode",
    "warmup",
]
