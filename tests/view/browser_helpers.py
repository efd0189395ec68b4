"""Helpers of the viewer tests (imported as ``view.browser_helpers``): a small recording with every kind of row the page draws, and
headless Chromium (the Debian package; .ci/run installs it) driven from the command line."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import encoder

T0 = 1_000_000_000
H, W, TILE = 96, 160, 16
#: Frame times (microseconds after T0): irregular, as a recorder writes them.
FRAME_US = np.array([0, 150_000, 400_000, 1_000_000, 1_100_000, 2_300_000, 2_500_000, 3_900_000, 4_000_000,
                     5_200_000, 7_500_000, 7_700_000, 8_800_000, 9_500_000], np.int64)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt chromium)")


def frame_image(k: int) -> np.ndarray:
    """Frame ``k``: BGRA tiles of seeded colours, a few of them changed from frame ``k - 1``."""
    rng = np.random.default_rng(11)
    tiles = rng.integers(0, 256, (H // TILE, W // TILE, 4), dtype=np.uint8)
    for j in range(1, k + 1):
        step = np.random.default_rng(100 + j)
        for _ in range(4):
            tiles[step.integers(0, H // TILE), step.integers(0, W // TILE)] = step.integers(0, 256, 4)
    image = np.repeat(np.repeat(tiles, TILE, 0), TILE, 1)
    image[..., 3] = 255
    image[k % H, :, :3] = 255 - image[k % H, :, :3]  # a line that moves: every frame differs
    return np.ascontiguousarray(image)


def write_view_shard(path) -> str:
    """Ten seconds: frames, a pointer path, a click, typed keys, two apps, a pause and dropped events."""
    pt = T0 + np.arange(0, 10_000_000, 50_000, dtype=np.int64)
    with encoder.ShardWriter(path, background=False) as w:
        w.write("pointer", {"t": pt, "x": (20 + np.arange(len(pt)) * 3 % 120).astype(np.int32),
                            "y": (10 + np.arange(len(pt)) % 70).astype(np.int32)})
        w.write("button", {"t": [T0 + 2_000_000, T0 + 2_080_000], "button": [1, 1], "pressed": [True, False],
                           "x": [80, 80], "y": [40, 40]})
        keys = [(3_000_000, 0x68, "h"), (3_200_000, 0x69, "i"), (3_400_000, 0xff0d, None)]
        rows = [(T0 + t + d, code, d == 0, text) for t, code, text in keys for d in (0, 60_000)]
        w.write("key", {"t": [r[0] for r in rows], "code": [r[1] for r in rows], "pressed": [r[2] for r in rows],
                        "modifiers": [0] * len(rows), "text": [r[3] for r in rows]})
        w.write("focus", {"t": [T0 + 100_000, T0 + 5_000_000], "app": ["XTerm", "Gedit"],
                          "title": ["terminal <b>&", "notes.txt"], "window": [1, 2], "x": [0, 0], "y": [0, 0],
                          "width": [W, W], "height": [H, H]})
        w.write("marker", {"t": [T0 + 6_000_000, T0 + 7_000_000, T0 + 8_000_000],
                           "kind": ["pause", "resume", "recorder.dropped"],
                           "text": ['{"by": "hotkey"}', '{"by": "hotkey"}', '{"pointer": 5}'], "value": [0, 0, 5]})
        for k, t in enumerate(FRAME_US.tolist()):
            w.add_frame(T0 + t, frame_image(k))
    return str(path)


def run_chromium(url: str, tmp_path, *, screenshot: str | None = None, size=(800, 600), budget_ms: int = 3000,
                 offline: bool = False, netlog: str | None = None) -> str:
    """Load ``url`` in headless Chromium; returns the DOM after ``budget_ms`` of virtual time
    (or writes a screenshot). ``offline`` makes every host name fail to resolve."""
    profile = tmp_path / f"chromium-profile-{len(os.listdir(tmp_path))}"
    args = [CHROMIUM, "--headless", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--force-color-profile=srgb", "--no-first-run", "--mute-audio", f"--user-data-dir={profile}",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
            "--disable-features=OptimizationHints,Translate,MediaRouter,NetworkTimeServiceQuerying,SpellCheck",
            f"--window-size={size[0]},{size[1]}", f"--virtual-time-budget={budget_ms}"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root (CI containers)
    if offline:
        args.append("--host-resolver-rules=MAP * ~NOTFOUND")
    if netlog:
        args.append(f"--log-net-log={netlog}")
    args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run(args + [url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def app_state(dom: str) -> dict:
    """The ``data-*`` attributes of the page's ``#app`` element (its state) from a DOM dump."""
    found = re.search(r'<div id="app"([^>]*)>', dom)
    assert found, dom[:500]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', found.group(1)))


def netlog_urls(path: str) -> set[str]:
    """Every URL in a Chromium NetLog file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        json.loads(text)
    except ValueError:  # a log cut short when the browser exits: the URLs are still there
        pass
    return set(re.findall(r'"url":"([^"]+)"', text))

