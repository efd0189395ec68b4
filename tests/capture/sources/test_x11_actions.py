"""Actions derived from a real X session: xdotool drives two xterms on Xvfb while ``encoder record``
records; :func:`encoder.actions.derive` must find every scripted action, in order, where it was
done (within 2 px), with the exact text, nothing extra of those kinds, and each action's frame at
or before it. Then the trajectory export and the tokenizer's round trip on the same recording.

Skipped, with the reason, without Xvfb, xdotool, xterm, python-xlib or mss (conftest.py).
"""
from __future__ import annotations

import ast
import json
import signal
import time

import numpy as np

from encoder.actions import derive
from encoder.actions.tokens import ActionTokenizer

#: kind, x, y, x2, y2, text: what the script below does, in order (None: not checked).
EXPECTED = [
    ("click", 200, 150, None, None, None),
    ("double_click", 400, 150, None, None, None),
    ("right_click", 300, 200, None, None, None),
    ("drag", 100, 300, 250, 320, None),
    ("scroll", 300, 250, None, None, None),
    ("type", None, None, None, None, "hello world"),
    ("key", None, None, None, None, "enter"),
    ("hotkey", None, None, None, None, "ctrl+shift+t"),
    ("focus", None, None, None, None, "right"),
    ("type", None, None, None, None, "Xy"),
]


def _script(xs, left: int, right: int) -> None:
    def x(*args):
        xs.run("xdotool", *args)
        time.sleep(0.5)  # beyond the double-click time: separate actions stay separate

    x("mousemove", "--sync", "200", "150")
    x("click", "1")
    x("mousemove", "--sync", "400", "150")
    x("click", "--repeat", "2", "--delay", "80", "1")
    x("mousemove", "--sync", "300", "200")
    x("click", "3")
    x("key", "Escape")  # nothing: xterm has no menu on the right button, but be safe
    x("mousemove", "--sync", "100", "300")
    xs.run("xdotool", "mousedown", "1")
    for px, py in ((150, 305), (200, 315), (250, 320)):
        xs.run("xdotool", "mousemove", "--sync", str(px), str(py))
        time.sleep(0.03)
    x("mouseup", "1")
    x("mousemove", "--sync", "300", "250")
    for _ in range(3):
        xs.run("xdotool", "click", "5")
        time.sleep(0.05)
    time.sleep(0.5)
    xs.focus(left)
    xs.run("xdotool", "type", "--delay", "30", "hellp")
    xs.run("xdotool", "key", "BackSpace")
    xs.run("xdotool", "type", "--delay", "30", "o world")
    x("key", "Return")
    x("key", "ctrl+shift+t")
    xs.focus(right)
    time.sleep(0.3)
    xs.run("xdotool", "type", "--delay", "30", "Xy")
    time.sleep(0.3)


def test_scripted_session_gives_every_action(xsession, tmp_path):
    xs = xsession
    left = xs.xterm("left", "80x24+0+0")
    right = xs.xterm("right", "60x20+700+0")
    xs.focus(left)
    rec = xs.record(tmp_path / "rec", "--keys", "full", "--fps", "10")
    _script(xs, left, right)
    rec.wait_stats(2)
    readers = rec.stop(signal.SIGTERM)
    assert len(readers) == 1
    reader = readers[0]
    actions = derive(reader)
    rows = actions.to_pylist()
    kinds = {k for k, *_ in EXPECTED} - {"key"}
    # the Escape after the right click is a key action of its own: leave keys other than Enter out
    got = [r for r in rows if r["kind"] in kinds or (r["kind"] == "key" and r["text"] == "enter")]
    assert [r["kind"] for r in got] == [e[0] for e in EXPECTED], [(r["kind"], r["text"]) for r in rows]
    for row, (kind, x, y, x2, y2, text) in zip(got, EXPECTED):
        for name, want in (("x", x), ("y", y), ("x2", x2), ("y2", y2)):
            if want is not None:
                assert abs(row[name] - want) <= 2, (row, name, want)
        if text is not None:
            assert row["text"] == text, row
    scroll = got[4]
    assert (scroll["dy"], scroll["count"]) == (3, 3)
    assert not [r for r in rows if r["kind"] in ("move", "triple_click", "middle_click")]
    frame_t = reader.frame_times()
    for row in rows:
        assert 0 <= row["frame"] < len(frame_t) and frame_t[row["frame"]] <= row["t"], row
    _check_trajectory(reader, actions, tmp_path / "traj")
    _check_tokens(reader, actions)


def _check_trajectory(reader, actions, out) -> None:
    from encoder.actions.trajectory import export_trajectory
    export_trajectory(reader, out, actions=actions)
    steps = [json.loads(line) for line in (out / "trajectory.jsonl").read_text().splitlines()]
    assert len(steps) == actions.num_rows
    from PIL import Image
    for step in steps:
        ast.parse(step["code"])
        frame = reader.frame(step["frame"])
        image = np.asarray(Image.open(out / step["image"]))
        assert np.array_equal(image, frame[:, :, [2, 1, 0]]), step  # bgra -> rgb, exactly


def _check_tokens(reader, actions) -> None:
    tokenizer = ActionTokenizer(screen=(1280, 720))
    back = tokenizer.decode(tokenizer.encode(actions))
    assert back.column("kind").to_pylist() == actions.column("kind").to_pylist()
    assert back.column("text").to_pylist() == actions.column("text").to_pylist()
