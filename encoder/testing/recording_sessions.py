"""The shared real recordings one session at a time, ready for :func:`encoder.actions.derive`.

:func:`~encoder.testing.recordings.load_balabit` and
:func:`~encoder.testing.recordings.load_aalto` concatenate sessions and participants whose
clocks restart, which suits the codecs but not the derivation of actions (a press of one
session would pair with a release of the next). These readers yield one recording unit at a
time, with what the recording itself says about it, so derived actions can be checked
against it:

* :func:`balabit_sessions`: one Balabit ``session_*`` file, its streams, and the counts of its
  button press/release pairs and of the left pairs with ``Drag`` rows between them.
* :func:`aalto_sections`: one Aalto test section (one sentence typed), its ``key`` stream with
  X11 keysyms in ``code``, and the text the participant submitted (``USER_INPUT``).

Like :mod:`encoder.testing.recordings`, they read the data from a path and copy nothing.

Examples
--------
>>> import encoder.actions, encoder.testing.recordings as ds
>>> from encoder.testing.recording_sessions import aalto_sections
>>> root = ds.shared_data_dir()
>>> if root is not None and (root / ds.AALTO).is_dir():
...     section = next(aalto_sections(root))
...     kinds = set(encoder.actions.derive(section.streams).column("kind").to_pylist())
...     assert "type" in kinds
>>> js_keysym(65), js_keysym(13), letter_keysym("BKSP", 8), letter_keysym("é", 0)
(97, 65293, 65288, 233)
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .recordings import (AALTO, BALABIT, BUTTON_CODES, _dataset_root, _read_balabit_session,
                         balabit_streams, decimal_seconds_to_us)

__all__ = ["AaltoSection", "BalabitSession", "aalto_sections", "balabit_labels", "balabit_sessions",
           "js_keysym", "letter_keysym", "read_aalto_participant"]

# -- Balabit -----------------------------------------------------------------------------


class BalabitSession(NamedTuple):
    """One Balabit session file."""

    #: The file name (``session_0347800921``).
    name: str
    #: The folder holding it (``user21``).
    user: str
    #: ``pointer``, ``button`` and ``scroll`` streams, as :func:`~encoder.testing.recordings.load_balabit`.
    streams: dict
    #: What the recording says about its buttons (:func:`balabit_labels`).
    labels: dict


def balabit_labels(table: pa.Table) -> dict:
    """Button counts that one Balabit session's rows give, in file order.

    A ``Pressed`` row of a button pairs with the next ``Released`` row of that button; a
    second press before any release leaves the first one unpaired, and a release with no
    open press is unpaired. A left pair is a *drag* by Balabit's label when at least one
    ``Drag`` row lies between its press and its release, else a *click*.

    Returns ``pairs`` (button name -> pairs), ``left_click``, ``left_drag``,
    ``unpaired_press``, ``unpaired_release``, and per left press in file order
    ``left_press_t`` (int64 us), ``left_drag_rows`` (int64: the ``Drag`` rows between the
    press and its release, -1 for a press left unpaired) and ``left_hold_px`` (int64: the
    largest Chebyshev distance from the press position of a ``Move`` or ``Drag`` row between
    them or of the release, -1 when unpaired).
    """
    t = decimal_seconds_to_us(table.column("client timestamp"))
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    buttons = table.column("button").to_pylist()
    states = table.column("state").to_pylist()
    pairs = dict.fromkeys(BUTTON_CODES, 0)
    open_row: dict[str, int | None] = dict.fromkeys(BUTTON_CODES)
    drag_rows = 0  # Drag rows since the open left press
    press_t, drags, hold_px = [], [], []
    press_xy = (0, 0)  # position of the open left press
    unpaired_press = unpaired_release = 0
    def moved(i: int) -> int:  # Chebyshev distance of row i from the open left press
        return max(abs(int(x[i]) - press_xy[0]), abs(int(y[i]) - press_xy[1]))

    for i, (button, state) in enumerate(zip(buttons, states)):
        if state in ("Drag", "Move") and open_row["Left"] is not None:
            drag_rows += state == "Drag"
            hold_px[-1] = max(hold_px[-1], moved(i))
        elif state == "Pressed" and button in BUTTON_CODES:
            if open_row[button] is not None:
                unpaired_press += 1
                if button == "Left":
                    hold_px[-1] = -1
            open_row[button] = i
            if button == "Left":
                drag_rows = 0
                press_t.append(t[i])
                drags.append(-1)
                hold_px.append(0)
                press_xy = (int(x[i]), int(y[i]))
        elif state == "Released" and button in BUTTON_CODES:
            if open_row[button] is None:
                unpaired_release += 1
                continue
            pairs[button] += 1
            if button == "Left":
                drags[-1] = drag_rows
                hold_px[-1] = max(hold_px[-1], moved(i))
            open_row[button] = None
    unpaired_press += sum(row is not None for row in open_row.values())
    if open_row["Left"] is not None:
        hold_px[-1] = -1
    drags = np.asarray(drags, np.int64)
    return {"pairs": pairs, "left_click": int((drags == 0).sum()), "left_drag": int((drags > 0).sum()),
            "unpaired_press": unpaired_press, "unpaired_release": unpaired_release,
            "left_press_t": np.asarray(press_t, np.int64), "left_drag_rows": drags,
            "left_hold_px": np.asarray(hold_px, np.int64)}


def balabit_sessions(root) -> Iterator[BalabitSession]:
    """Each Balabit ``session_*`` file under ``root`` (the shared data folder or the
    ``balabit-mouse-dynamics`` folder), in path order, as a :class:`BalabitSession`.

    ``streams`` hold that file's rows only (its clock starts at 0), converted as
    :func:`~encoder.testing.recordings.load_balabit` does; ``labels`` are
    :func:`balabit_labels` of the same rows. Raises ``FileNotFoundError`` when there is no
    session file.
    """
    folder = _dataset_root(root, BALABIT)
    paths = sorted(p for p in folder.rglob("session_*") if p.is_file())
    if not paths:
        raise FileNotFoundError(f"no Balabit session_* files under {folder}")
    for path in paths:
        table = _read_balabit_session(path)
        yield BalabitSession(path.name, path.parent.name, balabit_streams(table), balabit_labels(table))


# -- Aalto -------------------------------------------------------------------------------

#: Aalto ``LETTER`` key names -> X11 keysyms (``ARw_DOWN`` is spelled so in the data).
LETTER_KEYSYMS = {
    "BKSP": 0xff08, "SHIFT": 0xffe1, "CAPS_LOCK": 0xffe5, "CTRL": 0xffe3, "ALT": 0xffe9, "WIN": 0xffeb,
    "ARW_LEFT": 0xff51, "ARW_RIGHT": 0xff53, "ARW_UP": 0xff52, "ARW_DOWN": 0xff54, "ARw_DOWN": 0xff54,
    "DELETE": 0xffff, "INSERT": 0xff63, "END": 0xff57, "HOME": 0xff50, "MENU": 0xff67,
    "NUM_LK": 0xff7f, "SCR_LK": 0xff14, "ENTER": 0xff0d, "TAB": 0xff09,
}
LETTER_KEYSYMS.update({f"NUM_{n}": 0xffb0 + n for n in range(10)})
#: Control characters found in ``LETTER`` (``"\\x08"`` on BackSpace rows) -> keysyms.
CONTROL_KEYSYMS = {"\b": 0xff08, "\t": 0xff09, "\r": 0xff0d, "\n": 0xff0d, "\x1b": 0xff1b, "\x7f": 0xffff}
#: JavaScript keyCodes (US layout, unshifted) -> X11 keysyms, for rows whose LETTER is not
#: logged. Letters give the lower-case keysym: the keyCode does not say whether Shift or
#: Caps Lock made it upper-case.
JS_KEYSYMS = {
    8: 0xff08, 9: 0xff09, 12: 0xff0b, 13: 0xff0d, 16: 0xffe1, 17: 0xffe3, 18: 0xffe9, 19: 0xff13,
    20: 0xffe5, 27: 0xff1b, 32: 0x20, 33: 0xff55, 34: 0xff56, 35: 0xff57, 36: 0xff50, 37: 0xff51,
    38: 0xff52, 39: 0xff53, 40: 0xff54, 44: 0xff61, 45: 0xff63, 46: 0xffff, 59: 0x3b, 61: 0x3d,
    91: 0xffeb, 92: 0xffec, 93: 0xff67, 106: 0xffaa, 107: 0xffab, 109: 0xffad, 110: 0xffae,
    111: 0xffaf, 144: 0xff7f, 145: 0xff14, 173: 0x2d, 186: 0x3b, 187: 0x3d, 188: 0x2c, 189: 0x2d,
    190: 0x2e, 191: 0x2f, 192: 0x60, 219: 0x5b, 220: 0x5c, 221: 0x5d, 222: 0x27,
}
JS_KEYSYMS.update({48 + n: 0x30 + n for n in range(10)})         # digits
JS_KEYSYMS.update({65 + n: 0x61 + n for n in range(26)})         # letters
JS_KEYSYMS.update({96 + n: 0xffb0 + n for n in range(10)})       # keypad digits
JS_KEYSYMS.update({112 + n: 0xffbe + n for n in range(12)})      # F1-F12
#: Keysyms of the modifier keys -> X11 state bits they hold (Shift 1, Control 4, Mod1 = Alt 8).
HELD_BITS = {0xffe1: 1, 0xffe2: 1, 0xffe3: 4, 0xffe4: 4, 0xffe9: 8, 0xffea: 8}
CAPS_LOCK, LOCK = 0xffe5, 2


def js_keysym(keycode: int) -> int:
    """The X11 keysym of JavaScript ``keycode``, 0 (``NoSymbol``) when it has no known one."""
    return JS_KEYSYMS.get(keycode, 0)


def letter_keysym(letter: str, keycode: int) -> int:
    """The X11 keysym of an Aalto row: its ``LETTER`` when that names a key or is one
    printable character (Latin-1 keysyms below 0x100, Unicode keysyms ``0x01000000 + ord``
    above), else its JavaScript ``keycode`` (:func:`js_keysym`)."""
    if letter in LETTER_KEYSYMS:
        return LETTER_KEYSYMS[letter]
    if letter in CONTROL_KEYSYMS:
        return CONTROL_KEYSYMS[letter]
    if len(letter) == 1 and letter.isprintable():
        return ord(letter) if ord(letter) <= 0xff else 0x01000000 + ord(letter)
    return js_keysym(keycode)


def _letter_text(letter: str) -> str | None:
    """The text a press types by its ``LETTER``: the character itself, None for key names,
    control characters and letters that were not logged (``""``, ``"LETTER"``)."""
    return letter if len(letter) == 1 and letter.isprintable() else None


def _modifier_state(code: np.ndarray, pressed: np.ndarray) -> np.ndarray:
    """X11 state *before* each event of one time-ordered key sequence: Shift, Control and
    Alt while their keys are held, Lock toggled by each Caps Lock press (starting off)."""
    state = np.zeros(len(code), np.uint16)
    held = {bit: 0 for bit in set(HELD_BITS.values())}
    lock = 0
    for i in np.flatnonzero(np.isin(code, [*HELD_BITS, CAPS_LOCK])):
        c = int(code[i])
        if c == CAPS_LOCK:
            lock ^= LOCK * bool(pressed[i])
        else:
            bit = HELD_BITS[c]
            held[bit] = held[bit] + 1 if pressed[i] else max(0, held[bit] - 1)
        # Events from i + 1 on see the new state, until the next modifier event overwrites it.
        state[i + 1:] = lock | sum(bit for bit, n in held.items() if n)
    return state


class AaltoSection(NamedTuple):
    """One Aalto test section: one sentence typed by one participant."""

    participant: int
    section: int
    #: ``{"key": columns}``: the section's key events (see :func:`aalto_sections`).
    streams: dict
    #: The text the participant submitted.
    user_input: str


def _read_participant(path: Path) -> pa.Table:
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pacsv.ConvertOptions(
            include_columns=["PARTICIPANT_ID", "TEST_SECTION_ID", "USER_INPUT", "PRESS_TIME",
                             "RELEASE_TIME", "LETTER", "KEYCODE"],
            column_types={"PARTICIPANT_ID": pa.int64(), "TEST_SECTION_ID": pa.int64(),
                          "USER_INPUT": pa.string(), "PRESS_TIME": pa.int64(), "RELEASE_TIME": pa.int64(),
                          "LETTER": pa.string(), "KEYCODE": pa.int64()},
            strings_can_be_null=False))


def read_aalto_participant(root, participant: int) -> pa.Table:
    """The raw rows of one Aalto participant (``PARTICIPANT_ID``, ``TEST_SECTION_ID``,
    ``USER_INPUT``, ``PRESS_TIME``, ``RELEASE_TIME``, ``LETTER``, ``KEYCODE``), in file order."""
    folder = _dataset_root(root, AALTO)
    paths = sorted(folder.rglob(f"{participant}_keystrokes.txt"))
    if not paths:
        raise FileNotFoundError(f"no Aalto file of participant {participant} under {folder}")
    return _read_participant(paths[0])


def aalto_sections(root) -> Iterator[AaltoSection]:
    """Each test section of each Aalto participant under ``root`` (the shared data folder
    or the ``aalto-136m-keystrokes`` folder), participants in path order, sections in order
    of their first key press, as an :class:`AaltoSection`.

    A row gives a key-down at ``PRESS_TIME`` and a key-up at ``RELEASE_TIME`` (ms -> int64
    us), sorted by time (stable: a row's down precedes its up, file order breaks ties).
    ``key`` columns: ``code`` = :func:`letter_keysym` of ``LETTER`` and ``KEYCODE``;
    ``pressed``; ``modifiers`` = the X11 state before the event, tracked over the
    participant's whole recording (Shift 1, Control 4, Alt 8 while held; Lock 2 toggled by
    Caps Lock presses); ``text`` = ``LETTER`` on presses when it is one printable
    character, else null (key names, releases, and the ``""`` of participants whose letters
    were not logged: their code comes from the keyCode and their text is null).
    """
    folder = _dataset_root(root, AALTO)
    paths = sorted(folder.rglob("*_keystrokes.txt"))
    if not paths:
        raise FileNotFoundError(f"no Aalto *_keystrokes.txt files under {folder}")
    for path in paths:
        table = _read_participant(path)
        n = table.num_rows
        letters = table.column("LETTER").to_pylist()
        keycodes = table.column("KEYCODE").to_pylist()
        sections = table.column("TEST_SECTION_ID").to_numpy()
        t = np.empty(2 * n, np.int64)
        t[0::2] = table.column("PRESS_TIME").to_numpy()
        t[1::2] = table.column("RELEASE_TIME").to_numpy()
        t *= 1000
        order = np.argsort(t, kind="stable")
        row, pressed = order >> 1, (order & 1) == 0
        row_code = np.array([letter_keysym(s, k) for s, k in zip(letters, keycodes)], np.uint32)
        code = row_code[row]
        modifiers = _modifier_state(code, pressed)
        texts = [_letter_text(s) for s in letters]
        user_inputs = table.column("USER_INPUT").to_pylist()
        participant = int(table.column("PARTICIPANT_ID")[0].as_py()) if n else int(path.name.split("_")[0])
        event_section = sections[row]
        _, first = np.unique(event_section, return_index=True)
        for section in event_section[np.sort(first)]:
            keep = np.flatnonzero(event_section == section)
            rows = row[keep]
            text = [texts[r] if p else None for r, p in zip(rows.tolist(), pressed[keep].tolist())]
            key = {"t": t[order][keep], "code": code[keep], "pressed": pressed[keep],
                   "modifiers": modifiers[keep], "text": pa.array(text, pa.string())}
            yield AaltoSection(participant, int(section), {"key": key}, user_inputs[int(rows[0])])
