"""X11Input against a real X server: ``encoder record`` on Xvfb, driven by xdotool (pointer path,
buttons, wheel, typed text and modifiers, keys into a password prompt, the pause hotkey).

Skipped, with the reason, without Xvfb, xdotool, xterm, python-xlib or mss (tests/capture/sources/conftest.py).
"""
from __future__ import annotations

import json
import signal
import time

import numpy as np

from encoder.capture import Policy
from encoder.streams.keys import CLASS_CODE, SHIFT


def test_record_real_x_full(xsession, tmp_path, rows, markers):
    xs = xsession
    left = xs.xterm("left", "60x20+0+0")
    right = xs.xterm("right", "60x20+700+0")
    prompt = xs.xterm("sudo password for bob", "40x5+0+450")
    xs.focus(left)
    out = tmp_path / "full"
    rec = xs.record(out, "--keys", "full", "--fps", "10")
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
    pointer = [(p["x"], p["y"]) for p in rows(r, "pointer")]
    for point in path:
        assert point in pointer, (point, pointer[:20])
    buttons = rows(r, "button")
    assert [(b["button"], b["pressed"], b["x"], b["y"]) for b in buttons] == [(1, True, 900, 200), (1, False, 900, 200)]
    assert [(s["dx"], s["dy"]) for s in rows(r, "scroll")] == [(0, 1)]
    keys = rows(r, "key")
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
    focus = rows(r, "focus")
    titles = [f["title"] for f in focus]
    assert "left" in titles and titles[-1] == "right"
    assert focus[-1]["window"] == right and focus[-1]["app"] == "XTerm"
    assert "sudo password for bob" in titles
    image = r.frame(r.frame_count() - 1)
    assert image.shape == (720, 1280, 4) and image.max() == 255       # xterms are white
    assert np.array_equal(image, screen_now)          # lossless: the screen as the server holds it
    stats = markers(r, "recorder.stats")
    assert stats and json.loads(stats[-1]["text"])["dropped_total"] == 0
    assert r.metadata["privacy"]["keys"] == "full"


def test_record_pause_hotkey(xsession, tmp_path, rows, markers):
    xs = xsession
    xs.focus(xs.xterm("work", "60x20+0+0"))
    rec = xs.record(tmp_path / "hotkey", "--keys", "full")
    xs.run("xdotool", "type", "--delay", "5", "aa")
    xs.run("xdotool", "key", "ctrl+alt+shift+p")      # pause
    xs.run("xdotool", "type", "--delay", "5", "bb")
    xs.run("xdotool", "key", "ctrl+alt+shift+p")      # resume
    xs.run("xdotool", "type", "--delay", "5", "cc")
    (r,) = rec.stop()
    keys = rows(r, "key")
    assert "".join(k["text"] or "" for k in keys if k["pressed"]) == "aacc"
    assert ord("p") not in [k["code"] for k in keys] and ord("P") not in [k["code"] for k in keys]
    marks = [(m["kind"], json.loads(m["text"])["by"]) for m in rows(r, "marker") if m["kind"] in ("pause", "resume")]
    assert marks == [("pause", "hotkey"), ("resume", "hotkey")]
    final = json.loads(markers(r, "recorder.stats")[-1]["text"])
    assert final["paused"]["key"] >= 4 and final["sources"]["x11-input"]["hotkeys"] == 2
