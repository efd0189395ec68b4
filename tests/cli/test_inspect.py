"""``encoder inspect`` (:mod:`encoder.cli.inspect`), run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import json
import os

import pytest

import encoder
from encoder.cli import inspect, main


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
def test_inspect_rejects_what_is_not_a_shard(shard, tmp_path, how, capsys, corrupt):
    path = corrupt(shard, tmp_path, how)
    assert main(["inspect", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("encoder: error: shard ") and path in err and "Traceback" not in err


def test_inspect_missing_file_and_directory(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.enc")]) == 2
    assert "nope.enc: No such file or directory" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("encoder: error: ")
