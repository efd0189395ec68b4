"""Key names as PyAutoGUI spells them (``pyautogui.KEYBOARD_KEYS``), from X keysyms.

>>> key_name(0xff0d), key_name(0xff51), key_name(0x54), key_name(0xffc0), key_name(0xfe20)
('enter', 'left', 't', 'f3', 'tab')
>>> hotkey_prefix(0x4 | 0x1)
'ctrl+shift+'
"""
from __future__ import annotations

from ..streams.keys import CONTROL, KEY_CLASSES, MOD1, MOD4, MODIFIER_KEYSYMS, SHIFT, keysym_text

#: Modifiers of a hotkey, in the order they are written (PyAutoGUI's hotkey() order).
HOTKEY_MODIFIERS = (("ctrl", CONTROL), ("alt", MOD1), ("shift", SHIFT), ("win", MOD4))
#: Modifiers that make any key a hotkey; Shift does only with a key that types no text.
COMMAND_MODIFIERS = CONTROL | MOD1 | MOD4

NAMED = {
    0xff0d: "enter", 0xff8d: "enter", 0xff0a: "enter", 0xff09: "tab", 0xfe20: "tab", 0xff89: "tab",
    0xff1b: "esc", 0xff08: "backspace", 0xffff: "delete", 0xff9f: "delete", 0xff63: "insert",
    0xff9e: "insert", 0xff50: "home", 0xff95: "home", 0xff57: "end", 0xff9c: "end", 0xff55: "pageup",
    0xff9a: "pageup", 0xff56: "pagedown", 0xff9b: "pagedown", 0xff51: "left", 0xff96: "left",
    0xff52: "up", 0xff97: "up", 0xff53: "right", 0xff98: "right", 0xff54: "down", 0xff99: "down",
    0x20: "space", 0xff80: "space", 0xffe5: "capslock", 0xff7f: "numlock", 0xff14: "scrolllock",
    0xff61: "printscreen", 0xff13: "pause", 0xff67: "apps", 0xff6a: "help",
    0xffe1: "shift", 0xffe2: "shift", 0xffe3: "ctrl", 0xffe4: "ctrl", 0xffe9: "alt", 0xffea: "alt",
    0xfe03: "altright", 0xffe7: "win", 0xffe8: "win", 0xffeb: "win", 0xffec: "win",
    0x1008ff13: "volumeup", 0x1008ff11: "volumedown", 0x1008ff12: "volumemute", 0x1008ff14: "playpause",
    0x1008ff17: "nexttrack", 0x1008ff16: "prevtrack",
}
NAMED.update({0xffbe + n: f"f{n + 1}" for n in range(24)})
#: Timing-only rows carry a key class instead of the keysym: the names a class still allows.
CLASS_NAMES = {8: "enter", 9: "tab", 10: "esc"}


def key_name(code: int) -> str | None:
    """The PyAutoGUI name of keysym ``code`` (a lower-case letter for letters, the character
    for other printable keys), ``<class>`` for a timing-only class code, None when unknown."""
    if code in NAMED:
        return NAMED[code]
    if 0 < code < 0x20:
        return CLASS_NAMES.get(code, f"<{KEY_CLASSES.get(code, 'other')}>")
    text = keysym_text(code)
    if text is not None and text.isprintable():
        return text.lower()
    return None


def hotkey_prefix(modifiers: int) -> str:
    """``"ctrl+alt+"`` for the hotkey modifiers held in X state ``modifiers`` ('' for none)."""
    return "".join(f"{name}+" for name, bit in HOTKEY_MODIFIERS if modifiers & bit)
