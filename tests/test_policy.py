"""The privacy policy without an X server: key classes, patterns, files, pause, the window
timeline it is applied against, and the server clock mapping."""
from __future__ import annotations

import json

import pytest

from encoder.capture import clock, keys
from encoder.capture.keys import CLASS_CODE, KEY_CLASSES, key_class, keysym_text, parse_hotkey
from encoder.capture.policy import (EXCLUDED, NORMAL, SECRET, PauseSwitch, Pattern, Policy, PolicyError,
                                    worst)
from encoder.capture.windows import WindowInfo, WindowTimeline


# -- key classes ------------------------------------------------------------------------------
@pytest.mark.parametrize("keysym, name", [
    (ord("a"), "letter"), (ord("Z"), "letter"), (0xe9, "letter"), (0x010003b1, "letter"),  # é, α (Unicode)
    (0x6c1, "letter"),                                   # Cyrillic_a (legacy keysym)
    (ord("0"), "digit"), (ord("9"), "digit"), (0xffb5, "digit"),  # KP_5
    (0x20, "space"), (0xff80, "space"),
    (ord("!"), "punctuation"), (ord("/"), "punctuation"), (0xffab, "punctuation"), (0xfe51, "punctuation"),
    (0xffe1, "modifier"), (0xffe3, "modifier"), (0xffe9, "modifier"), (0xffeb, "modifier"), (0xfe03, "modifier"),
    (0xffe5, "modifier"),                                 # Caps_Lock
    (0xff51, "navigation"), (0xff55, "navigation"), (0xff57, "navigation"), (0xff96, "navigation"),
    (0xff08, "editing"), (0xffff, "editing"),
    (0xff0d, "enter"), (0xff8d, "enter"), (0xff09, "tab"), (0xfe20, "tab"), (0xff1b, "escape"),
    (0xffbe, "function"), (0xffc9, "function"),
    (0x1008ff13, "other"), (0xff61, "other"),            # XF86AudioRaiseVolume, Print
])
def test_key_class(keysym, name):
    assert KEY_CLASSES[key_class(keysym)] == name


def test_class_codes_never_collide_with_keysyms():
    # X keysyms of real keys start at 0x20 (0 is NoSymbol): codes 1-15 are free for classes
    assert all(1 <= code <= keys.MAX_CLASS_CODE < 0x20 for code in KEY_CLASSES)
    assert len(set(KEY_CLASSES.values())) == len(KEY_CLASSES)


def test_keysym_text():
    assert [keysym_text(k) for k in (0x61, 0x41, 0x20, 0x7e, 0xe9, 0xff0d, 0xff09, 0xffb7, 0x010020ac)] == \
        ["a", "A", " ", "~", "é", "\n", "\t", "7", "€"]
    assert keysym_text(0xffe1) is None and keysym_text(0xff08) is None and keysym_text(0xff51) is None


def test_parse_hotkey():
    assert parse_hotkey("ctrl+alt+shift+p") == (keys.CONTROL | keys.MOD1 | keys.SHIFT, ord("p"))
    assert parse_hotkey("Super+F12") == (keys.MOD4, 0xffc9)
    assert parse_hotkey("pause") == (0, 0xff13)
    for bad in ("", "ctrl+", "hyper+p", "ctrl+notakey"):
        with pytest.raises(ValueError):
            parse_hotkey(bad)


def test_hotkey_match_ignores_locks_and_case():
    p = Policy(hotkey="ctrl+alt+shift+p")
    mods = keys.CONTROL | keys.MOD1 | keys.SHIFT
    assert p.is_hotkey(ord("p"), mods)
    assert p.is_hotkey(ord("P"), mods | keys.LOCK | keys.MOD2)   # Caps and NumLock on
    assert not p.is_hotkey(ord("p"), keys.CONTROL | keys.MOD1)
    assert not p.is_hotkey(ord("o"), mods)
    assert not Policy(hotkey=None).is_hotkey(ord("p"), mods)


# -- patterns and verdicts --------------------------------------------------------------------
def test_patterns():
    assert Pattern("glob:*Bank*").search("my bank - Firefox")
    assert not Pattern("glob:bank").search("my bank")           # globs match the whole string
    assert Pattern("re:^Private").search("private tab")
    assert Pattern("pass(word|phrase)").search("Enter PASSPHRASE")
    assert not Pattern("x").search(None) and not Pattern("x").search("")
    with pytest.raises(PolicyError, match="regular expression"):
        Pattern("([unclosed")
    with pytest.raises(PolicyError):
        Pattern("")


def test_defaults_are_safe():
    p = Policy()
    assert p.keys == "timing-only"
    assert p.verdict(("chromium", "Chromium"), "New Tab - Chromium (Incognito)") == EXCLUDED
    assert p.verdict(("firefox", "firefox"), "Mozilla Firefox Private Browsing") == EXCLUDED
    assert p.verdict(("keepassxc", "KeePassXC"), "db.kdbx") == EXCLUDED
    assert p.verdict(("pinentry", "Pinentry"), "") == SECRET
    for title in ("[sudo] password for bob", "Enter passphrase for key", "ssh bob@host", "Unlock Secret"):
        assert p.verdict(("xterm", "XTerm"), title) == SECRET, title
    assert p.verdict(("xterm", "XTerm"), "bob@box: ~/src") == NORMAL
    assert p.verdict((), None) == NORMAL


def test_key_rows_by_mode():
    a, shift = ord("a"), keys.SHIFT
    full, timing, none = Policy(keys="full"), Policy(keys="timing-only"), Policy(keys="none")
    assert full.key_row(a, True, shift, "A", NORMAL) == (a, shift, "A")
    assert full.key_row(a, False, shift, "A", NORMAL) == (a, shift, None)     # text only on presses
    assert timing.key_row(a, True, shift, "A", NORMAL) == (CLASS_CODE["letter"], shift, None)
    assert timing.key_row(0xff0d, True, 0, "\n", NORMAL) == (CLASS_CODE["enter"], 0, None)
    assert none.key_row(a, True, 0, "a", NORMAL) is None
    for p in (full, timing):  # secret windows: timing only, whatever the mode
        assert p.key_row(a, True, shift, "A", SECRET) == (CLASS_CODE["secret"], 0, None)
        assert p.key_row(a, True, 0, "a", EXCLUDED) is None


def test_worst():
    assert worst([]) == NORMAL
    assert worst([NORMAL, SECRET]) == SECRET
    assert worst([SECRET, EXCLUDED, NORMAL]) == EXCLUDED


# -- files ------------------------------------------------------------------------------------
TOML = """
version = 1
keys = "full"
guard_ms = 100

[exclude]
apps = ["glob:signal*"]
titles = ["re:(?i)bank"]

[secret]
titles = ["PIN"]

[pause]
hotkey = "super+F9"
file = "/tmp/stop-recording"
"""


def test_load_toml(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(TOML)
    p = Policy.load(path)
    assert (p.keys, p.guard_ms, p.hotkey, p.pause_file) == ("full", 100, "super+F9", "/tmp/stop-recording")
    assert p.verdict(("signal-desktop", "Signal"), "x") == EXCLUDED
    assert p.verdict(("firefox", "Firefox"), "My Bank") == EXCLUDED
    assert p.verdict(("firefox", "Firefox"), "Incognito") == EXCLUDED      # defaults kept
    assert p.verdict(("x", "X"), "Enter PIN") == SECRET
    meta = p.to_json()
    assert meta["source"] == str(path) and "glob:signal*" in meta["exclude"]["apps"]
    assert "incognito" in meta["exclude"]["titles"]
    json.dumps(meta)  # stored in the shard header


def test_load_json_without_defaults(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"defaults": False, "keys": "none", "exclude": {"titles": ["x"]},
                                "pause": {"hotkey": False, "file": None}}))
    p = Policy.load(path)
    assert p.keys == "none" and p.hotkey is None and p.pause_file is None
    assert p.verdict(("a", "A"), "Incognito") == NORMAL     # defaults dropped on request
    assert p.verdict(("a", "A"), "[sudo] password") == NORMAL
    assert [q.text for q in p.exclude_titles] == ["x"]


@pytest.mark.parametrize("content, message", [
    ('keys = "everything"', "keys must be one of"),
    ('kyes = "full"', "unknown keys"),                       # a typo must not weaken the policy
    ('[exclude]\napp = ["x"]', "only 'apps' and 'titles'"),
    ('[exclude]\ntitles = ["(["]', "regular expression"),
    ('version = 2', "version"),
    ('guard_ms = -1', "guard_ms"),
    ('[pause]\nhotkey = "ctrl+nokey"', "unknown key"),
    ('keys = ', "not a valid policy file"),
])
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(PolicyError, match=message):
        Policy.load(path)


def test_pause_path(tmp_path):
    assert Policy().pause_path(str(tmp_path)) == str(tmp_path / "PAUSE")
    assert Policy(pause_file="/run/x").pause_path(str(tmp_path)) == "/run/x"
    assert Policy(pause_file=None).pause_path(str(tmp_path)) is None


# -- pause ------------------------------------------------------------------------------------
def test_pause_switch_history_and_reports():
    changes = []
    s = PauseSwitch(lambda t, p, by: changes.append((t, p, by)), t0=0)
    assert not s.paused
    s.toggle(1_000)                  # hotkey: pause
    s.set_file(True, 2_000)          # file too: still paused, nothing to report
    s.toggle(3_000)                  # hotkey off, file still there: still paused
    s.set_file(False, 4_000)         # resumed by the file
    s.set_file(True, 5_000)
    s.set_file(True, 5_500)          # no change
    s.set_file(False, 6_000)
    assert changes == [(1_000, True, "hotkey"), (4_000, False, "file"), (5_000, True, "file"),
                       (6_000, False, "file")]
    # late events are judged by when they happened
    assert [s.paused_at(t) for t in (999, 1_000, 3_500, 4_000, 5_200, 7_000)] == \
        [False, True, True, False, True, False]


def test_pause_start_paused_and_horizon():
    s = PauseSwitch(start_paused=True, t0=0, horizon_us=1_000)
    assert s.paused and s.paused_at(-5)
    for i in range(1, 100):
        s.toggle(i * 100)
    assert len(s._times) < 20                 # old history forgotten, memory flat
    assert s.paused_at(99 * 100) == s.paused


# -- the window timeline ----------------------------------------------------------------------
def _win(verdict, title="t", window=1, rect=(0, 0, 100, 100)):
    return WindowInfo(window, "App", "app", title, rect, verdict)


def test_focus_guard_is_conservative():
    tl = WindowTimeline(guard_us=200, tail_us=20)
    tl.set_focus(1_000, _win(NORMAL))
    tl.set_focus(2_000, _win(SECRET, window=2))
    tl.set_focus(3_000, _win(NORMAL, window=3))
    assert tl.focus_verdict(1_500) == NORMAL
    assert tl.focus_verdict(1_850) == SECRET        # just before the prompt was *recorded* taking the focus
    assert tl.focus_verdict(2_500) == SECRET
    assert tl.focus_verdict(3_010) == SECRET        # within the tail after it lost it
    assert tl.focus_verdict(3_050) == NORMAL        # leaving is recorded late: no long guard needed
    assert tl.focus.window == 3
    assert WindowTimeline(guard_us=250_000).tail_us == 5_000


def test_excluded_areas_over_time():
    tl = WindowTimeline(guard_us=100, tail_us=100)
    tl.set_excluded(1_000, [(10, 10, 20, 20)])
    gen = tl.generation
    tl.set_excluded(1_500, [(10, 10, 20, 20)])   # unchanged: no new generation
    assert tl.generation == gen
    tl.set_excluded(2_000, [(50, 50, 5, 5)])
    assert tl.excluded_at(15, 15, 1_500) and not tl.excluded_at(15, 15, 2_500)
    assert tl.excluded_at(15, 15, 2_050)            # within the guard of the move
    assert tl.excluded_at(52, 52, 1_950) and not tl.excluded_at(52, 52, 1_800)
    assert set(tl.excluded_rects(1_500, 2_500)) == {(10, 10, 20, 20), (50, 50, 5, 5)}
    assert tl.excluded_rects(3_000, 3_000) == [(50, 50, 5, 5)]
    tl.set_excluded(4_000, [(0, 0, 0, 5)])          # empty rectangles are ignored
    assert tl.excluded_rects(4_000, 4_000) == []


# -- the server clock -------------------------------------------------------------------------
def test_server_clock_maps_and_bounds():
    c = clock.ServerClock()
    c.calibrate(1_000, before_us=50_000_300, after_us=50_000_700)
    assert c.to_us(1_000, received_us=60_000_000) == 50_000_300
    assert c.to_us(1_250, received_us=60_000_000) == 50_250_300
    # an event can not be mapped after its arrival: the offset is lowered
    assert c.to_us(2_000, received_us=50_900_000) == 50_900_000
    assert c.corrections == 1
    assert c.to_us(1_000, received_us=60_000_000) == 49_900_000


def test_server_clock_wraps():
    c = clock.ServerClock()
    top = (1 << 32) - 10
    assert c.to_us(top, received_us=10_000_000) == 10_000_000
    assert c.to_us(5, received_us=10_015_000) == 10_015_000          # across the wrap
    assert c.to_us(top + 2, received_us=10_020_000) == 10_002_000    # a late event from before it
    assert c.to_us(20, received_us=10_100_000) == 10_030_000


def test_anchor():
    a = clock.anchor()
    assert a["source"] == "CLOCK_MONOTONIC" and abs(a["t0_us"] - clock.now_us()) < 1_000_000
