"""The library's exceptions: one small hierarchy, every message says where.

Every error the library raises on bad input, bad data or an environment it cannot use
derives from :class:`EncoderError`; each subclass also derives from the matching built-in
(:class:`ValueError`, :class:`OSError`, :class:`RuntimeError`, :class:`ImportError`) so that
generic callers that catch those keep working. Every exception class of the package is here.

Native kernels never raise: they return a status, and :func:`check_status` turns a negative
one into the error (pyarrow's ``check_status`` is the model).
"""
from __future__ import annotations

from typing import Mapping

from ._deprecation import renamed_module_attributes


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


class EncryptionKeyRequiredError(EncoderError, ValueError):
    """An encrypted shard was opened without its encryption key, or with another key.

    Formerly ``KeyRequiredError`` (a name that still works, with a :class:`DeprecationWarning`:
    "key" means a keyboard key everywhere else in the package).
    """


class EncryptionUnavailableError(EncoderError, ImportError):
    """Encryption needs the optional ``cryptography`` package (``pip install 'hci-encoder[crypto]'``)."""


class PolicyError(EncoderError, ValueError):
    """A privacy policy file or value that cannot be used (the recorder refuses to start)."""


class RecorderError(EncoderError, RuntimeError):
    """The recorder could not start or stopped on an error (the message says which part)."""


class SourceUnavailableError(EncoderError, RuntimeError):
    """A capture source cannot run here (no display, a missing extension or package)."""


class ShardUnavailableError(EncoderError, OSError):
    """A shard could not be opened or fetched (missing file, refused URL, I/O error)."""


def check_status(status: int, messages: Mapping[int, str], *, what: str,
                 error: type[EncoderError] = CorruptShardError) -> int:
    """Return a native kernel's ``status`` when it is >= 0; raise ``error`` when it is negative.

    ``messages`` maps the kernel's negative statuses to what went wrong; ``what`` names the
    structure the kernel read (``'grid'``), and the message reads ``"grid: <message>"``.
    The raising layer adds shard, stream and offset with :meth:`EncoderError.located`.

    >>> check_status(3, {}, what="grid")
    3
    >>> check_status(-1, {-1: "truncated"}, what="grid")
    Traceback (most recent call last):
    ...
    encoder.errors.CorruptShardError: grid: truncated
    """
    if status >= 0:
        return status
    raise error(f"{what}: {messages.get(status, f'status {status}')}")


#: Deprecated names of this module, served with a DeprecationWarning.
__getattr__ = renamed_module_attributes(__name__, {"KeyRequiredError": EncryptionKeyRequiredError})
