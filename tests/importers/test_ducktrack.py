"""DuckTrack import (:mod:`encoder.importers.ducktrack`): synthetic recordings everywhere, the
public example recording where ``../shared/anchors/actions`` is present."""
from __future__ import annotations

import json
import os
import re

import pytest

import encoder
from encoder.errors import SchemaError
from encoder.importers import import_ducktrack
from encoder.streams.keys import CONTROL, MOD4, SHIFT

MOVE = {"time_stamp": 1.0, "action": "move", "x": 10.0, "y": 20.0}


def key(t, action, name):
    return {"time_stamp": t, "action": action, "name": name}


def test_every_action_maps_to_its_stream(tmp_path, recording):
    folder = recording(tmp_path / "rec", [
        {"time_stamp": 150160.965463208, "action": "move", "x": 1175.421875, "y": 50.5},
        {"time_stamp": 150161.0000005, "action": "move", "x": 2.5, "y": -3.5},   # halves go to even
        {"time_stamp": 150161.5, "action": "click", "x": 7.6, "y": 8.4, "button": "left", "pressed": True},
        {"time_stamp": 150161.6, "action": "click", "x": 7.6, "y": 8.4, "button": "right", "pressed": False},
        {"time_stamp": 150161.7, "action": "click", "x": 1, "y": 1, "button": "x2", "pressed": True},
        {"time_stamp": 150162.0, "action": "scroll", "x": 5, "y": 6, "dx": 0, "dy": -1},
        {"time_stamp": 150162.1, "action": "scroll", "x": 5, "y": 6, "dx": 2, "dy": 3},
    ])
    summary = import_ducktrack(folder, tmp_path / "s.enc", screen=(1512, 982))
    assert summary["rows"] == {"pointer": 2, "button": 3, "scroll": 2, "key": 0}
    assert summary["skipped"] == {} and summary["lines"] == 7
    assert summary["t_us"] == [150160965463, 150162100000]
    data = encoder.decode(tmp_path / "s.enc")
    assert data["pointer"].to_pydict() == {"t": [150160965463, 150161000000], "x": [1175, 2], "y": [50, -4]}
    assert data["button"].to_pydict() == {"t": [150161500000, 150161600000, 150161700000], "button": [1, 3, 9],
                                          "pressed": [True, False, True], "x": [8, 8, 1], "y": [8, 8, 1]}
    # pynput dy -1 (wheel toward the user) is our +1 (down); dx keeps its sign (+ right)
    assert data["scroll"].to_pydict() == {"t": [150162000000, 150162100000], "dx": [0, 2], "dy": [1, -3],
                                          "precise": [False, False], "x": [5, 5], "y": [6, 6]}


def test_timestamps_round_exactly_from_the_decimal_text(tmp_path, recording):
    # 0.0000005 s is exactly half a microsecond: half to even, decided on the text, not on
    # the float (whose binary value lies a hair off the half)
    folder = recording(tmp_path, [dict(MOVE, time_stamp=t) for t in (0.0000005, 0.0000015, 2.0000025, 3)])
    import_ducktrack(folder, tmp_path / "s.enc")
    assert encoder.decode(tmp_path / "s.enc")["pointer"].column("t").to_pylist() == [0, 2, 2000002, 3000000]


def test_keys_become_keysyms_with_the_state_before_and_the_text_typed(tmp_path, recording):
    folder = recording(tmp_path, [
        key(1, "press", "shift"), key(2, "press", "A"), key(3, "release", "A"), key(4, "release", "shift"),
        key(5, "press", "cmd"), key(6, "press", "c"), key(7, "release", "c"), key(8, "release", "cmd"),
        key(9, "press", "ctrl"), key(10, "press", "\x01"), key(11, "release", "\x01"), key(12, "release", "ctrl"),
        key(13, "press", "enter"), key(14, "press", "space"), key(15, "press", "é"), key(16, "press", "backspace"),
        key(17, "press", "f5"), key(18, "press", "caps_lock"), key(19, "release", "caps_lock"),
    ])
    summary = import_ducktrack(folder, tmp_path / "s.enc")
    assert summary["rows"]["key"] == 19 and summary["skipped"] == {}
    keys = encoder.decode(tmp_path / "s.enc")["key"].to_pydict()
    assert [hex(c) for c in keys["code"]] == [
        "0xffe1", "0x41", "0x41", "0xffe1", "0xffeb", "0x63", "0x63", "0xffeb", "0xffe3", "0x61", "0x61", "0xffe3",
        "0xff0d", "0x20", "0xe9", "0xff08", "0xffc2", "0xffe5", "0xffe5"]
    assert keys["modifiers"] == [0, SHIFT, SHIFT, SHIFT, 0, MOD4, MOD4, MOD4, 0, CONTROL, CONTROL, CONTROL,
                                 0, 0, 0, 0, 0, 0, 2]   # Caps Lock: Lock is set from the release on
    assert keys["text"] == [None, "A", None, None, None, None, None, None, None, None, None, None,
                            "\n", " ", "é", None, None, None, None]
    assert keys["pressed"] == [True, True, False, False] * 3 + [True] * 6 + [False]


def test_scroll_direction_is_recorded_and_applied_only_on_request(tmp_path, recording):
    scroll = {"time_stamp": 1, "action": "scroll", "x": 0, "y": 0, "dx": 0, "dy": -1}
    folder = recording(tmp_path, [scroll], metadata={"system": "Darwin", "screen_width": 1512, "screen_height": 982,
                                                     "scroll_direction": -1, "node": "host.local", "id": 1234})
    import_ducktrack(folder, tmp_path / "a.enc")
    import_ducktrack(folder, tmp_path / "b.enc", apply_scroll_direction=True)
    assert encoder.decode(tmp_path / "a.enc")["scroll"].column("dy").to_pylist() == [1]
    assert encoder.decode(tmp_path / "b.enc")["scroll"].column("dy").to_pylist() == [-1]
    meta = encoder.ShardReader(tmp_path / "a.enc").metadata
    assert meta["screens"] == [{"id": 0, "x": 0, "y": 0, "width": 1512, "height": 982}]
    assert meta["platform"] == {"system": "Darwin", "scroll_direction": -1, "natural_scrolling": True}
    assert meta["importer"]["format"] == "ducktrack" and meta["importer"]["source"] == "events.jsonl"
    assert "host.local" not in json.dumps(meta) and "1234" not in json.dumps(meta)   # host and MAC id stay out
    assert "unix_us_at_t0" not in meta["clock"]   # perf_counter: no wall-clock anchor is known


def test_unknown_events_are_counted_not_dropped(tmp_path, recording):
    folder = recording(tmp_path, [
        MOVE, {"time_stamp": 2, "action": "drag"}, {"time_stamp": 3, "action": "drag"},
        {"time_stamp": 4, "action": "click", "x": 0, "y": 0, "button": "unknown", "pressed": True},
        key(5, "press", "$Unknown (255)$"), key(6, "press", "media_eject"),
    ])
    summary = import_ducktrack(folder, tmp_path / "s.enc")
    assert summary["skipped"] == {"action 'drag'": 2, "button 'unknown'": 1,
                                  "press of unknown key '$Unknown (255)$'": 1, "press of unknown key 'media_eject'": 1}
    assert summary["rows"] == {"pointer": 1, "button": 0, "scroll": 0, "key": 0} and summary["lines"] == 6
    assert encoder.ShardReader(tmp_path / "s.enc").metadata["importer"]["skipped"] == summary["skipped"]


@pytest.mark.parametrize("line, message", [
    ('{"time_stamp": 1, "action": "move", "x": 1', "not valid JSON"),
    ('[1, 2]', "expected a JSON object, got list"),
    ('{"time_stamp": 1, "x": 1, "y": 2}', "no 'action'"),
    ('{"time_stamp": "1.5", "action": "move", "x": 1, "y": 2}', "'move' needs a number 'time_stamp'"),
    ('{"time_stamp": 1, "action": "move", "y": 2}', "'move' needs a number 'x', got None"),
    ('{"time_stamp": 1, "action": "move", "x": true, "y": 2}', "needs a number 'x', got True"),
    ('{"time_stamp": 1, "action": "move", "x": 1e12, "y": 2}', "does not fit int32"),
    ('{"time_stamp": 1, "action": "move", "x": NaN, "y": 2}', "not valid JSON"),
    ('{"time_stamp": 1, "action": "click", "x": 1, "y": 2, "button": "left", "pressed": 1}', "boolean 'pressed'"),
    ('{"time_stamp": 1, "action": "scroll", "x": 1, "y": 2, "dx": 0, "dy": 0.5}', "whole number of steps"),
    ('{"time_stamp": 1, "action": "scroll", "x": 1, "y": 2, "dx": 0, "dy": 4294967296}', "does not fit int32"),
    ('{"time_stamp": 1, "action": "press"}', "needs a key 'name'"),
])
def test_malformed_lines_name_the_file_and_line(tmp_path, recording, line, message):
    folder = recording(tmp_path / "rec", [MOVE, "", line])
    out = tmp_path / "s.enc"
    with pytest.raises(SchemaError, match=re.escape(message)) as info:
        import_ducktrack(folder, out)
    assert f"{folder / 'events.jsonl'}, line 3: " in str(info.value)
    assert not out.exists() and os.listdir(tmp_path) == ["rec"]   # nothing left behind


def test_bad_options_and_missing_files(tmp_path, recording):
    with pytest.raises(FileNotFoundError, match="no events file"):
        import_ducktrack(tmp_path, tmp_path / "s.enc")
    folder = recording(tmp_path, [MOVE])
    with pytest.raises(SchemaError, match="screen size must be"):
        import_ducktrack(folder, tmp_path / "s.enc", screen="big")
    with pytest.raises(SchemaError, match="needs the recorded scroll_direction"):
        import_ducktrack(folder, tmp_path / "s.enc", apply_scroll_direction=True)
    with pytest.raises(SchemaError, match="must be 1 or -1"):
        import_ducktrack(folder, tmp_path / "s.enc", scroll_direction=2)
    summary = import_ducktrack(folder / "events.jsonl", tmp_path / "s.enc", system="Darwin")   # the file itself
    assert encoder.ShardReader(summary["shard"]).metadata["platform"] == {"system": "Darwin"}


# -- the public example recording ---------------------------------------------------------------
def test_example_counts_match_the_readme(anchor, tmp_path):
    src = anchor("ducktrack")
    summary = import_ducktrack(src, tmp_path / "dt.enc", screen=(1512, 982), scroll_direction=-1, system="Darwin")
    assert summary["rows"] == {"pointer": 13_163, "button": 44, "scroll": 140, "key": 54}
    assert summary["skipped"] == {} and summary["lines"] == 13_401
    with encoder.ShardReader(tmp_path / "dt.enc") as reader:
        assert reader.verify() == summary["rows"]
        data = {name: reader.read(name).to_pydict() for name in reader.streams}
        meta = reader.metadata
    assert sum(data["key"]["pressed"]) == 27 and data["button"]["pressed"].count(True) == 22
    assert meta["platform"] == {"system": "Darwin", "scroll_direction": -1, "natural_scrolling": True}
    # exact values of the first lines: 150160.965463208 s, (1175.421875, 50.421875) points
    assert (data["pointer"]["t"][0], data["pointer"]["x"][0], data["pointer"]["y"][0]) == (150160965463, 1175, 50)
    assert data["button"]["t"][0] == 150161533522 and data["button"]["x"][0] == 1319
    assert data["key"]["t"][0] == 150162266222 and data["key"]["code"][0] == ord("w")
    # typing: what the press rows type spells the two searches (README: wikipedia$enter$,
    # transformer$space$model); no modifier was ever held
    assert "".join(t for t in data["key"]["text"] if t) == "wikipedia\ntransformer model"
    assert set(data["key"]["modifiers"]) == {0}
    with open(src / "events.jsonl") as f:
        raw = [json.loads(line) for line in f]
    assert [e["name"] for e in raw if e["action"] == "press"] == [
        {0xff0d: "enter", 0x20: "space"}.get(c, chr(c)) for c, p in
        zip(data["key"]["code"], data["key"]["pressed"]) if p]


def test_example_scrolls_down_as_the_reducer_says(anchor, tmp_path):
    """All 140 ticks are pynput dy -1 under scroll_direction -1. The AgentNet reduction of the same
    events writes them as pyautogui.scroll(-N) (down) in 10 bursts: the page went down, so the
    recorded sign is the applications' and ours is +1 (applying scroll_direction would say up)."""
    src = anchor("ducktrack")
    import_ducktrack(src, tmp_path / "dt.enc", scroll_direction=-1)
    scroll = encoder.decode(tmp_path / "dt.enc")["scroll"].to_pydict()
    with open(src / "derived" / "pyautogui_steps.jsonl") as f:
        steps = [json.loads(line)["code"] for line in f]
    amounts = [int(m) for code in steps for m in re.findall(r"pyautogui\.scroll\((-?\d+)\)", code)]
    assert len(amounts) == 10 and sum(amounts) == -140
    assert set(scroll["dy"]) == {1} and sum(scroll["dy"]) == -sum(amounts)
    assert set(scroll["dx"]) == {0} and not any(scroll["precise"])
