"""The byte formats behind the interop codecs: exact round trips and a corruption suite."""
from __future__ import annotations

import numpy as np
import pytest
import xxhash
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from encoder.errors import CorruptShardError, EncoderError, LimitError, UnsupportedVersionError
from encoder.interop import blobs

INT_DTYPES = [d.str for d in blobs.EVENT_DTYPES]


@given(hnp.arrays(st.sampled_from(INT_DTYPES), st.integers(0, 300)), st.sampled_from(list(blobs.TRANSFORMS)))
def test_events_round_trip(values, transform):
    back = blobs.decode_events(blobs.encode_events(values, transform=transform, level=1))
    assert back.dtype == values.dtype and np.array_equal(back, values)


@given(hnp.arrays(np.uint8, st.tuples(st.integers(0, 3), st.integers(1, 20), st.integers(1, 20),
                                      st.sampled_from([1, 3, 4])), elements=st.integers(0, 3)))
def test_frames_round_trip(frames):
    back = blobs.decode_frames(blobs.encode_frames(frames, tile=4))
    assert back.shape == frames.shape and np.array_equal(back, frames)


def test_same_frames_same_bytes():
    frames = np.arange(2 * 20 * 30 * 4, dtype=np.uint32).astype(np.uint8).reshape(2, 20, 30, 4)
    assert blobs.encode_frames(frames) == blobs.encode_frames(frames.copy())


def test_big_endian_and_out():
    values = np.arange(50, dtype=">i4") * 3
    out = np.empty(50, np.int32)
    assert blobs.decode_events(blobs.encode_events(values), out=out) is out and np.array_equal(out, values)


def sealed(body: bytes) -> bytes:
    """``body`` with a valid checksum: corruption that the checksum cannot catch."""
    return body + xxhash.xxh3_64_intdigest(body).to_bytes(8, "little")


SAMPLES = {
    "events": (blobs.encode_events(np.cumsum(np.arange(300, dtype=np.int64) % 7) * 1000), blobs.decode_events),
    "events-const": (blobs.encode_events(np.full(40, 5, np.int8)), blobs.decode_events),
    "frames": (blobs.encode_frames(np.arange(2 * 9 * 10 * 3, dtype=np.uint8).reshape(2, 9, 10, 3), tile=4),
               blobs.decode_frames),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_truncation_raises(name):
    blob, decode = SAMPLES[name]
    for end in range(len(blob)):
        with pytest.raises(CorruptShardError):
            decode(blob[:end])


@pytest.mark.parametrize("name", SAMPLES)
def test_every_bit_flip_raises(name):
    blob, decode = SAMPLES[name]
    for pos in range(0, len(blob), max(1, len(blob) // 300)):
        damaged = bytearray(blob)
        damaged[pos] ^= 1 << (pos % 8)
        with pytest.raises(EncoderError):  # UnsupportedVersionError for the version byte
            decode(bytes(damaged))


@pytest.mark.parametrize("name", SAMPLES)
def test_checksummed_nonsense_in_the_body_raises(name):
    blob, decode = SAMPLES[name]
    body = bytearray(blob[:-8])
    rng = np.random.default_rng(0)
    for _ in range(200):  # a header field or payload byte rewritten, checksum made to match
        damaged = bytearray(body)
        damaged[int(rng.integers(5, len(body)))] = int(rng.integers(0, 256))
        try:
            decode(sealed(bytes(damaged)))
        except EncoderError:
            pass  # whatever decodes instead must at least not crash or allocate wildly


def test_absurd_counts_raise_before_allocating():
    blob, _ = SAMPLES["events-const"]
    body = bytearray(blob[:-8])
    body[8:16] = (1 << 40).to_bytes(8, "little")  # 1 T values of a constant: 17 bytes of header
    with pytest.raises(CorruptShardError, match="declares 1099511627776 values"):
        blobs.decode_events(sealed(bytes(body)))
    body = bytearray(blob[:-8])
    body[16:20] = (1 << 31).to_bytes(4, "little")  # params length
    with pytest.raises(CorruptShardError, match="bytes of params"):
        blobs.decode_events(sealed(bytes(body)))
    blob, _ = SAMPLES["frames"]
    body = bytearray(blob[:-8])
    body[8:12] = (1 << 31).to_bytes(4, "little")  # 2 G frames claimed: the shard holds 2
    with pytest.raises(CorruptShardError, match="holds 2 frames"):
        blobs.decode_frames(sealed(bytes(body)))
    body = bytearray(blob[:-8])
    body[12:16] = (1 << 20).to_bytes(4, "little")  # a height beyond the tile layer's limit
    with pytest.raises(CorruptShardError, match="frames of 1048576 x 10"):
        blobs.decode_frames(sealed(bytes(body)))
    body = bytearray(blob[:-8])
    body[12:16] = (10).to_bytes(4, "little")  # a plausible height that the shard contradicts
    with pytest.raises(CorruptShardError, match="frame 0 is 9 x 10"):
        blobs.decode_frames(sealed(bytes(body)))


def test_version_and_limits():
    blob, _ = SAMPLES["events"]
    with pytest.raises(UnsupportedVersionError, match="version 2"):
        blobs.decode_events(sealed(blob[:4] + b"\x02" + blob[5:-8]))
    with pytest.raises(LimitError, match="level"):
        blobs.encode_events(np.arange(3), level=23)
    with pytest.raises(LimitError, match="each side"):
        blobs.encode_frames(np.zeros((1, 1, 16385), np.uint8))
