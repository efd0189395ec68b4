"""Actions as tokens: a fixed, versioned vocabulary for sequence models (docs/actions.md, Tokens).

:class:`ActionTokenizer` turns an actions table (:data:`~encoder.actions.SCHEMA`) into one
1-D ``int32`` sequence ``<bos> action... <eos>``, each action ``kind hesitation duration
fields... <sep>``, and back. Kinds, texts, key names, buttons and small counts round trip
exactly; positions come back within one grid step (at most 1 % of the screen), times within
their log2 bucket, large counts and scroll amounts within theirs.

>>> import pyarrow as pa
>>> from encoder.actions.schema import SCHEMA
>>> table = pa.Table.from_pylist([
...     {"t": 0, "t_end": 90_000, "kind": "click", "x": 960, "y": 540, "button": 1, "count": 1,
...      "frame": 0, "hesitation_us": 0},
...     {"t": 1_500_000, "t_end": 2_100_000, "kind": "hotkey", "text": "ctrl+s", "count": 1,
...      "frame": 3, "hesitation_us": 1_410_000}], schema=SCHEMA)
>>> tokenizer = ActionTokenizer(screen=(1920, 1080))
>>> tokens = tokenizer.encode(table)
>>> tokens.tolist()
[1, 9, 633, 661, 739, 867, 487, 503, 3, 17, 644, 664, 275, 339, 503, 3, 2]
>>> tokenizer.describe(tokens)[1:8]
['kind:click', 'hesitation:0', 'duration:64-128ms', 'x:64', 'y:64', 'button:1', 'count:1']
>>> tokenizer.describe(tokens)[9:15]
['kind:hotkey', 'hesitation:1024-2048ms', 'duration:512-1024ms', 'mod:ctrl', "key:'s'", 'count:1']
>>> tokenizer.decode(tokens).select(["kind", "x", "y", "button", "text"]).to_pylist()[1]
{'kind': 'hotkey', 'x': None, 'y': None, 'button': None, 'text': 'ctrl+s'}
>>> tokenizer.vocab_size
931
"""
from __future__ import annotations

import itertools
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import LimitError, SchemaError, UnsupportedVersionError
from .schema import KINDS, SCHEMA

#: Bumped whenever a token id or its meaning changes (the golden test pins the ids).
TOKENS_VERSION = 1
PAD, BOS, EOS, SEP, NULL, END_TEXT = range(6)
SPECIALS = ("<pad>", "<bos>", "<eos>", "<sep>", "<null>", "<end_text>")
#: Hotkey modifiers, in the order derive writes them (names.HOTKEY_MODIFIERS).
MODIFIERS = ("ctrl", "alt", "shift", "win")
#: pyautogui.KEY_NAMES of PyAutoGUI 0.9.54, in its order, then the ``<class>`` names that
#: timing-only keys get (names.key_name). Written out, not imported, so that a change in either
#: place cannot move a token id: a name added later falls back to UTF-8 bytes until a new version.
KEY_NAMES = tuple("\t\n\r !\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") + tuple("""
accept add alt altleft altright apps backspace browserback browserfavorites browserforward browserhome
browserrefresh browsersearch browserstop capslock clear convert ctrl ctrlleft ctrlright decimal del delete
divide down end enter esc escape execute f1 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19 f2 f20 f21 f22 f23 f24
f3 f4 f5 f6 f7 f8 f9 final fn hanguel hangul hanja help home insert junja kana kanji launchapp1 launchapp2
launchmail launchmediaselect left modechange multiply nexttrack nonconvert num0 num1 num2 num3 num4 num5 num6
num7 num8 num9 numlock pagedown pageup pause pgdn pgup playpause prevtrack print printscreen prntscrn prtsc
prtscr return right scrolllock select separator shift shiftleft shiftright sleep space stop subtract tab up
volumedown volumemute volumeup win winleft winright yen command option optionleft optionright
<letter> <digit> <space> <punctuation> <modifier> <navigation> <editing> <enter> <tab> <escape> <function>
<secret> <other>""".split())
_NAME_ID = {name: i for i, name in enumerate(KEY_NAMES)}
_MOD_ID = {name: i for i, name in enumerate(MODIFIERS)}
BUTTONS = 16                    # buttons 0-15; larger X buttons clamp to 15
MAGNITUDES = 44                 # codes: 0-31 exact, then [2^e, 2^(e+1)) for e = 5..15, then >= 65536
_MAGNITUDE_EDGES = 2 ** np.arange(5, 17, dtype=np.int64)
AMOUNTS = 2 * MAGNITUDES - 1    # scroll: sign * magnitude code
#: Time bins: 0 is [0, 1 ms); bin k in 1..19 is [2^(k-1), 2^k) ms; 20 is >= 2^19 ms (~8.7 min).
TIME_BINS = 21
_TIME_EDGES_US = 1000 * 2 ** np.arange(TIME_BINS - 1, dtype=np.int64)
#: A bin decodes to its geometric centre (0 for bin 0), which lies inside the bin.
TIME_VALUES_US = np.concatenate([[0], np.round(_TIME_EDGES_US * np.sqrt(2))]).astype(np.int64)

# The fields after ``kind hesitation duration`` of each kind, in this global slot order
# (encode writes slots in this order, so every layout below must follow it).
_SLOTS = ("x", "y", "x2", "y2", "dx", "dy", "button", "text", "app", "count")
_CLICK = ("x", "y", "button", "count")
LAYOUT = {"focus": ("text", "app"), "command": ("text",), "move": ("x", "y"), "click": _CLICK,
          "double_click": _CLICK, "triple_click": _CLICK, "right_click": _CLICK, "middle_click": _CLICK,
          "drag": ("x", "y", "x2", "y2", "button", "count"), "scroll": ("x", "y", "dx", "dy", "count"),
          "key": ("text", "count"), "hotkey": ("text", "count"), "type": ("text", "count")}
assert set(LAYOUT) == set(KINDS) and all(list(v) == sorted(v, key=_SLOTS.index) for v in LAYOUT.values())
_HAS = {slot: np.array([slot in LAYOUT[k] for k in KINDS]) for slot in _SLOTS}
_TEXT_KINDS = np.array([k in ("focus", "command", "key", "hotkey", "type") for k in KINDS])
_KEY, _HOTKEY, _FOCUS = KINDS.index("key"), KINDS.index("hotkey"), KINDS.index("focus")


def _magnitude_code(v: np.ndarray) -> np.ndarray:
    v = np.maximum(v, 0)
    return np.where(v < 32, v, 31 + np.searchsorted(_MAGNITUDE_EDGES, v, side="right"))


def _magnitude_value(code: np.ndarray) -> np.ndarray:
    # the middle of [2^e, 2^(e+1)) is 3 * 2^(e-1); code 32 is e = 5
    return np.where(code < 32, code, 3 << np.maximum(code - 28, 0))


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - lengths), lengths)


def _ints(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    column = table.column(name)
    values = column.fill_null(0).to_numpy().astype(np.int64)
    return values, column.is_valid().to_numpy()


def _string_bytes(array: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 data of ``array`` and its ``len + 1`` offsets into it, read from the Arrow buffers
    without a copy per row (a slice's offsets start at ``array.offset``)."""
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, np.int32)[array.offset:array.offset + len(array) + 1].astype(np.int64)
    data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return data, offsets


def _utf8_tokens(column: pa.StringArray, use: np.ndarray, byte: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, its length and the tokens: for rows in ``use``, ``<null>`` or the UTF-8 byte tokens
    (``byte`` + each byte) and ``<end_text>``; nothing for the other rows."""
    data, offsets = _string_bytes(column)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    size = np.where(valid, offsets[1:] - offsets[:-1], 0)
    length = np.where(use, size + 1, 0)
    ids = np.empty(int(length.sum()), np.int64)
    ids[np.cumsum(length)[use] - 1] = np.where(valid[use], END_TEXT, NULL)
    text = use & valid
    ids[_ragged((np.cumsum(length) - length)[text], size[text])] = \
        byte + data[_ragged(offsets[:-1][text], size[text])].astype(np.int64)
    return length, ids


class ActionTokenizer:
    """Encode actions tables to token ids and back, on a grid of ``grid`` bins per axis.

    Parameters
    ----------
    screen : (int, int)
        Width and height in pixels of the screen the ``x``, ``y`` columns are on.
    grid : int or (int, int), optional
        Bins per axis, each from 100 (a step of 1 % of the screen) to the screen's size in
        pixels (a step of 1 px; a screen under 100 px allows only that). Default 128, or the
        screen's size where it is smaller.
    """

    version = TOKENS_VERSION

    def __init__(self, *, screen: tuple[int, int], grid: int | tuple[int, int] | None = None):
        self.screen = tuple(int(s) for s in screen)
        if grid is None:
            grid = tuple(min(128, s) for s in self.screen)
        self.grid = tuple(int(g) for g in ((grid, grid) if np.isscalar(grid) else grid))
        if len(self.screen) != 2 or len(self.grid) != 2:
            raise LimitError(f"screen and grid are (width, height) pairs, not {screen!r}, {grid!r}")
        for axis, size, bins in zip("xy", self.screen, self.grid):
            if not min(100, size) <= bins <= size:
                raise LimitError(f"grid {bins} on {axis}: needs 100 (1 % steps) to {size} (1 px steps, "
                                 f"the screen's size) bins")
        ranges, start = {}, 0
        for name, size in (("special", len(SPECIALS)), ("kind", len(KINDS)), ("byte", 256),
                           ("mod", len(MODIFIERS)), ("key", len(KEY_NAMES)), ("button", BUTTONS),
                           ("count", MAGNITUDES), ("scroll", AMOUNTS), ("hesitation", TIME_BINS),
                           ("duration", TIME_BINS), ("x", self.grid[0]), ("y", self.grid[1])):
            ranges[name] = (start, start + size)
            start += size
        #: ``{range name: (first id, one past the last id)}``; x and y come last, so only
        #: they move when the grid changes.
        self.ranges = ranges
        self.vocab_size = start
        first = {name: lo for name, (lo, _) in ranges.items()}
        self._kind, self._byte, self._mod, self._key = first["kind"], first["byte"], first["mod"], first["key"]
        self._button, self._count, self._scroll = first["button"], first["count"], first["scroll"]
        self._hes, self._dur, self._x, self._y = first["hesitation"], first["duration"], first["x"], first["y"]
        self._key_cache: dict = {}
        self._names: list[str] | None = None

    def __repr__(self) -> str:
        return f"ActionTokenizer(screen={self.screen}, grid={self.grid})  # version {self.version}"

    def __eq__(self, other) -> bool:
        return isinstance(other, ActionTokenizer) and (self.screen, self.grid) == (other.screen, other.grid)

    def __hash__(self) -> int:
        return hash((self.version, self.screen, self.grid))

    # -- quantisation ------------------------------------------------------------------------
    def _bins(self, v: np.ndarray, axis: int) -> np.ndarray:
        size, bins = self.screen[axis], self.grid[axis]
        return np.clip(v, 0, size - 1) * bins // size   # off-screen points clamp to the edge

    def _centres(self, b: np.ndarray, axis: int) -> np.ndarray:
        # the middle pixel of the bin, so that encoding it again gives the same bin
        size, bins = self.screen[axis], self.grid[axis]
        lo, hi = (b * size + bins - 1) // bins, ((b + 1) * size + bins - 1) // bins - 1
        return (lo + hi) // 2

    # -- encode ------------------------------------------------------------------------------
    def encode(self, table: pa.Table) -> np.ndarray:
        """The tokens of ``table`` (an actions table), ``<bos> ... <eos>``, as a 1-D int32 array."""
        if not isinstance(table, pa.Table) or not table.schema.equals(SCHEMA):
            raise SchemaError("encode needs a pyarrow.Table of encoder.actions.SCHEMA")
        kind = pc.index_in(table.column("kind"), value_set=pa.array(KINDS)).combine_chunks()
        if kind.null_count:
            bad = table.column("kind")[pc.index(kind.is_null(), True).as_py()].as_py()
            raise SchemaError(f"unknown kind {bad!r} (not one of encoder.actions.KINDS)", column="kind")
        kind = kind.to_numpy().astype(np.int64)
        n = len(kind)
        t, _ = _ints(table, "t")
        t_end, _ = _ints(table, "t_end")
        hesitation, _ = _ints(table, "hesitation_us")
        segments = [(np.ones(n, np.int64), self._kind + kind),
                    (np.ones(n, np.int64), self._hes + np.searchsorted(_TIME_EDGES_US, hesitation, "right")),
                    (np.ones(n, np.int64), self._dur + np.searchsorted(_TIME_EDGES_US, t_end - t, "right"))]
        for slot in _SLOTS:
            use = _HAS[slot][kind]
            if slot in ("text", "app"):
                segments += self._text_segments(table.column(slot).combine_chunks(), kind, use)
                continue
            values, valid = _ints(table, slot)
            if slot in ("x", "y", "x2", "y2"):
                axis = slot[0] == "y"
                ids = (self._y if axis else self._x) + self._bins(values, axis)
            elif slot in ("dx", "dy"):
                ids = self._scroll + MAGNITUDES - 1 + np.sign(values) * _magnitude_code(np.abs(values))
            elif slot == "button":
                ids = self._button + np.minimum(values, BUTTONS - 1)
            else:
                ids = self._count + _magnitude_code(values)
            segments.append((use.astype(np.int64), np.where(valid, ids, NULL)[use]))
        segments.append((np.ones(n, np.int64), np.full(n, SEP)))
        lengths = sum(length for length, _ in segments)
        out = np.empty(2 + int(lengths.sum()), np.int32)
        out[0], out[-1] = BOS, EOS
        cursor = 1 + np.cumsum(lengths) - lengths   # where each action's next token goes
        for length, ids in segments:
            out[_ragged(cursor, length)] = ids
            cursor += length
        return out

    def _text_segments(self, column: pa.StringArray, kind: np.ndarray, use: np.ndarray) -> list:
        """The segments of a text slot. Key and hotkey names are split per row in Python (most are
        a name token, after a hotkey's modifier tokens); all UTF-8 bytes are gathered vectorised."""
        keys = use & ((kind == _KEY) | (kind == _HOTKEY))
        segments = [_utf8_tokens(column, use & ~keys, self._byte)]
        if keys.any():
            rows = np.flatnonzero(keys)
            heads, rests = zip(*(self._key_head(name, hotkey) for name, hotkey in
                                 zip(column.take(rows).to_pylist(), (kind[rows] == _HOTKEY).tolist())))
            head_length = np.zeros(len(kind), np.int64)
            head_length[rows] = [len(head) for head in heads]
            segments.append((head_length, np.fromiter(itertools.chain.from_iterable(heads), np.int64,
                                                      int(head_length.sum()))))
            fallback = np.zeros(len(kind), bool)
            fallback[rows] = [rest is not None for rest in rests]
            rest_column = pa.array(np.array(rests, object)).cast(pa.string())
            spread = np.full(len(kind), -1)
            spread[rows] = np.arange(len(rows))
            segments.append(_utf8_tokens(rest_column.take(pa.array(spread, mask=spread < 0)), fallback, self._byte))
        return segments

    def _key_head(self, name: str | None, hotkey: bool) -> tuple[tuple[int, ...], str | None]:
        """The tokens of a key or hotkey name, and the rest of it to spell in UTF-8 bytes (None if none)."""
        cached = self._key_cache.get((name, hotkey))
        if cached is not None:
            return cached
        head, rest = (), name
        if rest is None:
            head = (NULL,)
        else:
            # hotkey = "mod+...+key": each prefix in the written order, so any string round trips
            while hotkey:
                mod, plus, tail = rest.partition("+")
                if not plus or mod not in _MOD_ID:
                    break
                head, rest = head + (self._mod + _MOD_ID[mod],), tail
            if rest in _NAME_ID:
                head, rest = head + (self._key + _NAME_ID[rest],), None
        if len(self._key_cache) >= 1 << 16:   # names repeat; bound the cache for tables where they do not
            self._key_cache.clear()
        self._key_cache[(name, hotkey)] = result = (head, rest)
        return result

    # -- decode ------------------------------------------------------------------------------
    def decode(self, tokens, *, t0: int = 0) -> pa.Table:
        """The actions table of ``tokens`` (:data:`~encoder.actions.SCHEMA`).

        ``<bos>``, ``<eos>`` and trailing ``<pad>`` are optional. Times are rebuilt from the
        buckets: each action starts its hesitation after the previous one's end (the first after
        ``t0``). Raises :class:`~encoder.errors.SchemaError` naming the first bad token.
        """
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or not (tokens.dtype.kind in "iu" or tokens.size == 0):
            raise SchemaError(f"tokens must be a 1-D array of integers, not {tokens.dtype} of shape {tokens.shape}")
        tokens = tokens.astype(np.int64)
        bad = np.flatnonzero((tokens < 0) | (tokens >= self.vocab_size))
        if len(bad):
            raise SchemaError(f"tokens[{bad[0]}]: id {tokens[bad[0]]} is outside the vocabulary "
                              f"(0-{self.vocab_size - 1})")
        stop = len(tokens) - int(np.argmax(tokens[::-1] != PAD)) if (tokens != PAD).any() else 0
        first = int(stop > 0 and tokens[0] == BOS)
        stop -= int(stop > first and tokens[stop - 1] == EOS)
        body = tokens[first:stop]
        ends = np.flatnonzero(body == SEP)
        unexpected = np.flatnonzero(body < SEP)
        if len(unexpected):
            self._fail(body, first, unexpected[0], "a special token inside the sequence")
        if len(body) and body[-1] != SEP:
            self._fail(body, first, len(body) - 1, "the last action is not closed by <sep>")
        starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)[:len(ends)]
        size = ends - starts
        short = np.flatnonzero(size < 3)
        if len(short):
            self._fail(body, first, ends[short[0]], "an action needs kind, hesitation and duration tokens")
        kind = self._check(body, first, starts, "kind") - self._kind
        hesitation = TIME_VALUES_US[self._check(body, first, starts + 1, "hesitation") - self._hes]
        duration = TIME_VALUES_US[self._check(body, first, starts + 2, "duration") - self._dur]
        n = len(kind)
        values = {slot: np.zeros(n, np.int64) for slot in _SLOTS if slot not in ("text", "app")}
        valid = {slot: np.zeros(n, bool) for slot in values}
        valid["count"][:] = True    # non-nullable: 0 where the kind carries no count
        for code, name in enumerate(KINDS):
            rows = np.flatnonzero(kind == code)
            layout = LAYOUT[name]
            if not len(rows):
                continue
            if not _TEXT_KINDS[code]:
                wrong = np.flatnonzero(size[rows] != 3 + len(layout))
                if len(wrong):
                    self._fail(body, first, starts[rows[wrong[0]]],
                               f"a {name!r} action has {len(layout)} field tokens: {', '.join(layout)}")
            for j, slot in enumerate(layout):
                if slot in ("text", "app"):
                    continue
                where = ends[rows] - 1 if slot == "count" else starts[rows] + 3 + j
                ids = self._check(body, first, where, slot, nullable=slot != "count")
                valid[slot][rows] = ids != NULL
                values[slot][rows] = self._field_values(slot, ids)
        text, app = self._decode_texts(body, first, kind, starts, ends)
        t_end = t0 + np.cumsum(hesitation + duration)
        columns = {"t": t_end - duration, "t_end": t_end, "kind": pa.array(np.array(KINDS, object)[kind], pa.string()),
                   "text": pa.array(text, pa.string()), "app": app, "frame": np.full(n, -1, np.int64),
                   "hesitation_us": hesitation}
        for slot in values:
            columns[slot] = pa.array(values[slot], SCHEMA.field(slot).type, mask=~valid[slot])
        return pa.table({f.name: columns[f.name] if f.name in columns else pa.nulls(n, f.type)
                         for f in SCHEMA}, schema=SCHEMA)

    def _field_values(self, slot: str, ids: np.ndarray) -> np.ndarray:
        if slot in ("x", "y", "x2", "y2"):
            axis = slot[0] == "y"
            return self._centres(np.maximum(ids - (self._y if axis else self._x), 0), axis)
        if slot in ("dx", "dy"):
            signed = ids - self._scroll - (MAGNITUDES - 1)
            return np.sign(signed) * _magnitude_value(np.abs(signed))
        if slot == "button":
            return np.maximum(ids - self._button, 0)
        return _magnitude_value(ids - self._count)

    def _check(self, body, first, where, range_name, *, nullable=False) -> np.ndarray:
        """The ids at ``where``, each of range ``range_name`` (or ``<null>``)."""
        lo, hi = self.ranges[range_name if range_name not in ("x2", "y2", "dx", "dy") else
                             {"x2": "x", "y2": "y", "dx": "scroll", "dy": "scroll"}[range_name]]
        ids = body[where]
        bad = np.flatnonzero(~(((ids >= lo) & (ids < hi)) | (nullable & (ids == NULL))))
        if len(bad):
            self._fail(body, first, where[bad[0]], f"expected a token of {range_name}")
        return ids

    def _decode_texts(self, body, first, kind, starts, ends):
        """Text per row in Python: focus title and app, command, key or hotkey name, typed text."""
        text: list = [None] * len(kind)
        apps: list = []
        seq = body.tolist()
        for row in np.flatnonzero(_TEXT_KINDS[kind]).tolist():
            code, i, end = kind[row], int(starts[row]) + 3, int(ends[row])
            end -= code != _FOCUS and KINDS[code] != "command"    # the count token
            text[row], i = self._read_text(seq, body, first, i, end, code)
            if code == _FOCUS:
                app, i = self._read_text(seq, body, first, i, end, code)
                apps.append(app)
            if i != end:
                self._fail(body, first, i, f"a {KINDS[code]!r} action has tokens after its text")
        # a row's app is that of the latest focus action (docs: the app in focus at t)
        focus_rows = np.where(kind == _FOCUS, np.arange(len(kind)), -1)
        latest = np.maximum.accumulate(focus_rows) if len(kind) else focus_rows
        order = np.cumsum(kind == _FOCUS) - 1
        app = pa.array(apps, pa.string()).take(pa.array(order, mask=latest < 0))
        return text, app

    def _read_text(self, seq, body, first, i, end, code):
        """One text field at ``seq[i:end]``: ``<null>``, or bytes + ``<end_text>``; key and hotkey
        names may be a name token, after a hotkey's modifier tokens."""
        prefix = ""
        if code in (_KEY, _HOTKEY):
            while code == _HOTKEY and i < end and self._mod <= seq[i] < self._key:
                prefix += MODIFIERS[seq[i] - self._mod] + "+"
                i += 1
            if i < end and self._key <= seq[i] < self._key + len(KEY_NAMES):
                return prefix + KEY_NAMES[seq[i] - self._key], i + 1
        if i < end and seq[i] == NULL and not prefix:
            return None, i + 1
        try:
            stop = seq.index(END_TEXT, i, end)
        except ValueError:
            self._fail(body, first, i if i < end else end - 1, "a text field without <end_text>")
        try:
            raw = bytes(token - self._byte for token in seq[i:stop])
        except ValueError:
            at = next(j for j in range(i, stop) if not 0 <= seq[j] - self._byte < 256)
            self._fail(body, first, at, "expected a byte token or <end_text>")
        try:
            return prefix + raw.decode("utf-8"), stop + 1
        except UnicodeDecodeError as error:
            self._fail(body, first, i + error.start, f"the text bytes are not UTF-8 ({error.reason})")

    def _fail(self, body, first, at, message):
        at = int(at)
        raise SchemaError(f"tokens[{first + at}] ({self.token_names()[body[at]]}): {message}")

    # -- names and persistence ---------------------------------------------------------------
    def token_names(self) -> list[str]:
        """The name of every token id, e.g. ``'kind:click'``, ``"byte:'a'"``, ``'x:17'``."""
        if self._names is None:
            # magnitude codes as (first, last) values, last None when open-ended
            spans = [(v, v) for v in range(32)] + [(e, 2 * e - 1) for e in _MAGNITUDE_EDGES[:-1].tolist()]
            spans.append((int(_MAGNITUDE_EDGES[-1]), None))

            def span(lo, hi, sign=""):
                if hi is None:
                    return f"<={sign}{lo}" if sign else f">={lo}"
                return f"{sign}{lo}" if lo == hi else f"-{hi}..-{lo}" if sign else f"{lo}..{hi}"
            counts = [span(lo, hi) for lo, hi in spans]
            times = ["0"] + [f"{e // 1000}-{2 * e // 1000}ms" for e in _TIME_EDGES_US[:-1].tolist()]
            times.append(f">={_TIME_EDGES_US[-1] // 1000}ms")
            self._names = (list(SPECIALS) + [f"kind:{k}" for k in KINDS]
                           + [f"byte:{repr(bytes([b]))[1:]}" for b in range(256)]
                           + [f"mod:{m}" for m in MODIFIERS] + [f"key:{n!r}" if len(n) == 1 else f"key:{n}"
                                                               for n in KEY_NAMES]
                           + [f"button:{b}" for b in range(BUTTONS)] + [f"count:{c}" for c in counts]
                           + [f"scroll:{span(lo, hi, '-')}" for lo, hi in spans[:0:-1]] + [f"scroll:{c}" for c in counts]
                           + [f"hesitation:{t}" for t in times] + [f"duration:{t}" for t in times]
                           + [f"x:{b}" for b in range(self.grid[0])] + [f"y:{b}" for b in range(self.grid[1])])
        return list(self._names)

    def describe(self, tokens) -> list[str]:
        """The names of ``tokens``, for reading a sequence."""
        names, tokens = self.token_names(), np.asarray(tokens).astype(np.int64).ravel()
        bad = np.flatnonzero((tokens < 0) | (tokens >= self.vocab_size))
        if len(bad):
            raise SchemaError(f"tokens[{bad[0]}]: id {tokens[bad[0]]} is outside the vocabulary")
        return [names[i] for i in tokens.tolist()]

    def to_json(self) -> str:
        """The tokenizer and its whole vocabulary, to save beside a model."""
        return json.dumps({"tokenizer": "encoder.actions.ActionTokenizer", "version": self.version,
                           "screen": list(self.screen), "grid": list(self.grid),
                           "vocab_size": self.vocab_size, "tokens": self.token_names()})

    @classmethod
    def from_json(cls, text: str) -> "ActionTokenizer":
        """The tokenizer :meth:`to_json` saved; raises :class:`~encoder.errors.UnsupportedVersionError`
        when its vocabulary is not this library's."""
        spec = json.loads(text)
        if not isinstance(spec, dict) or spec.get("tokenizer") != "encoder.actions.ActionTokenizer":
            raise SchemaError("not a saved encoder.actions.ActionTokenizer")
        if spec.get("version") != TOKENS_VERSION:
            raise UnsupportedVersionError(f"action tokenizer version {spec.get('version')!r}: this library "
                                          f"reads version {TOKENS_VERSION}")
        tokenizer = cls(screen=tuple(spec["screen"]), grid=tuple(spec["grid"]))
        if spec.get("tokens") != tokenizer.token_names():
            raise UnsupportedVersionError(f"action tokenizer version {TOKENS_VERSION}: the saved vocabulary "
                                          f"differs from this library's")
        return tokenizer
