"""The UI element source inside a recorder, on a fake accessibility tree: rows, privacy, password fields."""
from __future__ import annotations

import logging

import pytest

import encoder
from encoder.capture import BUTTON, Policy, Recorder
from encoder.capture.sources.atspi import AtspiElements
from encoder.capture.sources.atspi_tree import ROOT_PATH, fake_call
from encoder.capture.sources.fake import FakeInput, FakeWindows
from encoder.capture.windows import WindowInfo

from .test_atspi_tree import APP, gedit_tree

FOCUSED = ("focused", 1, 0, ("i", 0), {})
BLURRED = ("focused", 0, 0, ("i", 0), {})
SELECTED = ("selected", 1, 0, ("i", 0), {})


@pytest.fixture
def record_elements(tmp_path):
    """``record_elements(script, tree=None, policy=None)``: run ``script(inp, win, src, rec)``
    with an :class:`AtspiElements` on a fake tree; returns ``(source, reader of the shard)``."""
    def run(script, tree=None, policy=None):
        inp, win = FakeInput(), FakeWindows()
        src = AtspiElements(call=fake_call(tree or gedit_tree()))
        rec = Recorder(tmp_path / "out", sources=[win, inp, src], policy=policy or Policy(keys="full"),
                       stats_seconds=3600)
        rec.start()
        try:
            script(inp, win, src, rec)
        finally:
            rec.stop()
        return src, encoder.ShardReader(rec.shards[0])
    return run


def elements(reader):
    return reader.read("element").to_pylist() if "element" in reader.streams else []


def click(t, x, y):
    return [(BUTTON, t, 1, True, x, y), (BUTTON, t + 50_000, 1, False, x, y)]


def test_a_click_names_the_button_under_the_pointer(record_elements):
    def script(inp, win, src, rec):
        t0 = rec.clock()
        src.on_event("Activate", (APP, "/frame"), ("", 0, 0, ("s", "Untitled 1"), {}))
        assert inp.emit(click(t0, 20, 50)) == 2
    src, reader = record_elements(script)
    rows = elements(reader)
    assert [(r["event"], r["role"], r["name"], r["path"], r["app"]) for r in rows] == \
        [("click", "push button", "OK", "gedit > Untitled 1 > OK", "gedit")]
    assert (rows[0]["x"], rows[0]["y"], rows[0]["width"], rows[0]["height"]) == (10, 40, 80, 30)
    assert len(reader.read("button")) == 2            # the input itself is stored as always
    assert src.stats()["click"] == 1 and src.stats()["latency"]["click"]["n"] == 1


def test_a_click_outside_every_accessible_window_is_counted(record_elements):
    src, reader = record_elements(lambda inp, win, src, rec: inp.emit(click(rec.clock(), 900, 900)))
    assert elements(reader) == [] and src.stats()["clicks_unresolved"] == 1


def test_menu_navigation_and_the_item_clicked(record_elements):
    def script(inp, win, src, rec):
        t0 = rec.clock()
        src.on_event("StateChanged", (APP, "/file"), SELECTED, now=t0)
        src.on_event("StateChanged", (APP, "/file"), FOCUSED, now=t0 + 1_000)    # said twice: one row
        src.on_event("StateChanged", (APP, "/saveas"), SELECTED, now=t0 + 300_000)
        src.on_event("StateChanged", (APP, "/ok"), SELECTED, now=t0 + 310_000)   # not a menu: no row
        inp.emit(click(t0 + 600_000, 20, 70))                                   # on the open menu's item
        src.on_event("StateChanged", (APP, "/ok"), FOCUSED, now=t0 + 700_000)    # the menu closed
    src, reader = record_elements(script)
    got = [(r["event"], r["role"], r["path"]) for r in elements(reader)]
    assert got == [("menu", "menu", "gedit > Untitled 1 > File"),
                   ("menu", "menu item", "gedit > Untitled 1 > File > Save As..."),
                   ("click", "menu item", "gedit > Untitled 1 > File > Save As..."),
                   ("focus", "push button", "gedit > Untitled 1 > OK")]


def test_keys_typed_in_a_password_field_keep_no_text_in_any_mode(record_elements, keystrokes):
    def script(inp, win, src, rec):
        t0 = rec.clock()
        src.on_event("StateChanged", (APP, "/pw"), FOCUSED, now=t0)
        inp.emit(keystrokes(t0 + 20_000, "hunter2"))
        src.on_event("StateChanged", (APP, "/pw"), BLURRED, now=t0 + 1_000_000)
        src.on_event("StateChanged", (APP, "/ok"), FOCUSED, now=t0 + 1_000_100)
        inp.emit(keystrokes(t0 + 2_000_000, "ok"))
    src, reader = record_elements(script)
    keys = reader.read("key").to_pylist()
    assert len(keys) == 18
    secret = [k for k in keys if k["t"] < keys[0]["t"] + 1_000_000]
    assert {(k["code"], k["modifiers"], k["text"]) for k in secret} == {(12, 0, None)}   # class "secret"
    assert [k["text"] for k in keys[14:] if k["pressed"]] == ["o", "k"]
    focus = [r for r in elements(reader) if r["event"] == "focus"]
    assert [r["role"] for r in focus] == ["password text", "push button"]
    assert focus[0]["name"] == "Passphrase:"
    strings = " ".join(str(v) for r in elements(reader) for v in r.values())
    assert "hunter2" not in strings and src.stats()["password_focus"] == 1


def test_a_focus_change_not_yet_resolved_counts_as_a_password_field(record_elements, keystrokes):
    """An application that never answers: its focus change stays pending, keys are secret."""
    tree = gedit_tree()

    def script(inp, win, src, rec):
        t0 = rec.clock()
        src.on_event("StateChanged", (":1.99", "/entry"), FOCUSED, now=t0)   # not in the tree: the lookup fails
        inp.emit(keystrokes(t0 + 20_000, "abc"))
    src, reader = record_elements(script, tree)
    assert {k["code"] for k in reader.read("key").to_pylist()} == {12}
    assert src.stats()["errors"] == 1


def test_elements_of_excluded_apps_and_windows_are_never_stored(record_elements):
    tree = gedit_tree()
    vault = ":1.9"
    tree[(vault, ROOT_PATH)] = ("application", "KeePassXC", None, (0, 0, 0, 0))
    tree[(vault, "/frame")] = ("frame", "Passwords.kdbx", (vault, ROOT_PATH), (600, 0, 300, 300))
    tree[(vault, "/entry")] = ("push button", "Show password", (vault, "/frame"), (600, 0, 50, 50))
    tree[(APP, "/frame")] = ("frame", "Incognito - Chromium", (APP, ROOT_PATH), (10, 10, 500, 400))

    def script(inp, win, src, rec):
        t0 = rec.clock()
        src.on_event("StateChanged", (vault, "/entry"), FOCUSED, now=t0)
        src.on_event("StateChanged", (APP, "/ok"), FOCUSED, now=t0 + 1_000)
        src.on_event("Activate", (APP, "/frame"), ())
        inp.emit(click(t0 + 2_000, 20, 50))
    src, reader = record_elements(script, tree)
    assert elements(reader) == []
    assert src.stats()["excluded"] == 3


def test_an_excluded_x_window_and_a_pause_keep_elements_out(record_elements):
    def script(inp, win, src, rec):
        t0 = rec.clock()
        win.focus(t0, WindowInfo(5, "Signal", "signal", "Signal", (0, 0, 900, 900), "excluded"))
        src.on_event("StateChanged", (APP, "/ok"), FOCUSED, now=t0 + 1_000)
        win.focus(t0 + 1_000_000, WindowInfo(6, "Gedit", "gedit", "Untitled 1", (0, 0, 900, 900)))
        rec.hotkey(t0 + 1_100_000)
        src.on_event("StateChanged", (APP, "/pw"), FOCUSED, now=t0 + 1_500_000)
    src, reader = record_elements(script)
    assert elements(reader) == []
    assert src.stats()["excluded"] == 1 and src.stats()["paused"] == 1


def test_names_are_redacted_like_commands(record_elements):
    tree = gedit_tree()
    tree[(APP, "/ok")] = ("push button", "Copy ghp_abcdefghijklmnopqrstuvwxyz0123456789", (APP, "/filler"),
                          (10, 40, 80, 30))

    def script(inp, win, src, rec):
        src.on_event("StateChanged", (APP, "/ok"), FOCUSED)
    src, reader = record_elements(script, tree)
    (row,) = elements(reader)
    assert row["name"] == "Copy ***" and row["path"] == "gedit > Untitled 1 > Copy ***"
    assert src.stats()["redacted"] == 2


def test_without_an_accessibility_bus_nothing_is_recorded_and_it_is_said_once(tmp_path, caplog):
    inp = FakeInput()
    src = AtspiElements(environ={}, display="")
    rec = Recorder(tmp_path / "out", sources=[inp, src], stats_seconds=3600)
    with caplog.at_level(logging.WARNING, logger="encoder.capture"):
        rec.start()
        inp.emit(click(rec.clock(), 5, 5))
        rec.stop()
    said = [r.getMessage() for r in caplog.records if "UI elements are not recorded" in r.getMessage()]
    assert len(said) == 1 and "no accessibility bus" in said[0]
    reader = encoder.ShardReader(rec.shards[0])
    info = reader.metadata["recorder"]["sources"]["atspi-elements"]
    assert info["available"] is False and "DBUS_SESSION_BUS_ADDRESS" in info["reason"]
    assert "element" not in reader.streams and len(reader.read("button")) == 2
