"""Fixtures shared by the tests of the ``encoder`` command line: a small shard and damaged
copies of it."""
from __future__ import annotations

import pytest

import encoder
from encoder.testing import synthetic

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@pytest.fixture(scope="session")
def shard(tmp_path_factory) -> str:
    """A 20-second synthetic session written as a shard (read only by the tests)."""
    path = str(tmp_path_factory.mktemp("cli") / "session.enc")
    synthetic.write_sample(path, seconds=20, seed=2)
    return path


def corrupt_copy(src: str, dst, how: str) -> str:
    """A copy of ``src`` damaged in one way; returns its path."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    with encoder.ShardReader(src) as reader:
        first_block = reader.blocks[0].offset
    if how == "chunk":  # a bit inside the first compressed chunk (every chunk is a zstd frame)
        data[data.index(ZSTD_MAGIC, first_block) + 9] ^= 0x10
    elif how == "metadata":  # a bit of the header's metadata JSON
        data[30] ^= 0x01
    elif how == "descriptor":  # a bit of the first block's descriptor JSON
        data[first_block + 40] ^= 0x04
    elif how == "footer":  # the footer is the last zstd frame
        data[data.rindex(ZSTD_MAGIC) + 12] ^= 0x80
    elif how == "tail":
        data[-1] ^= 0x01
    elif how == "truncated":
        del data[-100:]
    elif how == "empty":
        data = bytearray()
    elif how == "text":
        data = bytearray(b"pointer,x,y\n1,2,3\n")
    else:
        raise AssertionError(how)
    path = str(dst / f"{how}.enc")
    with open(path, "wb") as f:
        f.write(data)
    return path


@pytest.fixture
def corrupt():
    """:func:`corrupt_copy`: ``corrupt(src, folder, how)`` writes a damaged copy, returns its path."""
    return corrupt_copy

