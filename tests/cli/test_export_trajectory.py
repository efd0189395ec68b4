"""``encoder export --trajectory DIR``: each shard's actions as an AgentNet-style trajectory."""
from __future__ import annotations

import ast
import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

import encoder
import encoder.actions
from encoder.cli import main
from encoder.shard import pixels


def recording(path, seed: int = 0) -> str:
    """A shard with two frames (bgra, then gray) and a click, a typed word and a hotkey after them."""
    rng = np.random.default_rng(seed)
    with encoder.ShardWriter(path, metadata={"screens": [{"id": 0, "x": 0, "y": 0, "width": 64, "height": 48}]}) as w:
        w.add_frame(0, rng.integers(0, 256, (48, 64, 4), np.uint8))
        w.add_frame(1_000_000, rng.integers(0, 256, (48, 64), np.uint8))
        w.write("pointer", {"t": np.array([100_000, 200_000], np.int64), "x": np.array([10, 32], np.int32),
                            "y": np.array([10, 24], np.int32)})
        w.write("button", {"t": np.array([500_000, 550_000], np.int64), "button": np.array([1, 1], np.uint8),
                           "pressed": np.array([True, False]), "x": np.array([32, 32], np.int32),
                           "y": np.array([24, 24], np.int32)})
        keys = [(1_500_000, 0x68, True, 0, "h"), (1_550_000, 0x68, False, 0, None),
                (1_600_000, 0x69, True, 0, "i"), (1_650_000, 0x69, False, 0, None),
                (6_000_000, 0xffe3, True, 0, None), (6_100_000, 0x73, True, 0x4, None),
                (6_150_000, 0x73, False, 0x4, None), (6_200_000, 0xffe3, False, 0x4, None)]
        t, code, pressed, mods, text = zip(*keys)
        w.write("key", {"t": np.array(t, np.int64), "code": np.array(code, np.uint32),
                        "pressed": np.array(pressed), "modifiers": np.array(mods, np.uint16), "text": list(text)})
    return str(path)


def steps(folder) -> list[dict]:
    with open(os.path.join(folder, "trajectory.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def leftovers(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith((".partial", ".old"))]


@pytest.fixture
def shards(tmp_path) -> list[str]:
    folder = tmp_path / "shards"
    folder.mkdir()
    return [recording(folder / f"s{i}.enc", seed=i) for i in range(2)]


def derivable(path):
    try:
        with encoder.ShardReader(path) as reader:
            return encoder.actions.derive(reader)
    except (ImportError, NotImplementedError) as exc:  # derive is written in parallel
        pytest.skip(f"derive is not available yet: {exc}")


def test_one_shard_writes_into_the_folder(shards, tmp_path, capsys):
    actions = derivable(shards[0])
    out = tmp_path / "traj"
    assert main(["export", shards[0], "--trajectory", str(out), "-q"]) == 0
    assert sorted(os.listdir(out)) == ["images", "trajectory.jsonl"]
    got = steps(out)
    assert [s["kind"] for s in got] == actions.column("kind").to_pylist()
    assert {"click", "type", "hotkey"} <= {s["kind"] for s in got}
    for step in got:
        ast.parse(step["code"])
        ast.parse(step["code_abs"])
    click = next(s for s in got if s["kind"] == "click")
    assert click["code"] == "pyautogui.click(x=0.5, y=0.5)" and click["code_abs"] == "pyautogui.click(x=32, y=24)"
    assert next(s for s in got if s["kind"] == "type")["code"] == "pyautogui.write(message='hi')"
    assert next(s for s in got if s["kind"] == "hotkey")["code"] == "pyautogui.hotkey('ctrl', 's')"
    from PIL import Image
    with encoder.ShardReader(shards[0]) as reader:
        for name in os.listdir(out / "images"):
            k = int(name.split(".")[0])
            want = pixels.rgb(reader.frame(k), reader.frame_info(k)["format"])
            assert np.array_equal(np.asarray(Image.open(out / "images" / name)), want)
    printed = capsys.readouterr().out
    assert f"{out}: {len(got)} actions" in printed and "trajectories of 1 of 1 shards" in printed
    assert leftovers(tmp_path) == []


def test_several_shards_write_a_folder_each_with_parquet(shards, tmp_path):
    derivable(shards[0])
    out = tmp_path / "traj"
    folder = os.path.dirname(shards[0])
    assert main(["export", folder, "--trajectory", str(out), "--trajectory-parquet", "-q"]) == 0
    assert sorted(os.listdir(out)) == ["s0", "s1"]
    for stem in ("s0", "s1"):
        assert sorted(os.listdir(out / stem)) == ["images", "trajectory.jsonl", "trajectory.parquet"]
        table = pq.read_table(out / stem / "trajectory.parquet")
        assert table.column("code").to_pylist() == [s["code"] for s in steps(out / stem)]
    assert leftovers(tmp_path) == []


def test_parquet_and_trajectory_together(shards, tmp_path):
    derivable(shards[0])
    assert main(["export", shards[0], "--parquet", str(tmp_path / "pq"), "--trajectory", str(tmp_path / "tr"),
                 "-q"]) == 0
    assert "stream=pointer" in os.listdir(tmp_path / "pq")
    assert "trajectory.jsonl" in os.listdir(tmp_path / "tr")


@pytest.mark.parametrize("how", ["nothing", "parquet-flag-alone", "same-folder", "not-empty", "same-stem"])
def test_bad_trajectory_requests_write_nothing(shards, tmp_path, how, capsys):
    out = tmp_path / "tr"
    args = [shards[0]]
    if how == "nothing":
        pass
    elif how == "parquet-flag-alone":
        args += ["--trajectory-parquet"]
    elif how == "same-folder":
        args += ["--parquet", str(out), "--trajectory", str(out)]
    elif how == "not-empty":
        out.mkdir()
        (out / "keep.txt").write_text("x")
        args += ["--trajectory", str(out), "--parquet", str(tmp_path / "pq")]
    else:  # s0.enc in another folder: both would write tr/s0/
        other = tmp_path / "other"
        other.mkdir()
        args += [recording(other / "s0.enc"), "--trajectory", str(out)]
    assert main(["export", *args]) == 2
    assert capsys.readouterr().err.startswith("encoder: error: ")
    assert not (tmp_path / "pq").exists() and leftovers(tmp_path) == []
    assert os.listdir(out) == ["keep.txt"] if how == "not-empty" else not out.exists()


def test_overwrite_replaces_a_trajectory(shards, tmp_path):
    derivable(shards[0])
    out = tmp_path / "tr"
    out.mkdir()
    (out / "old.txt").write_text("x")
    assert main(["export", shards[0], "--trajectory", str(out), "--overwrite", "-q"]) == 0
    assert sorted(os.listdir(out)) == ["images", "trajectory.jsonl"] and leftovers(tmp_path) == []


def test_a_damaged_shard_is_skipped_and_reported(shards, tmp_path, capsys, shard_tools):
    derivable(shards[0])
    bad = shard_tools.damage_block(shards[1], tmp_path / "s1.enc", "key", 0)
    out = tmp_path / "tr"
    assert main(["export", shards[0], bad, "--trajectory", str(out), "-q"]) == 1
    assert sorted(os.listdir(out)) == ["s0"]
    captured = capsys.readouterr()
    assert "s1.enc: trajectory not exported" in captured.out and "1 shard(s) skipped" in captured.err
    assert main(["export", shards[0], bad, "--trajectory", str(tmp_path / "strict"), "--strict", "-q"]) == 1
    assert not (tmp_path / "strict").exists() and leftovers(tmp_path) == []
