"""Column codecs: lossless transforms of one column of one block into byte sections."""
from .columns import MAX_SECTION, decode_column, encode_column

__all__ = ["MAX_SECTION", "decode_column", "encode_column"]
