"""Keys for the reference derivation: what a press is, typing bursts, auto-repeat, lone taps.

Follows docs/actions.md, "Keys", one press at a time. :func:`classify` applies the numbered
rules to one press; :class:`KeyMachine` keeps the state that spans presses (the open typing
burst, the key action an auto-repeat may join, a win/alt press that may become a lone tap)
and pairs releases with presses.

>>> from encoder.streams.keys import CONTROL, SHIFT
>>> classify(0x54, CONTROL | SHIFT, None), classify(0xfe20, SHIFT, None), classify(0x41, SHIFT, None)
(('hotkey', 'ctrl+shift+t'), ('hotkey', 'shift+tab'), ('type', 'A'))
"""
from __future__ import annotations

from ..streams.keys import KEY_CLASSES, SHIFT, keysym_text
from .names import COMMAND_MODIFIERS, MODIFIER_KEYSYMS, NAMED, hotkey_prefix, key_name
from .reference_action import Action, KeyPress

BACKSPACE = 0xff08
#: Timing-only class codes (docs: "codes 1-15") and the classes that type text.
MAX_CLASS_CODE = 15
MODIFIER_CLASS, EDITING_CLASS = 5, 7
TYPING_CLASSES = frozenset(code for code, name in KEY_CLASSES.items()
                           if name in ("letter", "digit", "space", "punctuation", "secret"))
#: Modifiers whose lone tap is an action (they open launchers and menu bars).
TAP_NAMES = ("win", "alt")


def is_modifier(code: int) -> bool:
    """A modifier key: it makes nothing by itself and interrupts nothing."""
    return code in MODIFIER_KEYSYMS or code == MODIFIER_CLASS


def _shifted(name: str, modifiers: int) -> tuple[str, str]:
    """Rule 3: a named key is a hotkey with shift held, else a key."""
    return ("hotkey", f"shift+{name}") if modifiers & SHIFT else ("key", name)


def _typed_text(code: int, text: str | None) -> str | None:
    """Rule 4: the text a press types, None when it types none."""
    if text:
        return text
    char = keysym_text(code)
    return char if char is not None and char.isprintable() else None


def classify(code: int, modifiers: int, text: str | None) -> tuple[str, str | None]:
    """What a non-modifier press is, by the first rule that applies (docs, "Keys" 1-6).

    Returns ``(kind, value)``: ``("hotkey" | "key", name or None)``, ``("type", text or None)``
    (None: a timing-only typing class), ``("backspace", None)`` or ``("editing", None)``; the
    last two depend on the typing burst, which :class:`KeyMachine` knows.
    """
    if modifiers & COMMAND_MODIFIERS:
        name = key_name(code)
        # A key with no name has no hotkey name either: null, as rule 6 gives for keys.
        return "hotkey", None if name is None else hotkey_prefix(modifiers) + name
    if code == BACKSPACE:
        return "backspace", None
    name = NAMED.get(code)
    if name is not None and name != "space":
        return _shifted(name, modifiers)
    typed = _typed_text(code, text)
    if typed is not None:
        return "type", typed
    if 0 < code <= MAX_CLASS_CODE:
        if code in TYPING_CLASSES:
            return "type", None
        if code == EDITING_CLASS:
            return "editing", None
        return "key", key_name(code)
    return "key", key_name(code)


class _Tap:
    """A win or alt press with no other key pressed since: a lone tap if released so."""

    def __init__(self, code: int, name: str, seq: int, press: KeyPress, merge_into: Action | None):
        self.code, self.name, self.seq = code, name, seq
        self.presses = [press]
        #: The key action an auto-repeat could have joined when the tap was pressed.
        self.merge_into = merge_into
        self.interrupted = False


class KeyMachine:
    """Key rows in merged order -> key, hotkey and type actions (appended to ``actions``).

    ``press`` returns what the press was for the other bursts: ``"modifier"`` (interrupts
    nothing), ``"typing"`` (interrupts everything but a typing burst) or ``"key"``.
    ``interrupt`` is called for every interruption that is not a key press.
    """

    def __init__(self, gap_us: int, actions: list):
        self.gap_us, self.actions = gap_us, actions
        self.open: dict[int, KeyPress] = {}   # code -> its latest press, until released
        self.burst: Action | None = None      # the typing burst that may still grow
        self.repeat: Action | None = None     # the key/hotkey action a repeat may still join
        self.tap: _Tap | None = None

    def interrupt(self) -> None:
        self.burst = self.repeat = None
        if self.tap is not None:
            self.tap.interrupted = True

    def release(self, t: int, code: int) -> None:
        press = self.open.pop(code, None)
        if press is None:  # a release without a press
            return
        press.release_t = t
        if self.tap is not None and self.tap.code == code:
            tap, self.tap = self.tap, None
            self._lone_tap(tap)

    def press(self, seq: int, t: int, code: int, modifiers: int, text: str | None) -> str:
        press = KeyPress(t)
        # A second press of a code before its release: the earlier one lost its release.
        self.open[code] = press
        if self.tap is not None and self.tap.code != code:
            self.tap = None  # another key pressed in between: not a lone tap
        if is_modifier(code):
            self._modifier(seq, code, press)
            return "modifier"
        kind, value = classify(code, modifiers, text)
        burst = self._open_burst(t)
        if kind == "type":
            self._type(seq, press, value)
            return "typing"
        if kind == "backspace":
            if burst is not None and burst.chars:
                burst.chars.pop()
                self._join_burst(press)
                return "typing"
            kind, value = _shifted("backspace", modifiers)
        elif kind == "editing":
            if burst is not None:
                burst.text_unknown = True  # which edit it made is unknown
                self._join_burst(press)
                return "typing"
            kind, value = "key", key_name(code)
        self._key(seq, press, kind, value)
        return "key"

    def _open_burst(self, t: int) -> Action | None:
        """The typing burst a typing press at ``t`` would continue, None when it starts one."""
        burst = self.burst
        if burst is not None and t - burst.presses[-1].t <= self.gap_us:
            return burst
        return None

    def _join_burst(self, press: KeyPress) -> None:
        self.burst.presses.append(press)
        self.burst.count += 1
        self.repeat = None  # a typing press interrupts an auto-repeat

    def _type(self, seq: int, press: KeyPress, text: str | None) -> None:
        chars = list(text) if text is not None else ["\0"]  # one unknown character
        if self._open_burst(press.t) is not None:
            self.burst.chars.extend(chars)
            self.burst.text_unknown |= text is None
            self._join_burst(press)
            return
        self.burst = Action("type", press.t, press.t, seq, presses=[press], chars=chars,
                            text_unknown=text is None)
        self.actions.append(self.burst)
        self.repeat = None

    def _key(self, seq: int, press: KeyPress, kind: str, name: str | None) -> None:
        self.burst = None  # any other key press ends a typing burst
        action = self._repeat_of(self.repeat, name, press.t)
        if action is not None:
            action.presses.append(press)
            action.count += 1
            return
        self.repeat = Action(kind, press.t, press.t, seq, text=name, presses=[press])
        self.actions.append(self.repeat)

    def _repeat_of(self, previous: Action | None, name: str | None, t: int) -> Action | None:
        """``previous`` when a press of ``name`` at ``t`` is one more press of it (auto-repeat)."""
        if previous is None or name is None or previous.text != name:
            return None  # unnamed keys never merge: two different keys could both be unnamed
        return previous if t - previous.presses[-1].t <= self.gap_us else None

    def _modifier(self, seq: int, code: int, press: KeyPress) -> None:
        name = NAMED.get(code)
        if name not in TAP_NAMES:
            return
        if self.tap is not None:  # the same key again: auto-repeat of the held modifier
            self.tap.presses.append(press)
        else:
            self.tap = _Tap(code, name, seq, press, self.repeat)

    def _lone_tap(self, tap: _Tap) -> None:
        """A win/alt press released with no other key pressed in between: a key action."""
        action = self._repeat_of(tap.merge_into, tap.name, tap.presses[0].t)
        if action is not None:
            action.presses.extend(tap.presses)
            action.count += len(tap.presses)
        else:
            action = Action("key", tap.presses[0].t, tap.presses[0].t, tap.seq, count=len(tap.presses),
                            text=tap.name, presses=tap.presses)
            self.actions.append(action)
        self.repeat = None if tap.interrupted else action


def finish_keys(action: Action) -> None:
    """``t_end``, the typed text and the typing features of a key, hotkey or type action."""
    action.t_end = max(press.end for press in action.presses)
    if action.kind != "type":
        return
    action.text = None if action.text_unknown else "".join(action.chars)
    presses = action.presses
    dwell = [p.release_t - p.t for p in presses if p.release_t is not None]
    flight = [p.t - q.release_t for q, p in zip(presses, presses[1:]) if q.release_t is not None]
    action.dwell_us = lower_median(dwell)
    action.flight_us = lower_median(flight)
    span_us = presses[-1].t - presses[0].t
    if len(presses) > 1 and span_us > 0:  # no rate over zero time
        action.keys_per_s = (len(presses) - 1) / (span_us / 1_000_000)


def lower_median(values: list) -> int | None:
    """The median, the lower one of the middle two for an even count; None for no values."""
    if not values:
        return None
    return sorted(values)[(len(values) - 1) // 2]
