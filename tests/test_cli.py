"""The ``encoder`` command line, run in-process through ``encoder.cli.main`` (and once as
``python -m encoder`` in a subprocess)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import encoder
from encoder import sample
from encoder.cli import _console, demo, inspect, main

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def shard(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "session.enc")
    sample.write_sample(path, seconds=20, seed=2)
    return path


def _corrupt(src: str, dst, how: str) -> str:
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


# -- basics -------------------------------------------------------------------------------
def test_version(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"encoder {encoder.__version__}") and encoder.backend in out


def test_no_command_or_unknown_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage: encoder" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_m_encoder(shard, tmp_path):
    bad = _corrupt(shard, tmp_path, "chunk")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "encoder", "verify", shard, bad],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert f"OK    {shard}" in proc.stdout
    assert f"encoder: error: shard {bad!r}" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- demo ---------------------------------------------------------------------------------
def test_demo_generated_session(tmp_path, capsys):
    assert main(["demo", "--seconds", "8", "--seed", "4", "--out", str(tmp_path), "--min-time", "0"]) == 0
    out = capsys.readouterr().out
    assert "bit-exact" in out and "generated session (8 s, seed 4)" in out
    for word in ("pointer", "key", "focus", "marker", "total", "parquet B", "B/event", "dec Mev/s"):
        assert word in out, word
    written = tmp_path / "sample_session.enc"
    expected = sample.to_tables(sample.generate_session(8, seed=4))
    with encoder.ShardReader(written) as reader:
        assert all(reader.read(n).equals(t) for n, t in expected.items())
        assert f"{reader.size:,}" in out  # the total row shows the file size


def test_demo_bundled_sample_plain_output(monkeypatch, capsys):
    monkeypatch.setattr(_console, "RICH", False)
    assert main(["demo", "--min-time", "0", "-q"]) == 0
    captured = capsys.readouterr()
    assert "bundled sample session (real desktop, " in captured.out
    assert "and all 301 frames" in captured.out  # checked pixel for pixel
    lines = captured.out.splitlines()
    header = next(line for line in lines if line.startswith("stream"))
    assert "size vs pq" in header
    with encoder.ShardReader(sample.SAMPLE_PATH) as reader:
        for name in set(reader.streams) - {"frame", "tile"}:
            row = next(line for line in lines if line.startswith(name + " "))
            assert row.split()[1] == f"{reader.num_rows(name):,}"
        bytes_per_frame = reader.frame_stats()["bytes_per_frame"]
    ours = next(line for line in lines if line.startswith("encoder (tiles)")).split()
    zstd = next(line for line in lines if line.startswith("zstd-3, whole frames")).split()
    assert ours[2] == "301" and abs(int(ours[3].replace(",", "")) - bytes_per_frame) < 0.02 * bytes_per_frame
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
    tables = sample.to_tables(sample.generate_session(3, seed=0))
    focus = tables["focus"]
    assert demo.first_difference(focus, focus) is None
    assert "rows" in demo.first_difference(focus, focus.slice(1))
    titles = focus.column("title").to_pylist()
    other = focus.set_column(2, focus.schema.field("title"), pa.array(titles[:-1] + [None], pa.string()))
    assert f"column 'title', row {len(titles) - 1}" in demo.first_difference(focus, other)


# -- inspect -------------------------------------------------------------------------------
def test_inspect_text(shard, capsys):
    assert main(["inspect", shard]) == 0
    out = capsys.readouterr().out
    with encoder.ShardReader(shard) as reader:
        assert f"{reader.size:,} bytes" in out
        for name in reader.streams:
            assert name in out and f"{reader.num_rows(name):,}" in out
    for word in ("clock", "screens", "HDMI-1 1920x1080-1920+0", "privacy", "total", "arrow/stored"):
        assert word in out, word


def test_inspect_json_matches_the_reader(shard, capsys):
    assert main(["inspect", shard, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    with encoder.ShardReader(shard) as reader:
        assert info["size"] == reader.size == os.path.getsize(shard)
        assert info["metadata"] == reader.metadata
        assert set(info["streams"]) == set(reader.streams)
        for name, s in info["streams"].items():
            table = reader.read(name)
            assert s["rows"] == table.num_rows
            span = reader.time_range(name)
            assert (s["t_min"], s["t_max"]) == (span if table.num_rows else (None, None))
            assert s["arrow_bytes"] == table.nbytes  # computed without reading fixed-width columns
            assert s["stored_bytes"] == sum(b.stored_bytes for b in reader.blocks if b.stream == name)
            if table.num_rows:
                assert s["ratio"] == pytest.approx(table.nbytes / s["stored_bytes"])
            else:  # a stream declared but empty (no scrolling in this session)
                assert s["ratio"] is None and s["bytes_per_row"] is None
    assert info["total"]["rows"] == sum(s["rows"] for s in info["streams"].values())
    assert info["total"]["file_bytes"] == info["size"]
    assert "frames" in info and info["frames"] is None


def test_inspect_frame_statistics_hook(shard, monkeypatch, capsys):
    monkeypatch.setattr(inspect, "frame_stats", lambda reader: {"frames": 12, "unique_tiles": 345})
    assert main(["inspect", shard]) == 0
    assert "unique_tiles" in capsys.readouterr().out
    assert main(["inspect", shard, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == {"frames": 12, "unique_tiles": 345}


@pytest.mark.parametrize("how", ["text", "empty", "truncated"])
def test_inspect_rejects_what_is_not_a_shard(shard, tmp_path, how, capsys):
    path = _corrupt(shard, tmp_path, how)
    assert main(["inspect", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("encoder: error: shard ") and path in err and "Traceback" not in err


def test_inspect_missing_file_and_directory(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.enc")]) == 2
    assert "nope.enc: No such file or directory" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("encoder: error: ")


# -- verify --------------------------------------------------------------------------------
def test_verify_sound_shard(shard, capsys):
    assert main(["verify", shard]) == 0
    captured = capsys.readouterr()
    with encoder.ShardReader(shard) as reader:
        total = sum(reader.num_rows(n) for n in reader.streams)
        assert f"OK    {shard}: {total:,} rows in {len(reader.blocks)} blocks" in captured.out
        assert f"pointer {reader.num_rows('pointer'):,}" in captured.out
    assert captured.err == ""


@pytest.mark.parametrize("how", ["chunk", "metadata", "descriptor", "footer", "tail", "truncated",
                                 "empty", "text"])
def test_verify_names_a_corrupt_shard(shard, tmp_path, how, capsys):
    bad = _corrupt(shard, tmp_path, how)
    assert main(["verify", bad]) == 1
    captured = capsys.readouterr()
    assert f"CORRUPT {bad}" in captured.out
    assert captured.err.startswith("encoder: error: ") and bad in captured.err
    assert "Traceback" not in captured.err and "OK" not in captured.out


def test_verify_several_files_reports_each(shard, tmp_path, capsys):
    bad = _corrupt(shard, tmp_path, "chunk")
    assert main(["verify", shard, bad]) == 1
    captured = capsys.readouterr()
    assert f"OK    {shard}" in captured.out and f"CORRUPT {bad}" in captured.out
    assert main(["verify", shard, str(tmp_path / "missing.enc")]) == 2
    captured = capsys.readouterr()
    assert "missing.enc: No such file or directory" in captured.err
    assert "UNREADABLE" in captured.out


def test_verify_progress_bar_only_on_a_terminal(shard, monkeypatch, capsys):
    monkeypatch.setattr(_console, "_isatty", lambda stream: True)
    assert main(["verify", shard]) == 0
    assert "verify" in capsys.readouterr().err  # the tqdm bar
    assert main(["verify", "--quiet", shard]) == 0
    assert capsys.readouterr().err == ""


# -- export --------------------------------------------------------------------------------
def test_export_writes_one_parquet_file_per_stream(shard, tmp_path, capsys):
    out = tmp_path / "parquet"
    assert main(["export", shard, "--parquet", str(out)]) == 0
    with encoder.ShardReader(shard) as reader:
        assert sorted(os.listdir(out)) == sorted(f"{n}.parquet" for n in reader.streams)
        for name in reader.streams:
            path = out / f"{name}.parquet"
            assert pq.read_table(path).equals(reader.read(name))
            meta = pq.read_schema(path).metadata
            assert json.loads(meta[b"encoder.metadata"]) == reader.metadata
            assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert str(out / "pointer.parquet") in capsys.readouterr().out


def test_export_selected_and_unknown_streams(shard, tmp_path, capsys):
    out = tmp_path / "some"
    assert main(["export", shard, "--parquet", str(out), "--stream", "key", "--stream", "key"]) == 0
    assert os.listdir(out) == ["key.parquet"]
    assert main(["export", shard, "--parquet", str(tmp_path / "none"), "--stream", "frame"]) == 2
    assert "no stream 'frame'" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


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
