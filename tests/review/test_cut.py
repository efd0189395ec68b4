"""encoder.review.cut: no row and no frame of a dropped range in the output, every other one
bit-exact, no tile that only a dropped frame used, the input untouched."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

import encoder
from encoder.errors import EncoderError, EncryptionKeyRequiredError
from encoder.review import cut, parse_range
from encoder.review.ranges import any_contains

from review.sessions import (DROP, KEY, T0, frame_tiles, hashes, secret_block, sha256, stored_tiles,
                             tiles_in_frames, write_session)

DEMO = "encoder/data/demo_session.enc"


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> str:
    return write_session(tmp_path_factory.mktemp("cut") / "in.enc")


def check_cut(src: str, out: str, ranges, origin: int, **keys) -> None:
    """Every stream and every frame of ``out`` is that of ``src`` without the rows and frames in
    ``ranges``, exactly; the tile store of ``out`` holds only tiles of its frames."""
    with encoder.ShardReader(src, **keys) as a, encoder.ShardReader(out, **keys) as b:
        assert set(b.streams) == set(a.streams)
        for name in a.streams:
            if name in ("tile", "frame"):
                continue
            assert b.streams[name].equals(a.streams[name])
            table = a.read(name)
            drop = any_contains(ranges, table.column("t").to_numpy(), origin)
            assert b.read(name).equals(table.filter(pa.array(~drop))), name
        for screen in a.frame_screens():
            times = a.frame_times(screen)
            keep = ~any_contains(ranges, times, origin)
            assert np.array_equal(b.frame_times(screen), times[keep])
            kept = [f for f, k in zip(a.iter_frames(screen=screen), keep) if k]
            assert b.frame_count(screen) == len(kept)
            for i, f in enumerate(b.iter_frames(screen=screen)):
                assert np.array_equal(f, kept[i]), (screen, i)
        # nothing stored that no kept frame shows
        assert hashes(stored_tiles(b)) <= tiles_in_frames(b)


def test_cut_removes_rows_frames_and_tiles(session, tmp_path):
    before = sha256(session)
    out = str(tmp_path / "out.enc")
    ranges = [parse_range(f"{DROP[0]:g}-{DROP[1]:g}")]
    report = cut(session, out, ranges)
    assert sha256(session) == before
    check_cut(session, out, ranges, T0)
    with encoder.ShardReader(out) as r:
        assert r.read("key").column("text").to_pylist() == ["a", "b", "c", "d"]  # 4 s in, 6 s out
        assert r.read("note").column("text").to_pylist() == ["before", None]
        assert r.read("focus").column("app").to_pylist() == ["xterm", "firefox"]
        assert r.read("scroll").num_rows == 0 and "scroll" in r.streams
        # the distinctive block of the dropped frames is in no tile of the output ...
        secret = secret_block().tobytes()
        assert not any(secret == t.tobytes() for t in stored_tiles(r))
        entry = r.metadata["cut"]
        assert r.metadata["session"] == {"id": "review-test"}
    with encoder.ShardReader(session) as r:  # ... and was in the input's
        assert any(secret == t.tobytes() for t in stored_tiles(r))
    assert entry[0]["seconds"] == [[4.0, 6.0]] and entry[0]["t_us"] == [[T0 + 4_000_000, T0 + 6_000_000]]
    assert "s3" not in json.dumps(entry) and "keepass" not in json.dumps(entry)
    assert report.rows_removed == {"pointer": 20, "key": 3, "focus": 1, "scroll": 0, "note": 1}
    assert report.frames_before == {0: 20, 1: 4} and report.frames_after == {0: 16, 1: 3}
    assert report.tiles_after < report.tiles_before and report.bytes_after < report.bytes_before


def test_open_ends_and_several_ranges(session, tmp_path):
    out = str(tmp_path / "out.enc")
    ranges = [parse_range("-1.2"), parse_range("3-4.5"), parse_range("8.5-")]
    cut(session, out, ranges)
    check_cut(session, out, ranges, T0)
    with encoder.ShardReader(out) as r:
        t = r.read("pointer").column("t").to_numpy() - T0
        assert t.min() == 1_200_000 and t.max() == 8_400_000 and not ((t >= 3_000_000) & (t < 4_500_000)).any()


def test_cut_everything_from_a_screen(session, tmp_path):
    out = str(tmp_path / "out.enc")
    ranges = [parse_range("0-100")]
    report = cut(session, out, ranges)
    with encoder.ShardReader(out) as r:
        assert all(r.num_rows(s) == 0 for s in r.streams)
        assert "frame" not in r.streams or r.num_rows("frame") == 0
    assert report.frames_after == {} and report.rows_after["pointer"] == 0


def test_encrypted_in_encrypted_out(tmp_path):
    src = write_session(tmp_path / "in.enc", encryption_key=KEY, screens=(0,))
    key_file = tmp_path / "key"
    key_file.write_text(KEY.hex())
    out = str(tmp_path / "out.enc")
    ranges = [parse_range("4-6")]
    report = cut(src, out, ranges, encryption_key_file=str(key_file))
    assert report.encrypted
    with pytest.raises(EncryptionKeyRequiredError):
        encoder.ShardReader(out, encryption_key=False)
    check_cut(src, out, ranges, T0, encryption_key=KEY)
    with open(out, "rb") as f:
        assert b"review-test" not in f.read()  # the metadata is sealed too


def test_refusals(session, tmp_path):
    out = tmp_path / "out.enc"
    out.write_bytes(b"precious")
    with pytest.raises(EncoderError, match="exists: pass --overwrite"):
        cut(session, str(out), [parse_range("1-2")])
    assert out.read_bytes() == b"precious"
    with pytest.raises(EncoderError, match="is the input"):
        cut(session, session, [parse_range("1-2")], overwrite=True)
    with pytest.raises(EncoderError, match="nothing to cut"):
        cut(session, str(tmp_path / "new.enc"), [])
    assert not (tmp_path / "new.enc").exists()
    cut(session, str(out), [parse_range("1-2")], overwrite=True)
    assert encoder.ShardReader(str(out)).verify()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.enc"]  # no temporary file left


def test_a_failure_leaves_nothing(session, tmp_path, monkeypatch):
    from encoder.review import rewrite

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(rewrite, "_copy_frames", broken)
    with pytest.raises(RuntimeError):
        cut(session, str(tmp_path / "out.enc"), [parse_range("1-2")])
    assert list(tmp_path.iterdir()) == []


def test_demo_session(tmp_path):
    before = sha256(DEMO)
    out = str(tmp_path / "demo-cut.enc")
    ranges = [parse_range("12.5-30"), parse_range("55-")]
    with encoder.ShardReader(DEMO) as r:
        origin = min(r.time_range(s)[0] for s in r.streams)
        dropped = r.frame_times()[any_contains(ranges, r.frame_times(), origin)]
        only_dropped = set()
        kept = set()
        for t, f in zip(r.frame_times(), r.iter_frames(copy=False)):
            (only_dropped if t in dropped else kept).update(hashes(frame_tiles(f)))
        only_dropped -= kept
    report = cut(DEMO, out, ranges)
    assert sha256(DEMO) == before
    check_cut(DEMO, out, ranges, origin)
    assert only_dropped  # the dropped minute shows content of its own ...
    with encoder.ShardReader(out) as r:
        only_dropped -= tiles_in_frames(r)  # kept frames cut on their panes' grids too
        assert only_dropped
        assert not hashes(stored_tiles(r)) & only_dropped  # ... none of which is stored any more
    assert report.frames_removed == len(dropped) > 0
