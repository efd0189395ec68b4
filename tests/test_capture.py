"""Capture: the Recorder with scripted sources (always run), then ``encoder record`` against a
real X server (Xvfb) driven by xdotool (skipped, with the reason, when those are missing).

The X tests need: ``apt-get install -y xvfb xdotool xterm x11-utils`` and
``pip install python-xlib mss`` (the ``encoder[capture]`` extra).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import encoder
from encoder.capture import (BUTTON, KEY, POINTER, SCROLL, EXCLUDED, NORMAL, SECRET, Policy, Recorder,
                             WindowInfo, now_us)
from encoder.capture.keys import CLASS_CODE, CONTROL, MOD1, SHIFT
from encoder.capture.sources.fake import FakeInput, FakeScreen, FakeWindows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# == the recorder with scripted sources ==========================================================
def _record(tmp_path, script, policy=None, **options):
    """Run ``script(inp, win, scr, rec)`` inside a recorder; returns (recorder, readers)."""
    inp, win, scr = FakeInput(), FakeWindows(), FakeScreen()
    options.setdefault("stats_seconds", 3600)
    rec = Recorder(tmp_path / "out", sources=[win, inp, scr], policy=policy or Policy(keys="full"), **options)
    rec.start()
    try:
        script(inp, win, scr, rec)
    finally:
        rec.stop()
    return rec, [encoder.ShardReader(p) for p in rec.shards]


def _rows(reader, stream):
    return reader.read(stream).to_pylist() if stream in reader.streams else []


def _markers(reader, kind=None):
    return [m for m in _rows(reader, "marker") if kind is None or m["kind"] == kind]


def _typing(t0, text="hi", step=10_000):
    events = []
    for i, ch in enumerate(text):
        t = t0 + i * step
        events += [(KEY, t, ord(ch), True, 0, ch), (KEY, t + step // 2, ord(ch), False, 0, None)]
    return events


def test_input_before_the_first_frame_is_kept(tmp_path):
    t0 = now_us()

    def script(inp, win, scr, rec):
        inp.emit([(POINTER, t0 - 5_000, 3, 4), (BUTTON, t0 - 4_000, 1, True, 3, 4),
                  (SCROLL, t0 - 3_000, 0, 1, 3, 4)] + _typing(t0 - 2_000, "ok"))
        image = np.full((48, 64, 4), 200, np.uint8)
        assert scr.frame(t0, image)
        inp.emit([(POINTER, t0 + 1_000, 9, 9)])

    rec, (r,) = _record(tmp_path, script)
    assert [(p["t"] - t0, p["x"]) for p in _rows(r, "pointer")] == [(-5_000, 3), (1_000, 9)]
    assert _rows(r, "button") == [{"t": t0 - 4_000, "button": 1, "pressed": True, "x": 3, "y": 4}]
    assert _rows(r, "scroll")[0]["dy"] == 1
    assert [k["text"] for k in _rows(r, "key")] == ["o", None, "k", None]
    assert r.frame_count() == 1 and r.frame_times()[0] == t0
    meta = r.metadata
    assert meta["privacy"]["keys"] == "full" and meta["clock"]["source"] == "CLOCK_MONOTONIC"
    assert meta["screens"][0]["width"] == 64
    final = json.loads(_markers(r, "recorder.stats")[-1]["text"])
    assert final["final"] and final["dropped_total"] == 0 and final["stored"]["key"] == 4


def test_timing_only_keeps_timings_not_text(tmp_path):
    t0 = now_us()
    typed = _typing(t0, "a1 ,")

    def script(inp, win, scr, rec):
        inp.emit(typed + [(KEY, t0 + 90_000, 0xffe1, True, 0, None), (KEY, t0 + 95_000, ord("A"), True, SHIFT, "A")])

    rec, (r,) = _record(tmp_path, script, Policy(keys="timing-only"))
    keys = _rows(r, "key")
    assert [k["t"] for k in keys[:8]] == [e[1] for e in typed]
    assert all(k["text"] is None for k in keys)
    names = ["letter", "letter", "digit", "digit", "space", "space", "punctuation", "punctuation",
             "modifier", "letter"]
    assert [k["code"] for k in keys] == [CLASS_CODE[n] for n in names]
    assert keys[-1]["modifiers"] == SHIFT
    assert r.metadata["privacy"]["keys"] == "timing-only"


def test_keys_none_counts_them(tmp_path):
    t0 = now_us()
    rec, (r,) = _record(tmp_path, lambda inp, *_: inp.emit(_typing(t0, "abc") + [(POINTER, t0, 1, 1)]),
                        Policy(keys="none"))
    assert "key" not in r.streams and len(_rows(r, "pointer")) == 1
    final = json.loads(_markers(r, "recorder.stats")[-1]["text"])
    assert final["keys_not_stored"] == 6 and final["received"]["key"] == 6


def test_secret_and_excluded_windows(tmp_path):
    t0 = now_us()
    normal = WindowInfo(1, "XTerm", "xterm", "bob@box: ~", (0, 0, 32, 48), NORMAL)
    secret = WindowInfo(2, "XTerm", "xterm", "[sudo] password for bob", (0, 0, 32, 48), SECRET)
    private = WindowInfo(3, "Chromium", "chromium", "Bank - Incognito", (32, 0, 32, 48), EXCLUDED)
    frame = np.full((48, 64, 4), 255, np.uint8)

    def script(inp, win, scr, rec):
        win.focus(t0, normal)
        inp.emit(_typing(t0 + 10_000, "ls"))                  # normal: full text
        win.focus(t0 + 1_000_000, secret)
        inp.emit(_typing(t0 + 900_000, "hunter2"))            # starts 100 ms before the prompt had focus
        win.focus(t0 + 3_000_000, private)
        win.excluded(t0 + 3_000_000, [private.rect])
        inp.emit(_typing(t0 + 3_500_000, "card"))             # excluded: dropped
        inp.emit([(POINTER, t0 + 3_600_000, 40, 10), (POINTER, t0 + 3_600_500, 10, 10),
                  (BUTTON, t0 + 3_700_000, 1, True, 40, 10)])
        assert scr.frame(t0 + 3_800_000, frame.copy())

    rec, (r,) = _record(tmp_path, script)
    keys = _rows(r, "key")
    assert [k["text"] for k in keys[:4]] == ["l", None, "s", None]
    secret_rows = keys[4:]
    assert len(secret_rows) == 14 and all(k["code"] == CLASS_CODE["secret"] and k["text"] is None
                                          and k["modifiers"] == 0 for k in secret_rows)
    assert not any(k["text"] for k in keys if k["t"] >= t0 + 3_000_000)
    assert [(p["x"], p["y"]) for p in _rows(r, "pointer")] == [(10, 10)]
    assert "button" not in r.streams
    focus = _rows(r, "focus")
    assert [f["app"] for f in focus] == ["XTerm", "XTerm", "(excluded)"]
    assert focus[2]["title"] is None and focus[1]["title"] == "[sudo] password for bob"
    image = r.frame(0)
    assert image[:, 32:].max() == 0 and image[:, :32].min() == 255
    final = json.loads(_markers(r, "recorder.stats")[-1]["text"])
    assert final["excluded"] == {"pointer": 1, "button": 1, "scroll": 0, "key": 8}
    assert final["secret_keys"] == 14


def test_pause_hotkey_and_file(tmp_path):
    t0 = now_us() - 1_000_000  # the scripted hotkey presses lie in the past

    def script(inp, win, scr, rec):
        inp.emit([(POINTER, t0, 1, 1)])
        inp.hotkey(t0 + 1_000)                                # pause
        inp.emit([(POINTER, t0 + 2_000, 2, 2)] + _typing(t0 + 3_000, "secret"))
        inp.hotkey(t0 + 100_000)                              # resume
        inp.emit([(POINTER, t0 + 101_000, 3, 3)])
        open(rec.pause_path, "w").close()                     # pause by control file
        assert rec.poll_pause_file()
        assert not scr.frame(now_us(), np.zeros((48, 64, 4), np.uint8))
        inp.emit([(POINTER, now_us(), 4, 4)])
        os.remove(rec.pause_path)
        assert not rec.poll_pause_file()
        inp.emit([(POINTER, now_us() + 1, 5, 5)])

    rec, (r,) = _record(tmp_path, script)
    assert [p["x"] for p in _rows(r, "pointer")] == [1, 3, 5]
    assert "key" not in r.streams
    marks = [(m["kind"], json.loads(m["text"])["by"]) for m in _rows(r, "marker") if m["kind"] in ("pause", "resume")]
    assert marks == [("pause", "hotkey"), ("resume", "hotkey"), ("pause", "file"), ("resume", "file")]
    final = json.loads(_markers(r, "recorder.stats")[-1]["text"])
    assert final["paused"]["key"] == 12 and final["paused"]["pointer"] == 2 and final["frames_paused"] == 1


def test_full_queue_is_counted_and_reported(tmp_path):
    t0 = now_us()

    def script(inp, win, scr, rec):
        win.hold.clear()          # the recorder thread waits in its barrier: the queue fills
        accepted = inp.emit([(POINTER, t0 + i, i, i) for i in range(150)])
        assert accepted == 100
        win.hold.set()

    rec, (r,) = _record(tmp_path, script, queue_events=100)
    assert len(_rows(r, "pointer")) == 100
    dropped = _markers(r, "recorder.dropped")
    assert sum(m["value"] for m in dropped) == 50
    assert json.loads(dropped[0]["text"])["dropped"]["pointer"] == 50
    assert json.loads(_markers(r, "recorder.stats")[-1]["text"])["dropped_total"] == 50


def test_rotation_by_age(tmp_path):
    rng = np.random.default_rng(0)
    work = WindowInfo(5, "XTerm", "xterm", "work", (0, 0, 64, 48), NORMAL)
    sent = []

    def script(inp, win, scr, rec):
        win.focus(now_us(), work)
        end = time.monotonic() + 20
        while len(rec.shards) < 3 and time.monotonic() < end:  # housekeeping rotates every 0.5 s
            t = now_us()
            assert scr.frame(t, rng.integers(0, 255, (48, 64, 4), np.uint8))
            inp.emit([(POINTER, t, len(sent), 0)])
            sent.append(t)
            time.sleep(0.02)
        assert len(rec.shards) >= 3

    rec, readers = _record(tmp_path, script, rotate_seconds=0.3, flush_seconds=0.05)
    assert sum(r.frame_count() for r in readers) == len(sent)
    assert sorted(p["t"] for r in readers for p in _rows(r, "pointer")) == sent
    for r in readers[1:]:  # every shard opens with the focus in force, and one clock anchor
        assert _rows(r, "focus")[0]["title"] == "work"
        assert r.metadata["clock"] == readers[0].metadata["clock"]
    assert [r.metadata["recorder"]["part"] for r in readers] == list(range(len(readers)))
    for r in readers:  # each ends with its stats
        assert _markers(r, "recorder.stats")


# == a real X server =============================================================================
XTOOLS = ("Xvfb", "xdotool", "xterm")


def _x_missing() -> str | None:
    missing = [t for t in XTOOLS if shutil.which(t) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install -y xvfb xdotool xterm)"
    for module, package in (("Xlib", "python-xlib"), ("mss", "mss")):
        try:
            __import__(module)
        except ImportError:
            return f"needs {package} (pip install 'encoder[capture]')"
    return None


needs_x = pytest.mark.skipif(_x_missing() is not None, reason=_x_missing() or "")


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


@pytest.fixture
def xsession(tmp_path):
    session = XSession(tmp_path)
    try:
        yield session
    finally:
        session.close()


class Recording:
    """``encoder record`` in a subprocess on the session's display."""

    def __init__(self, xs: XSession, out, *args):
        self.out = out
        self.stderr_path = xs.tmp / "record.stderr"
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "encoder", "record", "--out", str(out),
                                      "--stats-interval", "0.5", *args],
                                     env=dict(xs.env, PYTHONPATH=ROOT), stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True)
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


@needs_x
def test_record_real_x_full(xsession, tmp_path):
    xs = xsession
    left = xs.xterm("left", "60x20+0+0")
    right = xs.xterm("right", "60x20+700+0")
    prompt = xs.xterm("sudo password for bob", "40x5+0+450")
    xs.focus(left)
    out = tmp_path / "full"
    rec = Recording(xs, out, "--keys", "full", "--fps", "10")
    path = [(100, 100), (300, 150), (500, 400), (900, 200)]
    for x, y in path:
        xs.run("xdotool", "mousemove", "--sync", str(x), str(y))
    xs.run("xdotool", "click", "1")
    xs.run("xdotool", "click", "5")
    xs.focus(left)
    xs.run("xdotool", "type", "--delay", "5", "hello world")
    # keys typed up to guard_ms before focus is recorded entering a password prompt count as
    # typed into it: leave a clear gap, as a person moving to another window does
    time.sleep(3 * Policy().guard_ms / 1000)
    xs.focus(prompt)
    xs.run("xdotool", "type", "--delay", "5", "hunter2")
    xs.focus(right)
    time.sleep(0.05)                       # leaving is recorded late (safe): a short tail only
    xs.run("xdotool", "type", "--delay", "5", "Xy")
    rec.wait_stats(2)  # frames keep coming after the last key: the screen has settled in them
    readers = rec.stop(signal.SIGTERM)
    import mss  # the screen as the server holds it now, grabbed independently
    with getattr(mss, "MSS", None)(display=xs.display) if hasattr(mss, "MSS") else mss.mss(display=xs.display) as sct:
        shot = sct.grab(sct.monitors[1])
    screen_now = np.frombuffer(shot.raw, np.uint8).reshape(720, 1280, 4)
    assert len(readers) == 1
    r = readers[0]
    pointer = [(p["x"], p["y"]) for p in _rows(r, "pointer")]
    for point in path:
        assert point in pointer, (point, pointer[:20])
    buttons = _rows(r, "button")
    assert [(b["button"], b["pressed"], b["x"], b["y"]) for b in buttons] == [(1, True, 900, 200), (1, False, 900, 200)]
    assert [(s["dx"], s["dy"]) for s in _rows(r, "scroll")] == [(0, 1)]
    keys = _rows(r, "key")
    assert "".join(k["text"] or "" for k in keys if k["pressed"]) == "hello worldXy"
    assert keys[0]["code"] == ord("h")
    secret = [k for k in keys if k["code"] == CLASS_CODE["secret"]]   # typed into the password prompt
    assert len(secret) == 2 * len("hunter2") and not any(k["modifiers"] for k in secret)
    capital = next(k for k in keys if k["text"] == "X")
    assert capital["modifiers"] & SHIFT
    # one clock: input and frames interleave, stamps within the recording
    t_frames = r.frame_times()
    assert len(t_frames) >= 2
    t_keys = np.array([k["t"] for k in keys])
    assert t_frames[0] < t_keys.max() and np.all(np.diff(t_keys) >= 0)
    focus = _rows(r, "focus")
    titles = [f["title"] for f in focus]
    assert "left" in titles and titles[-1] == "right"
    assert focus[-1]["window"] == right and focus[-1]["app"] == "XTerm"
    assert "sudo password for bob" in titles
    image = r.frame(r.frame_count() - 1)
    assert image.shape == (720, 1280, 4) and image.max() == 255       # xterms are white
    assert np.array_equal(image, screen_now)          # lossless: the screen as the server holds it
    stats = _markers(r, "recorder.stats")
    assert stats and json.loads(stats[-1]["text"])["dropped_total"] == 0
    assert r.metadata["privacy"]["keys"] == "full"


@needs_x
def test_record_real_x_timing_only_and_exclusion(xsession, tmp_path):
    xs = xsession
    work = xs.xterm("work", "60x20+0+0")
    xs.xterm("Bank - Incognito", "40x10+800+300", background="white")
    xs.focus(work)
    out = tmp_path / "timing"
    rec = Recording(xs, out, "--fps", "10")  # the default policy: timing-only, incognito excluded
    xs.run("xdotool", "type", "--delay", "5", "secret words")
    xs.run("xdotool", "mousemove", "--sync", "850", "350")   # inside the excluded window
    xs.run("xdotool", "mousemove", "--sync", "100", "100")
    rec.wait_stats(1)
    (r,) = rec.stop()
    keys = _rows(r, "key")
    presses = [k for k in keys if k["pressed"]]
    assert len(presses) == len("secret words") and all(k["text"] is None for k in keys)
    assert [k["code"] for k in presses[6:8]] == [CLASS_CODE["space"], CLASS_CODE["letter"]]
    times = np.array([k["t"] for k in presses])
    assert np.all(np.diff(times) > 0)
    assert r.metadata["privacy"]["keys"] == "timing-only"
    pointer = [(p["x"], p["y"]) for p in _rows(r, "pointer")]
    assert (100, 100) in pointer and (850, 350) not in pointer
    # the excluded window is black in every frame, the rest is not
    geometry = xs.run("xdotool", "search", "--name", "Incognito", "getwindowgeometry").stdout
    pos = [int(v) for v in geometry.split("Position: ")[1].split()[0].split(",")]
    size = [int(v) for v in geometry.split("Geometry: ")[1].split()[0].split("x")]
    frames = r.frames(range(r.frame_count()))
    x, y = pos
    region = frames[:, y:y + size[1], x:x + size[0]]
    assert region.size and region.max() == 0
    assert frames[:, 50:150, 50:150].max() == 255
    assert all(f["title"] != "Bank - Incognito" for f in _rows(r, "focus"))


@needs_x
def test_record_pause_hotkey(xsession, tmp_path):
    xs = xsession
    xs.focus(xs.xterm("work", "60x20+0+0"))
    rec = Recording(xs, tmp_path / "hotkey", "--keys", "full")
    xs.run("xdotool", "type", "--delay", "5", "aa")
    xs.run("xdotool", "key", "ctrl+alt+shift+p")      # pause
    xs.run("xdotool", "type", "--delay", "5", "bb")
    xs.run("xdotool", "key", "ctrl+alt+shift+p")      # resume
    xs.run("xdotool", "type", "--delay", "5", "cc")
    (r,) = rec.stop()
    keys = _rows(r, "key")
    assert "".join(k["text"] or "" for k in keys if k["pressed"]) == "aacc"
    assert ord("p") not in [k["code"] for k in keys] and ord("P") not in [k["code"] for k in keys]
    marks = [(m["kind"], json.loads(m["text"])["by"]) for m in _rows(r, "marker") if m["kind"] in ("pause", "resume")]
    assert marks == [("pause", "hotkey"), ("resume", "hotkey")]
    final = json.loads(_markers(r, "recorder.stats")[-1]["text"])
    assert final["paused"]["key"] >= 4 and final["sources"]["x11-input"]["hotkeys"] == 2


@needs_x
def test_record_pause_file_and_duration(xsession, tmp_path):
    xs = xsession
    work = xs.xterm("work", "60x20+0+0")
    xs.focus(work)
    out = tmp_path / "pause"
    os.makedirs(out)
    (out / "PAUSE").touch()
    proc = subprocess.run([sys.executable, "-m", "encoder", "record", "--out", str(out), "--duration", "1.5",
                           "--keys", "full"], env=dict(xs.env, PYTHONPATH=ROOT), capture_output=True, text=True,
                          timeout=60, input="")
    assert proc.returncode == 0, proc.stderr
    (r,) = [encoder.ShardReader(out / f) for f in os.listdir(out) if f.endswith(".enc")]
    assert r.frame_count() == 0
    assert [m["kind"] for m in _rows(r, "marker") if m["kind"] in ("pause", "resume")] == ["pause"]
