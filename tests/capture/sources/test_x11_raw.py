"""The screen thread's raw requests (encoder.capture.sources.x11_raw) on a real X server: the
same answers as python-xlib's requests, errors raised in step, python-xlib usable in between."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("Xlib")
from Xlib import X, display  # noqa: E402
from Xlib.error import XError  # noqa: E402

from encoder.capture.sources._x11 import Damage, ShmScreen  # noqa: E402


@pytest.fixture
def screen(xsession):
    disp = display.Display(xsession.display)
    painter = display.Display(xsession.display)
    root = painter.screen().root
    win = root.create_window(0, 0, 400, 300, 0, painter.screen().root_depth, override_redirect=True,
                             background_pixel=painter.screen().white_pixel)
    win.map()
    painter.sync()
    geo = disp.screen().root.get_geometry()
    yield disp, painter, win, geo
    win.destroy()
    painter.close()
    disp.close()


def _paint(painter, win, pixel: int, x: int, y: int, w: int, h: int) -> None:
    gc = win.create_gc(foreground=pixel)
    win.fill_rectangle(gc, x, y, w, h)
    gc.free()
    painter.sync()


def _settle(damage, painter) -> None:
    painter.sync()
    for _ in range(3):
        damage.take()


def test_damage_take_raw_equals_python_xlib(screen, monkeypatch):
    disp, painter, win, _ = screen
    damage = Damage(disp)
    _settle(damage, painter)
    assert damage.take() == []
    _paint(painter, win, 0x123456, 10, 20, 30, 40)
    raw = damage.take()
    _paint(painter, win, 0x654321, 10, 20, 30, 40)
    monkeypatch.setattr(damage.raw, "ready", lambda: False)   # the python-xlib path
    slow = damage.take()
    assert raw == slow == [(10, 20, 30, 40)]
    monkeypatch.undo()
    assert damage.take() == []
    # many rectangles, and python-xlib requests between raw ones keep the stream in step
    for i in range(50):
        _paint(painter, win, 0x111111 * (i % 7), 4 * i, 2 * i, 2, 1)
    rects = damage.take()
    assert len(rects) == 50 and sorted(rects) == sorted((4 * i, 2 * i, 2, 1) for i in range(50))
    assert disp.screen().root.get_geometry().width > 0
    assert damage.take() == []


def test_shm_bands_raw_equal_get_image_and_errors_stay_in_step(screen):
    disp, painter, win, geo = screen
    shm = ShmScreen(disp, 0, 0, geo.width, geo.height)
    try:
        rng = np.random.default_rng(0)
        for i in range(40):
            _paint(painter, win, int(rng.integers(0, 1 << 24)), int(rng.integers(0, 380)), int(rng.integers(0, 280)),
                   int(rng.integers(1, 20)), int(rng.integers(1, 20)))
        shm.image[...] = 7
        bands = [(5, 11), (100, 3), (250, 50)]
        shm.grab_rows(bands)
        want = np.frombuffer(disp.screen().root.get_image(0, 0, geo.width, geo.height, X.ZPixmap, 0xFFFFFFFF).data,
                             np.uint8).reshape(geo.height, geo.width, 4)
        inside = np.zeros(geo.height, bool)
        for top, rows in bands:
            inside[top:top + rows] = True
            assert np.array_equal(shm.image[top:top + rows, :, :3], want[top:top + rows, :, :3])
        assert (shm.image[~inside] == 7).all()    # nothing outside the bands was written
        with pytest.raises(XError):               # a band past the screen: BadMatch, raised in step
            shm.grab_rows([(0, 1), (geo.height - 1, 2), (10, 1)])
        assert disp.screen().root.get_geometry().height == geo.height   # python-xlib still in step
        shm.grab_rows([(0, geo.height)])
        assert np.array_equal(shm.image[..., :3], want[..., :3])
    finally:
        shm.close()
