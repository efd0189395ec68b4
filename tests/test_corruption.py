"""Hostile bytes: every truncation, every byte flipped, absurd counts. Never a crash or wrong data."""
import json
import struct

import numpy as np
import pytest
import zstandard

import encoder
from encoder.shard import format as fmt

SOURCE = {
    "pointer": {"t": np.arange(300) * 1000, "x": np.arange(300) % 17, "y": -np.arange(300)},
    "key": {"t": [5, 6, 7], "code": [65, 65, 66], "pressed": [True, False, True], "modifiers": [0, 0, 1],
            "text": ["a", None, "B"]},
}


@pytest.fixture(scope="module")
def shard():
    data = encoder.encode(SOURCE, block_rows=128)
    return data, encoder.decode(data)


def decode_all(data):
    with encoder.ShardReader(data) as r:
        out = {name: r.read(name) for name in r.streams}
        r.verify()
        return out


def test_every_truncation_raises(shard):
    data, _ = shard
    for cut in range(len(data)):
        with pytest.raises(encoder.CorruptShardError) as info:
            decode_all(data[:cut])
        assert "<bytes>" in str(info.value)


def test_every_flipped_byte_is_caught(shard):
    data, _ = shard
    caught = 0
    for pos in range(len(data)):
        broken = bytearray(data)
        broken[pos] ^= 1 << (pos % 8)
        try:
            decode_all(bytes(broken))
        except encoder.EncoderError:
            caught += 1
            continue
        raise AssertionError(f"flip at byte {pos} went unnoticed")  # verify() covers every byte
    assert caught == len(data)


def rebuild(data: bytes, edit) -> bytes:
    """Apply ``edit`` to the footer JSON and re-seal it with valid checksums (a crafted shard)."""
    offset, length, raw, _, magic = fmt.TAIL.unpack(data[-fmt.TAIL.size:])
    footer = json.loads(zstandard.ZstdDecompressor().decompress(data[offset:offset + length]))
    edit(footer)
    text = fmt.dumps(footer)
    frame = zstandard.ZstdCompressor().compress(text)
    return data[:offset] + frame + fmt.TAIL.pack(offset, len(frame), len(text), fmt.checksum(frame), magic)


@pytest.mark.parametrize("edit, words", [
    (lambda f: f["blocks"][0].update(rows=10**9), "rows"),
    (lambda f: f["blocks"][0]["columns"][0][1][0].__setitem__(2, 1 << 40), "decompressed bytes"),
    (lambda f: f["blocks"][0]["columns"][0][1][0].__setitem__(1, 1 << 40), "outside the block"),
    (lambda f: f["blocks"][0].update(offset=-5), "block at"),
    (lambda f: f["blocks"][0]["columns"].pop(), "columns"),
    (lambda f: f["blocks"][0]["columns"][0].__setitem__(0, {"c": "planes", "m": 0, "b": 0, "s": 1, "w": 8}), "sections"),
    (lambda f: f["streams"].update(pointer=[["x", "int32", 0]]), "first column"),
    (lambda f: f.update(blocks={}), "lacks"),
])
def test_crafted_footers_raise_before_allocating(shard, edit, words):
    data, _ = shard
    with pytest.raises(encoder.CorruptShardError, match=words) as info:
        decode_all(rebuild(data, edit))
    assert "shard '<bytes>'" in str(info.value)


def test_chunk_errors_name_stream_column_and_offset(shard):
    data, _ = shard
    r = encoder.ShardReader(data)
    block = r.blocks[0]
    local, _ = fmt.unpack_block_header(data, block.offset, "x")
    start = block.offset + local["columns"][1][1][0][0]
    broken = bytearray(data)
    broken[start + 3] ^= 0xFF
    with pytest.raises(encoder.CorruptShardError) as info:
        encoder.ShardReader(bytes(broken)).read("pointer")
    err = info.value
    assert (err.stream, err.column, err.offset) == ("pointer", "x", start)
    assert "checksum" in str(err)


def test_huge_metadata_length_is_refused():
    head = struct.pack("<8sHHIQ", fmt.MAGIC, 1, 0, 0xFFFFFFFF, 0)
    with pytest.raises(encoder.CorruptShardError, match="metadata length"):
        encoder.ShardReader(head + bytes(100))


def with_version(data: bytes, major: int, minor: int) -> bytes:
    """The shard with another version in its header, checksum re-sealed."""
    size = int.from_bytes(data[12:16], "little")
    fixed = data[:8] + struct.pack("<HHI", major, minor, size)
    meta = data[24:24 + size]
    return fixed + struct.pack("<Q", fmt.checksum(fixed + meta)) + data[24:]


def test_versions_and_foreign_files(shard):
    data, _ = shard
    with pytest.raises(encoder.UnsupportedVersionError, match="version 2.0"):
        encoder.ShardReader(with_version(data, 2, 0))
    assert encoder.ShardReader(with_version(data, 1, 7)).version == (1, 7)  # minor versions only add
    with pytest.raises(encoder.CorruptShardError, match="checksum"):  # the version is checksummed
        encoder.ShardReader(data[:10] + b"\x07" + data[11:])
    with pytest.raises(encoder.CorruptShardError, match="not a shard"):
        encoder.ShardReader(b"PAR1" + bytes(200))
    with pytest.raises(encoder.CorruptShardError, match="too short"):
        encoder.ShardReader(b"")


def test_unfinished_shard_says_so(tmp_path):
    path = tmp_path / "open.enc"
    w = encoder.ShardWriter(path)
    w.write("pointer", {"t": [1], "x": [1], "y": [1]})
    w.flush()
    with pytest.raises(encoder.CorruptShardError, match="not closed|end magic"):
        encoder.ShardReader(path)
    w.close()
    assert encoder.ShardReader(path).num_rows("pointer") == 1
