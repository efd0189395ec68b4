"""X11 keysyms without an X server: the classes of timing-only rows, typed text, hotkeys."""
from __future__ import annotations

import pytest

from encoder.streams import keys
from encoder.streams.keys import KEY_CLASSES, key_class, keysym_text, parse_hotkey


@pytest.mark.parametrize("keysym, name", [
    (ord("a"), "letter"), (ord("Z"), "letter"), (0xe9, "letter"), (0x010003b1, "letter"),  # é, α (Unicode)
    (0x6c1, "letter"),                                   # Cyrillic_a (legacy keysym)
    (ord("0"), "digit"), (ord("9"), "digit"), (0xffb5, "digit"),  # KP_5
    (0x20, "space"), (0xff80, "space"),
    (ord("!"), "punctuation"), (ord("/"), "punctuation"), (0xffab, "punctuation"), (0xfe51, "punctuation"),
    (0xffe1, "modifier"), (0xffe3, "modifier"), (0xffe9, "modifier"), (0xffeb, "modifier"), (0xfe03, "modifier"),
    (0xffe5, "modifier"),                                 # Caps_Lock
    (0xff51, "navigation"), (0xff55, "navigation"), (0xff57, "navigation"), (0xff96, "navigation"),
    (0xff08, "editing"), (0xffff, "editing"),
    (0xff0d, "enter"), (0xff8d, "enter"), (0xff09, "tab"), (0xfe20, "tab"), (0xff1b, "escape"),
    (0xffbe, "function"), (0xffc9, "function"),
    (0x1008ff13, "other"), (0xff61, "other"),            # XF86AudioRaiseVolume, Print
])
def test_key_class(keysym, name):
    assert KEY_CLASSES[key_class(keysym)] == name


def test_class_codes_never_collide_with_keysyms():
    # X keysyms of real keys start at 0x20 (0 is NoSymbol): codes 1-15 are free for classes
    assert all(1 <= code <= keys.MAX_CLASS_CODE < 0x20 for code in KEY_CLASSES)
    assert len(set(KEY_CLASSES.values())) == len(KEY_CLASSES)


def test_keysym_text():
    assert [keysym_text(k) for k in (0x61, 0x41, 0x20, 0x7e, 0xe9, 0xff0d, 0xff09, 0xffb7, 0x010020ac)] == \
        ["a", "A", " ", "~", "é", "\n", "\t", "7", "€"]
    assert keysym_text(0xffe1) is None and keysym_text(0xff08) is None and keysym_text(0xff51) is None


def test_parse_hotkey():
    assert parse_hotkey("ctrl+alt+shift+p") == (keys.CONTROL | keys.MOD1 | keys.SHIFT, ord("p"))
    assert parse_hotkey("Super+F12") == (keys.MOD4, 0xffc9)
    assert parse_hotkey("pause") == (0, 0xff13)
    for bad in ("", "ctrl+", "hyper+p", "ctrl+notakey"):
        with pytest.raises(ValueError):
            parse_hotkey(bad)
