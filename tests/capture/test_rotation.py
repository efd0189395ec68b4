"""Shard rotation: a recording goes on across shards, rows and frames neither lost nor doubled."""
from __future__ import annotations

import os
import time

import numpy as np

import encoder
from encoder.capture import NORMAL, POINTER, WindowInfo, now_us
from encoder.capture.events import to_columns
from encoder.capture.rotation import ShardRotation


def test_rotation_by_age(record, rows, markers):
    rng = np.random.default_rng(0)
    work = WindowInfo(5, "XTerm", "xterm", "work", (0, 0, 64, 48), NORMAL)
    sent = []

    def script(inp, win, scr, rec):
        win.focus(now_us(), work)
        end = time.monotonic() + 20
        while len(rec.shards) < 3 and time.monotonic() < end:  # housekeeping rotates every 0.5 s
            t = now_us()
            assert scr.frame(t, rng.integers(0, 255, (48, 64, 4), np.uint8))
            inp.emit([(POINTER, t, len(sent), 0)])
            sent.append(t)
            time.sleep(0.02)
        assert len(rec.shards) >= 3

    rec, readers = record(script, rotate_seconds=0.3, flush_seconds=0.05)
    assert sum(r.frame_count() for r in readers) == len(sent)
    assert sorted(p["t"] for r in readers for p in rows(r, "pointer")) == sent
    for r in readers[1:]:  # every shard opens with the focus in force, and one clock anchor
        assert rows(r, "focus")[0]["title"] == "work"
        assert r.metadata["clock"] == readers[0].metadata["clock"]
    assert [r.metadata["recorder"]["part"] for r in readers] == list(range(len(readers)))
    for r in readers:  # each ends with its stats
        assert markers(r, "recorder.stats")


def test_shard_rotation_names_parts_and_counts_bytes(tmp_path):
    parts = []

    def metadata(part):
        parts.append(part)
        return {"recorder": {"part": part}}

    rotation = ShardRotation(str(tmp_path), "s", metadata, rotate_bytes=None, rotate_seconds=0.0,
                             flush_seconds=30.0, tile_store_bytes=1 << 20)
    marker = to_columns("marker", [(1_000, "hello", None, 7)])
    assert not rotation.due() and not rotation.write("marker", marker)   # nothing open yet
    rotation.open()
    assert rotation.due()                                                  # rotate_seconds=0
    assert rotation.write("marker", marker)
    assert rotation.add_frame(2_000, np.zeros((16, 16, 4), np.uint8), 0, None)
    assert rotation.pending()[0] >= sum(c.nbytes for c in marker.values())  # all still in memory
    rotation.rotate()
    rotation.close()
    rotation.close()                                                       # idempotent
    assert rotation.pending()[0] == 0
    assert not rotation.write("marker", marker) and rotation.frame_writer_stats() == {}
    assert [os.path.basename(p) for p in rotation.paths] == ["s-0000.enc", "s-0001.enc"] and parts == [0, 1]
    assert rotation.bytes_written() == sum(os.path.getsize(p) for p in rotation.paths)
    first, second = (encoder.ShardReader(p) for p in rotation.paths)
    assert first.read("marker")["value"].to_pylist() == [7] and first.frame_count() == 1
    assert second.metadata["recorder"]["part"] == 1 and "marker" not in second.streams
