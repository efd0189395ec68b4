"""Deriving actions (:func:`encoder.actions.derive`) beside merely reading the streams, one core.

Workloads, each one long recording of real or realistic input:

* ``balabit``: the 19 Balabit mouse sessions (pointer, button, scroll: 356,552 events), one
  after the other on one clock (each session's times offset past the previous one's end);
* ``aalto``: the Aalto keystroke sections (221,314 key events), likewise;
* ``synthetic``: an hour of :func:`encoder.testing.synthetic.generate_session` (every input
  stream, focus and commands).

For each: ``read`` = open the shard and gather the input streams (what any reader of the
streams pays), ``derive`` = the derivation on the gathered streams (the kernels), ``total`` =
``derive(reader)``. ``extra_info`` holds raw events and M events/s; the only assertion compares
the derivation with the read measured in the same run. The issue's target: >= 5 M raw events/s
on one core (``derive``), so an hour of input derives well under a second.

    python -m pytest bench/bench_actions.py --benchmark-only
    python -m bench.bench_actions        # the table of docs/benchmarks.md
"""
from __future__ import annotations

import time

import numpy as np
import pytest

import encoder
from encoder.actions import Rules, derive
from encoder.actions.inputs import gather
from encoder.backends import kernels
from encoder.testing import recordings

WORKLOADS = ("balabit", "aalto", "synthetic")
_GAP_US = 10_000_000


def _chain(units) -> dict:
    """Concatenate recordings on one clock: each starts 10 s after the previous one ends."""
    out: dict[str, dict[str, list]] = {}
    offset = 0
    for streams in units:
        first = min(int(np.min(c["t"])) for c in streams.values() if len(c["t"]))
        last = max(int(np.max(c["t"])) for c in streams.values() if len(c["t"]))
        for name, cols in streams.items():
            for col, values in cols.items():
                values = np.asarray(values.to_pylist() if hasattr(values, "to_pylist") else values,
                                    dtype=object if col == "text" else None)
                out.setdefault(name, {}).setdefault(col, []).append(
                    values - first + offset if col == "t" else values)
        offset += last - first + _GAP_US
    return {name: {col: np.concatenate(v) for col, v in cols.items()} for name, cols in out.items()}


def load(workload: str) -> bytes:
    """The workload as a shard (bytes)."""
    if workload == "synthetic":
        from encoder.testing import synthetic
        session = synthetic.generate_session(3600, seed=0)
        streams = {k: v for k, v in session.items() if k != "marker"}
    else:
        root = recordings.shared_data_dir()
        if root is None:
            pytest.skip("shared recordings not found (../shared/data or $ENCODER_SHARED_DATA)")
        from encoder.testing.recording_sessions import aalto_sections, balabit_sessions
        units = ([s.streams for s in balabit_sessions(root)] if workload == "balabit"
                 else [s.streams for s in aalto_sections(root)])
        streams = _chain(units)
    return encoder.encode(streams)


_CACHE: dict = {}


def workload(name: str):
    if name not in _CACHE:
        shard = load(name)
        inputs = gather(encoder.ShardReader(shard))
        _CACHE[name] = (shard, inputs)
    return _CACHE[name]


def _read(shard: bytes):
    return gather(encoder.ShardReader(shard))


def _derive(inputs):
    return kernels("actions", "native").derive_inputs(inputs, Rules())


@pytest.mark.parametrize("name", WORKLOADS)
@pytest.mark.parametrize("step", ["read", "derive", "total"])
def test_actions(benchmark, name, step):
    encoder.warmup()
    shard, inputs = workload(name)
    fn = {"read": lambda: _read(shard), "derive": lambda: _derive(inputs),
          "total": lambda: derive(encoder.ShardReader(shard))}[step]
    benchmark.pedantic(fn, rounds=7, warmup_rounds=1)
    events = inputs.raw_events
    benchmark.extra_info.update(events=events, M_events_per_s=events / benchmark.stats["median"] / 1e6)


@pytest.mark.parametrize("name", WORKLOADS)
def test_derive_costs_less_than_three_reads(name):
    """The derivation, in the same run, costs at most three times reading its streams."""
    encoder.warmup()
    shard, inputs = workload(name)
    read = min(_timed(lambda: _read(shard)) for _ in range(5))
    work = min(_timed(lambda: _derive(inputs)) for _ in range(5))
    assert work <= 3 * read, (name, work, read)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    from bench.conftest import pin_threads
    pin_threads()
    encoder.warmup()
    rows = []
    for name in WORKLOADS:
        shard, inputs = workload(name)
        read = min(_timed(lambda: _read(shard)) for _ in range(7))
        work = min(_timed(lambda: _derive(inputs)) for _ in range(7))
        actions = _derive(inputs).num_rows
        n = inputs.raw_events
        rows.append((name, n, actions, read, work))
        print(f"| {name} | {n:,} | {actions:,} | {read * 1e3:.1f} ms ({n / read / 1e6:.1f} M ev/s) | "
              f"{work * 1e3:.1f} ms ({n / work / 1e6:.1f} M ev/s) |")
    mean = np.mean([n / w / 1e6 for _, n, _, _, w in rows])
    print(f"mean derivation rate over the workloads: {mean:.1f} M raw events/s")


if __name__ == "__main__":
    main()
