"""``encoder actions PATH``: the derived actions as a timeline, JSON lines or Parquet."""
from __future__ import annotations

import json

import pyarrow.parquet as pq

from encoder.actions import derive
from encoder.cli import main
from encoder.cli.demo import DEMO_SESSION_PATH


def test_timeline_names_every_action(capsys):
    assert main(["actions", DEMO_SESSION_PATH]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = derive(DEMO_SESSION_PATH)
    assert len(lines) == table.num_rows
    for line, row in zip(lines, table.to_pylist()):
        assert line.split()[1] == row["kind"]
        assert line.rstrip().endswith(f"{row['hesitation_us'] / 1e6:.2f} s")
    drag = next(line for line in lines if " drag " in line)
    assert "(525, 811) -> (861, 811)" in drag
    assert any("import this" in line for line in lines)


def test_jsonl_and_a_kind_filter(tmp_path, capsys):
    assert main(["actions", DEMO_SESSION_PATH, "--format", "jsonl", "--kind", "type", "--kind", "hotkey"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    table = derive(DEMO_SESSION_PATH).to_pylist()
    want = [r for r in table if r["kind"] in ("type", "hotkey")]
    assert [r["text"] for r in rows] == [r["text"] for r in want] and len(rows) == 5
    out = tmp_path / "a.jsonl"
    assert main(["actions", DEMO_SESSION_PATH, "--format", "jsonl", "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == len(table)


def test_parquet_is_the_table(tmp_path):
    out = tmp_path / "a.parquet"
    assert main(["actions", DEMO_SESSION_PATH, "--format", "parquet", "-o", str(out)]) == 0
    assert pq.read_table(out).equals(derive(DEMO_SESSION_PATH))


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main(["actions", DEMO_SESSION_PATH, "--format", "parquet"]) == 2
    assert "needs -o" in capsys.readouterr().err
    bad = tmp_path / "bad.enc"
    bad.write_bytes(b"not a shard")
    assert main(["actions", str(bad)]) == 2
    assert "bad.enc" in capsys.readouterr().err
