"""``encoder export`` (:mod:`encoder.cli.export`), run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import encoder
from encoder.cli import export, main


def stream_table(out, stream: str) -> pa.Table:
    """One stream of an export, read as one table (as DuckDB or polars would)."""
    return ds.dataset(out / f"stream={stream}", format="parquet").to_table()


def leftovers(folder) -> list[str]:
    """Temporary folders an export left beside its target."""
    return [n for n in os.listdir(folder) if n.endswith((".partial", ".old"))]


# -- the hive layout over many shards ------------------------------------------------------
def test_export_folder_of_parts_as_one_table_per_stream(parts, tmp_path, capsys, shard_tools):
    out = tmp_path / "dataset"
    folder = os.path.dirname(parts[0])
    assert main(["export", folder, "--parquet", str(out)]) == 0
    printed = capsys.readouterr().out
    assert sorted(os.listdir(out)) == ["stream=key", "stream=pointer", "stream=scroll"]
    assert sorted(os.listdir(out / "stream=pointer")) == [f"part-{i:05d}.parquet" for i in range(3)]
    pointer = stream_table(out, "pointer")
    assert pointer.column_names == ["t", "time", "x", "y", "shard", "session"]
    assert pointer.schema.field("time").type == pa.timestamp("us", tz="UTC")
    expected = []
    for path in parts:
        with encoder.ShardReader(path) as reader:
            expected.append(reader.read("pointer"))
    assert pointer.select(["t", "x", "y"]).equals(pa.concat_tables(expected).combine_chunks().cast(
        pointer.select(["t", "x", "y"]).schema))
    shards = [os.path.basename(p) for p in parts]
    assert pointer.column("shard").to_pylist() == sum(([s] * t.num_rows for s, t in zip(shards, expected)), [])
    assert set(pointer.column("session").to_pylist()) == {"sess-42"}
    unix = pointer.column("time").cast(pa.int64()).to_numpy()
    assert (unix == pointer.column("t").to_numpy() - shard_tools.T0_US + shard_tools.UNIX_US_AT_T0).all()
    assert str(pointer.column("time")[0].as_py().year) == "2024"
    # the stream with no rows anywhere still has its table (one empty part)
    scroll = stream_table(out, "scroll")
    assert scroll.num_rows == 0 and scroll.column_names[:2] == ["t", "time"]
    # every stream at once, the hive way, filtered by the partition key
    keys = ds.dataset(out, format="parquet", partitioning="hive").to_table(filter=pc.field("stream") == "key")
    assert keys.num_rows == sum(encoder.ShardReader(p).num_rows("key") for p in parts)
    meta = pq.read_schema(out / "stream=key" / "part-00001.parquet").metadata
    assert json.loads(meta[b"encoder.metadata"]) == encoder.ShardReader(parts[1]).metadata
    assert meta[b"encoder.shard"] == shards[1].encode()
    assert "stream=pointer (3 parts): 3,000 rows" in printed and "exported 3 of 3 shards" in printed
    assert leftovers(tmp_path) == []


def test_export_is_read_by_duckdb_as_one_table(parts, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "dataset"
    assert main(["export", *parts, "--parquet", str(out), "-q"]) == 0
    [(rows, sessions, first)] = duckdb.sql(
        f"select count(*), count(distinct session), min(time) from read_parquet('{out}/stream=pointer/*.parquet')"
    ).fetchall()
    assert (rows, sessions) == (3000, 1) and first.year == 2024
    streams = duckdb.sql(f"select stream, count(*) from read_parquet('{out}/*/*.parquet', hive_partitioning=true, "
                         "union_by_name=true) group by stream order by stream").fetchall()
    assert streams == [("key", 60), ("pointer", 3000)]


def test_export_is_read_by_polars_as_one_table(parts, tmp_path):
    polars = pytest.importorskip("polars")
    out = tmp_path / "dataset"
    assert main(["export", *parts, "--parquet", str(out), "-q"]) == 0
    frame = polars.scan_parquet(f"{out}/stream=pointer/*.parquet").collect()
    assert frame.height == 3000 and frame.schema["time"] == polars.Datetime("us", "UTC")
    assert frame["shard"].unique().sort().to_list() == sorted(os.path.basename(p) for p in parts)


def test_export_session_falls_back_to_the_file_stem(tmp_path, shard_tools):
    path = shard_tools.write_part(tmp_path / "laptop-2024-05-01.enc", session=None)
    assert main(["export", path, "--parquet", str(tmp_path / "out"), "--stream", "key"]) == 0
    assert os.listdir(tmp_path / "out") == ["stream=key"]
    assert set(stream_table(tmp_path / "out", "key").column("session").to_pylist()) == {"laptop-2024-05-01"}


def test_export_without_a_clock_anchor_leaves_time_null(tmp_path):
    path = str(tmp_path / "noclock.enc")
    with encoder.ShardWriter(path, metadata={"clock": "unknown"}) as w:
        w.write("marker", {"t": [1, 2], "kind": ["a", "b"], "value": [0, 0]})
    assert main(["export", path, "--parquet", str(tmp_path / "out")]) == 0
    assert stream_table(tmp_path / "out", "marker").column("time").null_count == 2


# -- the former single-shard layout --------------------------------------------------------
def test_export_flat_layout_writes_one_parquet_file_per_stream(shard, tmp_path, capsys):
    out = tmp_path / "parquet"
    assert main(["export", shard, "--parquet", str(out), "--layout", "flat"]) == 0
    with encoder.ShardReader(shard) as reader:
        assert sorted(os.listdir(out)) == sorted(f"{n}.parquet" for n in reader.streams)
        for name in reader.streams:
            path = out / f"{name}.parquet"
            assert pq.read_table(path).equals(reader.read(name))
            meta = pq.read_schema(path).metadata
            assert json.loads(meta[b"encoder.metadata"]) == reader.metadata
            assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert str(out / "pointer.parquet") in capsys.readouterr().out
    assert main(["export", shard, shard + "x", "--parquet", str(tmp_path / "two"), "--layout", "flat"]) == 2


def test_export_selected_and_unknown_streams(shard, tmp_path, capsys):
    out = tmp_path / "some"
    assert main(["export", shard, "--parquet", str(out), "--stream", "key", "--stream", "key"]) == 0
    assert os.listdir(out) == ["stream=key"]
    assert main(["export", shard, "--parquet", str(tmp_path / "none"), "--stream", "frame"]) == 2
    assert "no stream 'frame'" in capsys.readouterr().err
    assert not (tmp_path / "none").exists() and leftovers(tmp_path) == []


# -- the target folder ---------------------------------------------------------------------
def test_export_refuses_a_non_empty_folder_unless_overwrite(parts, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["export", parts[0], "--parquet", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("encoder: error: ") and "is not empty: pass --overwrite" in err
    assert os.listdir(out) == ["notes.txt"]
    assert main(["export", parts[0], "--parquet", str(out), "--overwrite"]) == 0
    assert sorted(os.listdir(out)) == ["stream=key", "stream=pointer", "stream=scroll"]
    (tmp_path / "empty").mkdir()  # an empty folder is fine
    assert main(["export", parts[0], "--parquet", str(tmp_path / "empty")]) == 0
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_export_failure_leaves_nothing(parts, tmp_path, monkeypatch, failure, capsys):
    written = []

    def failing_write(table, target, *args):
        written.append(target)
        if len(written) == 4:  # the first shard is written, the second fails
            raise failure
        real_write(table, target, *args)

    real_write = export._write
    monkeypatch.setattr(export, "_write", failing_write)
    code = main(["export", *parts, "--parquet", str(tmp_path / "out")])
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 2)
    assert os.listdir(tmp_path) == []  # neither DIR nor a temporary folder


# -- damage --------------------------------------------------------------------------------
def test_export_skips_a_damaged_block_and_says_so(parts, tmp_path, capsys, shard_tools):
    bad = shard_tools.damage_block(parts[1], tmp_path / "sess-42.part-001.enc", "pointer", 2)
    out = tmp_path / "out"
    assert main(["export", parts[0], bad, parts[2], "--parquet", str(out)]) == 1
    captured = capsys.readouterr()
    pointer = stream_table(out, "pointer")
    assert pointer.num_rows == 3000 - 250
    offset = shard_tools.block_of(bad, "pointer", 2).offset
    assert "INCOMPLETE: skipped 1 damaged blocks (250 rows)" in captured.out
    assert f"sess-42.part-001.enc, stream 'pointer', block 2 (byte {offset:,}, 250 rows): column 't', byte " \
           in captured.out and "chunk checksum mismatch" in captured.out
    assert "encoder: error: export incomplete" in captured.err
    with encoder.ShardReader(bad) as reader:  # the rows of the other blocks are all there
        sound = pa.concat_tables([reader.read_block("pointer", i) for i in (0, 1, 3)])
    part = pointer.filter(pc.equal(pointer.column("shard"), "sess-42.part-001.enc"))
    assert part.select(["t", "x", "y"]).equals(sound.combine_chunks().cast(part.select(["t", "x", "y"]).schema))


def test_export_strict_fails_the_whole_export(parts, tmp_path, capsys, shard_tools):
    bad = shard_tools.damage_block(parts[1], tmp_path / "sess-42.part-001.enc", "pointer", 2, where="descriptor")
    assert main(["export", parts[0], bad, parts[2], "--parquet", str(tmp_path / "out"), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "block descriptor checksum mismatch" in err and "--strict: damage found, nothing exported" in err
    assert sorted(os.listdir(tmp_path)) == ["sess-42.part-001.enc"]


def test_export_skips_a_shard_that_cannot_be_read(parts, shard, tmp_path, capsys, shard_tools):
    broken = shard_tools.corrupt_copy(shard, tmp_path, "metadata")  # the header: nothing of it can be read
    assert main(["export", parts[0], broken, "--parquet", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "exported 1 of 2 shards" in out and "metadata.enc: cannot be read, skipped" in out
    assert main(["export", parts[0], broken, "--parquet", str(tmp_path / "strict"), "--strict"]) == 1
    assert not (tmp_path / "strict").exists()


@pytest.mark.parametrize("how", ["text", "missing", "empty-folder", "same-name", "usage"])
def test_export_bad_input_writes_nothing(parts, shard, tmp_path, how, capsys, corrupt, shard_tools):
    if how == "text":
        args = [corrupt(shard, tmp_path, "text")]
    elif how == "missing":
        args = [str(tmp_path / "nope.enc")]
    elif how == "empty-folder":  # a folder without shards is a typo, not an empty export
        (tmp_path / "folder").mkdir()
        args = [str(tmp_path / "folder")]
    elif how == "same-name":  # another file of the same name, in another folder
        args = [parts[0], shard_tools.damage_block(parts[0], tmp_path / os.path.basename(parts[0]), "key", 0)]
    else:
        args = ["--frames", "jpeg"]
    assert main(["export", parts[1], *args, "--parquet", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(("encoder: error: ", "usage: "))
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


# -- frames --------------------------------------------------------------------------------
def test_export_frames_as_lossless_png(tmp_path, capsys):
    from PIL import Image
    rng = np.random.default_rng(1)
    path = str(tmp_path / "screens.enc")
    written = {0: [], 1: [], 2: []}
    with encoder.ShardWriter(path) as w:
        for k in range(4):
            frames = {0: (rng.integers(0, 256, (20, 33, 4), np.uint8), "bgra"),
                      1: (rng.integers(0, 256, (17, 24), np.uint8), "gray"),
                      2: (rng.integers(0, 256, (16, 16, 3), np.uint8), "bgr")}
            for screen, (image, pixel_format) in frames.items():
                w.add_frame(1000 * k + screen, image, screen=screen, pixel_format=pixel_format)
                written[screen].append(image)
    out = tmp_path / "out"
    assert main(["export", path, "--parquet", str(out), "--frames", "png"]) == 0
    assert "12 PNG files" in capsys.readouterr().out
    for screen, images in written.items():
        names = sorted(os.listdir(out / "frames" / "screens.enc" / str(screen)))
        assert names == [f"{k:06d}-{1000 * k + screen}.png" for k in range(4)]
        for name, image in zip(names, images):
            png = Image.open(out / "frames" / "screens.enc" / str(screen) / name)
            expected = image[..., [2, 1, 0, 3]] if screen == 0 else image[..., ::-1] if screen == 2 else image
            assert png.mode == {0: "RGBA", 1: "L", 2: "RGB"}[screen]
            assert np.array_equal(np.asarray(png), expected)
    assert stream_table(out, "frame").num_rows == 12


def test_png_image_keeps_rgb_formats():
    image = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(np.asarray(export.png_image(image, "rgba")), image)
    assert np.array_equal(np.asarray(export.png_image(image[..., :3].copy(), "rgb")), image[..., :3])


def test_export_skips_frames_that_do_not_assemble(tmp_path, capsys, shard_tools):
    path = shard_tools.frames_with_a_damaged_page(tmp_path / "screens.enc", 3, 2)
    out = tmp_path / "out"
    assert main(["export", path, "--parquet", str(out), "--frames", "png"]) == 1
    printed = capsys.readouterr().out
    assert "INCOMPLETE: skipped 1 damaged blocks (1 rows), 3 frames" in printed
    assert "screens.enc, stream 'frame', screen 0, frame 2: frame not exported: " in printed
    assert os.listdir(out / "frames" / "screens.enc" / "0") == []
    assert stream_table(out, "frame").num_rows == 3  # the frame rows themselves are sound
