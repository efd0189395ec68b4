"""An Xvfb display driven by xdotool, and ``encoder record`` running on it (the X11 sources' tests).

They need ``apt-get install -y xvfb xdotool xterm x11-utils`` and ``pip install python-xlib mss``
(the ``capture`` extra); without them the tests that use :func:`xsession` are
skipped, with the reason.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import encoder

#: The checkout whose ``encoder`` the recording subprocesses run.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(encoder.__file__)))
XTOOLS = ("Xvfb", "xdotool", "xterm")


def _x_missing() -> str | None:
    missing = [t for t in XTOOLS if shutil.which(t) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install -y xvfb xdotool xterm)"
    for module, package in (("Xlib", "python-xlib"), ("mss", "mss")):
        try:
            __import__(module)
        except ImportError:
            return f"needs {package} (pip install 'hci-encoder[capture]')"
    return None


def _wait(predicate, timeout: float, what: str, interval: float = 0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class XSession:
    """An Xvfb display with helpers to run and drive applications on it."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.procs = []
        self.xvfb = None
        for number in range(150, 250):
            if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
                continue
            proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x720x24", "-nolisten", "tcp",
                                     "-noreset"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait(lambda: os.path.exists(f"/tmp/.X11-unix/X{number}") or proc.poll() is not None, 10,
                      "Xvfb to listen")
            except AssertionError:
                proc.kill()
                continue
            if proc.poll() is None:
                self.xvfb, self.display = proc, f":{number}"
                break
        if self.xvfb is None:
            pytest.skip("no free X display number for Xvfb")
        self.env = dict(os.environ, DISPLAY=self.display)
        #: the environment of ``encoder`` subprocesses: this display, this checkout
        self.encoder_env = dict(self.env, PYTHONPATH=ROOT)
        _wait(lambda: self.run("xdotool", "getmouselocation", check=False).returncode == 0, 10, "the X server")

    def run(self, *args, check=True):
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=30, check=check)

    def spawn(self, *args):
        proc = subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def window(self, title: str, timeout: float = 15) -> int:
        def find():
            out = self.run("xdotool", "search", "--onlyvisible", "--name", f"^{title}$", check=False).stdout.split()
            return int(out[0]) if out else None
        return _wait(find, timeout, f"window {title!r}", 0.05)

    def xterm(self, title: str, geometry: str, background: str = "white") -> int:
        # -xrm allowTitleOps false: the shell can not rename the window behind our back
        self.spawn("xterm", "-T", title, "-geometry", geometry, "-bg", background, "-fg", "black",
                   "-xrm", "XTerm*allowTitleOps: false", "-e", "sh", "-c", "cat > /dev/null")
        return self.window(title)

    def focus(self, wid: int) -> None:
        self.run("xdotool", "windowfocus", "--sync", str(wid))

    def record(self, out, *args) -> "Recording":
        """Start ``encoder record --out out *args`` on this display."""
        return Recording(self, out, *args)

    def close(self):
        for proc in self.procs + [self.xvfb]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc is not None and proc.stdout is not None and not proc.stdout.closed:
                proc.stdout.close()


class Recording:
    """``encoder record`` in a subprocess on the session's display."""

    def __init__(self, xs: XSession, out, *args):
        self.out = out
        self.stderr_path = xs.tmp / "record.stderr"
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "encoder", "record", "--out", str(out),
                                      "--stats-interval", "0.5", *args],
                                     env=xs.encoder_env, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        xs.procs.append(self.proc)  # stopped (SIGTERM) with the session if a test fails first
        # the recorder prints "recording ..." once every source runs
        line = self.proc.stdout.readline()
        assert line.startswith("recording"), (line, self.log())

    def wait_stats(self, lines: int) -> None:
        """Wait for ``lines`` more stats lines (printed every 0.5 s) than there are now."""
        have = self.log().count("events/s")
        _wait(lambda: self.log().count("events/s") >= have + lines, 10, f"{lines} more stats lines")

    def log(self) -> str:
        if not self.stderr.closed:
            self.stderr.flush()
        return self.stderr_path.read_text()

    def stop(self, sig=signal.SIGINT) -> list:
        self.proc.send_signal(sig)
        try:
            self.summary = self.proc.communicate(timeout=30)[0]   # closes the pipe too
        finally:
            self.stderr.close()
        assert self.proc.returncode == 0, self.log()
        return [encoder.ShardReader(os.path.join(self.out, f)) for f in sorted(os.listdir(self.out))
                if f.endswith(".enc")]


@pytest.fixture
def xsession(tmp_path):
    """An :class:`XSession` (skipped, with the reason, without Xvfb, xdotool, xterm, python-xlib or mss)."""
    missing = _x_missing()
    if missing is not None:
        pytest.skip(missing)
    session = XSession(tmp_path)
    try:
        yield session
    finally:
        session.close()
