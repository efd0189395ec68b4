"""The issue's combined check: one real desktop session, both context sources, one recorder.

Xvfb, a session D-Bus with at-spi2-core, the GTK 3 window of ``atspi_app.py`` and a real
bash inside an xterm whose rc file evals ``encoder shell-hook bash``, all recorded by one
``encoder record --keys full`` (screen on). xdotool clicks the labelled button, opens the File
menu and activates Save As..., types a password into the password entry, then focuses the
xterm and types commands: one failing, one after ``cd``, one long, two carrying secrets.

Checked: the command rows (redacted texts, exit codes, cwd, durations), the element rows
(the button, the menu path), that no secret and no character of the password is in any
stored string (every string column of every stream, decoded, and the bytes of the file and of
every zstd frame in it, decompressed), and what :func:`encoder.actions.derive` joins: the
button's click carries its element, the commands their cwd, exit code and duration, and the
switch into the xterm is a focus action.

Needs the tools of ``conftest.py`` (Xvfb, xdotool, xterm) and of ``test_atspi_gtk.py``
(dbus-daemon, at-spi2-core, python3-gi with GTK 3, jeepney), and bash; skipped, with the
reason, without them.
"""
from __future__ import annotations

import json
import shutil
import struct
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

import encoder
from encoder.actions import derive

from .conftest import ROOT, _wait
from .test_atspi_gtk import App, a11y  # noqa: F401 - a11y is a fixture, used by name

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

#: typed into the GTK password entry only: none of its characters is typed anywhere else or
#: appears in any name, title or command of the session (checked below, before recording)
PASSWORD = "QZJVW"
TOKEN = "ghp_" + "a1b2c3d4e5f6g7h8i9k0mnoprstuabcdefgh"
COMMANDS = [
    "false",
    "cd /tmp",
    "pwd",
    "sleep 1.2",
    f"export GITHUB_TOKEN={TOKEN}",
    "curl -s -H 'Authorization: Bearer abc.def.ghi' https://user:hunter2@127.0.0.1:9/ || true",
]
SECRETS = (TOKEN, TOKEN[4:], "abc.def.ghi", "hunter2")
TERMINAL = "encoder-ctx-term"
APP_PATH = "encoder-a11y-test > Encoder A11y Test"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class HookedBash:
    """``xterm -e bash --rcfile RC -i``, RC evaluating ``encoder shell-hook bash``; every prompt
    appends a line to ``prompts`` (an existing PROMPT_COMMAND, which the hook keeps)."""

    def __init__(self, xs, tmp_path):
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.prompts = tmp_path / "prompts"
        rc = tmp_path / "rc"
        hook = f"PYTHONPATH={ROOT} {sys.executable} -m encoder shell-hook bash"
        rc.write_text(f"cd {self.home}\nPS1='$ '\nHISTFILE={tmp_path / 'history'}\n"
                      f"PROMPT_COMMAND='echo $? >> {self.prompts}'\n"
                      f'eval "$({hook})"\n')
        # -xrm allowTitleOps false: the shell can not rename the window behind our back
        xs.spawn("xterm", "-T", TERMINAL, "-geometry", "100x20+600+420", "-xrm", "XTerm*allowTitleOps: false",
                 "-e", "bash", "--noprofile", "--rcfile", str(rc), "-i")
        self.wid = xs.window(TERMINAL)
        _wait(lambda: self.count() >= 1, 30, "the first prompt of bash in the xterm", 0.05)

    def count(self) -> int:
        return len(self.prompts.read_text().splitlines()) if self.prompts.exists() else 0

    def run(self, xs, line: str, timeout: float = 20) -> None:
        have = self.count()
        xs.run("xdotool", "type", "--delay", "30", line)
        xs.run("xdotool", "key", "Return")
        _wait(lambda: self.count() > have, timeout, f"the prompt after {line!r}", 0.05)


def _strings(reader) -> list:
    """(stream, column, value) of every string value of every stream, decoded."""
    out = []
    for stream in reader.streams:
        if stream in ("frame", "tile"):
            continue
        table = reader.read(stream)
        for name in table.column_names:
            kind = table.schema.field(name).type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                out += [(stream, name, v) for v in table.column(name).to_pylist() if v]
    return out


def _frames_by_stream(path) -> dict:
    """The decompressed bytes of every zstd frame of the shard (the chunks on their 64-byte
    boundaries, and the footer), joined per stream (``"footer"`` for the footer); checked
    against the footer's count of decompressed bytes per stream, so no chunk is missed."""
    import zstandard
    data = Path(path).read_bytes()
    footer_off = struct.unpack_from("<Q", data, len(data) - 32)[0]
    with encoder.ShardReader(path) as reader:
        blocks = reader.blocks
    expect = {}
    for b in blocks:
        expect[b.stream] = expect.get(b.stream, 0) + b.raw_bytes
    out = {}
    offsets = sorted(b.offset for b in blocks)
    owner = {b.offset: b.stream for b in blocks}
    dctx = zstandard.ZstdDecompressor()
    for at in range(0, len(data) - 4, 64):
        if data[at:at + 4] != ZSTD_MAGIC:
            continue
        if at == footer_off:
            stream = "footer"
        else:
            before = [o for o in offsets if o < at]
            if not before:
                continue
            stream = owner[before[-1]]
        try:
            raw = dctx.decompressobj().decompress(data[at:])
        except zstandard.ZstdError:
            continue   # compressed bytes that happen to start like a frame
        out[stream] = out.get(stream, b"") + raw
    data_footer = dctx.decompressobj().decompress(data[footer_off:])
    assert out.get("footer") == data_footer and json.loads(data_footer)
    for stream, size in expect.items():
        assert len(out.get(stream, b"")) == size, (stream, len(out.get(stream, b"")), size)
    return out


def test_one_desktop_session_with_commands_and_elements(a11y, tmp_path, rows):  # noqa: F811 - the fixture
    xs = a11y
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    for env in (xs.env, xs.encoder_env):   # the hook's runtime dir is the recorder's
        env["XDG_RUNTIME_DIR"] = str(runtime)
    assert not set(PASSWORD) & set("".join(COMMANDS) + APP_PATH + TERMINAL + "Press MeFileSave As...XTermxterm")
    app = App(xs)
    gtk = xs.window("Encoder A11y Test")
    bash = HookedBash(xs, tmp_path)
    rec = xs.record(tmp_path / "out", "--keys", "full")
    time.sleep(0.5)      # the application learns that someone listens (EventListenerRegistered)

    # the GTK window: the button, the menu, the password entry
    xs.focus(gtk)
    time.sleep(0.3)
    button_xy = app.centre("button")
    app.click_button_menu_and_type_password(xs, PASSWORD)

    # the xterm: commands typed into the hooked bash
    xs.run("xdotool", "mousemove", "900", "560")
    xs.focus(bash.wid)
    time.sleep(0.6)
    started = {}
    for line in COMMANDS:
        started[line] = time.monotonic()
        bash.run(xs, line)
        time.sleep(0.2)
    time.sleep(0.6)
    (reader,) = rec.stop()

    # command rows: texts (secrets redacted), exit codes, cwd, durations
    commands = rows(reader, "command")
    assert [c["text"] for c in commands] == [
        "false", "cd /tmp", "pwd", "sleep 1.2", "export GITHUB_TOKEN=***",
        "curl -s -H 'Authorization: ***' https://user:***@127.0.0.1:9/ || true"], commands
    assert all(c["kind"] == "shell" and c["terminal"].startswith("/dev/pts/") for c in commands), commands
    assert len({c["pid"] for c in commands}) == 1
    assert [c["exit_code"] for c in commands] == [1, 0, 0, 0, 0, 0]
    assert [c["cwd"] for c in commands] == [str(bash.home)] * 2 + ["/tmp"] * 4
    assert 1_200_000 <= commands[3]["duration_us"] < 5_000_000, commands[3]
    assert all(0 <= c["duration_us"] < 1_000_000 for i, c in enumerate(commands) if i != 3), commands
    sources = reader.metadata["recorder"]["sources"]
    shell_stats = json.loads([m for m in rows(reader, "marker") if m["kind"] == "recorder.stats"][-1]["text"])
    assert shell_stats["sources"]["shell"]["redacted"] >= 3, shell_stats["sources"]["shell"]

    # element rows: the button, the menu path, the password field
    assert sources["atspi-elements"]["available"], sources["atspi-elements"]
    elements = rows(reader, "element")
    got = [(e["event"], e["role"], e["name"], e["path"]) for e in elements]
    assert ("click", "push button", "Press Me", f"{APP_PATH} > Press Me") in got, got
    assert ("menu", "menu", "File", f"{APP_PATH} > File") in got, got
    assert ("menu", "menu item", "Save As...", f"{APP_PATH} > File > Save As...") in got, got
    assert ("click", "menu item", "Save As...", f"{APP_PATH} > File > Save As...") in got, got
    assert ("focus", "password text", "Password:", f"{APP_PATH} > Password:") in got, got

    # keys: the password's as timings of class "secret", the commands' with their text
    keys = rows(reader, "key")
    texts = "".join(k["text"] or "" for k in keys)
    assert sum(1 for k in keys if k["code"] == 12) >= 2 * len(PASSWORD)
    assert "false" in texts and "sleep 1.2" in texts, texts   # the xterm's keys are not secret

    # no secret and no character of the password in any stored string, decoded ...
    strings = _strings(reader)
    assert any(s == "command" for s, _, _ in strings) and any(s == "element" for s, _, _ in strings)
    for stream, column, value in strings:
        assert not any(secret in value for secret in SECRETS) or stream == "key", (stream, column, value)
        assert not set(PASSWORD) & set(value), (stream, column, value)
        assert PASSWORD.lower() not in value.lower(), (stream, column, value)
    # ... nor in the bytes of the file, nor in any of its zstd frames (tile pages, metadata,
    # descriptors, footer included); --keys full keeps the characters typed in the xterm in
    # the key stream one by one, so the terminal's secrets are looked for everywhere else
    (path,) = (tmp_path / "out").glob("*.enc")
    raw = path.read_bytes()
    frames = _frames_by_stream(path)
    assert "tile" in frames and "command" in frames and "element" in frames, sorted(frames)
    for where, data in [("file", raw)] + sorted(frames.items()):
        assert PASSWORD.encode() not in data, where
        if where != "key":
            for secret in SECRETS:
                assert secret.encode() not in data, (where, secret)

    # actions: the click on the button carries its element, the commands their context,
    # and the switch into the xterm is a focus action
    actions = derive(reader).to_pylist()
    bx, by = map(int, button_xy)
    clicks = [a for a in actions if a["kind"] == "click" and abs(a["x"] - bx) <= 2 and abs(a["y"] - by) <= 2]
    assert clicks and clicks[0]["element_name"] == "Press Me", clicks
    assert clicks[0]["element_role"] == "push button" and clicks[0]["element_path"] == f"{APP_PATH} > Press Me"
    done = [a for a in actions if a["kind"] == "command"]
    assert [a["text"] for a in done] == [c["text"] for c in commands]
    assert [(a["cwd"], a["exit_code"], a["duration_us"]) for a in done] == \
        [(c["cwd"], c["exit_code"], c["duration_us"]) for c in commands]
    focus = [a for a in actions if a["kind"] == "focus"]
    into_xterm = [a for a in focus if a["text"] == TERMINAL and a["app"] == "XTerm"]
    assert into_xterm, focus
    assert into_xterm[-1]["element_name"] is None  # xterm is not accessible: no element of another window
    stats = [m for m in rows(reader, "marker") if m["kind"] == "recorder.stats"][-1]
    assert '"lookup_timeouts": 0' in stats["text"]
