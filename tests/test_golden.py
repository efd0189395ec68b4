"""Golden shards of every format version ever released decode to the same session."""
import pathlib
import sys

import pytest

import encoder
from common import assert_golden

sys.path.insert(0, str(pathlib.Path(__file__).parent / "golden"))
from make_golden import METADATA, expected, frames  # noqa: E402

GOLDEN = sorted((pathlib.Path(__file__).parent / "golden").glob("v*-session.enc"))
GOLDEN_FRAMES = sorted((pathlib.Path(__file__).parent / "golden").glob("v*-frames.enc"))


def test_there_is_a_golden_shard_of_the_current_version():
    major, minor = encoder.shard.format.VERSION
    assert any(p.name.startswith(f"v{major}.{minor}-") for p in GOLDEN)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_shard_decodes_exactly(path):
    with encoder.ShardReader(path) as r:
        assert_golden(r, METADATA, expected(r.version))


def test_there_is_a_golden_frames_shard_of_the_current_version():
    major, minor = encoder.shard.format.VERSION
    assert any(p.name.startswith(f"v{major}.{minor}-") for p in GOLDEN_FRAMES)


@pytest.mark.parametrize("path", GOLDEN_FRAMES, ids=lambda p: p.name)
def test_golden_frames_decode_exactly(path):
    """Frames with panes (motion, 1.3) through every read path, bit for bit."""
    want = frames()
    with encoder.ShardReader(path) as r:
        assert r.frame_count() == len(want)
        for i in range(len(want)):
            r.drop_frame_cache()
            assert (r.frame(i) == want[i]).all(), i
        assert all((f == w).all() for f, w in zip(r.iter_frames(), want))
        assert all((f == w).all() for f, w in zip(r.frames([11, 3, 7, 4]), [want[j] for j in (11, 3, 7, 4)]))
        r.verify()
