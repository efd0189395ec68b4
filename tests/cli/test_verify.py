"""``encoder verify`` (:mod:`encoder.cli.verify`), run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import pytest

import encoder
from encoder.cli import _console, main


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
def test_verify_names_a_corrupt_shard(shard, tmp_path, how, capsys, corrupt):
    bad = corrupt(shard, tmp_path, how)
    assert main(["verify", bad]) == 1
    captured = capsys.readouterr()
    assert f"CORRUPT {bad}" in captured.out
    assert captured.err.startswith("encoder: error: ") and bad in captured.err
    assert "Traceback" not in captured.err and "OK" not in captured.out


def test_verify_several_files_reports_each(shard, tmp_path, capsys, corrupt):
    bad = corrupt(shard, tmp_path, "chunk")
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
