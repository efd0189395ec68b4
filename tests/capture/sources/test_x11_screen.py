"""X11Screen against a real X server: ``encoder record`` on Xvfb (an excluded window black in
every frame, no frame while the pause file exists, a prompt stop when the X server goes away).

Skipped, with the reason, without Xvfb, xdotool, xterm, python-xlib or mss (tests/capture/sources/conftest.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

import encoder
from encoder.streams.keys import CLASS_CODE


def test_record_real_x_timing_only_and_exclusion(xsession, tmp_path, rows):
    xs = xsession
    work = xs.xterm("work", "60x20+0+0")
    xs.xterm("Bank - Incognito", "40x10+800+300", background="white")
    xs.focus(work)
    out = tmp_path / "timing"
    rec = xs.record(out, "--fps", "10")  # the default policy: timing-only, incognito excluded
    xs.run("xdotool", "type", "--delay", "5", "secret words")
    xs.run("xdotool", "mousemove", "--sync", "850", "350")   # inside the excluded window
    xs.run("xdotool", "mousemove", "--sync", "100", "100")
    rec.wait_stats(1)
    (r,) = rec.stop()
    keys = rows(r, "key")
    presses = [k for k in keys if k["pressed"]]
    assert len(presses) == len("secret words") and all(k["text"] is None for k in keys)
    assert [k["code"] for k in presses[6:8]] == [CLASS_CODE["space"], CLASS_CODE["letter"]]
    times = np.array([k["t"] for k in presses])
    assert np.all(np.diff(times) > 0)
    assert r.metadata["privacy"]["keys"] == "timing-only"
    pointer = [(p["x"], p["y"]) for p in rows(r, "pointer")]
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
    assert all(f["title"] != "Bank - Incognito" for f in rows(r, "focus"))
    # the first stats line (0.5 s in, long before the first 30-s flush) shows a byte rate
    first = next(line for line in rec.log().splitlines() if "MB/min" in line)
    assert float(first.split("MB/min")[0].split()[-1]) > 0, first


def test_record_pause_file_and_duration(xsession, tmp_path, rows):
    xs = xsession
    work = xs.xterm("work", "60x20+0+0")
    xs.focus(work)
    out = tmp_path / "pause"
    os.makedirs(out)
    (out / "PAUSE").touch()
    proc = subprocess.run([sys.executable, "-m", "encoder", "record", "--out", str(out), "--duration", "1.5",
                           "--keys", "full"], env=xs.encoder_env, capture_output=True, text=True,
                          timeout=60, input="")
    assert proc.returncode == 0, proc.stderr
    (r,) = [encoder.ShardReader(out / f) for f in os.listdir(out) if f.endswith(".enc")]
    assert r.frame_count() == 0
    assert [m["kind"] for m in rows(r, "marker") if m["kind"] in ("pause", "resume")] == ["pause"]
    # the recording process refused pandas (33 MB) and pyarrow wrote every stream without it
    assert r.metadata["process"]["allocators"]["pandas"] == "not imported"


def test_record_stops_at_once_when_the_x_server_goes_away(xsession, tmp_path, rows):
    xs = xsession
    xs.focus(xs.xterm("work", "60x20+0+0"))
    rec = xs.record(tmp_path / "gone", "--keys", "full")
    rec.wait_stats(2)
    xs.xvfb.kill()                     # every source's connection closes under it
    gone = time.monotonic()
    rec.summary = rec.proc.communicate(timeout=30)[0]
    rec.stderr.close()
    # told by the failing source, not by a poll (the main thread sleeps up to 60 s between looks)
    assert time.monotonic() - gone < 10
    assert rec.proc.returncode == 2 and "failed" in rec.log(), rec.log()
    (r,) = [encoder.ShardReader(rec.out / f) for f in os.listdir(rec.out) if f.endswith(".enc")]
    assert r.frame_count() >= 1 and rows(r, "marker")   # what was captured is written and readable
