"""Properties of derived actions on random small sessions, and native == reference on them.

The sessions are dense on purpose: a coarse time grid (ties between streams), a small screen
(clicks, drags and hovers all happen), a pool of keys that hits every key rule.
"""
import math

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import encoder.actions
from actions.scenario import backend  # noqa: F401  (fixture)
from encoder.actions.schema import KIND_RANK, KINDS, POINTER_KINDS, SCHEMA
from encoder.streams.keys import CONTROL, LOCK, MOD1, MOD4, MOD5, SHIFT

KEY_CODES = [0x61, 0x62, 0x41, 0x20, 0xff80, 0xff08, 0xff0d, 0xff09, 0xfe20, 0xff54, 0xffc1, 0xffff, 0xfe52,
             0xffe1, 0xffe3, 0xffe9, 0xffeb, 0xfe03, 0xffe5, 1, 3, 5, 7, 8, 12, 6, 15]
MODIFIERS = [0, 0, 0, SHIFT, CONTROL, MOD1, MOD4, CONTROL | SHIFT, LOCK, MOD5]
FLOATS = ("move_px", "straightness", "fitts_id", "keys_per_s")

times = st.integers(0, 80).map(lambda k: k * 50_000)   # 4 s on a 50 ms grid
coords = st.integers(0, 60)


def _columns(names, rows):
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


@st.composite
def sessions(draw) -> dict:
    """A dict source for ``derive`` with every input stream and frames of two screens."""
    def rows(*elements, max_size=25):
        return draw(st.lists(st.tuples(*elements), max_size=max_size))

    return {
        "pointer": _columns(("t", "x", "y"), rows(times, coords, coords, max_size=40)),
        "button": _columns(("t", "button", "pressed", "x", "y"),
                           rows(times, st.sampled_from([1, 1, 1, 2, 3, 4, 8]), st.booleans(), coords, coords)),
        "scroll": _columns(("t", "dx", "dy", "x", "y"),
                           rows(times, st.integers(-2, 2), st.integers(-2, 2), coords, coords, max_size=10)),
        "key": _columns(("t", "code", "pressed", "modifiers", "text"),
                        rows(times, st.sampled_from(KEY_CODES), st.booleans(), st.sampled_from(MODIFIERS),
                             st.sampled_from([None, None, None, "", "x", "é"]), max_size=40)),
        "focus": _columns(("t", "window", "app", "title"),
                          rows(times, st.integers(1, 3), st.sampled_from(["xterm", "gimp"]),
                               st.sampled_from([None, "a", "b"]), max_size=6)),
        "command": _columns(("t", "text"), rows(times, st.sampled_from([None, "ls"]), max_size=4)),
        "frame": _columns(("t", "screen"), rows(times, st.integers(0, 1), max_size=10)),
    }


def frames_of(session, screen=0) -> int:
    return sum(1 for s in session["frame"]["screen"] if s == screen)


@settings(deadline=None)
@given(sessions())
def test_reference_invariants(session):
    table = encoder.actions.derive(session, backend="reference")
    assert table.schema == SCHEMA
    rows = table.to_pylist()
    keys = [(r["t"], KIND_RANK[r["kind"]]) for r in rows]
    assert keys == sorted(keys)
    n_frames = frames_of(session)
    for r in rows:
        assert r["kind"] in KINDS
        assert r["t"] <= r["t_end"]
        assert -1 <= r["frame"] < n_frames
        assert r["hesitation_us"] >= 0 and r["count"] >= 1
        if r["kind"] in POINTER_KINDS:
            assert r["move_us"] >= 0 and r["move_px"] >= 0 and r["fitts_id"] >= 0
            assert 0 <= r["straightness"] <= 1 + 1e-6
    assert encoder.actions.derive(session, backend="reference").equals(table)


def assert_same_actions(got: pa.Table, want: pa.Table) -> None:
    """Equal tables, floats to a relative 1e-6 (the kernels may round float64 differently)."""
    assert got.schema == want.schema
    got_rows, want_rows = got.to_pylist(), want.to_pylist()
    assert [(r["t"], r["kind"]) for r in got_rows] == [(r["t"], r["kind"]) for r in want_rows]
    for g, w in zip(got_rows, want_rows):
        for name in FLOATS:
            if w[name] is None or g[name] is None:
                assert g[name] == w[name], (name, g, w)
            else:
                assert math.isclose(g[name], w[name], rel_tol=1e-6, abs_tol=1e-9), (name, g, w)
        rest = [name for name in w if name not in FLOATS]
        assert {n: g[n] for n in rest} == {n: w[n] for n in rest}, (g, w)


# Hypothesis's failure report imports a module that warns: keep the report readable.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the fixture is a name
@given(session=sessions(), screen=st.integers(0, 1))
def test_backend_matches_reference(backend, session, screen):
    want = encoder.actions.derive(session, backend="reference", screen=screen)
    got = encoder.actions.derive(session, backend=backend, screen=screen)
    assert_same_actions(got, want)


@pytest.mark.parametrize("seed", [1, 2])
def test_backend_matches_reference_on_a_synthetic_session(backend, seed):
    from encoder.testing.synthetic import generate_session
    session = generate_session(120, seed=seed)
    assert_same_actions(encoder.actions.derive(session, backend=backend),
                        encoder.actions.derive(session, backend="reference"))
