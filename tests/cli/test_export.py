"""``encoder export`` (:mod:`encoder.cli.export`), run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import json
import os

import pyarrow.parquet as pq

import encoder
from encoder.cli import main


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
