"""encoder.review.redact: the rectangles black in every frame they apply to, every other pixel
and every row exact, no tile of the original pixels inside them left in the tile store."""
from __future__ import annotations

import numpy as np
import pytest

import encoder
from encoder.errors import EncoderError
from encoder.review import parse_rect, redact
from encoder.review.ranges import origin_us

from review.sessions import (KEY, SECRET_AT, TILE, T0, frame_tiles, hashes, secret_block, sha256, stored_tiles,
                             tiles_in_frames, write_session)

DEMO = "encoder/data/demo_session.enc"
BLACK = np.array([0, 0, 0, 255], np.uint8)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> str:
    return write_session(tmp_path_factory.mktemp("redact") / "in.enc")


def check_redact(src, out, rects, screen=None, **keys) -> None:
    """Pixels inside each applicable rectangle are opaque black, every other pixel and every row
    is exact (the output frame equals the input's with the rectangles painted), and the tile store of ``out`` holds only tiles its frames show."""
    with encoder.ShardReader(src, **keys) as a, encoder.ShardReader(out, **keys) as b:
        origin = origin_us(a)
        for name in a.streams:
            if name not in ("tile", "frame"):
                assert b.read(name).equals(a.read(name)), name
        for s in a.frame_screens():
            assert np.array_equal(b.frame_times(s), a.frame_times(s))
            for t, f, g in zip(a.frame_times(s), a.iter_frames(screen=s), b.iter_frames(screen=s, copy=False)):
                expected = f  # the input's frame with the rectangles painted black by hand
                for r in rects:
                    if (screen is None or s == screen) and (r.during is None or r.during.contains([t], origin)[0]):
                        expected[r.y:r.y + r.height, r.x:r.x + r.width] = BLACK[:f.shape[2]] if f.ndim == 3 else 0
                assert np.array_equal(g, expected)
        assert hashes(stored_tiles(b)) <= tiles_in_frames(b)


def test_redact_blacks_out_and_leaves_no_original_tile(session, tmp_path):
    before = sha256(session)
    out = str(tmp_path / "out.enc")
    y, x = SECRET_AT
    rects = [parse_rect(f"{x - 5},{y - 3},{TILE + 9},{TILE + 7}"), parse_rect("0,0,16,16")]
    report = redact(session, out, rects)
    assert sha256(session) == before
    check_redact(session, out, rects)
    with encoder.ShardReader(out) as r:
        stored = hashes(stored_tiles(r))
        assert r.metadata["redact"][0]["rects"][0] == {"x": x - 5, "y": y - 3, "width": 25, "height": 23,
                                                       "seconds": None}
    assert secret_block().tobytes() not in {t.tobytes() for t in stored_tiles(encoder.ShardReader(out))}
    # every original tile the rectangles touch (partly or wholly) is gone from the store
    with encoder.ShardReader(session) as r:
        touched = set()
        for s in r.frame_screens():
            for f in r.iter_frames(screen=s):
                grid = frame_tiles(f).reshape(4, 6, -1)
                touched |= hashes(grid[1:4, 2:5].reshape(-1, grid.shape[-1]))  # y 29-51, x 43-67
                touched |= hashes(grid[0, 0][None])
    assert touched and not touched & stored
    assert report.frames_edited == 24 and report.frames_removed == 0
    assert report.rows_removed == {"pointer": 0, "key": 0, "focus": 0, "scroll": 0, "note": 0}


def test_time_range_and_screen(session, tmp_path):
    out = str(tmp_path / "out.enc")
    rects = [parse_rect("48,32,16,16@4-6")]
    report = redact(session, out, rects, screen=0)
    check_redact(session, out, rects, screen=0)
    assert report.frames_edited == 4
    with encoder.ShardReader(out) as r:
        assert secret_block().tobytes() not in {t.tobytes() for t in stored_tiles(r)}
        assert np.array_equal(r.frame(0, screen=1), encoder.ShardReader(session).frame(0, screen=1))


def test_gray_and_rgb_frames(tmp_path):
    src, out = str(tmp_path / "in.enc"), str(tmp_path / "out.enc")
    rng = np.random.default_rng(3)
    with encoder.ShardWriter(src) as w:
        w.add_frame(0, rng.integers(0, 256, (20, 30), np.uint8), screen=0)
        w.add_frame(0, rng.integers(0, 256, (20, 30, 3), np.uint8), screen=1)
    redact(src, out, [parse_rect("1,2,5,6")])
    with encoder.ShardReader(out) as r, encoder.ShardReader(src) as a:
        assert (r.frame(0, 0)[2:8, 1:6] == 0).all() and (r.frame(0, 1)[2:8, 1:6] == 0).all()
        assert r.frame_info(0, 1)["format"] == a.frame_info(0, 1)["format"] == "rgb"
        assert r.frame(0, 0)[0, 0] == a.frame(0, 0)[0, 0]


def test_encrypted(tmp_path):
    src = write_session(tmp_path / "in.enc", encryption_key=KEY, screens=(0,))
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    out = str(tmp_path / "out.enc")
    rects = [parse_rect("0,0,20,20")]
    assert redact(src, out, rects, encryption_key_file=str(key_file)).encrypted
    check_redact(src, out, rects, encryption_key=KEY)


@pytest.mark.parametrize("rect, message", [
    ("90,0,10,10", "reaches outside the 96x64 frame"),
    ("0,60,4,5", "reaches outside"),
    ("0,0,4,4@20-30", "no frame in 20-30 s"),
])
def test_refusals(session, tmp_path, rect, message):
    with pytest.raises(EncoderError, match=message):
        redact(session, str(tmp_path / "out.enc"), [parse_rect(rect)])
    assert list(tmp_path.iterdir()) == []


def test_no_frames(tmp_path):
    src = str(tmp_path / "in.enc")
    with encoder.ShardWriter(src) as w:
        w.write("pointer", {"t": [T0], "x": [1], "y": [2]})
    with pytest.raises(EncoderError, match="holds no frames"):
        redact(src, str(tmp_path / "out.enc"), [parse_rect("0,0,1,1")])


def test_demo_session(tmp_path):
    before = sha256(DEMO)
    out = str(tmp_path / "demo-redacted.enc")
    rects = [parse_rect("0,0,400,80"), parse_rect("1000,500,123,77@10-20")]
    report = redact(DEMO, out, rects)
    assert sha256(DEMO) == before
    check_redact(DEMO, out, rects)
    assert report.frames_edited == 300 and report.tiles_after < report.tiles_before
