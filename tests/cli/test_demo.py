"""``encoder demo`` (:mod:`encoder.cli.demo` and its frames part, :mod:`encoder.cli._demo_frames`),
run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

import encoder
from encoder.cli import _console, demo, main
from encoder.testing import synthetic


def test_demo_generated_session(tmp_path, capsys):
    assert main(["demo", "--seconds", "8", "--seed", "4", "--out", str(tmp_path), "--min-time", "0"]) == 0
    out = capsys.readouterr().out
    assert "bit-exact" in out and "generated session (8 s, seed 4)" in out
    for word in ("pointer", "key", "focus", "marker", "total", "parquet B", "B/event", "dec Mev/s"):
        assert word in out, word
    written = tmp_path / "demo_session.enc"
    expected = synthetic.to_tables(synthetic.generate_session(8, seed=4))
    with encoder.ShardReader(written) as reader:
        assert all(reader.read(n).equals(t) for n, t in expected.items())
        assert f"{reader.size:,}" in out  # the total row shows the file size


def test_demo_bundled_session_plain_output(monkeypatch, capsys):
    monkeypatch.setattr(_console, "RICH", False)
    assert main(["demo", "--min-time", "0", "-q"]) == 0
    captured = capsys.readouterr()
    assert "bundled demo session (real desktop, " in captured.out
    with encoder.ShardReader(demo.DEMO_SESSION_PATH) as reader:
        frames = reader.frame_count()
    assert f"and all {frames} frames" in captured.out  # checked pixel for pixel
    lines = captured.out.splitlines()
    summary = next(line for line in lines if line.startswith("actions (encoder actions PATH)"))
    for kind in ("click", "double_click", "right_click", "drag", "scroll", "type", "key", "hotkey", "focus"):
        assert f" {kind}" in summary, kind  # the bundled session shows every kind the person did
    header = next(line for line in lines if line.startswith("stream"))
    assert "size vs pq" in header
    with encoder.ShardReader(demo.DEMO_SESSION_PATH) as reader:
        for name in set(reader.streams) - {"frame", "tile"}:
            row = next(line for line in lines if line.startswith(name + " "))
            assert row.split()[1] == f"{reader.num_rows(name):,}"
        bytes_per_frame = reader.frame_stats()["bytes_per_frame"]
    ours = next(line for line in lines if line.startswith("encoder (tiles)")).split()
    zstd = next(line for line in lines if line.startswith("zstd-3, whole frames")).split()
    # the demo re-encodes the frames: within 5 % of the bundled shard (the writer's page refreshes
    # follow its background thread's timing, so two encodes of the same frames differ a little)
    assert ours[2] == str(frames) and abs(int(ours[3].replace(",", "")) - bytes_per_frame) < 0.05 * bytes_per_frame
    assert int(ours[3].replace(",", "")) * 10 < int(zstd[7].replace(",", ""))
    assert captured.err == ""  # no progress bars when stderr is not a terminal


def test_demo_fails_when_the_round_trip_is_not_exact(monkeypatch, capsys):
    class Lossy(encoder.ShardReader):
        def read(self, stream, *args, **kwargs):
            table = super().read(stream, *args, **kwargs)
            if stream == "pointer":
                x = table.column("x").to_pylist()
                x[5] += 1
                table = table.set_column(1, table.schema.field("x"), pa.array(x, pa.int32()))
            return table

    monkeypatch.setattr(demo, "ShardReader", Lossy)
    assert main(["demo", "--seconds", "4", "--min-time", "0"]) == 1
    err = capsys.readouterr().err
    assert "encoder: error: round trip is not bit-exact: stream 'pointer'" in err
    assert "column 'x', row 5" in err


def test_first_difference():
    tables = synthetic.to_tables(synthetic.generate_session(3, seed=0))
    focus = tables["focus"]
    assert demo.first_difference(focus, focus) is None
    assert "rows" in demo.first_difference(focus, focus.slice(1))
    titles = focus.column("title").to_pylist()
    other = focus.set_column(2, focus.schema.field("title"), pa.array(titles[:-1] + [None], pa.string()))
    assert f"column 'title', row {len(titles) - 1}" in demo.first_difference(focus, other)


def test_demo_frame_check_finds_one_changed_pixel(tmp_path):
    from encoder.cli import _demo_frames
    image = np.zeros((37, 50, 4), np.uint8)
    paths = []
    for name, pixel in (("a", 0), ("b", 0), ("c", 1)):
        path = str(tmp_path / f"{name}.enc")
        with encoder.ShardWriter(path) as w:
            for k in range(3):
                frame = image + k
                frame[36, 49, 2] += pixel if k == 2 else 0
                w.add_frame(k * 1000, frame)
        paths.append(path)
    with encoder.ShardReader(paths[0]) as a, encoder.ShardReader(paths[1]) as b, \
            encoder.ShardReader(paths[2]) as c:
        assert _demo_frames.first_frame_difference(a, b) is None
        assert _demo_frames.first_frame_difference(a, c) == "screen 0, frame 2 differs"


def test_demo_copies_frames_of_every_screen_and_format():
    import io

    from encoder.cli import _demo_frames
    rng = np.random.default_rng(0)
    src = io.BytesIO()
    with encoder.ShardWriter(src) as w:
        for k in range(5):
            w.add_frame(k * 1000, rng.integers(0, 255, (20, 30, 4), np.uint8), screen=0, pixel_format="rgba")
            w.add_frame(k * 1000 + 5, rng.integers(0, 255, (10, 12), np.uint8), screen=1)
    source, dst = encoder.ShardReader(src.getvalue()), io.BytesIO()
    with encoder.ShardWriter(dst) as w:
        assert _demo_frames.copy_frames(source, w) >= 0
    copy = encoder.ShardReader(dst.getvalue())
    assert _demo_frames.first_frame_difference(source, copy) is None
    assert copy.frame_info(3, 0)["format"] == "rgba" and copy.frame_info(2, 1)["format"] == "gray"


def test_bundled_demo_session_is_a_small_real_recording():
    """The demo's session: a real desktop recorded by ``encoder record``, frames and input."""
    assert os.path.exists(demo.DEMO_SESSION_PATH), "record it with bench/desktop_workload.py --record"
    assert os.path.getsize(demo.DEMO_SESSION_PATH) < 4 << 20
    with encoder.ShardReader(demo.DEMO_SESSION_PATH) as reader:
        rows = reader.verify()
        assert reader.metadata["recorder"]["name"] == "encoder record"
        assert {"pointer", "scroll", "key", "focus", "marker", "frame", "tile"} <= set(reader.streams)
        assert reader.frame_count() > 100
        assert reader.frame(0).shape == (1080, 1920, 4)
        assert rows["frame"] == reader.frame_count() and rows["key"] > 100
