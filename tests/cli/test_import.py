"""``encoder import`` (:mod:`encoder.cli.import_`), run in-process through ``encoder.cli.main``."""
from __future__ import annotations

import json
import pathlib

import pytest

import encoder
from encoder.cli import main

ANCHORS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "anchors" / "actions"
EVENTS = [{"time_stamp": 1.5, "action": "move", "x": 10.25, "y": 20.75},
          {"time_stamp": 1.6, "action": "scroll", "x": 10, "y": 20, "dx": 0, "dy": -1},
          {"time_stamp": 1.7, "action": "press", "name": "h"},
          {"time_stamp": 1.8, "action": "release", "name": "h"},
          {"time_stamp": 1.9, "action": "wiggle"}]


def write_events(folder: pathlib.Path, lines) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n"
                                                 for x in lines))
    return folder


def test_import_ducktrack_prints_one_paragraph(tmp_path, capsys):
    src, out = write_events(tmp_path / "rec", EVENTS), tmp_path / "s.enc"
    assert main(["import", "ducktrack", str(src), "-o", str(out), "--screen", "1512x982",
                 "--scroll-direction", "-1", "--system", "Darwin"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"imported ducktrack {src / 'events.jsonl'} (5 events over 300.0 ms) into {out}")
    assert "rows pointer 1, button 0, scroll 1, key 2; skipped 1 events (action 'wiggle': 1)." in lines[0]
    with encoder.ShardReader(out) as reader:
        assert reader.metadata["screens"][0]["width"] == 1512
        assert reader.metadata["platform"] == {"system": "Darwin", "scroll_direction": -1, "natural_scrolling": True}
        assert reader.read("scroll").column("dy").to_pylist() == [1]


def test_existing_output_is_kept_without_overwrite(tmp_path, capsys):
    src, out = write_events(tmp_path / "rec", EVENTS), tmp_path / "s.enc"
    out.write_bytes(b"keep me")
    assert main(["import", "ducktrack", str(src), "-o", str(out)]) == 2
    assert "exists (--overwrite replaces it)" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main(["import", "ducktrack", str(src), "-o", str(out), "--overwrite"]) == 0
    assert encoder.decode(out)["key"].column("text").to_pylist() == ["h", None]


def test_malformed_input_is_bad_input_naming_file_and_line(tmp_path, capsys):
    src, out = write_events(tmp_path / "rec", EVENTS[:2] + ['{"time_stamp": 2, "action": "click"}']), tmp_path / "s.enc"
    assert main(["import", "ducktrack", str(src), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"encoder: error: {src / 'events.jsonl'}, line 3: ")
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists() and not (tmp_path / "s.enc.partial").exists()


@pytest.mark.parametrize("argv, message", [
    (["ducktrack", "{src}", "--frames"], "--frames: only for agentnet"),
    (["agentnet", "{src}", "--screen", "10x10"], "--screen: only for ducktrack"),
    (["ducktrack", "{src}/nowhere"], "no events file"),
    (["ducktrack", "{src}", "--apply-scroll-direction"], "needs the recorded scroll_direction"),
])
def test_options_that_do_not_apply_are_refused(tmp_path, capsys, argv, message):
    src = write_events(tmp_path / "rec", EVENTS)
    argv = ["import"] + [a.format(src=src) for a in argv] + ["-o", str(tmp_path / "s.enc")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.enc").exists()


def test_unknown_format_is_a_usage_error(tmp_path, capsys):
    assert main(["import", "openadapt", str(tmp_path), "-o", str(tmp_path / "s.enc")]) == 2
    assert "invalid choice: 'openadapt'" in capsys.readouterr().err


@pytest.mark.parametrize("fmt, folder, extra, rows", [
    ("ducktrack", "ducktrack", ["--screen", "1512x982", "--scroll-direction", "-1", "--system", "Darwin"],
     "rows pointer 13,163, button 44, scroll 140, key 54; nothing skipped."),
    ("agentnet", "opencua-agentnet/episode", [],
     "rows pointer 4,034, button 42, scroll 19, key 4, focus 4; nothing skipped."),
])
def test_public_recordings(tmp_path, capsys, fmt, folder, extra, rows):
    src = ANCHORS / folder
    if not src.exists():
        pytest.skip(f"shared recordings not present ({src})")
    out = tmp_path / f"{fmt}.enc"
    assert main(["import", fmt, str(src), "-o", str(out), *extra]) == 0
    printed = capsys.readouterr().out
    assert rows in printed and printed.count("\n") == 1
    assert main(["verify", str(out)]) == 0
