"""The zarr v3 codecs: found by name, real 1080p frames and event columns written and read back exactly."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

zarr = pytest.importorskip("zarr", minversion="3")

import encoder  # noqa: E402
from encoder.errors import CorruptShardError, SchemaError  # noqa: E402
from encoder.interop.zarr_codecs import EncoderEventsCodec, EncoderFramesCodec, register  # noqa: E402

DEMO = pathlib.Path(encoder.__file__).parent / "data" / "demo_session.enc"


@pytest.fixture(scope="module")
def real_frames() -> np.ndarray:
    """24 frames of the bundled real recording: 1080p BGRA."""
    return encoder.ShardReader(DEMO).frames(list(range(0, 48, 2)))


def test_found_by_name():
    from zarr.registry import get_codec_class
    assert get_codec_class("encoder_frames") is EncoderFramesCodec  # through the entry points
    assert get_codec_class("encoder_events") is EncoderEventsCodec
    register()  # by hand: the same classes, no second implementation
    assert get_codec_class("encoder_frames") is EncoderFramesCodec
    codec = EncoderFramesCodec(level=3, tile=32)
    assert codec.to_dict() == {"name": "encoder_frames", "configuration": {"level": 3, "tile": 32}}
    assert EncoderFramesCodec.from_dict(codec.to_dict()) == codec
    assert EncoderEventsCodec.from_dict({"name": "encoder_events"}) == EncoderEventsCodec()


def test_real_1080p_frames(real_frames, tmp_path):
    k = 8
    path = tmp_path / "frames.zarr"
    array = zarr.create_array(str(path), shape=real_frames.shape, chunks=(k, 1080, 1920, 4), dtype="uint8",
                              serializer=EncoderFramesCodec(), compressors=None)
    array[:] = real_frames
    back = zarr.open_array(str(path), mode="r")
    assert list(back.metadata.to_dict()["codecs"]) == [{"name": "encoder_frames",
                                                   "configuration": {"level": 6, "tile": 16}}]
    assert np.array_equal(back[:], real_frames)
    assert np.array_equal(back[5:11, 100:300, 1800:], real_frames[5:11, 100:300, 1800:])
    ours = sum(f.stat().st_size for f in (path / "c").rglob("*") if f.is_file())
    default = zarr.create_array(str(tmp_path / "zstd.zarr"), shape=real_frames.shape, chunks=(k, 1080, 1920, 4),
                                dtype="uint8")  # zarr's default: bytes + zstd
    default[:] = real_frames
    theirs = sum(f.stat().st_size for f in (tmp_path / "zstd.zarr" / "c").rglob("*") if f.is_file())
    assert ours * 3 < theirs, (ours, theirs)


def test_frame_chunks_of_other_shapes():
    rng = np.random.default_rng(3)
    for shape, chunks in (((5, 30, 40, 3), (2, 30, 40, 3)), ((4, 30, 40), (3, 16, 16)), ((3, 9, 9, 1), (2, 9, 9, 1))):
        data = rng.integers(0, 3, shape, dtype=np.uint8)
        array = zarr.create_array(zarr.storage.MemoryStore(), shape=shape, chunks=chunks, dtype="uint8",
                                  serializer=EncoderFramesCodec(tile=8), compressors=None)
        array[:] = data
        assert np.array_equal(array[:], data)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint16", "int8", "uint64"])
def test_event_columns(dtype):
    rng = np.random.default_rng(4)
    values = np.cumsum(rng.integers(0, 40, 10_000)).astype(dtype)
    store = zarr.storage.MemoryStore()
    array = zarr.create_array(store, shape=values.shape, chunks=(4096,), dtype=dtype,
                              serializer=EncoderEventsCodec(transform="delta"), compressors=None)
    array[:] = values
    back = zarr.open_array(store, mode="r")
    assert back.dtype == values.dtype and np.array_equal(back[:], values)
    assert np.array_equal(back[4000:4100], values[4000:4100])


def test_wrong_arrays_are_refused():
    with pytest.raises(SchemaError, match="uint8 arrays of frames"):
        zarr.create_array(zarr.storage.MemoryStore(), shape=(2, 8, 8, 4), dtype="uint16",
                          serializer=EncoderFramesCodec(), compressors=None)
    with pytest.raises(SchemaError, match="uint8 arrays of frames"):
        zarr.create_array(zarr.storage.MemoryStore(), shape=(2, 8, 8, 2), dtype="uint8",
                          serializer=EncoderFramesCodec(), compressors=None)
    with pytest.raises(SchemaError, match="1-D integer"):
        zarr.create_array(zarr.storage.MemoryStore(), shape=(10,), dtype="float64",
                          serializer=EncoderEventsCodec(), compressors=None)
    with pytest.raises(SchemaError, match="transform"):
        EncoderEventsCodec(transform="x")


def test_damaged_chunk_raises(tmp_path):
    path = tmp_path / "t.zarr"
    array = zarr.create_array(str(path), shape=(100,), chunks=(100,), dtype="int64",
                              serializer=EncoderEventsCodec(), compressors=None)
    array[:] = np.arange(100)
    chunk = next(f for f in (path / "c").rglob("*") if f.is_file())
    chunk.write_bytes(chunk.read_bytes()[:-3])
    with pytest.raises(CorruptShardError, match="truncated|checksum"):
        zarr.open_array(str(path), mode="r")[:]
