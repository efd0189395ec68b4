"""Readers for the real recordings used by the tests and benchmarks (code only, no data).

Two public recordings live *outside* the repository, in ``../shared/data`` beside the
checkout (or wherever ``$ENCODER_SHARED_DATA`` points). Their licences allow research use
only, so the project never copies them, or pieces of them, into the repository or the
package: these functions read them from a path and nothing else.

* **Balabit Mouse Dynamics Challenge** (subset: 3 users, 19 sessions): 356,552 mouse events,
  read by :func:`load_balabit` into the ``pointer``, ``button`` and ``scroll`` streams.
* **Aalto 136M Keystrokes** (subset: 150 participants): 110,657 key presses, i.e. 221,314
  key events, read by :func:`load_aalto` into the ``key`` stream.

Both readers parse with ``pyarrow.csv`` and NumPy (about 0.1-0.3 s for the ~15 MB of each
recording) and return columns in the dtypes of :mod:`encoder.streams.schema`, ready for
:func:`encoder.encode`.

Examples
--------
>>> import encoder, encoder.testing.recordings as ds
>>> root = ds.shared_data_dir()
>>> if root is not None:
...     mouse = ds.load_balabit(root)
...     shard = encoder.encode(mouse)
...     assert encoder.decode(shard)["pointer"].num_rows == len(mouse["pointer"]["t"])
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["AALTO", "BALABIT", "balabit_streams", "decimal_seconds_to_us", "load_aalto",
           "load_balabit", "shared_data_dir"]

#: Folder names of the recordings inside the shared data directory.
BALABIT = "balabit-mouse-dynamics"
AALTO = "aalto-136m-keystrokes"

#: Balabit ``button`` names of press/release rows -> the ``button`` column's code.
BUTTON_CODES = {"Left": 1, "Middle": 2, "Right": 3}
#: JavaScript keyCodes of the modifier keys -> X11 modifier mask bits (ShiftMask,
#: ControlMask, Mod1Mask, i.e. Alt).
MODIFIER_BITS = {16: 1, 17: 4, 18: 8}

_US_PER_S = 1_000_000


def shared_data_dir() -> Path | None:
    """The folder holding the shared recordings, or ``None`` when it is not there.

    ``$ENCODER_SHARED_DATA`` wins when set (an explicit setting never falls back to the
    default); otherwise ``../shared/data`` relative to the repository root, i.e. the
    folder that holds ``encoder/``.
    """
    env = os.environ.get("ENCODER_SHARED_DATA")
    if env:
        path = Path(env).expanduser()
    else:
        path = Path(__file__).resolve().parents[3] / "shared" / "data"
    return path if path.is_dir() else None


def _dataset_root(root, name: str) -> Path:
    """Accept either the dataset's own folder or the shared data folder holding it."""
    root = Path(root)
    return root / name if (root / name).is_dir() else root


def decimal_seconds_to_us(values) -> np.ndarray:
    """Exact decimal strings of seconds -> int64 microseconds, rounded half to even.

    Each of ``values`` (a ``pyarrow`` string array or chunked array) must match
    ``-?[0-9]{1,12}(\\.[0-9]*)?`` (no exponent, no spaces), else ``ValueError``. The conversion
    works on the digits, never through a float, so ``"0.155999999959"`` gives exactly ``156000``.

    >>> import pyarrow as pa
    >>> decimal_seconds_to_us(pa.array(["0.0", "1.1069999999", "2.0000005", "2.0000015", "3"]))
    array([      0, 1107000, 2000000, 2000002, 3000000])
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    parts = pc.extract_regex(values, r"^(?P<sign>-?)(?P<int>[0-9]{1,12})(?:\.(?P<frac>[0-9]*))?$")
    if parts.null_count:
        bad = pc.filter(values, pc.is_null(parts)).slice(0, 3).to_pylist()
        raise ValueError(f"{parts.null_count} timestamps are not plain decimal seconds, e.g. {bad}")
    whole = pc.cast(parts.field("int"), pa.int64()).to_numpy()
    frac = parts.field("frac")
    micros = pc.cast(pc.utf8_rpad(pc.utf8_slice_codeunits(frac, 0, 6), 6, "0"), pa.int64()).to_numpy()
    digit7 = pc.cast(pc.utf8_rpad(pc.utf8_slice_codeunits(frac, 6, 7), 1, "0"), pa.int64()).to_numpy()
    rest = pc.match_substring_regex(pc.utf8_slice_codeunits(frac, 7, 1 << 30), "[1-9]")
    rest = rest.to_numpy(zero_copy_only=False)
    us = whole * _US_PER_S + micros
    # Round to nearest; an exact half (digit 5, nothing after it) goes to the even value.
    us += (digit7 > 5) | ((digit7 == 5) & (rest | (us & 1 == 1)))
    negative = pc.equal(parts.field("sign"), "-").to_numpy(zero_copy_only=False)
    return np.where(negative, -us, us).astype(np.int64)


def _read_balabit_session(path: Path) -> pa.Table:
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        include_columns=["client timestamp", "button", "state", "x", "y"],
        column_types={"client timestamp": pa.string(), "button": pa.string(), "state": pa.string(),
                      "x": pa.int32(), "y": pa.int32()}))


def load_balabit(root) -> dict[str, dict[str, np.ndarray]]:
    """Read the Balabit mouse recording into ``pointer``, ``button`` and ``scroll`` streams.

    ``root`` is the shared data folder or its ``balabit-mouse-dynamics`` folder. Every
    ``session_*`` file under it is read, in path order, and the sessions are concatenated;
    each stream keeps the files' row order (timestamps restart at 0 with each session, so
    ``t`` is *not* monotonic across sessions).

    * ``t``: the ``client timestamp`` (seconds, decimal) rounded exactly to int64 microseconds.
    * ``Move`` and ``Drag`` rows -> ``pointer`` (t, x, y).
    * ``Pressed``/``Released`` rows -> ``button`` (button Left=1, Middle=2, Right=3; pressed).
    * ``Scroll`` ``Down``/``Up`` rows -> ``scroll`` with dy = -1/+1, dx = 0, precise False.
    * ``x``, ``y`` as recorded, the sentinel 65535 (47 rows) included.

    On the 19-session subset: 356,552 events = 308,026 pointer + 42,072 button + 6,454
    scroll rows. Raises ``FileNotFoundError`` when no session file is found and
    ``ValueError`` on a row kind it does not know.
    """
    root = _dataset_root(root, BALABIT)
    paths = sorted(p for p in root.rglob("session_*") if p.is_file())
    if not paths:
        raise FileNotFoundError(f"no Balabit session_* files under {root}")
    return balabit_streams(pa.concat_tables([_read_balabit_session(p) for p in paths]))


def balabit_streams(table: pa.Table) -> dict[str, dict[str, np.ndarray]]:
    """The ``pointer``, ``button`` and ``scroll`` streams of Balabit rows (one session's
    or several sessions' table of ``client timestamp``, ``button``, ``state``, ``x``, ``y``),
    converted as :func:`load_balabit` describes."""
    table = table.combine_chunks()
    button, state = table.column("button"), table.column("state")
    t = decimal_seconds_to_us(table.column("client timestamp"))
    x = table.column("x").to_numpy()
    y = table.column("y").to_numpy()

    def mask(array, *names) -> np.ndarray:
        return pc.is_in(array, pa.array(names)).to_numpy(zero_copy_only=False)

    is_pointer = mask(state, "Move", "Drag")
    is_scroll = mask(button, "Scroll") & mask(state, "Down", "Up")
    is_button = mask(state, "Pressed", "Released") & mask(button, *BUTTON_CODES)
    unknown = ~(is_pointer | is_scroll | is_button)
    if unknown.any():
        kinds = sorted(set(zip(pc.filter(button, unknown).to_pylist(),
                               pc.filter(state, unknown).to_pylist())))
        raise ValueError(f"{int(unknown.sum())} Balabit rows of unknown kind (button, state): {kinds[:5]}")

    codes = np.zeros(len(t), np.uint8)
    for name, code in BUTTON_CODES.items():
        codes[mask(button, name)] = code
    pressed = mask(state, "Pressed")
    up = mask(state, "Up")[is_scroll]
    n_scroll = int(is_scroll.sum())
    return {
        "pointer": {"t": t[is_pointer], "x": x[is_pointer], "y": y[is_pointer]},
        "button": {"t": t[is_button], "button": codes[is_button], "pressed": pressed[is_button],
                   "x": x[is_button], "y": y[is_button]},
        "scroll": {"t": t[is_scroll], "dx": np.zeros(n_scroll, np.int32),
                   "dy": np.where(up, 1, -1).astype(np.int32), "precise": np.zeros(n_scroll, np.bool_),
                   "x": x[is_scroll], "y": y[is_scroll]},
    }


def _read_aalto_participant(path: Path) -> pa.Table:
    # Tab-separated, no quoting: sentences hold spaces and quote characters but no tabs.
    # Strings are never null (an empty LETTER stays ""), numbers must all be present.
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pacsv.ConvertOptions(
            include_columns=["PRESS_TIME", "RELEASE_TIME", "LETTER", "KEYCODE"],
            column_types={"PRESS_TIME": pa.int64(), "RELEASE_TIME": pa.int64(), "LETTER": pa.string(),
                          "KEYCODE": pa.int64()},
            strings_can_be_null=False))


def _modifier_state(code: np.ndarray, pressed: np.ndarray) -> np.ndarray:
    """X11-style modifier mask *before* each event of one time-ordered event sequence.

    As in an X11 ``KeyPress``/``KeyRelease`` state field, an event does not see its own
    effect: a Shift key-down carries the mask held before it, its key-up carries Shift.
    A key-up with no matching key-down is ignored (the counters never go below zero).
    """
    bits = np.zeros(len(code), np.uint16)
    for keycode, bit in MODIFIER_BITS.items():
        bits[code == keycode] = bit
    where = np.flatnonzero(bits)  # only the few modifier events change the state
    after = np.zeros(len(where) + 1, np.uint16)  # after[k + 1]: the mask after modifier event k
    held = dict.fromkeys(MODIFIER_BITS.values(), 0)  # bit -> keys of that kind held down
    state = 0
    for k, i in enumerate(where):
        bit = int(bits[i])
        held[bit] = held[bit] + 1 if pressed[i] else max(0, held[bit] - 1)
        state = state | bit if held[bit] else state & ~bit
        after[k + 1] = state
    # The mask before event i is the mask after the last modifier event strictly before i
    # (after[0] = 0 when there is none).
    return after[np.searchsorted(where, np.arange(len(code)), side="left")]


def _participant_events(table: pa.Table) -> dict:
    n = table.num_rows
    press = table.column("PRESS_TIME").to_numpy()
    release = table.column("RELEASE_TIME").to_numpy()
    keycode = table.column("KEYCODE").to_numpy()
    if n and (keycode.min() < 0 or keycode.max() > np.iinfo(np.uint32).max):
        raise ValueError(f"KEYCODE outside uint32: [{keycode.min()}, {keycode.max()}]")
    # Row i gives events 2i (down) and 2i+1 (up); a stable sort by time keeps a row's down
    # before its up, and row order among events at the same millisecond.
    t = np.empty(2 * n, np.int64)
    t[0::2], t[1::2] = press, release
    t *= 1000  # ms -> us
    order = np.argsort(t, kind="stable")
    row = order >> 1
    pressed = (order & 1) == 0
    code = keycode[row].astype(np.uint32)
    text = pc.take(table.column("LETTER").combine_chunks(), pa.array(row))
    text = pc.if_else(pa.array(pressed), text, pa.scalar(None, pa.string()))
    return {"t": t[order], "code": code, "pressed": pressed, "modifiers": _modifier_state(code, pressed),
            "text": text}


def load_aalto(root) -> dict[str, dict]:
    """Read the Aalto keystroke recording into a ``key`` stream.

    ``root`` is the shared data folder or its ``aalto-136m-keystrokes`` folder. Each
    ``*_keystrokes.txt`` file (one participant) is read in path order; its rows become a
    key-down at ``PRESS_TIME`` and a key-up at ``RELEASE_TIME`` (ms -> int64 us), merged and
    sorted by time (stable: a row's down precedes its up, and file order breaks ties);
    participants are concatenated, so ``t`` restarts between them.

    Columns: ``t``; ``code`` = ``KEYCODE`` (uint32, a JavaScript keyCode); ``pressed``;
    ``modifiers`` = the X11 mask (Shift 1, Control 4, Alt 8) held just before the event,
    tracked per participant from the key-downs and key-ups of keyCodes 16, 17 and 18;
    ``text`` = ``LETTER`` on key-downs (a ``pyarrow.StringArray``; key names such as
    ``SHIFT`` or ``BKSP`` and the empty strings of participants whose letters were not
    logged are kept as they are), null on key-ups.

    On the 150-participant subset: 110,657 rows -> 221,314 events.
    """
    root = _dataset_root(root, AALTO)
    paths = sorted(root.rglob("*_keystrokes.txt"))
    if not paths:
        raise FileNotFoundError(f"no Aalto *_keystrokes.txt files under {root}")
    parts = [_participant_events(_read_aalto_participant(p)) for p in paths]
    key = {name: np.concatenate([p[name] for p in parts]) for name in ("t", "code", "pressed", "modifiers")}
    key["text"] = pa.concat_arrays([p["text"] for p in parts])
    return {"key": key}
