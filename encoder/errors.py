"""The library's exceptions: one small hierarchy, every message says where.

Every error raised on bad input derives from :class:`EncoderError`; the
subclasses also derive from :class:`ValueError` so that generic callers that
catch ``ValueError`` keep working.
"""
from __future__ import annotations


class EncoderError(Exception):
    """Base class of every error the library raises on bad input or data.

    The optional context (``shard``, ``stream``, ``column``, ``offset``) is
    kept as attributes and prefixed to the message, e.g.
    ``shard 'a.enc', stream 'pointer', column 'x', byte 4096: truncated chunk``.
    """

    def __init__(self, message: str, *, shard=None, stream=None, column=None, offset=None):
        self.shard, self.stream, self.column, self.offset = shard, stream, column, offset
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.shard is not None:
            where.append(f"shard {str(self.shard)!r}")
        if self.stream is not None:
            where.append(f"stream {self.stream!r}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        return (", ".join(where) + ": " if where else "") + self.detail

    def located(self, **context) -> "EncoderError":
        """Fill in context that the raising layer did not know (never overwrites)."""
        for key, value in context.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        self.args = (self._render(),)
        return self


class SchemaError(EncoderError, ValueError):
    """A stream or column does not match its declared schema."""


class CorruptShardError(EncoderError, ValueError):
    """Shard bytes fail a structural check or a checksum."""


class UnsupportedVersionError(EncoderError, ValueError):
    """The shard was written by a format version this library cannot read."""


class LimitError(EncoderError, ValueError):
    """A documented maximum (rows per block, string length, ...) is exceeded."""


class KeyRequiredError(EncoderError, ValueError):
    """An encrypted shard was opened without its key, or with another key."""


class EncryptionUnavailableError(EncoderError, ImportError):
    """Encryption needs the optional ``cryptography`` package (``pip install encoder[crypto]``)."""
