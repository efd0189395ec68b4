"""The privacy policy without an X server: the hotkey, patterns, verdicts, key rows, policy files, pause."""
from __future__ import annotations

import json

import pytest

from encoder.streams import keys
from encoder.streams.keys import CLASS_CODE
from encoder.capture.policy import EXCLUDED, NORMAL, SECRET, PauseSwitch, Pattern, Policy, PolicyError, worst


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
