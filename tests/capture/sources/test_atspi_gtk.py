"""UI elements from a real accessibility bus: a GTK 3 window on Xvfb, driven by xdotool, recorded.

Needs, beside the X tools of conftest.py: dbus-daemon, at-spi2-core (``at-spi-bus-launcher``),
a python3 with GTK 3 introspection (``apt-get install -y at-spi2-core python3-gi gir1.2-gtk-3.0
dbus-x11``) and jeepney; skipped, with the reason, without them.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from .conftest import _wait

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHERS = ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher",
             "/usr/lib/at-spi2/at-spi-bus-launcher")
PASSWORD = "QZX97"      # no character of it is typed anywhere else


def _gtk_python():
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if python and subprocess.run([python, "-c", "import gi; gi.require_version('Gtk', '3.0'); "
                                      "from gi.repository import Gtk"], capture_output=True).returncode == 0:
            return python
    return None


@pytest.fixture
def a11y(xsession):
    """A session bus and an accessibility bus on the Xvfb display (environment set on ``xsession``)."""
    pytest.importorskip("jeepney", reason="needs jeepney (pip install 'hci-encoder[capture]')")
    launcher = next((p for p in LAUNCHERS if os.path.exists(p)), None)
    python = _gtk_python()
    if shutil.which("dbus-daemon") is None or launcher is None or python is None:
        pytest.skip("needs dbus-daemon, at-spi2-core and python3-gi with GTK 3 "
                    "(apt-get install -y at-spi2-core python3-gi gir1.2-gtk-3.0 dbus-x11)")
    groups = []

    def spawn(*args, **kw):
        proc = subprocess.Popen(args, env=xsession.env, start_new_session=True, **kw)
        groups.append(proc)
        return proc

    daemon = spawn("dbus-daemon", "--session", "--nofork", "--print-address=1", stdout=subprocess.PIPE,
                   stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    for env in (xsession.env, xsession.encoder_env):
        env.update(DBUS_SESSION_BUS_ADDRESS=address, GTK_MODULES="", NO_AT_BRIDGE="0")
        env.pop("AT_SPI_BUS_ADDRESS", None)
    spawn(launcher, "--launch-immediately", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from encoder.capture.sources.atspi_bus import find_bus_address

    def bus_up():
        try:
            return find_bus_address(xsession.env)
        except LookupError:
            return None
    _wait(bus_up, 15, "the accessibility bus")
    xsession.gtk_python, xsession.spawn_group = python, spawn
    try:
        yield xsession
    finally:
        for proc in reversed(groups):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()


class App:
    """The GTK test window; ``lines`` is what it printed (widget places, actions)."""

    def __init__(self, xs):
        self.proc = xs.spawn_group(xs.gtk_python, os.path.join(HERE, "atspi_app.py"), stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        _wait(lambda: "ready" in self.lines, 20, "the GTK window")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def centre(self, name: str):
        line = _wait(lambda: next((l for l in self.lines if l.startswith(f"at {name} ")), None), 10, name)
        x, y, w, h = map(int, line[len(f"at {name} "):].split())
        return str(x + w // 2), str(y + h // 2)

    def said(self, what: str):
        _wait(lambda: what in self.lines, 10, f"the app to say {what!r}")

    def click_button_menu_and_type_password(self, xs, password: str) -> None:
        """What a person does in the window: the button, File > Save As..., a password."""
        xs.run("xdotool", "mousemove", *self.centre("button"), "click", "1")
        self.said("clicked")
        xs.run("xdotool", "mousemove", *self.centre("File"), "click", "1")
        save_as = self.centre("Save As...")
        time.sleep(0.3)
        xs.run("xdotool", "mousemove", *save_as)
        time.sleep(0.3)
        xs.run("xdotool", "click", "1")
        self.said("save-as")
        xs.run("xdotool", "mousemove", *self.centre("password"), "click", "1")
        time.sleep(0.4)
        xs.run("xdotool", "type", "--delay", "40", password)
        time.sleep(0.4)


def test_clicks_menus_and_a_password_field_of_a_gtk_window(a11y, tmp_path, rows):
    xs = a11y
    app = App(xs)
    rec = xs.record(tmp_path / "out", "--keys", "full", "--no-screen")
    time.sleep(0.5)      # the application learns that someone listens (EventListenerRegistered)
    app.click_button_menu_and_type_password(xs, PASSWORD)
    xs.run("xdotool", "mousemove", *app.centre("notes"), "click", "1")
    time.sleep(0.4)
    xs.run("xdotool", "type", "--delay", "40", "abc")
    time.sleep(0.6)
    (reader,) = rec.stop()
    info = reader.metadata["recorder"]["sources"]["atspi-elements"]
    assert info["available"], info
    elements = rows(reader, "element")
    got = [(e["event"], e["role"], e["name"], e["path"]) for e in elements]
    app_name = "encoder-a11y-test > Encoder A11y Test"
    assert ("click", "push button", "Press Me", f"{app_name} > Press Me") in got, got
    assert ("menu", "menu", "File", f"{app_name} > File") in got, got
    assert ("menu", "menu item", "Save As...", f"{app_name} > File > Save As...") in got, got
    assert ("click", "menu item", "Save As...", f"{app_name} > File > Save As...") in got, got
    assert ("focus", "password text", "Password:", f"{app_name} > Password:") in got, got
    assert ("click", "text", "Notes:", f"{app_name} > Notes:") in got, got
    button = next(e for e in elements if e["event"] == "click" and e["role"] == "push button")
    x, y = map(int, app.centre("button"))
    assert button["x"] <= x < button["x"] + button["width"] and button["y"] <= y < button["y"] + button["height"]
    assert all(e["app"] == "encoder-a11y-test" for e in elements)
    # the password: typed, stored as key timings of class "secret", its text nowhere
    keys = rows(reader, "key")
    texts = [k["text"] for k in keys if k["text"]]
    assert texts == ["a", "b", "c"], texts
    assert sum(1 for k in keys if k["code"] == 12) >= 2 * len(PASSWORD)
    strings = [str(v) for stream in reader.streams if stream not in ("frame", "tile")
               for row in rows(reader, stream) for v in row.values() if isinstance(v, str)]
    assert not any(PASSWORD in s or PASSWORD.lower() in s for s in strings)
    assert not any(set(PASSWORD) & set(t) for t in texts)
    stats = [m for m in rows(reader, "marker") if m["kind"] == "recorder.stats"][-1]
    assert '"lookup_timeouts": 0' in stats["text"]
