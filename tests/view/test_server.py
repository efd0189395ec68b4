"""The local server of ``encoder view --serve``: its paths, its address, and the page it serves
in headless Chromium (every frame on demand, pixel for pixel with PNG)."""
from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from view.browser_helpers import needs_chromium

import encoder
from encoder.cli.demo import DEMO_SESSION_PATH
from encoder.shard.pixels import rgb
from encoder.view import ViewServer

Image = pytest.importorskip("PIL.Image")


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_paths_and_address(view_shard):
    with encoder.ShardReader(view_shard) as reader, ViewServer(reader, image_format="png") as server:
        assert server.url.startswith("http://127.0.0.1:") and server._httpd.server_address[0] == "127.0.0.1"
        status, kind, body = get(server.url)
        assert status == 200 and kind.startswith("text/html") and b'"mode":"served"' in body
        status, kind, body = get(server.url + "events.json")
        events = json.loads(body)
        assert status == 200 and kind == "application/json" and len(events["frames"]) == 14
        status, kind, body = get(server.url + "frame/5.png")
        assert status == 200 and kind == "image/png"
        expected = rgb(reader.frame(5), reader.frame_info(5)["format"])
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(body)).convert("RGB")), expected)
        for path in ("frame/14.png", "frame/5.jpg", "frame/-1.png", "../etc/passwd", "favicon.ico"):
            assert get(server.url + path)[0] == 404, path
        assert [p for p, status, _ in server.requests if status == 200] == ["/", "/events.json", "/frame/5.png"]


def test_jpeg_is_the_default_and_lossy(view_shard):
    with encoder.ShardReader(view_shard) as reader, ViewServer(reader) as server:
        status, kind, body = get(server.url + "frame/2.jpg")
        assert status == 200 and kind == "image/jpeg"
        decoded = np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).astype(int)
        expected = rgb(reader.frame(2), reader.frame_info(2)["format"]).astype(int)
        assert np.abs(decoded - expected).mean() < 12


def test_frames_of_the_demo_are_served_fast_enough():
    with encoder.ShardReader(DEMO_SESSION_PATH) as reader, ViewServer(reader) as server:
        started = time.perf_counter()
        for index in range(100, 110):
            assert get(server.url + f"frame/{index}.jpg")[0] == 200
        per_frame = (time.perf_counter() - started) / 10
    assert per_frame < 2.0  # 1920x1080: ~0.1 s on a laptop core; generous for shared CI machines


@needs_chromium
def test_the_served_page_shows_every_frame(view_shard, browser, tmp_path):
    with encoder.ShardReader(view_shard) as reader, ViewServer(reader, image_format="png") as server:
        for index, t_s in ((10, 7.6), (3, 1.05)):
            shot_path = str(tmp_path / f"served-{index}.png")
            browser.run(f"{server.url}#t={t_s}&paused&nocursor&actual", tmp_path, screenshot=shot_path,
                        size=(400, 300), budget_ms=3000)
            shot = np.asarray(Image.open(shot_path).convert("RGB"))
            expected = rgb(reader.frame(index), reader.frame_info(index)["format"])
            assert np.array_equal(shot[:browser.H, :browser.W], expected), index
        dom = browser.run(f"{server.url}#t=2&play", tmp_path, budget_ms=2000)
        served = [p for p, status, _ in server.requests if status == 200]
    state = browser.state(dom)
    assert state["ready"] == "1" and float(state["t"]) > 2500 and state["loaded"] != "-1"
    assert "/frame/10.png" in served and "/frame/3.png" in served and "/events.json" in served
    assert all(p in ("/", "/events.json") or p.startswith("/frame/") for p in served)
