"""The context joined to actions (docs/actions.md, "Context"): commands' cwd, exit code and
duration; the UI element of clicks and window switches; and shards without either."""
from __future__ import annotations

import encoder
from encoder.actions import SCHEMA, derive

FOCUS = {"t": [0, 2_000_000], "window": [1, 2], "app": ["xterm", "gedit"], "title": ["a", "b"],
         "x": [0, 0], "y": [0, 0], "width": [1, 1], "height": [1, 1]}
BUTTON = {"t": [1_000_000, 1_080_000], "button": [1, 1], "pressed": [True, False], "x": [40, 40], "y": [50, 50]}
COMMAND = {"t": [3_000_000, 4_000_000], "kind": ["shell", "shell"], "text": ["make", "ls"],
           "cwd": ["/src", None], "exit_code": [2, -1], "duration_us": [1_500_000, -1], "pid": [7, 7]}
ELEMENT = {"t": [1_000_000, 2_100_000, 2_500_000], "event": ["click", "focus", "focus"],
           "role": ["push button", "text", "menu item"], "name": ["Save", "Editor", "Open"],
           "path": ["app > Save", "gedit > Editor", "gedit > File > Open"], "app": ["app", "gedit", "gedit"],
           "x": [0, 0, 0], "y": [0, 0, 0], "width": [1, 1, 1], "height": [1, 1, 1]}


def _by_kind(table):
    return {r["kind"]: r for r in table.to_pylist()}


def test_commands_carry_cwd_exit_code_and_duration():
    rows = [r for r in derive({"command": COMMAND}).to_pylist()]
    assert [(r["text"], r["cwd"], r["exit_code"], r["duration_us"]) for r in rows] == [
        ("make", "/src", 2, 1_500_000), ("ls", None, None, None)]  # -1 is "unknown": null


def test_clicks_and_window_switches_carry_their_element():
    table = derive({"focus": FOCUS, "button": BUTTON, "element": ELEMENT})
    assert table.schema == SCHEMA
    rows = _by_kind(table)
    assert (rows["click"]["element_role"], rows["click"]["element_name"], rows["click"]["element_path"]) == (
        "push button", "Save", "app > Save")
    assert rows["focus"]["element_name"] == "Editor"  # the nearest focus event after the switch


def test_elements_out_of_reach_are_not_joined():
    far = dict(ELEMENT, t=[1_200_000, 3_100_000, 3_500_000])  # after the click's release; > 1 s after the switch
    rows = _by_kind(derive({"focus": FOCUS, "button": BUTTON, "element": far}))
    assert rows["click"]["element_role"] is None and rows["focus"]["element_role"] is None


def test_shards_without_context_streams_and_old_command_columns(tmp_path):
    path = str(tmp_path / "old.enc")
    with encoder.ShardWriter(path) as w:  # a command stream written with only t, kind, text
        w.write("command", {"t": [5], "kind": ["shell"], "text": ["true"]})
    row = derive(path).to_pylist()[0]
    assert (row["kind"], row["cwd"], row["exit_code"], row["duration_us"], row["element_role"]) == (
        "command", None, None, None, None)


def test_a_switch_long_after_the_last_focus_element_has_none():
    """Seen on a real desktop: the switch into a (not accessible) xterm, 10 s after the GTK
    window's last focus element, must not take that element."""
    focus = {"t": [0, 1_000, 10_000_000], "app": ["", "gedit", "XTerm"], "title": ["", "gedit", "term"],
             "window": [0, 1, 2], "x": [0] * 3, "y": [0] * 3, "width": [9] * 3, "height": [9] * 3}
    element = {"t": [1_500], "event": ["focus"], "role": ["password text"], "name": ["Password:"],
               "path": ["gedit > Password:"], "app": ["gedit"], "x": [0], "y": [0], "width": [1], "height": [1]}
    for backend in ("native", "reference"):
        rows = [(r["text"], r["element_name"]) for r in derive({"focus": focus, "element": element},
                                                               backend=backend).to_pylist()]
        assert rows == [("gedit", "Password:"), ("term", None)], backend
