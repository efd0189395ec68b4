"""The action tokenizer: exact round trips, stated quanta, a pinned vocabulary, clear errors."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from encoder.actions.names import CLASS_NAMES, NAMED
from encoder.actions.schema import KINDS, SCHEMA
from encoder.actions.tokens import (BOS, END_TEXT, EOS, KEY_NAMES, MODIFIERS, NULL, PAD, SEP, TIME_VALUES_US,
                                    ActionTokenizer)
from encoder.errors import LimitError, SchemaError, UnsupportedVersionError
from encoder.streams.keys import KEY_CLASSES

SCREEN = (1920, 1080)
TOKENIZER = ActionTokenizer(screen=SCREEN)
DEFAULTS = {"t": 0, "t_end": 0, "count": 1, "frame": 0, "hesitation_us": 0}


def table(*rows: dict) -> pa.Table:
    """An actions table of ``rows`` (missing columns null, non-nullable ones from DEFAULTS)."""
    return pa.Table.from_pylist([{**DEFAULTS, **row} for row in rows], schema=SCHEMA)


def round_trip(*rows: dict, tokenizer=TOKENIZER) -> pa.Table:
    decoded = tokenizer.decode(tokenizer.encode(table(*rows)))
    assert decoded.schema.equals(SCHEMA, check_metadata=True)
    return decoded


def column(decoded: pa.Table, name: str) -> list:
    return decoded.column(name).to_pylist()


# -- the vocabulary is pinned ----------------------------------------------------------------

def test_vocabulary_is_stable():
    # changing any of these changes what saved models mean: bump TOKENS_VERSION and update here
    assert TOKENIZER.version == 1
    assert (PAD, BOS, EOS, SEP, NULL, END_TEXT) == (0, 1, 2, 3, 4, 5)
    assert TOKENIZER.ranges == {
        "special": (0, 6), "kind": (6, 19), "byte": (19, 275), "mod": (275, 279), "key": (279, 486),
        "button": (486, 502), "count": (502, 546), "scroll": (546, 633), "hesitation": (633, 654),
        "duration": (654, 675), "x": (675, 803), "y": (803, 931)}
    assert TOKENIZER.vocab_size == 931
    names = TOKENIZER.token_names()
    assert {i: names[i] for i in (6, 9, 18, 116, 275, 278, 279, 339, 381, 487, 503, 534, 589, 633, 653, 675, 930)} == {
        6: "kind:focus", 9: "kind:click", 18: "kind:type", 116: "byte:'a'", 275: "mod:ctrl", 278: "mod:win",
        279: "key:'\\t'", 339: "key:'s'", 381: "key:f1", 487: "button:1", 503: "count:1", 534: "count:32..63",
        589: "scroll:0", 633: "hesitation:0", 653: "hesitation:>=524288ms", 675: "x:0", 930: "y:127"}
    digest = hashlib.sha256(json.dumps(names).encode()).hexdigest()
    assert digest[:16] == "10aea4fce8c74dd3", digest


def test_token_names_are_unique_and_cover_the_vocabulary():
    names = TOKENIZER.token_names()
    assert len(names) == len(set(names)) == TOKENIZER.vocab_size
    assert TOKENIZER.vocab_size < 2 ** 16    # fits uint16 where a model wants it


def test_grid_only_moves_the_position_tokens():
    wide = ActionTokenizer(screen=(3840, 2160), grid=(400, 200))
    assert wide.ranges["x"] == (675, 1075) and wide.ranges["y"] == (1075, 1275)
    assert wide.token_names()[:675] == TOKENIZER.token_names()[:675]


def test_encode_golden_sequence():
    tokens = TOKENIZER.encode(table(
        {"kind": "drag", "x": 0, "y": 0, "x2": 1919, "y2": 1079, "button": 1, "t_end": 300_000},
        {"kind": "scroll", "x": 960, "y": 540, "dx": 0, "dy": -3, "count": 3, "hesitation_us": 999}))
    assert tokens.dtype == np.int32
    assert tokens.tolist() == [1, 14, 633, 663, 675, 803, 802, 930, 487, 503, 3,
                               15, 633, 654, 739, 867, 589, 586, 505, 3, 2]


# -- exact round trips -----------------------------------------------------------------------

def test_every_kind_round_trips():
    decoded = round_trip(*({"kind": kind} for kind in KINDS))
    assert column(decoded, "kind") == list(KINDS)


def test_empty_table_and_empty_sequences():
    assert TOKENIZER.encode(SCHEMA.empty_table()).tolist() == [BOS, EOS]
    for tokens in ([], [BOS, EOS], [BOS], [BOS, EOS, PAD, PAD], np.zeros(0, np.uint16)):
        assert TOKENIZER.decode(tokens).num_rows == 0


texts = st.one_of(st.none(), st.text(), st.text(st.characters(min_codepoint=0x10000), max_size=5))


@given(texts, texts, texts)
@example("", None, "")
@example("𝄞 naïve\x00\n", "", None)
def test_texts_round_trip(typed, title, app):
    decoded = round_trip({"kind": "type", "text": typed, "count": 7}, {"kind": "command", "text": typed},
                         {"kind": "focus", "text": title, "app": app})
    assert column(decoded, "text") == [typed, typed, title]
    # the app column is the latest focus action's app
    assert column(decoded, "app") == [None, None, app]


def test_null_and_empty_text_are_different_tokens():
    null, empty = (TOKENIZER.encode(table({"kind": "type", "text": text})).tolist() for text in (None, ""))
    assert null[4] == NULL and empty[4] == END_TEXT and len(null) == len(empty)


@pytest.mark.parametrize("name", sorted(set(KEY_NAMES) | set(NAMED.values()) | set(CLASS_NAMES.values())))
def test_named_keys_are_one_token(name):
    assert name in KEY_NAMES    # every name derive writes is in the fixed table
    tokens = TOKENIZER.encode(table({"kind": "key", "text": name}, {"kind": "hotkey", "text": "ctrl+" + name}))
    assert TOKENIZER.describe(tokens).count("key:" + (repr(name) if len(name) == 1 else name)) == 2
    assert len(tokens) == 2 + (3 + 1 + 1 + 1) + (3 + 2 + 1 + 1)
    assert column(TOKENIZER.decode(tokens), "text") == [name, "ctrl+" + name]


def test_class_names_are_in_the_table():
    assert {f"<{name}>" for name in KEY_CLASSES.values()} <= set(KEY_NAMES)


@pytest.mark.parametrize("hotkey, names", [
    ("ctrl+s", ["mod:ctrl", "key:'s'"]), ("ctrl+shift+t", ["mod:ctrl", "mod:shift", "key:'t'"]),
    ("alt+f4", ["mod:alt", "key:f4"]), ("win+e", ["mod:win", "key:'e'"]), ("shift+tab", ["mod:shift", "key:tab"]),
    ("ctrl++", ["mod:ctrl", "key:'+'"]),
    ("ctrl+alt+shift+win+delete", [f"mod:{m}" for m in MODIFIERS] + ["key:delete"]),
    ("shift+ctrl+a", ["mod:shift", "mod:ctrl", "key:'a'"]),   # written order kept, so any text round trips
])
def test_hotkeys_are_modifier_tokens_then_a_key(hotkey, names):
    tokens = TOKENIZER.encode(table({"kind": "hotkey", "text": hotkey, "count": 2}))
    assert TOKENIZER.describe(tokens)[4:-3] == names
    assert column(TOKENIZER.decode(tokens), "text") == [hotkey]


@pytest.mark.parametrize("kind, name", [("key", "ключ"), ("key", "<class>"), ("key", "Enter"), ("key", ""),
                                        ("key", None), ("hotkey", "ctrl+é"), ("hotkey", "ctrl+"),
                                        ("hotkey", "ctrl"), ("hotkey", "+"), ("hotkey", None), ("key", "ctrl+s")])
def test_names_outside_the_table_fall_back_to_bytes(kind, name):
    tokens = TOKENIZER.encode(table({"kind": kind, "text": name}))
    if name not in (None, "ctrl", "+"):    # those are names of the table
        assert END_TEXT in tokens.tolist()
    assert column(TOKENIZER.decode(tokens), "text") == [name]


@given(st.lists(st.sampled_from(MODIFIERS), max_size=5), st.text(max_size=8), st.sampled_from(["key", "hotkey"]))
def test_any_key_text_round_trips(mods, rest, kind):
    text = "".join(m + "+" for m in mods) + rest
    assert column(round_trip({"kind": kind, "text": text}), "text") == [text]


@given(st.lists(st.sampled_from(KINDS), max_size=20), st.randoms(use_true_random=False))
def test_numeric_fields_round_trip(kinds, random):
    rows = [{"kind": k, "x": random.randrange(1920), "y": random.randrange(1080), "x2": random.randrange(1920),
             "y2": random.randrange(1080), "button": random.randrange(16), "count": random.randrange(32),
             "dx": random.randrange(-31, 32), "dy": random.randrange(-31, 32)} for k in kinds]
    decoded = round_trip(*rows)
    for name, has in (("button", ("click", "drag")), ("count", ("click", "drag", "scroll", "key", "type")),
                      ("dx", ("scroll",)), ("dy", ("scroll",))):
        want = [r[name] if any(h in r["kind"] for h in has) else None for r in rows]
        if name == "count":
            want = [0 if w is None else w for w in want]    # kinds without a count decode to 0
        assert column(decoded, name) == want, name
    assert [x is None for x in column(decoded, "x2")] == [r["kind"] != "drag" for r in rows]


def test_null_fields_round_trip():
    decoded = round_trip({"kind": "click"}, {"kind": "scroll", "x": 5}, {"kind": "drag", "x2": 7})
    assert column(decoded, "x") == [None, 7, None] and column(decoded, "x2") == [None, None, 7]    # bin 0: 0-14
    assert column(decoded, "dx") == [None, None, None] and column(decoded, "button") == [None] * 3


# -- quanta ----------------------------------------------------------------------------------

@pytest.mark.parametrize("screen, grid", [((1920, 1080), 128), ((1920, 1080), 100), ((3840, 2160), (384, 216)),
                                          ((1366, 768), 1366 // 2), ((1024, 768), (1024, 768)), ((101, 333), 100)])
def test_positions_within_one_step(screen, grid):
    tokenizer = ActionTokenizer(screen=screen, grid=grid)
    for axis, (size, bins) in enumerate(zip(screen, tokenizer.grid)):
        assert size / bins <= size / 100    # a step is at most 1 % of the screen
        v = np.arange(size)
        rows = [{"kind": "drag", "x": int(p), "y": 0, "x2": int(p), "y2": 0} if axis == 0 else
                {"kind": "drag", "x": 0, "y": int(p), "x2": 0, "y2": int(p)} for p in v]
        decoded = round_trip(*rows, tokenizer=tokenizer)
        got = np.array(column(decoded, "xy"[axis]))
        assert np.array_equal(got, column(decoded, "xy"[axis] + "2"))
        assert np.abs(got - v).max() <= size / bins    # within one step ...
        assert np.abs(got - v).max() <= size / bins / 2 + 1    # ... in fact half a step and rounding
        # decoding gives the middle pixel of each bin: encoding it again gives the same bin
        again = tokenizer.encode(round_trip(*rows, tokenizer=tokenizer))
        assert np.array_equal(again, tokenizer.encode(table(*rows)))
        assert len(np.unique(got)) == bins and np.all(np.diff(got) >= 0)    # every bin used, in order


def test_out_of_screen_points_clamp_to_the_edge():
    decoded = round_trip({"kind": "move", "x": -500, "y": 5000}, {"kind": "move", "x": 2**31 - 1, "y": -(2**31)},
                         {"kind": "move", "x": 0, "y": 1079}, {"kind": "move", "x": 1919, "y": 0})
    x, y = column(decoded, "x"), column(decoded, "y")
    assert x[0] == x[2] and y[0] == y[2] and x[1] == x[3] and y[1] == y[3]
    assert 0 <= x[0] < 15 and 1919 - 15 < x[1] <= 1919


def time_bucket(us: int) -> tuple[int, float]:
    """The stated bucket of a time: [0, 1 ms), [2^(k-1), 2^k) ms for k = 1..19, >= 2^19 ms."""
    if us < 1000:
        return 0, 1000
    k = min(int(us // 1000).bit_length(), 20)
    return 1000 * 2 ** (k - 1), (1000 * 2 ** k if k < 20 else float("inf"))


@given(st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**40)), min_size=1, max_size=20))
@example([(0, 999), (1000, 1999), (2000, 524_287_999), (524_288_000, 2**62)])
def test_times_within_their_log_bucket(times):
    t, rows = 0, []
    for hesitation, duration in times:
        rows.append({"kind": "key", "t": t + hesitation, "t_end": t + hesitation + duration,
                     "hesitation_us": hesitation})
        t += hesitation + duration
    decoded = round_trip(*rows)
    got_h = column(decoded, "hesitation_us")
    got_d = np.subtract(column(decoded, "t_end"), column(decoded, "t")).tolist()
    for (hesitation, duration), h, d in zip(times, got_h, got_d):
        assert time_bucket(hesitation)[0] <= h < time_bucket(hesitation)[1]
        assert time_bucket(duration)[0] <= d < time_bucket(duration)[1]
    # times are rebuilt: each action starts its hesitation after the previous one's end
    assert column(decoded, "t")[0] == got_h[0]
    assert np.array_equal(np.array(column(decoded, "t"))[1:], np.array(column(decoded, "t_end"))[:-1] + got_h[1:])


def test_time_buckets_monotonic_and_covering():
    edges = 1000 * 2 ** np.arange(21)
    us = np.unique(np.concatenate([[0, 1, 999, 1000, 10**13], edges, edges - 1]))
    tokens = TOKENIZER.encode(table(*({"kind": "move", "hesitation_us": int(v), "t_end": int(v)} for v in us)))
    hes = tokens[2::6][:len(us)]
    lo, hi = TOKENIZER.ranges["hesitation"]
    assert np.all(np.diff(hes) >= 0) and set(hes.tolist()) == set(range(lo, hi))    # every bin, in order
    assert np.all(np.diff(TIME_VALUES_US) > 0) and TIME_VALUES_US[0] == 0


def test_negative_gaps_clamp_to_zero():
    decoded = round_trip({"kind": "move", "t": 10, "t_end": 5, "hesitation_us": -3})
    assert column(decoded, "hesitation_us") == [0] and column(decoded, "t") == column(decoded, "t_end")


@pytest.mark.parametrize("value", [32, 33, 63, 64, 100, 1000, 65535, 65536, 2**31 - 1])
def test_large_counts_and_scroll_amounts_within_their_bucket(value):
    decoded = round_trip({"kind": "scroll", "count": value, "dx": -value, "dy": value})
    (count,), (dx,), (dy,) = (column(decoded, c) for c in ("count", "dx", "dy"))
    e = min(value.bit_length() - 1, 16)
    assert count == dy == -dx and (2**e <= count < 2 ** (e + 1) or (e == 16 and count >= 2**16))


def test_large_buttons_clamp_and_negative_counts_are_zero():
    decoded = round_trip({"kind": "click", "button": 200, "count": -4})
    assert column(decoded, "button") == [15] and column(decoded, "count") == [0]


def test_columns_not_carried():
    decoded = round_trip({"kind": "move", "x": 3, "y": 4, "count": 9, "frame": 12, "move_us": 5, "app": "a"},
                         {"kind": "focus", "text": "~", "app": "xterm", "frame": 13},
                         {"kind": "drag", "path_x": [1, 2], "path_y": [3, 4], "app": "xterm"})
    assert column(decoded, "frame") == [-1] * 3 and column(decoded, "count") == [0, 0, 1]
    assert column(decoded, "app") == [None, "xterm", "xterm"]
    for name in ("move_us", "move_px", "straightness", "fitts_id", "dwell_us", "flight_us", "keys_per_s",
                 "path_x", "path_y"):
        assert decoded.column(name).null_count == 3, name


def test_chunked_and_sliced_tables():
    rows = [{"kind": "type", "text": f"word {i} é"} for i in range(6)] + [{"kind": "hotkey", "text": "ctrl+c"}]
    whole = table(*rows)
    chunked = pa.concat_tables([whole.slice(0, 3), whole.slice(3)])
    assert np.array_equal(TOKENIZER.encode(chunked), TOKENIZER.encode(whole))
    sliced = TOKENIZER.decode(TOKENIZER.encode(whole.slice(2, 3)))
    assert column(sliced, "text") == ["word 2 é", "word 3 é", "word 4 é"]


# -- persistence, construction, errors -------------------------------------------------------

def test_json_round_trip():
    for tokenizer in (TOKENIZER, ActionTokenizer(screen=(2560, 1440), grid=(256, 144))):
        saved = tokenizer.to_json()
        again = ActionTokenizer.from_json(saved)
        assert again == tokenizer and again.to_json() == saved and again.vocab_size == tokenizer.vocab_size
        assert json.loads(saved)["tokens"] == tokenizer.token_names()


def test_json_of_another_vocabulary_is_refused():
    spec = json.loads(TOKENIZER.to_json())
    with pytest.raises(UnsupportedVersionError, match="version 2"):
        ActionTokenizer.from_json(json.dumps({**spec, "version": 2}))
    with pytest.raises(SchemaError, match="not a saved"):
        ActionTokenizer.from_json("[]")
    spec["tokens"][300] = "key:renamed"
    with pytest.raises(UnsupportedVersionError, match="differs"):
        ActionTokenizer.from_json(json.dumps(spec))


@pytest.mark.parametrize("screen, grid", [((1920, 1080), 99), ((1920, 1080), (128, 1081)), ((50, 50), 100),
                                          ((1920,), 128)])
def test_grids_coarser_than_one_percent_or_finer_than_a_pixel_are_refused(screen, grid):
    with pytest.raises(LimitError):
        ActionTokenizer(screen=screen, grid=grid)


def test_encode_refuses_other_tables():
    with pytest.raises(SchemaError):
        TOKENIZER.encode(pa.table({"kind": ["click"]}))
    with pytest.raises(SchemaError, match="'wave'"):
        TOKENIZER.encode(table({"kind": "click"}, {"kind": "wave"}))


def _body(*names: str) -> list[int]:
    ids = {name: i for i, name in enumerate(TOKENIZER.token_names())}
    return [ids[n] for n in names]


CLICK = ("kind:click", "hesitation:0", "duration:0", "x:1", "y:2", "button:1", "count:1")


@pytest.mark.parametrize("tokens, message", [
    ([BOS, 931, EOS], r"tokens\[1\]: id 931 is outside the vocabulary"),
    ([BOS, -1], "outside the vocabulary"),
    (_body(*CLICK), "not closed by <sep>"),
    (_body(*CLICK, "<sep>", "<bos>"), "special token"),
    (_body(*CLICK[:6], "<sep>"), r"'click' action has 4 field tokens"),
    (_body(*CLICK[:5], "<null>", "count:1", "x:1", "<sep>"), "'click' action has 4 field tokens"),
    (_body("x:1", "hesitation:0", "duration:0", "<sep>"), r"tokens\[0\] \(x:1\): expected a token of kind"),
    (_body("kind:move", "duration:0", "duration:0", "x:1", "y:1", "<sep>"), "expected a token of hesitation"),
    (_body("kind:move", "hesitation:0", "duration:0", "y:1", "y:1", "<sep>"),
     r"tokens\[3\] \(y:1\): expected a token of x"),
    (_body("kind:click", "hesitation:0", "duration:0", "x:1", "y:2", "button:1", "<null>", "<sep>"), "count"),
    (_body("kind:move", "hesitation:0", "<sep>"), "needs kind, hesitation and duration"),
    (_body("kind:type", "hesitation:0", "duration:0", "byte:'a'", "count:1", "<sep>"), "without <end_text>"),
    (_body("kind:type", "hesitation:0", "duration:0", "byte:'\\xff'", "<end_text>", "count:1", "<sep>"), "not UTF-8"),
    (_body("kind:type", "hesitation:0", "duration:0", "byte:'a'", "x:1", "<end_text>", "count:1", "<sep>"),
     "expected a byte token"),
    (_body("kind:type", "hesitation:0", "duration:0", "<null>", "<null>", "count:1", "<sep>"), "after its text"),
    (_body("kind:key", "hesitation:0", "duration:0", "mod:ctrl", "key:'s'", "count:1", "<sep>"), "without <end_text>"),
    (_body("kind:hotkey", "hesitation:0", "duration:0", "mod:ctrl", "<null>", "count:1", "<sep>"),
     "without <end_text>"),
    (_body("kind:focus", "hesitation:0", "duration:0", "<end_text>", "<sep>"), "without <end_text>"),
])
def test_bad_tokens_raise_schema_error(tokens, message):
    with pytest.raises(SchemaError, match=message):
        TOKENIZER.decode(np.array(tokens))


def test_decode_refuses_non_integer_arrays():
    with pytest.raises(SchemaError, match="1-D array of integers"):
        TOKENIZER.decode(np.ones((2, 2), np.int32))
    with pytest.raises(SchemaError):
        TOKENIZER.decode(np.array([1.0, 2.0]))


def test_describe():
    assert TOKENIZER.describe([BOS, SEP, EOS, PAD]) == ["<bos>", "<sep>", "<eos>", "<pad>"]
    with pytest.raises(SchemaError):
        TOKENIZER.describe([TOKENIZER.vocab_size])


def test_decode_accepts_uint16_and_padding():
    tokens = TOKENIZER.encode(table({"kind": "type", "text": "hi"}))
    padded = np.concatenate([tokens, [PAD] * 3]).astype(np.uint16)
    assert column(TOKENIZER.decode(padded), "text") == ["hi"]
    assert column(TOKENIZER.decode(tokens[1:-1]), "text") == ["hi"]    # without <bos>, <eos>
