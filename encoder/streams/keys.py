"""X11 keysyms: the text a key types, and the class that stands in for it under ``timing-only``.

Pure Python (no X connection needed), so the privacy policy is testable anywhere.

Key rows under the ``full`` policy carry the X keysym in ``code`` (``0x61`` for ``a``,
``0xff0d`` for Return...). Under ``timing-only`` the keysym is replaced by one of the small
class codes below. Class codes are 1-15 and real keysyms start at ``0x20`` (0 is
``NoSymbol``), so a reader can always tell the two apart, even in a shard that holds both
(keys typed into a password window are timing-only whatever the mode).
"""
from __future__ import annotations

import unicodedata

#: Class codes written in the ``code`` column of timing-only key rows (docs/capture.md).
KEY_CLASSES: dict[int, str] = {
    1: "letter",
    2: "digit",
    3: "space",
    4: "punctuation",
    5: "modifier",
    6: "navigation",
    7: "editing",        # BackSpace, Delete, Insert, Clear
    8: "enter",
    9: "tab",
    10: "escape",
    11: "function",      # F1-F35
    12: "secret",        # any key typed into a secret (password) window: nothing but timing
    15: "other",         # media keys, Print, Menu, ...
}
CLASS_CODE = {name: code for code, name in KEY_CLASSES.items()}
MAX_CLASS_CODE = 15
assert max(KEY_CLASSES) <= MAX_CLASS_CODE < 0x20

# X11 modifier state bits (the low byte of an event's ``state``).
SHIFT, LOCK, CONTROL, MOD1, MOD2, MOD3, MOD4, MOD5 = (1 << i for i in range(8))
MODIFIER_NAMES = {"shift": SHIFT, "lock": LOCK, "ctrl": CONTROL, "control": CONTROL, "alt": MOD1,
                  "mod1": MOD1, "numlock": MOD2, "mod2": MOD2, "mod3": MOD3, "super": MOD4, "win": MOD4,
                  "meta": MOD4, "mod4": MOD4, "altgr": MOD5, "mod5": MOD5}
#: Modifiers that take part in shortcuts (Lock and NumLock are ignored when matching a hotkey).
SHORTCUT_MODIFIERS = SHIFT | CONTROL | MOD1 | MOD4 | MOD5

_KEYPAD_TEXT = {0xff80: " ", 0xff89: "\t", 0xff8d: "\n", 0xffaa: "*", 0xffab: "+", 0xffac: ",",
                0xffad: "-", 0xffae: ".", 0xffaf: "/", 0xffbd: "="}
_KEYPAD_TEXT.update({0xffb0 + d: str(d) for d in range(10)})
_CONTROL_TEXT = {0xff0d: "\n", 0xff09: "\t", 0xff0a: "\n"}

#: Keysyms of modifier keys (Shift, Control, Caps/Shift Lock, Meta, Alt, Super, Hyper, ISO level
#: shifts, Mode_switch, Num Lock, Scroll Lock): they make no text and no action by themselves.
MODIFIER_KEYSYMS = frozenset(set(range(0xffe1, 0xffef)) | set(range(0xfe01, 0xfe10)) | {0xff7e, 0xff7f, 0xff14})
_NAVIGATION = set(range(0xff50, 0xff59)) | set(range(0xff95, 0xff9e))
_EDITING = {0xff08, 0xffff, 0xff63, 0xff9e, 0xff9f, 0xff0b}
_ENTER = {0xff0d, 0xff8d, 0xff0a}
_TAB = {0xff09, 0xfe20, 0xff89}
_FUNCTION = set(range(0xffbe, 0xffe1)) | set(range(0xff91, 0xff95))

#: Keysyms named in hotkeys besides single characters.
KEYSYM_NAMES = {"space": 0x20, "return": 0xff0d, "enter": 0xff0d, "tab": 0xff09, "escape": 0xff1b,
                "esc": 0xff1b, "pause": 0xff13, "scroll_lock": 0xff14, "print": 0xff61, "insert": 0xff63,
                "delete": 0xffff, "home": 0xff50, "end": 0xff57, "backspace": 0xff08}
KEYSYM_NAMES.update({f"f{n}": 0xffbe + n - 1 for n in range(1, 36)})


def keysym_text(keysym: int) -> str | None:
    """The character a keysym types, or None (function keys, modifiers, legacy non-Latin keysyms).

    >>> keysym_text(0x61), keysym_text(0x41), keysym_text(0xff0d), keysym_text(0x10020ac)
    ('a', 'A', '\\n', '€')
    >>> keysym_text(0xffe1) is None
    True
    """
    if 0x20 <= keysym <= 0x7e or 0xa0 <= keysym <= 0xff:
        return chr(keysym)
    if 0x01000100 <= keysym <= 0x0110ffff:  # Unicode keysyms; below 0x100 they are the Latin-1 ones
        char = chr(keysym - 0x01000000)
        return None if unicodedata.category(char) in ("Cc", "Cs") else char
    return _KEYPAD_TEXT.get(keysym) or _CONTROL_TEXT.get(keysym)


def key_class(keysym: int) -> int:
    """The class code (see :data:`KEY_CLASSES`) that replaces ``keysym`` under timing-only.

    >>> [KEY_CLASSES[key_class(k)] for k in (0x61, 0x37, 0x20, 0x2c, 0xffe3, 0xff51, 0xff08)]
    ['letter', 'digit', 'space', 'punctuation', 'modifier', 'navigation', 'editing']
    """
    if keysym in MODIFIER_KEYSYMS or keysym == 0xffe5:
        return CLASS_CODE["modifier"]
    if keysym in _ENTER:
        return CLASS_CODE["enter"]
    if keysym in _TAB:
        return CLASS_CODE["tab"]
    if keysym == 0xff1b:
        return CLASS_CODE["escape"]
    if keysym in _EDITING:
        return CLASS_CODE["editing"]
    if keysym in _NAVIGATION:
        return CLASS_CODE["navigation"]
    if keysym in _FUNCTION:
        return CLASS_CODE["function"]
    if 0xfe50 <= keysym <= 0xfe8f:  # dead keys (accents) type punctuation-like marks
        return CLASS_CODE["punctuation"]
    text = keysym_text(keysym)
    if text is not None:
        if text == " ":
            return CLASS_CODE["space"]
        if text.isdigit():
            return CLASS_CODE["digit"]
        if text.isalpha():
            return CLASS_CODE["letter"]
        if text.isprintable():
            return CLASS_CODE["punctuation"]
        return CLASS_CODE["other"]
    if 0x100 <= keysym <= 0x1fff:  # legacy national keysyms (Latin-2..9, Cyrillic, Greek...): letters
        return CLASS_CODE["letter"]
    return CLASS_CODE["other"]


def parse_hotkey(text: str) -> tuple[int, int]:
    """``"ctrl+alt+shift+p"`` -> (modifier mask, keysym of the unshifted key).

    >>> parse_hotkey("ctrl+alt+shift+p") == (CONTROL | MOD1 | SHIFT, ord("p"))
    True
    >>> parse_hotkey("super+F9") == (MOD4, 0xffc6)
    True
    """
    parts = [p.strip().lower() for p in str(text).split("+")]
    if not parts or any(not p for p in parts):
        raise ValueError(f"hotkey {text!r}: expected modifiers and a key joined by '+', e.g. 'ctrl+alt+shift+p'")
    mask = 0
    for name in parts[:-1]:
        if name not in MODIFIER_NAMES:
            raise ValueError(f"hotkey {text!r}: unknown modifier {name!r}; known: {sorted(MODIFIER_NAMES)}")
        mask |= MODIFIER_NAMES[name]
    key = parts[-1]
    if len(key) == 1 and key.isprintable():
        keysym = ord(key.lower()) if ord(key) < 0x100 else 0x01000000 + ord(key)
    elif key in KEYSYM_NAMES:
        keysym = KEYSYM_NAMES[key]
    elif key.startswith("0x"):
        keysym = int(key, 16)
    else:
        raise ValueError(f"hotkey {text!r}: unknown key {key!r} (a character, F1-F35, pause, scroll_lock, "
                         "... or a keysym as 0x...)")
    return mask, keysym
