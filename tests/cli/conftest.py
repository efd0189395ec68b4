"""Fixtures shared by the tests of the ``encoder`` command line: a small shard, damaged copies
of it, and the rotated parts of one session with several blocks per stream."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

import encoder
from encoder.testing import synthetic

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: The clock anchor of the parts: t = T0_US is this Unix time (2024-05-01 12:00:00 UTC).
T0_US, UNIX_US_AT_T0 = 5_000_000, 1_714_564_800_000_000


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



def write_part(path, *, session: str | None = "sess-42", part: int = 0, rows: int = 1000,
               block_rows: int = 250, seed: int = 0) -> str:
    """One rotated part of a session: ``pointer`` in blocks of ``block_rows`` rows (random walks,
    so chunks are real zstd frames), a few ``key`` rows with text, an empty ``scroll``."""
    rng = np.random.default_rng(seed + part)
    start = T0_US + part * 100_000_000
    t = start + np.cumsum(rng.integers(1_000, 20_000, rows))
    metadata = {"clock": {"source": "monotonic", "t0_us": T0_US, "unix_us_at_t0": UNIX_US_AT_T0}}
    if session is not None:
        metadata["session"] = {"id": session, "part": part}
    with encoder.ShardWriter(path, metadata=metadata, block_rows=block_rows) as w:
        w.write("pointer", {"t": t, "x": np.cumsum(rng.integers(-5, 6, rows)).astype(np.int32),
                            "y": np.cumsum(rng.integers(-5, 6, rows)).astype(np.int32)})
        k = t[::50]
        w.write("key", {"t": k, "code": rng.integers(0, 200, len(k)).astype(np.uint32),
                        "pressed": np.arange(len(k)) % 2 == 0, "modifiers": np.zeros(len(k), np.uint16),
                        "text": [chr(97 + i % 26) for i in range(len(k))]})
        w.write("scroll", {"t": np.zeros(0, np.int64), "dx": np.zeros(0, np.int32), "dy": np.zeros(0, np.int32),
                           "precise": np.zeros(0, bool), "x": np.zeros(0, np.int32), "y": np.zeros(0, np.int32)})
    return str(path)


@pytest.fixture(scope="session")
def parts(tmp_path_factory) -> list[str]:
    """Three rotated parts of session ``sess-42`` in one folder (read only by the tests)."""
    folder = tmp_path_factory.mktemp("parts")
    return [write_part(folder / f"sess-42.part-{i:03d}.enc", part=i) for i in range(3)]


def block_of(path, stream: str, number: int) -> encoder.BlockInfo:
    """The ``number``-th block of ``stream`` in the shard at ``path`` (from the footer index)."""
    with encoder.ShardReader(path) as reader:
        return [b for b in reader.blocks if b.stream == stream][number]


def damage_block(src, dst, stream: str, number: int, where: str = "chunk") -> str:
    """A copy of ``src`` at ``dst`` with one byte flipped in a block: in its descriptor record
    (``where="descriptor"``: a little after the block's offset + 64) or in its first chunk."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    offset = block_of(src, stream, number).offset
    at = offset + 64 + 9 if where == "descriptor" else data.index(ZSTD_MAGIC, offset) + 9
    data[at] ^= 0x20
    with open(dst, "wb") as f:
        f.write(data)
    return os.fspath(dst)


def frames_with_a_damaged_page(path, frames: int, seed: int) -> str:
    """A shard of ``frames`` random 48x64 frames (so its one tile page holds all their tiles),
    with a bit flipped inside that page's chunk."""
    rng = np.random.default_rng(seed)
    with encoder.ShardWriter(path) as w:
        for k in range(frames):
            w.add_frame(k * 1000, rng.integers(0, 256, (48, 64, 4), np.uint8))
    page = block_of(path, "tile", 0)
    with open(path, "r+b") as f:
        f.seek(page.offset + page.stored_bytes // 2 + 512)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0x08]))
    return str(path)


@pytest.fixture
def shard_tools() -> SimpleNamespace:
    """The helpers of this file for the tests (a conftest cannot be imported by name: the tests
    folder's own conftest shadows it): ``write_part``, ``damage_block``, ``block_of``,
    ``corrupt_copy``, ``frames_with_a_damaged_page`` and the parts' clock anchor ``T0_US``, ``UNIX_US_AT_T0``."""
    return SimpleNamespace(write_part=write_part, damage_block=damage_block, block_of=block_of,
                           corrupt_copy=corrupt_copy, frames_with_a_damaged_page=frames_with_a_damaged_page,
                           T0_US=T0_US, UNIX_US_AT_T0=UNIX_US_AT_T0)
