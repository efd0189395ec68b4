"""Streams: what a session holds, column by column."""
from .schema import BUILTIN_1_0, KINDS, STREAMS, STREAMS_BY_VERSION, Column, Stream, builtin_streams, validate

__all__ = ["BUILTIN_1_0", "KINDS", "STREAMS", "STREAMS_BY_VERSION", "Column", "Stream", "builtin_streams",
           "validate"]
