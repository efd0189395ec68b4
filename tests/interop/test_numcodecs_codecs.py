"""encoder_events and encoder_frames as numcodecs codecs: numcodecs' own helpers, the registry, bad input."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

numcodecs = pytest.importorskip("numcodecs")
common = pytest.importorskip("numcodecs.tests.common")

from encoder.errors import CorruptShardError, SchemaError  # noqa: E402
from encoder.interop.numcodecs_codecs import EncoderEvents, EncoderFrames  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "numcodecs"
#: Set to 1 to let numcodecs' helper write missing fixture files (once per format version).
WRITE_FIXTURES = os.environ.get("ENCODER_WRITE_FIXTURES") == "1"


def event_arrays() -> list[np.ndarray]:
    """Timestamps, coordinates and every supported dtype at its extremes (seeded)."""
    rng = np.random.default_rng(15)
    t = np.cumsum(rng.choice([8000, 9000, 16000, 109000], 3000)) + 1_700_000_000_000_000
    x = np.cumsum(rng.integers(-9, 10, 2000)).astype(np.int32)
    out = [t.astype(np.int64), x, np.zeros(0, np.int64)]
    for dtype in ("i1", "i2", "u1", "u2", "u4", "u8"):
        info = np.iinfo(dtype)
        out.append(np.resize(np.array([info.min, info.max, 0, 1, info.max // 3], dtype), 500))
    return out


def frame_arrays() -> list[np.ndarray]:
    """Chunks of frames with repeated content: BGRA, RGB, gray (N x H x W x 1 and N x H x W)."""
    rng = np.random.default_rng(16)
    bgra = np.repeat(rng.integers(0, 256, (1, 40, 56, 4), dtype=np.uint8), 4, axis=0)
    bgra[1, 3:9, 10:30] = 7
    bgra[3] = bgra[0]
    rgb = np.repeat(rng.integers(0, 4, (1, 24, 33, 3), dtype=np.uint8), 3, axis=0)
    rgb[2, -1, -1] = 255
    gray = rng.integers(0, 256, (2, 17, 20), dtype=np.uint8)
    return [bgra, rgb, gray, gray[..., None].copy()]


@pytest.mark.parametrize("index", range(len(event_arrays())))
def test_events_encode_decode(index):
    values = event_arrays()[index]
    common.check_encode_decode(values, EncoderEvents(dtype=values.dtype.str))
    common.check_encode_decode(values, EncoderEvents(transform="for", level=1, dtype=values.dtype.str))
    common.check_encode_decode_array(values, EncoderEvents())


@pytest.mark.parametrize("index", range(len(frame_arrays())))
def test_frames_encode_decode(index):
    frames = frame_arrays()[index]
    common.check_encode_decode(frames, EncoderFrames(shape=list(frames.shape[1:])))
    common.check_encode_decode_array(frames, EncoderFrames(level=3, tile=8))


def test_config_and_registry():
    for codec in (EncoderEvents(), EncoderEvents(level=9, transform="delta-rank", dtype="<i8"),
                  EncoderFrames(), EncoderFrames(level=3, tile=32, shape=[1080, 1920, 4])):
        common.check_config(codec)
        found = numcodecs.get_codec(codec.get_config())  # through the entry points
        assert type(found) is type(codec) and found == codec
    assert numcodecs.get_codec({"id": "encoder_events"}).codec_id == "encoder_events"


def test_repr(monkeypatch):
    # check_repr evaluates the text in numcodecs' test module: make our names visible there
    monkeypatch.setattr(common, "EncoderEvents", EncoderEvents, raising=False)
    monkeypatch.setattr(common, "EncoderFrames", EncoderFrames, raising=False)
    common.check_repr("EncoderEvents(level=3, transform='auto')")
    common.check_repr("EncoderEvents(level=7, transform='for', dtype='<u2')")
    common.check_repr("EncoderFrames(level=6, tile=16)")
    common.check_repr("EncoderFrames(level=1, tile=8, shape=[20, 30, 3])")


@pytest.mark.parametrize("codec_id, arrays, codecs", [
    ("encoder_events", event_arrays, lambda: [EncoderEvents(), EncoderEvents(level=19, transform="delta")]),
    ("encoder_frames", frame_arrays, lambda: [EncoderFrames(), EncoderFrames(level=1, tile=8)]),
])
def test_backwards_compatibility(codec_id, arrays, codecs, monkeypatch):
    """The committed blobs of format version 1 decode to their arrays (numcodecs' own mechanism)."""
    folder = FIXTURES / "fixture" / codec_id
    if not WRITE_FIXTURES:
        assert (folder / "codec.01" / "config.json").is_file(), \
            f"{folder} is missing: run this test once with ENCODER_WRITE_FIXTURES=1 and commit the files"
    monkeypatch.chdir(FIXTURES)  # the helper reads and writes ./fixture/<codec_id>
    common.check_backwards_compatibility(codec_id, arrays(), codecs())


@pytest.mark.parametrize("values, match", [
    (np.zeros(4, np.float64), "dtype float64"),
    (np.zeros((2, 3), np.int64), "1-D"),
    (np.array(["a"]), "dtype <U1"),
    ([1, 2, 3], "bytes-like object, got list"),
])
def test_events_bad_input(values, match):
    with pytest.raises(SchemaError, match=match):
        EncoderEvents().encode(values)


def test_events_bad_options():
    with pytest.raises(SchemaError, match="transform"):
        EncoderEvents(transform="zigzag")
    with pytest.raises(SchemaError, match="level"):
        EncoderEvents(level=0)
    with pytest.raises(SchemaError, match="float32"):
        EncoderEvents(dtype="float32")
    with pytest.raises(SchemaError, match="configured for <i8"):
        EncoderEvents(dtype="<i8").encode(np.arange(4, dtype=np.int32))
    with pytest.raises(SchemaError, match="whole number"):
        EncoderEvents(dtype="<i8").encode(b"1234567")


@pytest.mark.parametrize("frames, match", [
    (np.zeros((2, 8, 8, 4), np.uint16), "uint8"),
    (np.zeros((8, 8), np.uint8), "N x H x W"),
    (np.zeros((2, 8, 8, 2), np.uint8), "2 channels"),
    (np.zeros((2, 0, 8), np.uint8), "each side"),
    (b"\x00" * 16, "need the codec's shape"),
])
def test_frames_bad_input(frames, match):
    with pytest.raises(SchemaError, match=match):
        EncoderFrames().encode(frames)


def test_frames_shape_option():
    with pytest.raises(SchemaError, match="configured for"):
        EncoderFrames(shape=[8, 8, 4]).encode(np.zeros((1, 8, 8, 3), np.uint8))
    with pytest.raises(SchemaError, match="shape must be"):
        EncoderFrames(shape=[8, 8, 2])


def test_decode_out_of_the_wrong_size():
    blob = EncoderEvents().encode(np.arange(10))
    with pytest.raises(SchemaError, match="80 bytes"):
        EncoderEvents().decode(blob, out=np.empty(9, np.int64))


def test_corrupt_blobs_raise():
    events = EncoderEvents().encode(np.arange(100))
    frames = EncoderFrames().encode(frame_arrays()[0])
    for codec, blob in ((EncoderEvents(), events), (EncoderFrames(), frames)):
        with pytest.raises(CorruptShardError, match="truncated|checksum"):
            codec.decode(blob[:-1])
        with pytest.raises(CorruptShardError, match="magic"):
            codec.decode(b"XXXX" + blob[4:])
    with pytest.raises(CorruptShardError, match="magic"):
        EncoderEvents().decode(frames)  # a frames blob is not an events blob
