"""Small, deterministic shards of every kind a reader meets: the seeds of mutation and fuzzing.

Small on purpose (1-12 KB): a mutated copy decodes in about a millisecond, so a test run can
afford 10,000 of them, and the fuzzer spends its time on structure, not on bulk bytes.
"""
from __future__ import annotations

import io

import numpy as np

import encoder
from encoder.streams import Column, Stream

#: The key of the encrypted seeds (tests only, obviously).
KEY = bytes(range(32))
CLOCK = {"clock": {"source": "monotonic", "t0_us": 0, "unix_us_at_t0": 1_700_000_000_000_000},
         "screens": [{"id": 0, "x": 0, "y": 0, "width": 40, "height": 24}]}
METRICS = Stream("app.metrics", (Column("t", "int64"), Column("load", "int32"), Column("blob", "binary"),
                                 Column("note", "string", nullable=True)))


def _session(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n = 300
    t = np.cumsum(rng.integers(-2, 40, n)) * 1000
    return {
        "pointer": {"t": t, "x": np.cumsum(rng.integers(-9, 10, n)), "y": rng.integers(-1080, 1080, n)},
        "key": {"t": t[:12], "code": np.arange(12) % 3 + 65, "pressed": np.arange(12) % 2 == 0,
                "modifiers": np.arange(12) % 2, "text": [None if i % 2 else chr(97 + i) for i in range(12)]},
        "focus": {"t": [0, 10, 20], "app": ["xterm", "firefox", "xterm"], "title": ["~", None, "vim ✓"],
                  "window": [2**62, 7, 2**62], "x": [0, -1280, 0], "y": [0, 0, 0], "width": [800, 1280, 800],
                  "height": [600, 1024, 600]},
        "command": {"t": [-2**63, 2**63 - 1], "kind": ["shell", "menu"], "text": ["ls -la | wc -l", None]},
        "marker": {"t": [5], "kind": ["start"], "text": [None], "value": [0]},
        "app.metrics": {"t": [1, 2, 3, 4], "load": [7, 7, 9, -1], "blob": [b"", b"\x00" * 40, rng.bytes(300), b"z"],
                        "note": ["a", None, "ü", "a"]},
    }


def _write(session: dict, *, close: bool = True, block_rows: int = 128, **options) -> bytes:
    out = io.BytesIO()
    w = encoder.ShardWriter(out, metadata=CLOCK, block_rows=block_rows, flush_seconds=None,
                            background=False, **options)
    w.declare(METRICS)
    for name, columns in session.items():
        w.write(name, columns)
    if close:
        w.close()
    else:
        w.flush()  # blocks written, never a footer: what a killed writer leaves
    return out.getvalue()


def events(**options) -> bytes:
    """Every built-in event stream and a declared one; 3 pointer blocks. About 6 KB."""
    return _write(_session(), encryption_key=False, **options)


def tiny() -> bytes:
    """One pointer block of 3 rows."""
    return _write({"pointer": {"t": [0, 8000, 16000], "x": [3, 4, 6], "y": [0, -1, -1]}}, encryption_key=False)


def encrypted() -> bytes:
    """:func:`events`, encrypted with :data:`KEY`."""
    return _write(_session(), encryption_key=KEY)


def unclosed() -> bytes:
    """:func:`events` as a killed writer leaves it: blocks, no footer."""
    return _write(_session(), close=False, encryption_key=False)


def frames() -> bytes | None:
    """Three 24x40 BGRA frames (tiles of 8 px, a change between each); None without frame support."""
    if not hasattr(encoder.ShardWriter, "add_frame"):
        return None
    out = io.BytesIO()
    w = encoder.ShardWriter(out, metadata=CLOCK, flush_seconds=None, background=False, encryption_key=False)
    w.configure_frames(tile=8, block_frames=2)
    image = np.zeros((24, 40, 4), np.uint8)
    for i in range(3):
        image[3 + i, 5:20] = 200 + i
        w.add_frame(i * 100_000, image)
    w.write("pointer", {"t": [0, 1], "x": [1, 2], "y": [3, 4]})
    w.close()
    return out.getvalue()


def seeds() -> dict[str, bytes]:
    """Every seed shard, by name."""
    out = {"events": events(), "tiny": tiny(), "encrypted": encrypted(), "unclosed": unclosed(),
           "empty": _write({}, encryption_key=False)}
    try:
        framed = frames()
    except Exception:  # noqa: BLE001 - the frame work is young; the rest must not depend on it
        framed = None
    if framed is not None:
        out["frames"] = framed
    return out
