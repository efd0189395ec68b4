"""Streams: what a session holds, column by column."""
from .schema import KINDS, STREAMS, Column, Stream, validate

__all__ = ["KINDS", "STREAMS", "Column", "Stream", "validate"]
