"""The targets of issue 15, measured on real data in the same run: encoder_events below blosc2 on the
real timestamp columns, encoder_frames several times below zstd-3 on real 1080p frames; both exact."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
import zstandard

import encoder
from encoder.interop import blobs
from encoder.testing import recordings

DEMO = pathlib.Path(encoder.__file__).parent / "data" / "demo_session.enc"


def real_timestamp_columns() -> dict:
    root = recordings.shared_data_dir()
    if root is None:
        pytest.skip("shared recordings not found (../shared/data or $ENCODER_SHARED_DATA)")
    found = {}
    if (root / recordings.BALABIT).is_dir():
        found.update({f"balabit.{s}": c["t"] for s, c in recordings.load_balabit(root).items()})
    if (root / recordings.AALTO).is_dir():
        found.update({f"aalto.{s}": c["t"] for s, c in recordings.load_aalto(root).items()})
    return found


def test_events_smaller_than_blosc2_on_real_timestamps():
    blosc2 = pytest.importorskip("blosc2")
    columns = real_timestamp_columns()
    assert columns
    for name, t in columns.items():
        t = np.ascontiguousarray(t)
        blob = blobs.encode_events(t)
        assert np.array_equal(blobs.decode_events(blob), t), name
        cparams = blosc2.CParams(codec=blosc2.Codec.ZSTD, clevel=5, typesize=8, nthreads=1,
                                 filters=[blosc2.Filter.SHUFFLE, blosc2.Filter.BYTEDELTA], filters_meta=[0, 0])
        theirs = len(blosc2.compress2(t, cparams=cparams))
        assert len(blob) < theirs, (name, len(blob), theirs)


def test_frames_several_times_smaller_than_zstd3_on_real_frames():
    frames = encoder.ShardReader(DEMO).frames(list(range(16)))
    assert frames.shape == (16, 1080, 1920, 4)
    blob = blobs.encode_frames(frames)
    assert np.array_equal(blobs.decode_frames(blob), frames)
    zstd3 = len(zstandard.ZstdCompressor(level=3).compress(frames))
    assert 3 * len(blob) < zstd3, (len(blob), zstd3)
