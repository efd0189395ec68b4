"""The replay page: its events, the frames it embeds, and the page itself in headless Chromium
(file://, offline): it shows the right frame pixel for pixel, plays, seeks and fetches nothing."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from view.browser_helpers import needs_chromium

import encoder
from encoder.cli.demo import DEMO_SESSION_PATH
from encoder.shard.pixels import rgb
from encoder.view import build_page, embedded_frames, session_events
from encoder.view.page import config_of

Image = pytest.importorskip("PIL.Image")


def test_events_hold_every_lane(view_shard, browser):
    with encoder.ShardReader(view_shard) as reader:
        e = session_events(reader)
    assert e["t0_us"] == browser.T0 and e["duration"] == 9950.0
    assert (e["width"], e["height"]) == (browser.W, browser.H)
    assert e["frames"] == (browser.FRAME_US / 1000).tolist()
    assert len(e["pointer"]["t"]) == 200 and e["pointer"]["x"][:2] == [20, 23]
    assert e["clicks"] == [[2000.0, 80, 40, 1]]
    assert [k[1] for k in e["keys"]] == ["h", "i", "enter"]
    assert [f[1] for f in e["focus"]] == ["XTerm", "Gedit"]
    assert e["pauses"] == [[6000.0, 7000.0]]
    assert e["dropped"] == [[8000.0, 5, '{"pointer": 5}']]
    kinds = [a[2] for a in e["actions"]]
    assert "drag" in kinds and "type" in kinds and "focus" in kinds
    typed = next(a for a in e["actions"] if a[2] == "type")
    assert "'hi" in typed[3]


def test_embedded_frames_are_bounded():
    assert embedded_frames(1000, 10, [5, 5, 999, -1]) == sorted({*np.round(np.linspace(0, 999, 10)).astype(int).tolist(), 5})
    assert embedded_frames(5, 100, []) == [0, 1, 2, 3, 4] and embedded_frames(0, 3, [1]) == []
    assert embedded_frames(4, None, []) == [0, 1, 2, 3]


def test_page_is_self_contained(view_shard):
    with encoder.ShardReader(view_shard) as reader:
        page, report = build_page(reader, max_frames=4)
    assert report["frames"] == 14 and 4 <= len(report["embedded"]) < 14
    assert report["page_bytes"] == len(page.encode()) and report["image_format"] == "webp"
    config = config_of(page)
    assert config["mode"] == "embedded" and config["embedded"] == report["embedded"]
    # nothing that a browser would fetch: no external src/href/url(), a CSP that forbids it
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "url(" not in page and "@import" not in page
    assert "default-src 'none'" in page
    # text from the recording cannot close the script element it sits in
    assert "terminal <b>&" not in page and "terminal \\u003cb\\u003e\\u0026" in page
    assert page.count("</script>") == 4


def frame_rgb(reader, index):
    return rgb(reader.frame(index), reader.frame_info(index)["format"])


def screenshot(browser, tmp_path, url, size, **kw) -> np.ndarray:
    path = str(tmp_path / "shot.png")
    browser.run(url, tmp_path, screenshot=path, size=size, **kw)
    return np.asarray(Image.open(path).convert("RGB"))


@needs_chromium
@pytest.mark.parametrize("image_format", ["webp", "png"])
def test_the_page_shows_the_frame_offline_pixel_for_pixel(view_shard, browser, tmp_path, image_format):
    with encoder.ShardReader(view_shard) as reader:
        page, _ = build_page(reader, max_frames=None, image_format=image_format)
        expected = frame_rgb(reader, 8)
    html = tmp_path / "page.html"
    html.write_text(page, encoding="utf-8")
    netlog = str(tmp_path / "net.json")
    # 4.05 s: frame 8 (at 4.0 s) until frame 9 (5.2 s); the cursor overlay is off
    shot = screenshot(browser, tmp_path, f"file://{html}#t=4.05&paused&nocursor&actual", (400, 300),
                      offline=True, netlog=netlog)
    Image.fromarray(shot).save(tmp_path / "seen.png")
    assert shot.shape[:2] == (300, 400)
    assert np.array_equal(shot[:browser.H, :browser.W], expected)
    # the browser asked for nothing but the file (its own services aside, which offline mode blocks)
    urls = browser.netlog_urls(netlog)
    own = {u for u in urls if not re.match(r"https?://[^/]*(google|gvt1|gstatic)[^/]*/", u)}
    assert not {u for u in own if not u.startswith(("file:", "data:"))}, own


@needs_chromium
def test_the_cursor_overlay_is_drawn(view_shard, browser, tmp_path):
    with encoder.ShardReader(view_shard) as reader:
        page, _ = build_page(reader, max_frames=None, image_format="png")
    html = tmp_path / "page.html"
    html.write_text(page, encoding="utf-8")
    plain = screenshot(browser, tmp_path, f"file://{html}#t=4.05&paused&nocursor&actual", (400, 300))
    drawn = screenshot(browser, tmp_path, f"file://{html}#t=4.05&paused&actual", (400, 300))
    # the pointer's row at 4.05 s is row 81: (20 + 243 % 120, 10 + 81) = (23, 91); the arrow is white
    x, y = 20 + 81 * 3 % 120, 10 + 81 % 70
    assert drawn[y + 6, x + 2].tolist() == [255, 255, 255]
    assert not np.array_equal(plain[:browser.H, :browser.W], drawn[:browser.H, :browser.W])


@needs_chromium
def test_it_plays_seeks_and_marks_paused_periods(view_shard, browser, tmp_path):
    with encoder.ShardReader(view_shard) as reader:
        page, _ = build_page(reader, max_frames=3)
        embedded = config_of(page)["embedded"]
    html = tmp_path / "page.html"
    html.write_text(page, encoding="utf-8")
    state = browser.state(browser.run(f"file://{html}#t=1&play&speed=2", tmp_path, budget_ms=2000, offline=True))
    assert state["ready"] == "1" and state["speed"] == "2"
    t = float(state["t"])
    assert 2500 < t < 6000, state  # 2 s of virtual time at 2x from 1 s
    assert int(state["frame"]) == int(np.searchsorted(browser.FRAME_US / 1000, t, side="right")) - 1
    state = browser.state(browser.run(f"file://{html}#t=6.5&paused", tmp_path, budget_ms=1000, offline=True))
    assert state["playing"] == "0" and state["t"] == "6500.000" and state["paused-recording"] == "1"
    # frame 10 (7.5 s) is not embedded: the page shows the nearest earlier embedded one
    state = browser.state(browser.run(f"file://{html}#t=7.6&paused", tmp_path, budget_ms=1000, offline=True))
    assert state["frame"] == "10" and 10 not in embedded
    assert int(state["shown"]) == max(k for k in embedded if k <= 10) == int(state["loaded"])
    # it stops at the end
    state = browser.state(browser.run(f"file://{html}#t=9.5&play&speed=8", tmp_path, budget_ms=1500, offline=True))
    assert state["playing"] == "0" and state["t"] == "9950.000" and state["frame"] == "13"


@needs_chromium
def test_the_demo_recording_shows_a_frame_offline(browser, tmp_path):
    with encoder.ShardReader(DEMO_SESSION_PATH) as reader:
        page, report = build_page(reader, max_frames=2)
        index = report["embedded"][len(report["embedded"]) // 2]
        t_s = (reader.frame_times()[index] - min(r[0] for r in map(reader.time_range, reader.streams) if r)) / 1e6
        expected = frame_rgb(reader, index)
        h, w = expected.shape[:2]
    html = tmp_path / "demo.html"
    html.write_text(page, encoding="utf-8")
    shot = screenshot(browser, tmp_path, f"file://{html}#t={t_s + 0.0005:.6f}&paused&nocursor&actual",
                      (w, h + 200), offline=True, budget_ms=5000)
    Image.fromarray(shot[::4, ::4]).save(io.BytesIO(), "PNG")
    assert np.array_equal(shot[:h, :w], expected)
