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


@pytest.mark.parametrize("how", ["chunk", "metadata", "descriptor", "footer", "tail", "truncated"])
def test_verify_names_a_corrupt_shard(shard, tmp_path, how, capsys, corrupt):
    bad = corrupt(shard, tmp_path, how)
    assert main(["verify", bad]) == 1
    captured = capsys.readouterr()
    assert f"CORRUPT {bad}" in captured.out
    assert captured.err.startswith("encoder: error: ") and bad in captured.err
    assert "Traceback" not in captured.err and "OK" not in captured.out


@pytest.mark.parametrize("how", ["empty", "text"])
def test_verify_what_is_not_a_shard_is_unreadable(shard, tmp_path, how, capsys, corrupt):
    path = corrupt(shard, tmp_path, how)  # no shard magic: bad input (2), not a damaged shard (1)
    assert main(["verify", path]) == 2
    captured = capsys.readouterr()
    assert f"UNREADABLE {path}" in captured.out
    assert captured.err.startswith("encoder: error: shard ") and path in captured.err


def test_verify_encryption_key(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ENCODER_KEY", raising=False)
    monkeypatch.delenv("ENCODER_KEY_FILE", raising=False)
    path, key, other = str(tmp_path / "secret.enc"), tmp_path / "key", tmp_path / "other"
    key.write_text("ab" * 32)
    other.write_text("cd" * 32)
    with encoder.ShardWriter(path, encryption_key_file=str(key)) as w:
        w.write("marker", {"t": [1], "kind": ["start"], "value": [0]})
    assert main(["verify", path]) == 2  # missing
    assert main(["verify", path, "--encryption-key-file", str(other)]) == 2  # wrong
    assert f"UNREADABLE {path}" in capsys.readouterr().out
    assert main(["verify", path, "--encryption-key-file", str(key)]) == 0


def test_verify_usage_errors(capsys):
    assert main(["verify"]) == 2
    assert "the following arguments are required: PATH" in capsys.readouterr().err
    assert main(["verify", "--frobnicate", "x.enc"]) == 2


def test_verify_several_files_reports_each(shard, tmp_path, capsys, corrupt):
    bad = corrupt(shard, tmp_path, "chunk")
    assert main(["verify", shard, bad]) == 1
    captured = capsys.readouterr()
    assert f"OK    {shard}" in captured.out and f"CORRUPT {bad}" in captured.out
    assert main(["verify", shard, str(tmp_path / "missing.enc")]) == 2
    captured = capsys.readouterr()
    assert "missing.enc: No such file or directory" in captured.err
    assert "UNREADABLE" in captured.out
    assert main(["verify", bad, str(tmp_path / "missing.enc"), shard]) == 2  # the worst code wins


def test_verify_progress_bar_only_on_a_terminal(shard, monkeypatch, capsys):
    monkeypatch.setattr(_console, "_isatty", lambda stream: True)
    assert main(["verify", shard]) == 0
    assert "verify" in capsys.readouterr().err  # the tqdm bar
    assert main(["verify", "--quiet", shard]) == 0
    assert capsys.readouterr().err == ""
