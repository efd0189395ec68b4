"""XSETTINGS: the parser on handcrafted properties (both byte orders, every setting type, every
truncation, absurd lengths), the ``platform`` metadata it gives, and ``encoder record`` on Xvfb
with xsettingsd as the settings manager.

The real-X test is skipped, with the reason, without Xvfb, xdotool, xterm, python-xlib, mss
(tests/capture/sources/conftest.py) or xsettingsd (``apt-get install -y xsettingsd``).
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import time

import pytest

from encoder.actions import Rules
from encoder.capture.sources.xsettings import XSettings, parse_xsettings, platform_entry

LSB, MSB = 0, 1


def setting(order: str, kind: int, name: bytes, body: bytes, serial: int = 0) -> bytes:
    """One setting record, built by hand from the spec (not by the module under test)."""
    return struct.pack(order + "BxH", kind, len(name)) + name + b"\0" * (-len(name) % 4) + \
        struct.pack(order + "I", serial) + body


def blob(byte_order: int, records: list[bytes], serial: int = 9, count: int | None = None) -> bytes:
    order = "<" if byte_order == LSB else ">"
    return struct.pack(order + "B3xII", byte_order, serial, len(records) if count is None else count) + \
        b"".join(records)


def sample(byte_order: int) -> bytes:
    o = "<" if byte_order == LSB else ">"
    return blob(byte_order, [
        setting(o, 0, b"Net/DoubleClickTime", struct.pack(o + "i", 250), serial=3),
        setting(o, 1, b"Net/ThemeName", struct.pack(o + "I", 7) + b"Adwaita" + b"\0"),
        setting(o, 2, b"Gtk/Color", struct.pack(o + "4H", 1, 2, 0xABCD, 0xFFFF)),
        setting(o, 0, b"Net/DoubleClickDistance", struct.pack(o + "i", 8)),
        setting(o, 0, b"Xft/Negative", struct.pack(o + "i", -5)),
        setting(o, 1, b"Gtk/Empty", struct.pack(o + "I", 0)),
    ])


EXPECTED = {"Net/DoubleClickTime": 250, "Net/ThemeName": "Adwaita", "Gtk/Color": (1, 2, 0xABCD, 0xFFFF),
            "Net/DoubleClickDistance": 8, "Xft/Negative": -5, "Gtk/Empty": ""}


@pytest.mark.parametrize("byte_order", [LSB, MSB])
def test_parse_both_byte_orders(byte_order):
    parsed = parse_xsettings(sample(byte_order))
    assert parsed == {"serial": 9, "settings": EXPECTED, "problems": []}
    assert platform_entry(parsed) == {"double_click_ms": 250, "double_click_px": 8, "source": "xsettings"}


def test_parse_accepts_bytearray_and_memoryview():
    data = sample(LSB)
    assert parse_xsettings(bytearray(data))["settings"] == EXPECTED
    assert parse_xsettings(memoryview(data))["settings"] == EXPECTED


@pytest.mark.parametrize("byte_order", [LSB, MSB])
def test_every_truncation_is_clean(byte_order):
    data = sample(byte_order)
    for cut in range(len(data)):
        parsed = parse_xsettings(data[:cut])
        assert parsed["problems"], cut                     # a short property is always said
        # the settings kept are exactly the ones complete before the cut, with their values
        assert parsed["settings"] == dict(list(EXPECTED.items())[:len(parsed["settings"])]), cut
        entry = platform_entry(parsed)
        assert entry["problems"] and entry["source"] in ("xsettings", "defaults")


def test_absurd_lengths():
    o = "<"
    time_ = setting(o, 0, b"Net/DoubleClickTime", struct.pack(o + "i", 250))
    # 4 billion settings declared, one present: the one is kept, no allocation from the count
    parsed = parse_xsettings(blob(LSB, [time_], count=0xFFFFFFFF))
    assert parsed["settings"] == {"Net/DoubleClickTime": 250}
    assert parsed["problems"] == [f"setting 2 of {0xFFFFFFFF} at byte {12 + len(time_)}: truncated "
                                  f"({12 + len(time_)} bytes in all)"]
    # a name of 65,535 bytes in a 40-byte property
    parsed = parse_xsettings(blob(LSB, [struct.pack("<BxH", 0, 0xFFFF) + b"Net/DoubleClickTime" + b"\0" * 8]))
    assert parsed["settings"] == {} and "truncated" in parsed["problems"][0]
    # a string of 4 GB
    huge = setting(o, 1, b"Net/ThemeName", struct.pack(o + "I", 0xFFFFFFFF) + b"Adwaita\0")
    parsed = parse_xsettings(blob(LSB, [time_, huge]))
    assert parsed["settings"] == {"Net/DoubleClickTime": 250} and "setting 2 of 2" in parsed["problems"][0]
    assert platform_entry(parsed)["double_click_ms"] == 250


def test_bad_header_type_and_trailing_bytes():
    assert parse_xsettings(b"") == {"serial": None, "settings": {}, "problems": ["header truncated: 0 of 12 bytes"]}
    assert parse_xsettings(b"\x02" + bytes(11))["problems"] == ["unknown byte order 2 (LSBFirst 0 or MSBFirst 1)"]
    o = "<"
    good = setting(o, 0, b"Net/DoubleClickDistance", struct.pack(o + "i", 3))
    parsed = parse_xsettings(blob(LSB, [good, setting(o, 7, b"X/Y", b"")]))
    assert parsed["settings"] == {"Net/DoubleClickDistance": 3}
    assert parsed["problems"] == [f"setting 2 of 2 at byte {12 + len(good)}: unknown type 7"]
    parsed = parse_xsettings(blob(LSB, [good]) + b"junk")
    assert parsed["settings"] == {"Net/DoubleClickDistance": 3}
    assert parsed["problems"] == ["4 bytes after the 1 settings ignored"]
    # a name that is not ASCII is kept, replaced: the parse goes on
    parsed = parse_xsettings(blob(LSB, [setting(o, 0, b"Net/\xff", struct.pack(o + "i", 1)), good]))
    assert parsed["settings"] == {"Net/\ufffd": 1, "Net/DoubleClickDistance": 3} and not parsed["problems"]


def test_platform_entry_ignores_implausible_values():
    entry = platform_entry({"settings": {"Net/DoubleClickTime": 0, "Net/DoubleClickDistance": 8}, "problems": []})
    assert entry == {"double_click_px": 8, "source": "xsettings",
                     "problems": ["Net/DoubleClickTime 0 is not an integer in 1..10000: ignored"]}
    entry = platform_entry({"settings": {"Net/DoubleClickTime": 2**31 - 1, "Net/DoubleClickDistance": (1, 2, 3, 4)},
                            "problems": []})
    assert entry["source"] == "defaults" and len(entry["problems"]) == 2
    assert "double_click_ms" not in entry and "double_click_px" not in entry
    assert platform_entry({"settings": {"Net/ThemeName": "x"}, "problems": []}) == {"source": "defaults"}
    long = platform_entry({"settings": {"Net/DoubleClickTime": "9" * 100_000}, "problems": []})
    assert len(long["problems"][0]) < 100                 # a long value is not copied into the metadata
    # whatever is stored, the derived-action rules read it without complaint
    assert Rules.for_metadata({"platform": entry}) == Rules()


def test_source_describes_defaults_before_open():
    assert XSettings().describe() == {"platform": {"source": "defaults"}}


# -- a real X server with xsettingsd -----------------------------------------------------------
def _wait_for_manager(xs, manager, timeout: float = 10.0) -> None:
    """Wait until ``manager`` owns ``_XSETTINGS_S0`` on the session's display."""
    from Xlib import display
    disp = display.Display(xs.display)
    try:
        selection = disp.intern_atom("_XSETTINGS_S0")
        end = time.monotonic() + timeout
        while time.monotonic() < end and manager.poll() is None:
            if disp.get_selection_owner(selection):
                return
            time.sleep(0.05)
    finally:
        disp.close()
    raise AssertionError(f"xsettingsd did not take _XSETTINGS_S0 (exit status {manager.poll()})")


def test_record_real_x_xsettingsd(xsession, tmp_path):
    if shutil.which("xsettingsd") is None:
        pytest.skip("needs xsettingsd (apt-get install -y xsettingsd)")
    xs = xsession
    # no manager yet: the recorder stores that it found none
    rec = xs.record(tmp_path / "none", "--no-screen")
    rec.wait_stats(1)
    (r,) = rec.stop()
    assert r.metadata["platform"] == {"source": "defaults"}
    assert Rules.for_metadata(r.metadata) == Rules()
    config = tmp_path / "xsettingsd.conf"
    config.write_text('Net/DoubleClickTime 250\nNet/DoubleClickDistance 8\nNet/ThemeName "Adwaita"\n')
    manager = subprocess.Popen(["xsettingsd", "-c", str(config)], env=xs.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    xs.procs.append(manager)          # stopped with the session
    _wait_for_manager(xs, manager)
    rec = xs.record(tmp_path / "set", "--no-screen")
    rec.wait_stats(1)
    (r,) = rec.stop()
    platform = r.metadata["platform"]
    assert platform == {"double_click_ms": 250, "double_click_px": 8, "source": "xsettings"}
    assert r.metadata["recorder"]["sources"]["x11-xsettings"] == {"platform": platform}
    rules = Rules.for_metadata(r.metadata)
    assert rules.multi_click_us == 250_000 and rules.multi_click_px == 8


class _FakeWindow:
    def __init__(self, prop):
        self.id, self.prop = 0x200001, prop

    def get_full_property(self, atom, kind):
        if isinstance(self.prop, Exception):
            raise self.prop
        return self.prop


class _FakeDisplay:
    """Just the requests :func:`read_xsettings` makes."""

    def __init__(self, owner):
        self.owner = owner

    def get_default_screen(self):
        return 0

    def intern_atom(self, name):
        return hash(name) & 0xFFFF

    def get_selection_owner(self, atom):
        return self.owner


def test_read_xsettings_owner_cases():
    pytest.importorskip("Xlib", reason="needs python-xlib (pip install 'hci-encoder[capture]')")
    from types import SimpleNamespace

    from Xlib import error

    from encoder.capture.sources.xsettings import read_xsettings
    assert read_xsettings(_FakeDisplay(0)) is None                      # X.NONE: no manager
    prop = SimpleNamespace(format=8, value=sample(MSB))
    assert read_xsettings(_FakeDisplay(_FakeWindow(prop))) == {"serial": 9, "settings": EXPECTED, "problems": [],
                                                               "owner": 0x200001}
    wrong = read_xsettings(_FakeDisplay(_FakeWindow(SimpleNamespace(format=32, value=[1, 2]))))
    assert wrong["settings"] == {} and wrong["problems"] == ["_XSETTINGS_SETTINGS has format 32, not 8"]
    missing = read_xsettings(_FakeDisplay(_FakeWindow(None)))
    assert missing["problems"] == ["the manager's window 0x200001 has no _XSETTINGS_SETTINGS"]
    class Gone(error.XError):       # BadWindow: the manager exited after answering for the selection
        def __init__(self):
            Exception.__init__(self)

        def __str__(self):
            return "BadWindow"

    gone = read_xsettings(_FakeDisplay(_FakeWindow(Gone())))
    assert gone["settings"] == {} and "failed" in gone["problems"][0]
    assert platform_entry(gone)["source"] == "defaults"
