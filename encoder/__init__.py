"""encoder: lossless, columnar shards of human-computer-interaction telemetry.

>>> import encoder
>>> encoder.backend in ("native", "reference")
True
"""
from ._version import __version__
from .api import decode, encode
from .backends import NAME as backend
from .backends import warmup
from .errors import (CorruptShardError, EncoderError, EncryptionKeyRequiredError, EncryptionUnavailableError,
                     LimitError, SchemaError, UnsupportedVersionError)
from ._deprecation import renamed_module_attributes
from .shard import BlockInfo, ShardReader, ShardWriter
from .streams import STREAMS, Column, Stream


__all__ = [
    "BlockInfo", "Column", "CorruptShardError", "EncoderError", "EncryptionKeyRequiredError",
    "EncryptionUnavailableError", "LimitError", "STREAMS", "SchemaError",
    "ShardReader", "ShardWriter", "Stream", "UnsupportedVersionError", "backend", "decode", "encode",
    "__version__", "warmup",
]

#: Deprecated names, served with a DeprecationWarning (``KeyRequiredError``: "key" means a keyboard key).
__getattr__ = renamed_module_attributes(__name__, {"KeyRequiredError": EncryptionKeyRequiredError})
