"""``encoder inspect`` (:mod:`encoder.cli.inspect`), run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import json
import os
import re

import pytest

import encoder
from encoder.cli import inspect, main
from encoder.errors import CorruptShardError


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
    assert (info["damage"], info["faults"], info["lost"], info["recovered"]) == ([], [], [], None)


def test_inspect_frame_statistics_hook(shard, monkeypatch, capsys):
    monkeypatch.setattr(inspect, "frame_stats", lambda reader: {"frames": 12, "unique_tiles": 345})
    assert main(["inspect", shard]) == 0
    assert "unique_tiles" in capsys.readouterr().out
    assert main(["inspect", shard, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == {"frames": 12, "unique_tiles": 345}


@pytest.mark.parametrize("how", ["text", "empty"])
def test_inspect_rejects_what_is_not_a_shard(shard, tmp_path, how, capsys, corrupt):
    path = corrupt(shard, tmp_path, how)
    assert main(["inspect", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("encoder: error: shard ") and path in err and "Traceback" not in err


def test_inspect_names_a_damaged_shard_it_cannot_open(shard, tmp_path, capsys, corrupt):
    path = corrupt(shard, tmp_path, "metadata")  # the header is damaged: nothing can be read
    assert main(["inspect", path]) == 1
    err = capsys.readouterr().err
    assert err.startswith("encoder: error: shard ") and "metadata checksum mismatch" in err


@pytest.mark.parametrize("how", ["truncated", "footer"])
def test_inspect_reads_a_shard_without_its_footer_by_scanning(shard, tmp_path, how, capsys, corrupt):
    path = corrupt(shard, tmp_path, how)
    assert main(["inspect", path]) == 1
    captured = capsys.readouterr()
    assert "index     DAMAGED footer (" in captured.out and "`encoder repair` writes the index back" in captured.out
    with encoder.ShardReader(shard) as reader:
        # the blocks are all there (columns are two spaces apart, three with rich's tables)
        assert re.search(rf"\npointer +{reader.num_rows('pointer'):,} ", captured.out)
    assert captured.err == f"encoder: error: {path}: an unreadable footer\n"


# -- damage: the summary comes from the index, the damaged blocks are listed --------------
@pytest.mark.parametrize("where", ["descriptor", "chunk"])
def test_inspect_summarises_a_shard_with_a_damaged_block(parts, tmp_path, where, capsys, shard_tools):
    bad = shard_tools.damage_block(parts[0], tmp_path / "bad.enc", "pointer", 1, where=where)
    block = shard_tools.block_of(bad, "pointer", 1)
    assert main(["inspect", bad]) == 1
    captured = capsys.readouterr()
    with encoder.ShardReader(bad) as reader:  # the full summary, every stream
        for name in reader.streams:
            assert f"\n{name} " in captured.out
        assert re.search(rf"\npointer +{reader.num_rows('pointer'):,} +4 \(1 damaged\)", captured.out)
        assert f"{reader.size:,} bytes" in captured.out and "session   " in captured.out
    reason = "block descriptor checksum mismatch" if where == "descriptor" else "chunk checksum mismatch"
    assert "DAMAGED   1 of 5 blocks (250 rows), checked: checksums" in captured.out
    assert f"  pointer block 1: bytes {block.offset:,} .. " in captured.out
    assert f"250 rows, t {block.t_min} .. {block.t_max}: " in captured.out and "byte " in captured.out
    assert f"{reason}\n" in captured.out
    assert captured.err == f"encoder: error: {bad}: 1 damaged block(s)\n"
    assert main(["inspect", bad, "--json", "--deep"]) == 1
    info = json.loads(capsys.readouterr().out)
    assert info["checked"] == "deep" and info["faults"] == []
    assert [(d["stream"], d["block"], d["offset"], d["rows"]) for d in info["damage"]] == [
        ("pointer", 1, block.offset, 250)]
    assert info["damage"][0]["reason"].endswith(reason) and "byte " in info["damage"][0]["reason"]
    assert info["streams"]["pointer"]["rows"] == 1000 and info["streams"]["pointer"]["damaged_blocks"] == 1


def test_inspect_arrow_size_of_the_sound_blocks(parts, tmp_path, capsys, shard_tools):
    bad = shard_tools.damage_block(parts[0], tmp_path / "bad.enc", "key", 0)  # key has a text column
    assert main(["inspect", bad, "--json"]) == 1
    key = json.loads(capsys.readouterr().out)["streams"]["key"]
    assert key["arrow_complete"] is False and key["arrow_bytes"] == 20 * (8 + 4 + 2) + 3  # t, code, modifiers, pressed
    assert main(["inspect", bad]) == 1
    assert "* arrow B of the sound blocks only." in capsys.readouterr().out


def test_inspect_deep_and_sound(shard, capsys):
    assert main(["inspect", shard, "--deep"]) == 0
    assert "checked   deep: every block sound" in capsys.readouterr().out


def test_inspect_survives_frame_statistics_that_fail(shard, monkeypatch, capsys):
    def broken(reader):
        raise CorruptShardError("page index: truncated", shard=reader.name, stream="tile")

    monkeypatch.setattr(inspect, "frame_stats", broken)
    assert main(["inspect", shard]) == 1
    out = capsys.readouterr().out
    assert "total " in out and "FAULT     frame statistics: shard " in out and "page index: truncated" in out


def test_inspect_frames_of_a_damaged_shard(tmp_path, capsys, shard_tools):
    path = shard_tools.frames_with_a_damaged_page(tmp_path / "frames.enc", 6, 3)
    assert main(["inspect", path, "--deep"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^frames +6$", out, re.M)  # the statistics come from the small columns
    assert "tile block 0:" in out and "FAULT     frames: screen 0, frame 0 (of 6)" in out


def test_inspect_shows_what_an_earlier_repair_dropped(shard, monkeypatch, capsys):
    class Repaired(encoder.ShardReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.lost = [{"offset": 4096, "end": 8192, "reason": "chunk checksum mismatch", "stream": "pointer",
                          "rows": 512}]

    monkeypatch.setattr(inspect, "ShardReader", Repaired)
    assert main(["inspect", shard]) == 0  # history, not damage: the shard is sound
    assert "LOST      bytes 4,096 .. 8,192 (stream 'pointer', 512 rows), dropped by an earlier repair: " \
           "chunk checksum mismatch" in capsys.readouterr().out
    assert main(["inspect", shard, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lost"][0]["rows"] == 512


def test_inspect_usage_errors_and_encryption_key(parts, tmp_path, monkeypatch, capsys):
    assert main(["inspect"]) == 2
    assert main(["inspect", parts[0], "--bogus"]) == 2
    capsys.readouterr()
    monkeypatch.delenv("ENCODER_KEY", raising=False)
    monkeypatch.delenv("ENCODER_KEY_FILE", raising=False)
    path, key = str(tmp_path / "secret.enc"), tmp_path / "key"
    key.write_text("ab" * 32)
    with encoder.ShardWriter(path, encryption_key_file=str(key)) as w:
        w.write("marker", {"t": [1], "kind": ["start"], "value": [0]})
    assert main(["inspect", path]) == 2
    assert "encoder: error: " in capsys.readouterr().err
    assert main(["inspect", path, "--encryption-key-file", str(key)]) == 0


def test_inspect_missing_file_and_directory(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.enc")]) == 2
    assert "nope.enc: No such file or directory" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("encoder: error: ")
