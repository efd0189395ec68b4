"""``encoder.actions.trajectory.export_trajectory``: AgentNet-style steps, PyAutoGUI code, PNG observations."""
from __future__ import annotations

import ast
import json
import os
import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import encoder
import encoder.actions
from encoder.actions.schema import SCHEMA
from encoder.actions.trajectory import action_code, export_trajectory
from encoder.errors import EncoderError, SchemaError
from encoder.shard import pixels

W, H = 64, 48
ANCHORS = pathlib.Path(__file__).resolve().parents[3] / "shared" / "anchors" / "actions"


# -- helpers -----------------------------------------------------------------------------------
def write_shard(path, *, screens: bool = True, frames: bool = True, seed: int = 0) -> str:
    """A shard with frames 0 (bgra), 1 (gray), 2 (bgra, 40x32) of screen 0 and a few input rows."""
    rng = np.random.default_rng(seed)
    meta = {"screens": [{"id": 0, "x": 0, "y": 0, "width": W, "height": H}]} if screens else {}
    with encoder.ShardWriter(path, metadata=meta) as w:
        if frames:
            w.add_frame(1_000, rng.integers(0, 256, (H, W, 4), np.uint8))
            w.add_frame(2_000_000, rng.integers(0, 256, (H, W), np.uint8))
            w.add_frame(4_000_000, rng.integers(0, 256, (40, 32, 4), np.uint8))
        t = np.array([500_000, 1_000_000, 2_500_000, 3_000_000], np.int64)
        w.write("pointer", {"t": t, "x": np.array([10, 20, 30, 40], np.int32),
                            "y": np.array([5, 6, 7, 8], np.int32)})
        w.write("button", {"t": np.array([2_600_000, 2_650_000], np.int64), "button": np.array([1, 1], np.uint8),
                           "pressed": np.array([True, False]), "x": np.array([30, 30], np.int32),
                           "y": np.array([7, 7], np.int32)})
        w.write("key", {"t": np.array([3_500_000, 3_550_000], np.int64), "code": np.array([0x61, 0x61], np.uint32),
                        "pressed": np.array([True, False]), "modifiers": np.zeros(2, np.uint16),
                        "text": ["a", None]})
    return str(path)


def table(*rows: dict) -> pa.Table:
    """An actions table of ``rows`` (unnamed columns null, count 1, frame -1)."""
    base = {name: None for name in SCHEMA.names} | {"count": 1, "hesitation_us": 0, "frame": -1}
    return pa.Table.from_pylist([base | {"t_end": r["t"]} | r for r in rows], schema=SCHEMA)


def run_code(code: str) -> list[tuple]:
    """Evaluate a step's code with fake ``pyautogui`` and ``computer`` objects; returns the calls
    as (object, function, args, kwargs)."""
    calls = []

    class Fake:
        def __init__(self, name):
            self.name = name

        def __getattr__(self, function):
            return lambda *args, **kwargs: calls.append((self.name, function, args, kwargs))

    exec(compile(ast.parse(code), "<code>", "exec"), {"__builtins__": {}, "pyautogui": Fake("pyautogui"),
                                                       "computer": Fake("computer")})
    return calls


def read_steps(out) -> list[dict]:
    with open(os.path.join(out, "trajectory.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def norm(pixel: int, size: int) -> float:
    return round(pixel / size, 4)


ALL_KINDS = table(
    {"t": 1_500_000, "kind": "click", "x": 10, "y": 5, "button": 1, "frame": 0, "move_px": 0.8,
     "straightness": 1.0},
    {"t": 1_600_000, "kind": "double_click", "x": 63, "y": 47, "button": 1, "count": 2, "frame": 0},
    {"t": 1_700_000, "kind": "triple_click", "x": 0, "y": 0, "button": 1, "count": 3, "frame": 0},
    {"t": 2_100_000, "kind": "right_click", "x": 12, "y": 13, "button": 3, "frame": 1},
    {"t": 2_200_000, "kind": "middle_click", "x": 14, "y": 15, "button": 2, "frame": 1},
    {"t": 2_300_000, "kind": "drag", "x": 1, "y": 2, "x2": 50, "y2": 40, "button": 1, "frame": 1,
     "path_x": [1, 20, 50], "path_y": [2, 20, 40]},
    {"t": 2_400_000, "kind": "scroll", "x": 30, "y": 20, "dx": 0, "dy": 3, "count": 3, "frame": 1},
    {"t": 2_450_000, "kind": "scroll", "x": 30, "y": 20, "dx": -2, "dy": -1, "count": 3, "frame": 1},
    {"t": 2_500_000, "kind": "move", "x": 99, "y": -4, "frame": 1},
    {"t": 4_100_000, "kind": "type", "text": "hello", "count": 5, "frame": 2, "dwell_us": 80_000,
     "flight_us": 100_000, "keys_per_s": 6.5},
    {"t": 4_200_000, "kind": "key", "text": "enter", "frame": 2},
    {"t": 4_300_000, "kind": "key", "text": "down", "count": 5, "frame": 2},
    {"t": 4_400_000, "kind": "hotkey", "text": "ctrl+shift+t", "frame": 2},
    {"t": 4_500_000, "kind": "focus", "text": "Inbox — Mail", "app": "thunderbird", "frame": 2},
    {"t": 4_600_000, "kind": "command", "text": "ls -la 'x'", "frame": 2},
    {"t": 0, "kind": "key", "text": "esc", "frame": -1},
)


@pytest.fixture
def shard(tmp_path) -> str:
    return write_shard(tmp_path / "session.enc")


# -- the files -----------------------------------------------------------------------------------
def test_every_kind_becomes_code_that_parses_and_calls_pyautogui(shard, tmp_path):
    out = tmp_path / "traj"
    summary = export_trajectory(shard, out, actions=ALL_KINDS)
    steps = read_steps(out)
    assert summary["actions"] == len(steps) == ALL_KINDS.num_rows and summary["images"] == 3
    assert [s["index"] for s in steps] == list(range(len(steps)))
    calls = [run_code(s["code"]) for s in steps]
    calls_abs = [run_code(s["code_abs"]) for s in steps]
    n, a = (lambda x, y: {"x": norm(x, W), "y": norm(y, H)}), (lambda x, y: {"x": x, "y": y})
    for fmt, got in ((n, calls), (a, calls_abs)):
        assert got[0] == [("pyautogui", "click", (), fmt(10, 5))]
        assert got[1] == [("pyautogui", "doubleClick", (), fmt(63, 47))]
        assert got[2] == [("pyautogui", "tripleClick", (), fmt(0, 0))]
        assert got[3] == [("pyautogui", "rightClick", (), fmt(12, 13))]
        assert got[4] == [("pyautogui", "middleClick", (), fmt(14, 15))]
        assert got[5] == [("pyautogui", "moveTo", (), fmt(1, 2)),
                          ("pyautogui", "dragTo", (), fmt(50, 40) | {"button": "left"})]
        # dy > 0 is down (wheel steps); PyAutoGUI's scroll(n > 0) is up, hscroll(n > 0) right
        assert got[6] == [("pyautogui", "moveTo", (), fmt(30, 20)), ("pyautogui", "scroll", (-3,), {})]
        assert got[7] == [("pyautogui", "moveTo", (), fmt(30, 20)), ("pyautogui", "hscroll", (-2,), {}),
                          ("pyautogui", "scroll", (1,), {})]
        assert got[8] == [("pyautogui", "moveTo", (), fmt(W - 1, 0))]  # clamped into the screen
    assert calls[9] == [("pyautogui", "write", (), {"message": "hello"})]
    assert calls[10] == [("pyautogui", "press", ("enter",), {})]
    assert calls[11] == [("pyautogui", "press", ("down",), {"presses": 5})]
    assert calls[12] == [("pyautogui", "hotkey", ("ctrl", "shift", "t"), {})]
    assert calls[13] == [("computer", "focus", (), {"app": "thunderbird", "title": "Inbox — Mail"})]
    assert calls[14] == [("computer", "run_command", (), {"command": "ls -la 'x'"})]
    assert steps[0]["code"] == "pyautogui.click(x=0.1562, y=0.1042)"  # AgentNet's spelling
    assert steps[0]["code_abs"] == "pyautogui.click(x=10, y=5)"


def test_step_fields_follow_the_actions_table(shard, tmp_path):
    export_trajectory(shard, tmp_path / "t", actions=ALL_KINDS)
    steps = read_steps(tmp_path / "t")
    assert list(steps[0])[:10] == ["index", "t", "t_end", "kind", "frame", "image", "code", "code_abs",
                                   "width", "height"]
    assert set(steps[0]) == set(SCHEMA.names) | {"index", "image", "code", "code_abs", "width", "height"}
    for step, row in zip(steps, ALL_KINDS.to_pylist()):
        for name in ("t", "t_end", "kind", "frame", "x", "y", "x2", "y2", "button", "count", "text", "dx", "dy",
                     "app", "hesitation_us", "move_us", "dwell_us", "flight_us", "path_x", "path_y"):
            assert step[name] == row[name], name
    assert steps[0]["move_px"] == 0.8 and steps[9]["keys_per_s"] == 6.5  # float32 by its shortest repr
    assert (steps[0]["width"], steps[0]["height"]) == (W, H) and (steps[9]["width"], steps[9]["height"]) == (32, 40)


def test_images_are_the_frames_in_rgb_each_written_once(shard, tmp_path):
    from PIL import Image
    out = tmp_path / "t"
    summary = export_trajectory(shard, out, actions=ALL_KINDS)
    steps = read_steps(out)
    assert sorted(os.listdir(out)) == ["images", "trajectory.jsonl"]
    assert sorted(os.listdir(out / "images")) == ["0.png", "1.png", "2.png"]
    assert {s["image"] for s in steps if s["frame"] >= 0} == {"images/0.png", "images/1.png", "images/2.png"}
    assert steps[-1]["frame"] == -1 and steps[-1]["image"] is None
    with encoder.ShardReader(shard) as reader:
        for k in range(3):
            with Image.open(out / "images" / f"{k}.png") as image:
                assert image.mode == "RGB" and image.format == "PNG"
                want = pixels.rgb(reader.frame(k), reader.frame_info(k)["format"])
                assert np.array_equal(np.asarray(image), want)
        assert np.array_equal(np.asarray(Image.open(out / "images" / "1.png"))[..., 0], reader.frame(1))  # gray
        assert np.array_equal(np.asarray(Image.open(out / "images" / "0.png")), reader.frame(0)[..., [2, 1, 0]])
    files = [out / "trajectory.jsonl"] + [out / "images" / f for f in os.listdir(out / "images")]
    assert summary["bytes"] == sum(os.path.getsize(f) for f in files)


@pytest.mark.parametrize("text", ["it's", 'say "hi"', "back\\slash", "two\nlines\r\n", "tab\there",
                                  "héllo wörld ✓ 漢字 🙂", "'\"\\", "", "# not a comment", "\x00\x1b[0m"])
def test_typed_text_round_trips_through_the_code(shard, tmp_path, text):
    out = tmp_path / "t"
    export_trajectory(shard, out, actions=table({"t": 10, "kind": "type", "text": text, "count": 3}))
    step = read_steps(out)[0]
    assert "\n" not in step["code"]  # one line: the newline is escaped in the string literal
    assert run_code(step["code"]) == [("pyautogui", "write", (), {"message": text})]
    assert step["text"] == text


def test_timing_only_typing_and_unnamed_keys_are_comments(shard, tmp_path):
    out = tmp_path / "t"
    export_trajectory(shard, out, actions=table(
        {"t": 10, "kind": "type", "text": None, "count": 7},
        {"t": 20, "kind": "key", "text": "<navigation>"},
        {"t": 30, "kind": "key", "text": None, "count": 2},
        {"t": 40, "kind": "hotkey", "text": "ctrl+<letter>"}))
    steps = read_steps(out)
    assert steps[0]["code"] == "# typed 7 keys (text not recorded)"
    for step in steps:
        ast.parse(step["code"])
        assert step["code"].startswith("# ") and run_code(step["code"]) == []
        assert step["image"] is None and step["width"] == W  # the metadata's screen


@pytest.mark.parametrize("text, keys", [("ctrl+shift+t", ("ctrl", "shift", "t")), ("alt+f4", ("alt", "f4")),
                                        ("ctrl++", ("ctrl", "+")), ("shift+tab", ("shift", "tab")),
                                        ("ctrl+alt+shift+win+'", ("ctrl", "alt", "shift", "win", "'"))])
def test_hotkeys_split_into_pyautogui_keys(text, keys):
    code, code_abs = action_code({"kind": "hotkey", "text": text, "count": 1}, None)
    assert code == code_abs and run_code(code) == [("pyautogui", "hotkey", keys, {})]


def test_repeated_hotkey_and_odd_buttons():
    code, _ = action_code({"kind": "hotkey", "text": "ctrl+z", "count": 3}, None)
    assert run_code(code) == [("pyautogui", "hotkey", ("ctrl", "z"), {})] * 3
    rect = (0, 0, 100, 100)
    code, code_abs = action_code({"kind": "click", "x": 5, "y": 6, "button": 3, "count": 1}, rect)
    assert run_code(code) == [("pyautogui", "click", (), {"x": 0.05, "y": 0.06, "button": "right"})]
    code, code_abs = action_code({"kind": "click", "x": 5, "y": 6, "button": 8, "count": 1}, rect)
    assert code.startswith("# ") and "button 8" in code and run_code(code_abs) == []
    code, _ = action_code({"kind": "drag", "x": 5, "y": 6, "x2": 7, "y2": 8, "button": 3, "count": 1}, rect)
    assert run_code(code)[1] == ("pyautogui", "dragTo", (), {"x": 0.07, "y": 0.08, "button": "right"})


def test_screen_origin_and_size_come_from_the_metadata_without_a_frame(tmp_path):
    path = str(tmp_path / "s.enc")
    with encoder.ShardWriter(path, metadata={"screens": [{"id": 0, "x": 0, "y": 0, "width": 100, "height": 50},
                                                         {"id": 1, "x": 100, "y": 0, "width": 200, "height": 100}]}):
        pass
    actions = table({"t": 5, "kind": "click", "x": 150, "y": 25, "button": 1})
    export_trajectory(path, tmp_path / "t", actions=actions, screen=1)
    step = read_steps(tmp_path / "t")[0]
    assert run_code(step["code"]) == [("pyautogui", "click", (), {"x": 0.25, "y": 0.25})]
    assert run_code(step["code_abs"]) == [("pyautogui", "click", (), {"x": 50, "y": 25})]
    assert (step["width"], step["height"], step["x"]) == (200, 100, 150)  # x as recorded


# -- parquet ------------------------------------------------------------------------------------
def test_parquet_holds_the_steps_with_embedded_images(shard, tmp_path):
    out = tmp_path / "t"
    summary = export_trajectory(shard, out, actions=ALL_KINDS, parquet=True)
    steps = read_steps(out)
    frame = pq.read_table(out / "trajectory.parquet")
    assert frame.column_names == list(steps[0])
    assert frame.schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    rows = frame.to_pylist()
    for row, step in zip(rows, steps):
        if step["image"] is None:
            assert row["image"] is None
        else:
            assert row["image"]["path"] == step["image"]
            assert row["image"]["bytes"] == (out / step["image"]).read_bytes()
        assert {k: v for k, v in row.items() if k not in ("image", "move_px", "straightness", "keys_per_s",
                                                          "fitts_id")} == \
               {k: v for k, v in step.items() if k not in ("image", "move_px", "straightness", "keys_per_s",
                                                           "fitts_id")}
    assert frame.schema.field("move_px").type == pa.float32()
    assert summary["bytes"] == sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)


def test_parquet_reads_as_a_hugging_face_image_dataset(shard, tmp_path):
    datasets = pytest.importorskip("datasets")
    export_trajectory(shard, tmp_path / "t", actions=ALL_KINDS, parquet=True)
    data = datasets.Dataset.from_parquet(str(tmp_path / "t" / "trajectory.parquet"))
    assert isinstance(data.features["image"], datasets.Image)
    with encoder.ShardReader(shard) as reader:
        assert np.array_equal(np.asarray(data[0]["image"].convert("RGB")), pixels.rgb(reader.frame(0), "bgra"))


# -- errors and the folder --------------------------------------------------------------------------
def test_a_pointer_action_without_any_screen_size_is_refused(tmp_path):
    path = write_shard(tmp_path / "bare.enc", screens=False, frames=False)
    keys_only = table({"t": 5, "kind": "key", "text": "enter"})
    export_trajectory(path, tmp_path / "keys", actions=keys_only)
    assert read_steps(tmp_path / "keys")[0]["width"] is None
    with pytest.raises(EncoderError, match=r"action 1 \(click at t=9\) has no screen size.*'screens'"):
        export_trajectory(path, tmp_path / "t", actions=table({"t": 5, "kind": "key", "text": "enter"},
                                                               {"t": 9, "kind": "click", "x": 1, "y": 1}))
    assert not (tmp_path / "t").exists()
    assert [n for n in os.listdir(tmp_path) if n.endswith(".partial")] == []


def test_an_existing_folder_is_refused_unless_overwrite(shard, tmp_path):
    out = tmp_path / "t"
    out.mkdir()
    (out / "old.txt").write_text("x")
    with pytest.raises(EncoderError, match="not empty.*overwrite"):
        export_trajectory(shard, out, actions=ALL_KINDS)
    assert os.listdir(out) == ["old.txt"]
    export_trajectory(shard, out, actions=ALL_KINDS, overwrite=True)
    assert sorted(os.listdir(out)) == ["images", "trajectory.jsonl"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(EncoderError, match="not a folder"):
        export_trajectory(shard, tmp_path / "file", actions=ALL_KINDS, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["file", "session.enc", "t"]


def test_an_empty_folder_is_used(shard, tmp_path):
    (tmp_path / "t").mkdir()
    assert export_trajectory(shard, tmp_path / "t", actions=table())["actions"] == 0
    assert os.listdir(tmp_path / "t") == ["trajectory.jsonl"] and read_steps(tmp_path / "t") == []


def test_a_table_that_is_not_an_actions_table_is_refused(shard, tmp_path):
    with pytest.raises(SchemaError, match="columns"):
        export_trajectory(shard, tmp_path / "a", actions=ALL_KINDS.drop_columns(["kind"]))
    with pytest.raises(SchemaError, match="pyarrow.Table"):
        export_trajectory(shard, tmp_path / "b", actions=ALL_KINDS.to_pylist())
    with pytest.raises(SchemaError, match="frame 9 of screen 0, which has 3 frames"):
        export_trajectory(shard, tmp_path / "c", actions=table({"t": 1, "kind": "key", "text": "a", "frame": 9}))
    assert not any((tmp_path / n).exists() for n in "abc")


# -- derived actions -------------------------------------------------------------------------------
def derived_or_skip(source):
    try:
        return encoder.actions.derive(source, backend="reference")
    except (ImportError, NotImplementedError) as exc:  # derive is written in parallel
        pytest.skip(f"derive is not available yet: {exc}")


def test_derived_actions_export_from_a_reader(shard, tmp_path):
    with encoder.ShardReader(shard) as reader:
        actions = derived_or_skip(reader)
        summary = export_trajectory(reader, tmp_path / "t", actions=actions)
        steps = read_steps(tmp_path / "t")
        assert summary["actions"] == actions.num_rows == len(steps) > 0
        assert [s["kind"] for s in steps] == actions.column("kind").to_pylist()
        for step in steps:
            ast.parse(step["code"])
            ast.parse(step["code_abs"])
            run_code(step["code"])
        used = {s["frame"] for s in steps if s["frame"] >= 0}
        assert sorted(os.listdir(tmp_path / "t" / "images")) == sorted(f"{k}.png" for k in used)
    summary = export_trajectory(shard, tmp_path / "d")  # actions=None: derived here
    assert read_steps(tmp_path / "d") == steps


# -- the shapes of OpenCUA's steps ----------------------------------------------------------------
def _shape(code: str) -> str:
    """The code with every number and text replaced: what OpenCUA's steps and ours must share."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            node.value = 0
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value != "left":
            node.value = ""
        elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
            node.operand.value = 0
    return ast.dump(tree).replace("UnaryOp(op=USub(), operand=Constant(value=0))", "Constant(value=0)")


@pytest.mark.skipif(not ANCHORS.is_dir(), reason="the reference recordings (../shared/anchors) are absent")
def test_codes_have_the_shape_of_opencua_steps():
    theirs = [json.loads(line)["code"] for line in
              (ANCHORS / "ducktrack" / "derived" / "pyautogui_steps.jsonl").read_text().splitlines()]
    episode = json.loads((ANCHORS / "opencua-agentnet" / "standardized" / "raw_example.jsonl").read_text())
    theirs += [step["value"]["code"] for step in episode["traj"]]
    rect = (0, 0, 1366, 768)
    ours = {
        "click": action_code({"kind": "click", "x": 5, "y": 5, "button": 1}, rect)[0],
        "doubleClick": action_code({"kind": "double_click", "x": 5, "y": 5, "button": 1}, rect)[0],
        "rightClick": action_code({"kind": "right_click", "x": 5, "y": 5, "button": 3}, rect)[0],
        "dragTo": action_code({"kind": "drag", "x": 5, "y": 5, "x2": 9, "y2": 9, "button": 1}, rect)[0],
        "scroll": action_code({"kind": "scroll", "x": 5, "y": 5, "dx": 0, "dy": 3}, rect)[0],
        "write": action_code({"kind": "type", "text": "abc", "count": 3}, rect)[0],
    }
    checked = set()
    for code in theirs:
        first = code.split("\n")[0]
        if not code.startswith("pyautogui.") or "press(" in code:  # computer.*; press(keys=[...]) differs
            continue
        name = "dragTo" if "dragTo" in code else "scroll" if "scroll" in code else first.split("(")[0].split(".")[1]
        assert _shape(code) == _shape(ours[name]), (code, ours[name])
        checked.add(name)
    assert checked == set(ours)
