"""pynput key names -> X keysyms, and the X modifier state a recording implies.

Recorders built on pynput (DuckTrack, AgentNet) log a key as a name: a ``Key`` member
(``"shift"``, ``"enter"``, ``"cmd"``), a character (``"a"``, ``"A"``, ``"!"``), and, in
AgentNet, also ``str(key)`` as ``pynput_key`` (``"Key.ctrl_l"``, ``"'a'"``, ``"<84>"`` for a
Windows virtual-key code with no character). Our ``key`` stream holds X keysyms, so this
module maps each of these to the keysym an X server would have reported for the same key
and modifier state, and :class:`ModifierState` replays presses and releases to give every
event the X state byte *before* it and the text a press types (docs/importers.md).
"""
from __future__ import annotations

import ast

from ..streams.keys import CONTROL, LOCK, MOD1, MOD2, MOD4, MOD5, SHIFT, keysym_text

#: pynput ``Key`` member names -> X keysyms. macOS ``cmd`` is Super (Mod4), as a Mac
#: keyboard's Command key is on X; ``alt_gr`` is ISO_Level3_Shift (Mod5).
KEY_KEYSYMS: dict[str, int] = {
    "alt": 0xffe9, "alt_l": 0xffe9, "alt_r": 0xffea, "alt_gr": 0xfe03,
    "backspace": 0xff08, "caps_lock": 0xffe5,
    "cmd": 0xffeb, "cmd_l": 0xffeb, "cmd_r": 0xffec,
    "ctrl": 0xffe3, "ctrl_l": 0xffe3, "ctrl_r": 0xffe4,
    "delete": 0xffff, "down": 0xff54, "end": 0xff57, "enter": 0xff0d, "esc": 0xff1b,
    "home": 0xff50, "left": 0xff51, "page_down": 0xff56, "page_up": 0xff55, "right": 0xff53,
    "shift": 0xffe1, "shift_l": 0xffe1, "shift_r": 0xffe2, "space": 0x20, "tab": 0xff09, "up": 0xff52,
    "insert": 0xff63, "menu": 0xff67, "num_lock": 0xff7f, "pause": 0xff13, "print_screen": 0xff61,
    "scroll_lock": 0xff14,
    # XF86 media keysyms
    "media_play_pause": 0x1008ff14, "media_volume_mute": 0x1008ff12, "media_volume_down": 0x1008ff11,
    "media_volume_up": 0x1008ff13, "media_previous": 0x1008ff16, "media_next": 0x1008ff17,
}
KEY_KEYSYMS.update({f"f{n}": 0xffbe + n - 1 for n in range(1, 36)})
#: AgentNet writes a few keys by their Windows names when pynput gave no ``Key`` member
#: (its ``VK_CODE`` table): normalised (lower case, ``_`` for spaces) they are mostly pynput's.
KEY_ALIASES = {"escape": "esc", "return": "enter", "control": "ctrl", "win": "cmd", "super": "cmd"}

#: Windows virtual-key codes (pynput ``<vk>`` keys, which carry no character) -> keysyms.
#: Letters and digits are handled apart (their case follows Shift and Caps Lock); the OEM
#: punctuation codes assume a US layout, the only one the code alone can name.
VK_KEYSYMS: dict[int, int] = {
    8: 0xff08, 9: 0xff09, 12: 0xff0b, 13: 0xff0d, 16: 0xffe1, 17: 0xffe3, 18: 0xffe9, 19: 0xff13,
    20: 0xffe5, 27: 0xff1b, 32: 0x20, 33: 0xff55, 34: 0xff56, 35: 0xff57, 36: 0xff50, 37: 0xff51,
    38: 0xff52, 39: 0xff53, 40: 0xff54, 44: 0xff61, 45: 0xff63, 46: 0xffff, 91: 0xffeb, 92: 0xffec,
    93: 0xff67, 106: 0xffaa, 107: 0xffab, 109: 0xffad, 110: 0xffae, 111: 0xffaf, 144: 0xff7f, 145: 0xff14,
    160: 0xffe1, 161: 0xffe2, 162: 0xffe3, 163: 0xffe4, 164: 0xffe9, 165: 0xffea,
    186: ord(";"), 187: ord("="), 188: ord(","), 189: ord("-"), 190: ord("."), 191: ord("/"), 192: ord("`"),
    219: ord("["), 220: ord("\\"), 221: ord("]"), 222: ord("'"),
}
VK_KEYSYMS.update({96 + d: 0xffb0 + d for d in range(10)})          # numpad digits: KP_0..KP_9
VK_KEYSYMS.update({112 + n: 0xffbe + n for n in range(24)})        # F1..F24

#: Keysyms that are modifiers: the X state bit they hold while down.
MODIFIER_BITS = {0xffe1: SHIFT, 0xffe2: SHIFT, 0xffe3: CONTROL, 0xffe4: CONTROL, 0xffe9: MOD1, 0xffea: MOD1,
                 0xffe7: MOD1, 0xffe8: MOD1, 0xffeb: MOD4, 0xffec: MOD4, 0xfe03: MOD5}
#: Lock keys: the bit they toggle on each press (X sets it from the release that follows).
LOCK_BITS = {0xffe5: LOCK, 0xff7f: MOD2}
#: While any of these is held a press types no text (as in our own capture).
NO_TEXT = CONTROL | MOD1 | MOD4


def char_keysym(char: str) -> int:
    """The keysym of a typed character: Latin-1 keysyms are the code point, the rest Unicode.

    >>> hex(char_keysym("a")), hex(char_keysym("é")), hex(char_keysym("€"))
    ('0x61', '0xe9', '0x10020ac')
    """
    code = ord(char)
    return code if 0x20 <= code <= 0x7e or 0xa0 <= code <= 0xff else 0x01000000 + code


def _letter(char: str, state: int) -> int:
    """A letter key's keysym under ``state``: upper case with Shift or Caps Lock (as X reports it)."""
    return ord(char.upper() if state & (SHIFT | LOCK) else char.lower())


def _named(name: str) -> int | None:
    key = name.strip().lower().replace(" ", "_")
    return KEY_KEYSYMS.get(KEY_ALIASES.get(key, key))


def _from_char(char: str, state: int) -> int | None:
    code = ord(char)
    if code < 0x20:  # a control character: pynput's char for ctrl+letter (0x01 = ctrl+a)
        char = chr(code + 0x40)
        return _letter(char, state) if char.isalpha() else char_keysym(char) if code else None
    if code == 0x7f:
        return 0xffff
    if state & NO_TEXT and char.isascii() and char.isalpha():
        # Under ctrl/alt/cmd AgentNet upper-cases letters (and pynput may too): the key is
        # the letter, its case is Shift's and Caps Lock's.
        return _letter(char, state)
    return char_keysym(char)


def keysym(name, state: int = 0, pynput_key=None) -> int | None:
    """The X keysym of a pynput key, or None when it cannot be named.

    ``name`` is the recorder's key name, ``state`` the X modifier state when it went down,
    ``pynput_key`` AgentNet's ``str(key)`` when present (it wins: it is the rawer of the two).

    >>> [hex(keysym(n)) for n in ("a", "A", "enter", "space", "cmd", "shift_r", "f5")]
    ['0x61', '0x41', '0xff0d', '0x20', '0xffeb', '0xffe2', '0xffc2']
    >>> hex(keysym("T", CONTROL | MOD1, "<84>")), hex(keysym("A", CONTROL, "'\\\\x01'"))
    ('0x74', '0x61')
    >>> keysym("$Unknown (255)$") is None
    True
    """
    if isinstance(pynput_key, str) and pynput_key:
        found = _from_pynput_key(pynput_key, state)
        if found is not None:
            return found
    if not isinstance(name, str) or not name:
        return None
    if len(name) == 1:
        return _from_char(name, state)
    return _named(name)


def _from_pynput_key(text: str, state: int) -> int | None:
    if text.startswith("Key."):
        return _named(text[4:])
    if text.startswith("<") and text.endswith(">") and text[1:-1].isdigit():
        vk = int(text[1:-1])
        if 65 <= vk <= 90:
            return _letter(chr(vk), state)
        if 48 <= vk <= 57:
            return vk
        return VK_KEYSYMS.get(vk)
    if len(text) >= 3 and text[0] == text[-1] and text[0] in "'\"":
        try:
            char = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        if isinstance(char, str) and len(char) == 1:
            return _from_char(char, state)
    return None


class ModifierState:
    """The X modifier state of a recording, replayed from its key events in order.

    :meth:`event` returns the state *before* the event (what the ``modifiers`` column holds)
    and then applies it: a modifier's bit is set while any key holding it is down (left and
    right Shift count apart), a lock key toggles its bit on each press. Lock keys start off:
    the raw formats do not say how Caps Lock and NumLock stood when recording began.

    >>> s = ModifierState()
    >>> s.event(0xffe1, True), s.event(0x41, True), s.event(0x41, False), s.event(0xffe1, False), s.state
    (0, 1, 1, 1, 0)
    """

    def __init__(self):
        self.held: dict[int, int] = {}   # modifier keysym -> presses not yet released
        self.locks = 0

    @property
    def state(self) -> int:
        bits = self.locks
        for sym, count in self.held.items():
            if count:
                bits |= MODIFIER_BITS[sym]
        return bits

    def event(self, sym: int, pressed: bool) -> int:
        before = self.state
        if sym in MODIFIER_BITS:
            if pressed:
                self.held[sym] = 1   # auto-repeat presses of a held key do not stack
            else:
                self.held.pop(sym, None)
        elif sym in LOCK_BITS and pressed:
            self.locks ^= LOCK_BITS[sym]
        return before


def press_text(sym: int, pressed: bool, state: int) -> str | None:
    """The ``text`` of a key row: the character a press types, None on releases and while
    Control, Alt or Super is held (as our X capture records it).

    >>> press_text(0x61, True, 0), press_text(0x61, True, CONTROL), press_text(0x61, False, 0)
    ('a', None, None)
    >>> press_text(0xff0d, True, SHIFT), press_text(0xff08, True, 0)
    ('\\n', None)
    """
    if not pressed or state & NO_TEXT:
        return None
    return keysym_text(sym)
