"""``encoder convert SRC... --out DIR``: one shard per input, equal to its source (in one process)."""
from __future__ import annotations

import os
import shutil

import encoder
from encoder.cli import main
from encoder.importers import import_ducktrack


def test_convert_re_encodes_every_shard(parts, tmp_path, capsys):
    assert main(["convert", *parts, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert out.count("SHARD") == 3
    for p in parts:
        converted = tmp_path / "out" / os.path.basename(p)
        with encoder.ShardReader(p) as a, encoder.ShardReader(str(converted)) as b:
            assert b.metadata["converted"][0]["tool"] == "encoder convert"
            assert {k: v for k, v in b.metadata.items() if k != "converted"} == a.metadata
            for s in a.streams:
                assert a.read(s).equals(b.read(s))
    assert main(["convert", parts[0], "--out", str(tmp_path / "out")]) == 2  # exists
    assert main(["convert", parts[0], "--out", str(tmp_path / "out"), "--overwrite"]) == 0


def test_convert_refuses_clashing_names_and_non_shards(parts, tmp_path, capsys):
    os.makedirs(tmp_path / "b")
    other = tmp_path / "b" / os.path.basename(parts[0])
    shutil.copy(parts[0], other)
    assert main(["convert", parts[0], str(other), "--out", str(tmp_path / "out")]) == 2
    assert "several inputs would be written as" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out")
    (tmp_path / "events.jsonl").write_text("{}\n")
    assert main(["convert", str(tmp_path / "events.jsonl"), "--out", str(tmp_path / "o2")]) == 2
    assert "not a shard: name the recording's format with --from" in capsys.readouterr().err


def test_convert_imports_a_ducktrack_recording(tmp_path, capsys):
    folder = tmp_path / "rec"
    os.makedirs(folder)
    lines = ['{"action": "move", "x": 10, "y": 20, "time_stamp": 1.0}',
             '{"action": "click", "x": 10, "y": 20, "button": "Button.left", "pressed": true, "time_stamp": 1.5}',
             '{"action": "click", "x": 10, "y": 20, "button": "Button.left", "pressed": false, "time_stamp": 1.6}']
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    args = ["convert", str(folder), "--from", "ducktrack", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    import_ducktrack(str(folder), str(tmp_path / "direct.enc"))
    with encoder.ShardReader(str(tmp_path / "out" / "rec.enc")) as r, \
            encoder.ShardReader(str(tmp_path / "direct.enc")) as direct:
        assert r.num_rows("pointer") >= 1 and list(r.streams) == list(direct.streams)
        for s in r.streams:
            assert r.read(s).equals(direct.read(s))
    assert "DUCKTRACK" in capsys.readouterr().out
