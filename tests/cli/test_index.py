"""``encoder index DIR``: the manifest written, checked, updated."""
from __future__ import annotations

import os
import shutil

import pyarrow.parquet as pq

from encoder.cli import main
from encoder.loader import ShardDataset


def test_index_writes_checks_and_updates_the_manifest(parts, tmp_path, capsys):
    for p in parts:
        shutil.copy(p, tmp_path)
    assert main(["index", str(tmp_path)]) == 0
    assert "INDEX" in capsys.readouterr().out and (tmp_path / "manifest.parquet").exists()
    table = pq.read_table(tmp_path / "manifest.parquet")
    assert table.column("path").to_pylist() == sorted(os.path.basename(p) for p in parts)
    assert main(["index", str(tmp_path), "--check"]) == 0
    os.unlink(tmp_path / os.path.basename(parts[1]))
    assert main(["index", str(tmp_path), "--check"]) == 1
    assert f"STALE {tmp_path / os.path.basename(parts[1])}: missing" in capsys.readouterr().out
    assert main(["index", str(tmp_path), "--update", "-o", str(tmp_path / "m2.parquet")]) == 2  # no such manifest
    assert main(["index", str(tmp_path), "--update"]) == 0
    assert pq.read_table(tmp_path / "manifest.parquet").num_rows == 2
    assert ShardDataset(str(tmp_path), frames=False).index.digest() == \
        ShardDataset(str(tmp_path), frames=False, manifest=False).index.digest()
    assert main(["index", str(tmp_path / "nothing")]) == 2
