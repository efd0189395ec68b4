"""Encryption at rest (format 1.1, optional): AES-256-GCM per chunk and per JSON document.

What is sealed and what stays in the clear (docs/format.md, "Encryption"):

* clear: the magics, the version, the lengths and offsets of the layout (header, block headers,
  chunks, footer, tail), XXH3 checksums of the stored (encrypted) bytes, and the header's
  ``format.encryption`` object: algorithm names, a random 32-byte salt and an 8-byte key check;
* sealed: the session metadata, every block descriptor (stream names, schemas, row counts,
  time ranges, codec parameters), every chunk, and the footer index.

Each shard gets its own data key, ``HKDF-SHA256(master key, salt, info)``, so that nonces only
need to be unique within one shard; each record gets a fresh random 96-bit nonce (a shard holds
well under 2**32 records, so a repeat has probability below 2**-32 even at that extreme; at a
million records it is about 2**-57). Random rather than counter nonces because ``encoder repair``
seals a new footer long after the writer's counter died with it. The additional authenticated
data of a record is its kind and its position (block offset, chunk number), so records cannot be
swapped, moved or replayed between shards or places undetected. A record is
``nonce (12) || ciphertext || tag (16)``.

The key (32 bytes) comes from the caller (``encryption_key=``: bytes or 64 hex digits;
``encryption_key_file=``: a file holding either), else from ``ENCODER_KEY`` (hex) or
``ENCODER_KEY_FILE`` (environment variables keep their names: they are deployed configuration).
``cryptography`` is an optional dependency: ``pip install 'hci-encoder[crypto]'``. In this module "key"
means the encryption key; everywhere else in the package it means a keyboard key, which is why
the public arguments are ``encryption_key=`` and ``encryption_key_file=`` (their former names
``key=`` and ``key_file=`` still work, with a :class:`DeprecationWarning`, through
:data:`renamed_key_arguments`).
"""
from __future__ import annotations

import base64
import hmac
import os
import struct

from .._deprecation import renamed_arguments
from ..errors import CorruptShardError, EncryptionKeyRequiredError, EncryptionUnavailableError

ALGORITHM, KDF = "AES-256-GCM", "HKDF-SHA256"
KEY_BYTES, SALT_BYTES, CHECK_BYTES, NONCE_BYTES, TAG_BYTES = 32, 32, 8, 12, 16
#: Bytes a sealed record adds to its plaintext.
OVERHEAD = NONCE_BYTES + TAG_BYTES
_INFO = b"encoder shard 1.1 AES-256-GCM"
# record kinds, part of every record's additional authenticated data
METADATA, DESCRIPTOR, CHUNK, FOOTER = 1, 2, 3, 4
_AAD = struct.Struct("<8sBQQ")  # b"ENCSEAL\0", kind, offset (header/block/footer), chunk number


def _aesgcm():
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise EncryptionUnavailableError("encrypted shards need the `cryptography` package: "
                                         "pip install 'hci-encoder[crypto]'") from None
    return AESGCM


def parse_key(key, what: str = "encryption key") -> bytes:
    """A 32-byte key from bytes or a string of 64 hex digits."""
    if isinstance(key, str):
        text = "".join(key.split())
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise EncryptionKeyRequiredError(
                f"{what} is not hexadecimal (expected {2 * KEY_BYTES} hex digits)") from None
    elif isinstance(key, (bytes, bytearray, memoryview)):
        raw = bytes(key)
    else:
        raise EncryptionKeyRequiredError(f"{what} must be bytes or a hex string, not {type(key).__name__}")
    if len(raw) != KEY_BYTES:
        raise EncryptionKeyRequiredError(f"{what} has {len(raw)} bytes; AES-256 needs {KEY_BYTES}")
    return raw


def read_key_file(path) -> bytes:
    """A key file holds the 32 key bytes, or them as 64 hex digits (whitespace ignored)."""
    with open(path, "rb") as f:
        content = f.read(4096)
    if len(content) == KEY_BYTES:
        return content
    try:
        return parse_key(content.decode("ascii"), f"encryption key file {os.fspath(path)!r}")
    except UnicodeDecodeError:
        raise EncryptionKeyRequiredError(
            f"encryption key file {os.fspath(path)!r} holds neither {KEY_BYTES} bytes nor hex") from None


def resolve_key(key=None, key_file=None) -> bytes | None:
    """The master key from, in order: ``key``, ``key_file``, ``$ENCODER_KEY``, ``$ENCODER_KEY_FILE``.

    ``key`` and ``key_file`` are the public ``encryption_key=`` and ``encryption_key_file=``.
    ``key=False`` means "no key", whatever the environment says. Returns None when there is none.
    """
    if key is False:
        return None
    if key is not None:
        return parse_key(key)
    if key_file is not None:
        return read_key_file(key_file)
    if os.environ.get("ENCODER_KEY"):
        return parse_key(os.environ["ENCODER_KEY"], "ENCODER_KEY")
    if os.environ.get("ENCODER_KEY_FILE"):
        return read_key_file(os.environ["ENCODER_KEY_FILE"])
    return None


#: Former names of the public encryption key arguments ("key" now means a keyboard key only).
#: Former names of the encryption key's arguments ("key" now means a keyboard key).
renamed_key_arguments = renamed_arguments(key="encryption_key", key_file="encryption_key_file")


def _derive(master: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """(data key, key check) of one shard: HKDF-SHA256 (RFC 5869) with the stdlib's HMAC."""
    prk = hmac.digest(salt, master, "sha256")
    okm, block = b"", b""
    for i in range(1, 3):  # 64 bytes: the data key and, after it, the key check
        block = hmac.digest(prk, block + _INFO + bytes([i]), "sha256")
        okm += block
    return okm[:KEY_BYTES], okm[KEY_BYTES:KEY_BYTES + CHECK_BYTES]


class ShardCipher:
    """Seals and opens the records of one shard (thread-safe: nonces are random).

    Parameters
    ----------
    master : bytes
        The caller's 32-byte key.
    salt : bytes
        The shard's 32 random bytes (from its header; :meth:`new` draws them).
    """

    def __init__(self, master: bytes, salt: bytes):
        self.salt = salt
        data_key, self.check = _derive(master, salt)
        self._aead = _aesgcm()(data_key)

    @classmethod
    def new(cls, master: bytes) -> "ShardCipher":
        return cls(master, os.urandom(SALT_BYTES))

    @classmethod
    def from_header(cls, spec, master: bytes | None, shard) -> "ShardCipher":
        """The cipher of a shard whose header carries ``spec`` (its ``format.encryption``)."""
        where = dict(shard=shard, offset=24)
        if not isinstance(spec, dict) or spec.get("alg") != ALGORITHM or spec.get("kdf") != KDF:
            raise CorruptShardError(f"header: unknown encryption {str(spec)[:80]}", **where)
        try:
            salt, check = bytes.fromhex(spec["salt"]), bytes.fromhex(spec["check"])
        except (KeyError, TypeError, ValueError):
            raise CorruptShardError("header: malformed encryption salt or key check", **where) from None
        if len(salt) != SALT_BYTES or len(check) != CHECK_BYTES:
            raise CorruptShardError("header: malformed encryption salt or key check", **where)
        if master is None:
            raise EncryptionKeyRequiredError("the shard is encrypted (AES-256-GCM): pass encryption_key= or "
                                             "encryption_key_file=, or set ENCODER_KEY (64 hex digits) or "
                                             "ENCODER_KEY_FILE", shard=shard)
        cipher = cls(master, salt)
        if not hmac.compare_digest(cipher.check, check):
            raise EncryptionKeyRequiredError("wrong encryption key: this shard was encrypted with another key "
                                             "(or its header was altered)", shard=shard)
        return cipher

    def header(self, metadata_json: bytes) -> dict:
        """The clear ``format`` object of an encrypted shard's header, the metadata sealed in it."""
        return {"required": ["encryption"], "encryption": {
            "alg": ALGORITHM, "kdf": KDF, "salt": self.salt.hex(), "check": self.check.hex(),
            "metadata": base64.b64encode(self.seal(METADATA, 0, metadata_json)).decode()}}

    def metadata(self, spec: dict, shard) -> bytes:
        """The metadata JSON sealed in a header's ``format.encryption``."""
        try:
            record = base64.b64decode(spec["metadata"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise CorruptShardError("header: malformed sealed metadata", shard=shard, offset=24) from None
        return self.open(METADATA, 0, record, shard=shard, offset=24)

    @staticmethod
    def _aad(kind: int, at: int, number: int) -> bytes:
        return _AAD.pack(b"ENCSEAL\0", kind, at, number)

    def seal(self, kind: int, at: int, plaintext, number: int = 0) -> bytes:
        """``nonce || AES-256-GCM(plaintext) || tag``, bound to (kind, at, number).

        ``at`` is the offset of the record's place: 0 for the metadata, the block's offset for
        a descriptor and the block's chunks (``number`` counts the chunks of a block), the
        footer's offset for the footer.
        """
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, bytes(plaintext), self._aad(kind, at, number))

    def open(self, kind: int, at: int, record, number: int = 0, **where) -> bytes:
        """The plaintext of a sealed record; CorruptShardError when it was altered or moved."""
        record = memoryview(record).cast("B")  # no copy: slices of a mapped file decrypt in place
        if len(record) < OVERHEAD:
            raise CorruptShardError(f"sealed record of {len(record)} bytes is shorter than nonce and tag",
                                    **where)
        from cryptography.exceptions import InvalidTag
        try:
            return self._aead.decrypt(record[:NONCE_BYTES], record[NONCE_BYTES:], self._aad(kind, at, number))
        except InvalidTag:
            raise CorruptShardError("authentication failed: the encrypted bytes were altered, moved or "
                                    "replaced", **where) from None
