"""Fixtures shared by the capture tests: a recorder run with scripted sources, and its shards read back."""
from __future__ import annotations

import pytest

import encoder
from encoder.capture import KEY, Policy, Recorder
from encoder.capture.sources.fake import FakeInput, FakeScreen, FakeWindows


def _rows(reader, stream):
    return reader.read(stream).to_pylist() if stream in reader.streams else []


def _markers(reader, kind=None):
    return [m for m in _rows(reader, "marker") if kind is None or m["kind"] == kind]


def _keystrokes(t0, text="hi", step=10_000):
    events = []
    for i, ch in enumerate(text):
        t = t0 + i * step
        events += [(KEY, t, ord(ch), True, 0, ch), (KEY, t + step // 2, ord(ch), False, 0, None)]
    return events


@pytest.fixture
def rows():
    """``rows(reader, stream)``: the stream's rows as dicts (none when the shard lacks it)."""
    return _rows


@pytest.fixture
def markers():
    """``markers(reader, kind=None)``: the marker rows, of one ``kind`` or all."""
    return _markers


@pytest.fixture
def keystrokes():
    """``keystrokes(t0, text="hi", step=10_000)``: key press and release events typing ``text``."""
    return _keystrokes


@pytest.fixture
def record(tmp_path):
    """``record(script, policy=None, **options)``: run ``script(inp, win, scr, rec)`` inside a
    recorder with scripted sources (policy ``keys="full"`` by default); returns
    ``(recorder, readers of its shards)``."""
    def run(script, policy=None, **options):
        inp, win, scr = FakeInput(), FakeWindows(), FakeScreen()
        options.setdefault("stats_seconds", 3600)
        rec = Recorder(tmp_path / "out", sources=[win, inp, scr], policy=policy or Policy(keys="full"), **options)
        rec.start()
        try:
            script(inp, win, scr, rec)
        finally:
            rec.stop()
        return rec, [encoder.ShardReader(p) for p in rec.shards]
    return run
