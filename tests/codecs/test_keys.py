"""The key stream's context codecs: dwell pairing of t, predicted text."""
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import encoder
from encoder._keys import pair_join, pair_rows, pair_split
from encoder.codecs import decode_column, encode_column
from encoder.codecs import reference

from common import assert_same_stream


@given(st.lists(st.tuples(st.sampled_from([0, 5, 65, 2**32 - 1, 0xFF0D, 17]), st.booleans()), max_size=300))
def test_native_pairing_equals_reference(rows):
    code = np.array([r[0] for r in rows], np.uint32)
    pressed = np.array([r[1] for r in rows], bool)
    assert np.array_equal(pair_rows(code, pressed), reference.pair_rows(code, pressed))
    t = np.random.default_rng(len(rows)).integers(-2**63, 2**63 - 1, len(rows), dtype=np.int64)
    anchors, dwells = pair_split(t, code, pressed)
    want = reference.pair_split(t, code, pressed)
    assert np.array_equal(anchors, want[0]) and np.array_equal(dwells, want[1])
    for join in (pair_join, reference.pair_join):
        out = np.empty(len(rows), np.int64)
        assert join(code, pressed, anchors, dwells, out) == 0 and np.array_equal(out, t)
        if len(rows):
            short = (anchors[1:], dwells) if len(anchors) else (anchors, dwells[1:])
            assert join(code, pressed, *short, out) == reference.PAIR_COUNTS


def test_pairing_rules():
    # a down, auto-repeat down, its up; an up with no down; interleaved keys (rollover)
    code = np.array([7, 7, 7, 1, 2**32 - 1, 3, 2**32 - 1, 3], np.uint32)
    pressed = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    assert pair_rows(code, pressed).tolist() == [-1, -1, 1, -1, -1, -1, 4, 5]
    with pytest.raises(ValueError):
        pair_rows(np.array([5, 6], np.uint32), np.array([True]))


def typing(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0x61, 0x7B, n // 2).astype(np.uint32)
    down = np.cumsum(rng.integers(80_000, 400_000, n // 2))
    up = down + rng.integers(40_000, 160_000, n // 2)  # rollover: ups often after the next down
    t = np.concatenate([down, up])
    order = np.argsort(t, kind="stable")
    code = np.concatenate([codes, codes])[order]
    pressed = np.concatenate([np.ones(n // 2, bool), np.zeros(n // 2, bool)])[order]
    mods = (rng.random(n) < 0.1).astype(np.uint16)
    text = [chr(c).upper() if m else chr(c) if p else None for c, m, p in zip(code, mods, pressed)]
    text[7] = "typo"  # a misprediction
    return {"t": t[order], "code": code, "pressed": pressed, "modifiers": mods, "text": pa.array(text, pa.string())}


def test_key_stream_uses_context_codecs_and_roundtrips():
    keys = typing()
    data = encoder.encode({"key": keys})
    r = encoder.ShardReader(data)
    assert_same_stream("key", r.read("key"), keys)
    # projection of t alone still decodes its context (code, pressed)
    assert np.array_equal(r.read("key", ["t"]).column("t").to_numpy(), keys["t"])
    assert r.read("key", ["text"]).column("text").combine_chunks().equals(keys["text"])
    ts = r.read("key", start_us=int(keys["t"][1000]), end_us=int(keys["t"][3000]))
    assert np.array_equal(ts.column("t").to_numpy(), keys["t"][1000:3000])
    # both levers pay: the dwell/predicted forms are smaller than the plain codecs
    context = {k: keys[k] for k in ("code", "pressed", "modifiers")}
    for name, kind, gain in (("t", "int64", 0.99), ("text", "string", 0.5)):
        special = encode_column(kind, keys[name], "key", name, context)
        plain = encode_column(kind, keys[name])
        import zstandard
        size = lambda coded: sum(len(zstandard.compress(bytes(memoryview(s).cast("B")), 1)) for s in coded[1])
        assert size(special) < gain * size(plain), name


def test_context_codec_params_are_checked():
    keys = typing(200)
    context = {k: keys[k] for k in ("code", "pressed", "modifiers")}
    params, sections = encode_column("int64", keys["t"], "key", "t", context)
    sections = [bytes(memoryview(s).cast("B")) for s in sections]
    assert np.array_equal(decode_column("int64", params, sections, 200, context), keys["t"])
    for bad, words in (({**params, "ctx": ["x"]}, "lists context"), (params, "needs context")):
        with pytest.raises(encoder.CorruptShardError, match=words):
            decode_column("int64", bad, sections, 200, None if bad is params else context)
    with pytest.raises(encoder.CorruptShardError, match="cannot hold"):
        decode_column("string", params, sections, 200, context)
    tp, ts = encode_column("string", keys["text"], "key", "text", context)
    ts = [bytes(memoryview(s).cast("B")) for s in ts]
    other = dict(context, code=context["code"] + 1)  # contexts missing from the table
    with pytest.raises(encoder.CorruptShardError, match="context table"):
        decode_column("string", tp, ts, 200, other)
