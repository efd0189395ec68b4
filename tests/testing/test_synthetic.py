"""The synthetic session (encoder.testing.synthetic): deterministic, valid, plausible, and round-trips
exactly."""
from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

import encoder
from encoder.testing import synthetic
from encoder.streams import STREAMS, validate

SECONDS = 120
XK_SHIFT_L = 0xFFE1


@pytest.fixture(scope="module")
def session():
    return synthetic.generate_session(SECONDS, seed=0)


def _tables_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)


def test_same_seed_same_session():
    a = synthetic.to_tables(synthetic.generate_session(30, seed=5))
    b = synthetic.to_tables(synthetic.generate_session(30, seed=5))
    c = synthetic.to_tables(synthetic.generate_session(30, seed=6))
    assert _tables_equal(a, b)
    assert not a["pointer"].equals(c["pointer"])


def test_streams_follow_their_schemas(session):
    assert set(session) == {"pointer", "button", "scroll", "key", "focus", "command", "marker"}
    for name, columns in session.items():
        spec = STREAMS[name]
        assert list(columns) == [c.name for c in spec.columns], name
        for col in spec.columns:
            values = columns[col.name]
            assert values.ndim == 1 and len(values) == len(columns["t"])
            if col.kind not in ("string", "binary"):
                assert values.dtype == encoder.streams.schema.KINDS[col.kind][0], (name, col.name)
        validate(spec, columns)  # raises SchemaError on any mismatch
    for name, table in synthetic.to_tables(session).items():
        assert table.schema == STREAMS[name].arrow_schema
        assert table.num_rows > 0, f"stream {name!r} is empty in a {SECONDS} s session"


def test_rows_lie_within_the_session(session):
    start, end = synthetic.T0_US, synthetic.T0_US + SECONDS * 1_000_000
    for name, columns in session.items():
        t = columns["t"]
        assert t.min() >= start and t.max() <= end, name
    marker = session["marker"]
    assert list(marker["kind"]) == ["recorder.start", "recorder.stats"]
    assert marker["t"][0] == start
    span = max(c["t"].max() for c in session.values()) - start
    assert span > 0.85 * SECONDS * 1e6  # the session fills its length


def test_pointer_is_plausible(session):
    p = session["pointer"]
    t, x, y = p["t"], p["x"], p["y"]
    assert (t % 1000 == 0).all()  # the X server's millisecond clock, in µs
    d = np.diff(t)
    moving = d[(d >= 0) & (d < 50_000)]
    assert 7_000 <= np.median(moving) <= 9_000  # ~125 Hz while moving
    assert (d == 0).sum() >= 3  # equal timestamps occur ...
    assert 1 <= (d < 0).sum() <= 0.01 * len(d)  # ... and a few out-of-order ones
    assert (d > 1_000_000).sum() >= 3  # pauses without any event
    sentinel = (x == synthetic.SENTINEL) & (y == synthetic.SENTINEL)
    assert 1 <= sentinel.sum() <= 2
    x0, y0, x1, y1 = synthetic.DESKTOP
    assert ((x[~sentinel] >= x0) & (x[~sentinel] < x1)).all()
    assert ((y[~sentinel] >= y0) & (y[~sentinel] < y1)).all()
    assert (x < 0).sum() > 50  # the second monitor lies left of the primary one
    assert (x[~sentinel] >= 0).sum() > 50
    steps = np.hypot(np.diff(x[~sentinel].astype(float)), np.diff(y[~sentinel].astype(float)))
    assert (steps > 0).all()  # events only when the pixel changes
    assert 1500 <= len(t) <= 20_000


def test_keys_pair_up_with_realistic_timing(session):
    k = session["key"]
    t, code, pressed, mods, text = k["t"], k["code"], k["pressed"], k["modifiers"], k["text"]
    assert (t % 1000 == 0).all() and (np.diff(t) >= 0).all()
    down, dwell, shift_held = {}, [], False
    for i in range(len(t)):
        if code[i] == XK_SHIFT_L:
            shift_held = bool(pressed[i])
        if pressed[i]:
            assert code[i] not in down, f"row {i}: key {code[i]:#x} pressed twice"
            down[code[i]] = t[i]
            if 0x20 <= code[i] < 0x7F and mods[i] & 4:  # Control+letter: a control character
                assert text[i] == chr(code[i] & 0x1F), i
            elif 0x20 <= code[i] < 0x7F:  # printable: the character is the keysym
                assert text[i] == chr(code[i]), i
                assert bool(mods[i] & 1) == shift_held, f"row {i}: shift state {mods[i]}"
        else:
            assert text[i] is None, f"row {i}: key-up with text"
            if code[i] != XK_SHIFT_L and code[i] < 0xFF00:
                dwell.append(t[i] - down[code[i]])
            del down[code[i]]
    assert not down, "every key-down has its key-up"
    assert 80_000 <= np.median(dwell) <= 120_000
    downs = np.diff(t[pressed])
    assert 100_000 <= np.median(downs) <= 300_000  # ~4-10 keys/s while typing
    assert any(s is not None and s.isupper() for s in text)  # shifted keys occur
    assert 150 <= pressed.sum() <= 2000


def test_buttons_scroll_focus_commands(session):
    b = session["button"]
    for button in np.unique(b["button"]):
        states = b["pressed"][b["button"] == button]
        assert states[0] and (states[::2]).all() and not states[1::2].any()  # press, release, ...
    assert set(np.unique(b["button"])) <= {1, 2, 3}
    s = session["scroll"]
    assert (s["dy"] != 0).all() and (s["dx"] == 0).all()
    assert (np.abs(s["dy"][~s["precise"]]) == 1).all()  # wheel notches
    f = session["focus"]
    assert set(f["app"]) <= {"xterm", "firefox", "code"} and len(set(f["app"])) >= 2
    assert all(isinstance(v, str) and v for v in f["title"])
    for app in set(f["app"]):
        assert len(set(f["window"][f["app"] == app])) == 1  # one window per app
    assert (f["x"][f["app"] == "code"] < 0).all()  # the editor is on the second monitor
    c = session["command"]
    assert "shell" in set(c["kind"]) and all(c["text"])


def test_round_trip_is_exact(session):
    tables = synthetic.to_tables(session)
    decoded = encoder.decode(encoder.encode(tables, metadata=synthetic.session_metadata()))
    assert _tables_equal(tables, decoded)


@pytest.mark.parametrize("seconds", [0.5, 3])
def test_short_sessions_still_encode(seconds):
    tables = synthetic.to_tables(synthetic.generate_session(seconds, seed=1))
    assert {"marker", "focus"} <= {n for n, t in tables.items() if t.num_rows}
    assert _tables_equal(tables, encoder.decode(encoder.encode(tables)))


def test_seconds_must_be_positive():
    with pytest.raises(ValueError):
        synthetic.generate_session(0)


def test_write_sample_has_session_metadata(tmp_path):
    path = tmp_path / "s.enc"
    size = synthetic.write_sample(path, seconds=20, seed=3)
    assert size == os.path.getsize(path)
    with encoder.ShardReader(path) as reader:
        meta = reader.metadata
        assert meta["recorder"]["name"] == "encoder.testing.synthetic"
        assert meta["privacy"]["policy"] == "full"
        assert meta["clock"]["t0_us"] == synthetic.T0_US and meta["clock"]["unix_us_at_t0"] > 0
        assert len(meta["screens"]) == 2 and min(s["x"] for s in meta["screens"]) < 0
        reader.verify()
        expected = synthetic.to_tables(synthetic.generate_session(20, seed=3))
        assert _tables_equal(expected, {n: reader.read(n) for n in reader.streams})


def test_to_tables_keeps_nulls(session):
    key = synthetic.to_tables(session)["key"]
    text = key.column("text")
    assert text.null_count == int((~session["key"]["pressed"]).sum()) + int(
        sum(1 for v, p in zip(session["key"]["text"], session["key"]["pressed"]) if p and v is None))
    assert text.type == pa.string()
