"""What the hardening costs: encryption (AES-256-GCM) and the fsync policies of ShardWriter.

* **Encryption**: encode and decode throughput of the same session plain and encrypted, on the
  real recordings when present (``balabit-mouse``, ``aalto-keys``) and on a seeded synthetic
  session always; the overhead is encrypted time / plain time - 1, both measured in this run
  (target: < 10 % of encode throughput).
* **fsync**: 200 blocks of pointer rows written to a file in ``$TMPDIR`` with each policy:
  ``none``, ``block``, every 1 s (and the close); reported per block, beside the latency of one
  fsync. fsync costs depend on the disk and file system: the table names the one it ran on.

Run::

    python -m pytest bench/bench_hardening.py --benchmark-only
    python -m bench.bench_hardening      # the markdown tables of docs/hardening.md
"""
from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pytest

import encoder

ENCRYPTION_KEY = bytes(range(32))
POLICIES = {"none": "none", "block": "block", "every 1 s": 1.0}


def synthetic_session(n: int = 400_000, seed: int = 0) -> dict:
    """Pointer-heavy session with keys, seeded (the shape of the real recordings)."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(1, 17, n)) * 1000
    k = n // 20
    return {"pointer": {"t": t, "x": np.cumsum(rng.integers(-9, 10, n)).astype(np.int32),
                        "y": np.cumsum(rng.integers(-9, 10, n)).astype(np.int32)},
            "key": {"t": np.sort(rng.choice(t, k)), "code": rng.integers(0, 200, k).astype(np.uint32),
                    "pressed": np.arange(k) % 2 == 0, "modifiers": rng.integers(0, 4, k).astype(np.uint16),
                    "text": [chr(97 + i % 26) if i % 2 == 0 else None for i in range(k)]}}


def encode(streams: dict, encryption_key) -> bytes:
    out = io.BytesIO()
    with encoder.ShardWriter(out, encryption_key=encryption_key, background=False, flush_seconds=None) as w:
        for name, table in streams.items():
            w.write(name, table)
    return out.getvalue()


def decode(data: bytes, encryption_key) -> dict:
    with encoder.ShardReader(data, encryption_key=encryption_key) as r:
        return {name: r.read(name) for name in r.streams}


def _median_time(fn, repeat: int, clock=time.thread_time) -> float:
    """Median time of ``fn``; by default the CPU time of this thread (encode and decode run on
    it: ``background=False``), which other processes on a shared machine disturb far less than
    wall time."""
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def sealing_share(streams: dict, repeat: int = 5) -> float:
    """CPU seconds spent in AES-GCM sealing per encode, measured inside the encode itself."""
    from encoder.shard import crypto
    spent = [0.0]
    original = crypto.ShardCipher.seal

    def timed(self, *args, **kwargs):
        start = time.thread_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.thread_time() - start

    crypto.ShardCipher.seal = timed
    try:
        for _ in range(repeat):
            encode(streams, ENCRYPTION_KEY)
    finally:
        crypto.ShardCipher.seal = original
    return spent[0] / repeat


def encryption_overhead(streams: dict, repeat: int = 15) -> dict:
    """Plain and encrypted encode/decode times, interleaved so that load drifts hit both alike.

    Times are CPU times of the encoding thread; figures use the fastest of ``repeat`` rounds,
    the medians are kept beside them, and the AES-GCM sealing is also timed on its own inside
    the encode (``sealing % of plain encode``: the overhead with the noise of two separate
    timings removed).
    """
    events = sum(len(c["t"]) if isinstance(c, dict) else c.num_rows for c in streams.values())
    plain, sealed = encode(streams, False), encode(streams, ENCRYPTION_KEY)
    assert decode(sealed, ENCRYPTION_KEY).keys() == decode(plain, False).keys()
    t = {"encode plain": [], "encode encrypted": [], "decode plain": [], "decode encrypted": []}
    for _ in range(repeat):
        t["encode plain"].append(_median_time(lambda: encode(streams, False), 1))
        t["encode encrypted"].append(_median_time(lambda: encode(streams, ENCRYPTION_KEY), 1))
        t["decode plain"].append(_median_time(lambda: decode(plain, False), 1))
        t["decode encrypted"].append(_median_time(lambda: decode(sealed, ENCRYPTION_KEY), 1))
    best = {k: min(v) for k, v in t.items()}
    med = {k: statistics.median(v) for k, v in t.items()}
    sealing = sealing_share(streams)
    return {"events": events, "bytes plain": len(plain), "bytes encrypted": len(sealed),
            "sealing % of plain encode": 100 * sealing / med["encode plain"],
            **{f"{k} M ev/s": events / v / 1e6 for k, v in best.items()},
            "encode overhead %": 100 * (best["encode encrypted"] / best["encode plain"] - 1),
            "decode overhead %": 100 * (best["decode encrypted"] / best["decode plain"] - 1),
            "encode overhead % (medians)": 100 * (med["encode encrypted"] / med["encode plain"] - 1),
            "decode overhead % (medians)": 100 * (med["decode encrypted"] / med["decode plain"] - 1)}


def fsync_cost(policy, bursts: int = 200, rows: int = 2000, folder: str | None = None) -> dict:
    """Wall seconds per block writing ``bursts`` bursts of ``rows`` pointer rows (one block each,
    as a recorder cuts them) with one policy, on the caller's thread, close included."""
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = os.path.join(tmp, "s.enc")
        start = time.perf_counter()
        with encoder.ShardWriter(path, fsync=policy, flush_seconds=None, block_rows=rows, background=False,
                                 encryption_key=False) as w:
            t0 = 0
            for _ in range(bursts):
                t = t0 + np.cumsum(rng.integers(1, 17, rows)) * 1000
                t0 = int(t[-1])
                w.write("pointer", {"t": t, "x": rng.integers(0, 1920, rows), "y": rng.integers(0, 1080, rows)})
            blocks = w.blocks_written
        elapsed = time.perf_counter() - start
    return {"blocks": blocks, "s": elapsed, "us per block": 1e6 * elapsed / blocks}


def fsync_latency(count: int = 50, folder: str | None = None) -> float:
    """Median seconds of one os.fsync after appending 16 KiB (a block) to a file."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        times = []
        with open(os.path.join(tmp, "f"), "wb") as f:
            for _ in range(count):
                f.write(os.urandom(16 << 10))
                f.flush()
                start = time.perf_counter()
                os.fsync(f.fileno())
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def filesystem(folder: str | None = None) -> str:
    folder = os.path.realpath(folder or tempfile.gettempdir())
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                _, mount, fs = line.split()[:3]
                if folder.startswith(mount) and len(mount) > len(best):
                    best, kind = mount, fs
    except OSError:
        pass
    return f"{kind} ({best or folder})"


# -- pytest-benchmark --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def session():
    return synthetic_session()


@pytest.mark.parametrize("encryption_key", [False, ENCRYPTION_KEY], ids=["plain", "encrypted"])
def test_encode(benchmark, session, encryption_key):
    events = sum(len(c["t"]) for c in session.values())
    data = benchmark.pedantic(encode, args=(session, encryption_key), rounds=5, iterations=1)
    benchmark.extra_info.update(M_events_per_s=events / benchmark.stats["median"] / 1e6,
                                bytes_per_event=len(data) / events)


@pytest.mark.parametrize("encryption_key", [False, ENCRYPTION_KEY], ids=["plain", "encrypted"])
def test_decode(benchmark, session, encryption_key):
    events = sum(len(c["t"]) for c in session.values())
    data = encode(session, encryption_key)
    benchmark.pedantic(decode, args=(data, encryption_key), rounds=5, iterations=1)
    benchmark.extra_info.update(M_events_per_s=events / benchmark.stats["median"] / 1e6)


def test_encryption_overhead_is_small(session):
    figures = encryption_overhead(session, repeat=5)
    print(figures)
    assert figures["encode overhead %"] < 10  # the target, measured against plain in this run


@pytest.mark.parametrize("policy", list(POLICIES), ids=list(POLICIES))
def test_fsync(benchmark, policy):
    result = benchmark.pedantic(fsync_cost, args=(POLICIES[policy], 50), rounds=3, iterations=1)
    benchmark.extra_info.update(us_per_block=result["us per block"], filesystem=filesystem())


def main(argv: list[str]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.conftest import pin_threads
    pin_threads()
    sessions = {"synthetic (400k pointer + 20k key)": synthetic_session()}
    try:
        from encoder.testing import recordings
        root = recordings.shared_data_dir()
        if root is not None:
            for name, loader in (("balabit-mouse", recordings.load_balabit), ("aalto-keys", recordings.load_aalto)):
                try:
                    sessions[name] = loader(root)
                except Exception as exc:  # noqa: BLE001 - a recording missing: say so, go on
                    print(f"({name}: {exc})", file=sys.stderr)
    except ImportError:
        pass
    print("| session | events | encode plain / encrypted (M ev/s, CPU) | overhead (best; medians) | sealing alone "
          "| decode plain / encrypted (M ev/s, CPU) | overhead (best; medians) | bytes plain / encrypted |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, streams in sessions.items():
        f = encryption_overhead(streams)
        print(f"| {name} | {f['events']:,} | {f['encode plain M ev/s']:.2f} / {f['encode encrypted M ev/s']:.2f} | "
              f"{f['encode overhead %']:+.1f} %; {f['encode overhead % (medians)']:+.1f} % | "
              f"{f['sealing % of plain encode']:.1f} % | {f['decode plain M ev/s']:.2f} / {f['decode encrypted M ev/s']:.2f} | "
              f"{f['decode overhead %']:+.1f} %; {f['decode overhead % (medians)']:+.1f} % | "
              f"{f['bytes plain']:,} / {f['bytes encrypted']:,} |")
    print(f"\nfsync policies, {filesystem()}: 200 blocks of 2,000 pointer rows (~16 KB each), written on the "
          f"caller's thread; one fsync of 16 KiB takes {1e3 * fsync_latency():.2f} ms (median) here")
    print("| policy | blocks | total s | us per block | cost per block vs none |")
    print("| --- | --- | --- | --- | --- |")
    base = None
    for label, policy in POLICIES.items():
        runs = sorted((fsync_cost(policy) for _ in range(5)), key=lambda x: x["s"])
        r = runs[len(runs) // 2]
        base = r["us per block"] if base is None else base
        print(f"| {label} | {r['blocks']} | {r['s']:.3f} | {r['us per block']:.0f} | "
              f"{r['us per block'] - base:+.0f} us |")

if __name__ == "__main__":
    main(sys.argv)
