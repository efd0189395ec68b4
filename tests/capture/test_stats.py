"""The recorder's stats: refused events counted and reported, the stats line and the recorder.stats rows,
the bytes not yet in the file counted in the byte rate."""
from __future__ import annotations

import json
import time

import numpy as np

from encoder.capture import POINTER, now_us
from encoder.capture.rotation import PRIOR_RATIO


def test_full_queue_is_counted_and_reported(record, rows, markers):
    t0 = now_us()

    def script(inp, win, scr, rec):
        win.hold.clear()          # the recorder thread waits in its barrier: the queue fills
        accepted = inp.emit([(POINTER, t0 + i, i, i) for i in range(150)])
        assert accepted == 100
        win.hold.set()

    rec, (r,) = record(script, queue_events=100)
    assert len(rows(r, "pointer")) == 100
    dropped = markers(r, "recorder.dropped")
    assert sum(m["value"] for m in dropped) == 50
    assert json.loads(dropped[0]["text"])["dropped"]["pointer"] == 50
    assert json.loads(markers(r, "recorder.stats")[-1]["text"])["dropped_total"] == 50


def test_the_last_stats_line_and_row_are_one_snapshot(record, markers):
    lines = []
    rec, (r,) = record(lambda inp, *_: inp.emit([(POINTER, now_us(), 1, 1)]), on_stats=lines.append)
    final = json.loads(markers(r, "recorder.stats")[-1]["text"])
    assert final["final"] and "rates" not in final
    assert lines[-1] is rec.last_stats and "final" not in rec.last_stats
    assert set(rec.last_stats["rates"]) == {"events_per_s", "frames_per_s", "cpu_percent", "bytes_per_min"}
    assert rec.last_stats["elapsed_s"] == final["elapsed_s"] and rec.last_stats["stored"] == final["stored"]
    assert final["stored"]["pointer"] == 1 and markers(r, "recorder.stats")[-1]["value"] == 1


def test_the_first_stats_line_counts_what_is_not_yet_written(record):
    """Rows wait up to flush_seconds (30 s) and tiles until their page fills before the file
    grows: the first line, a second in, still shows a byte rate."""
    rng = np.random.default_rng(1)
    lines = []

    def script(inp, win, scr, rec):
        end = time.monotonic() + 10
        while not lines and time.monotonic() < end:
            t = now_us()
            inp.emit([(POINTER, t, 1, 2), (POINTER, t + 1, 3, 4)])
            assert scr.frame(t, rng.integers(0, 255, (48, 64, 4), np.uint8))
            time.sleep(0.05)
        assert lines, "no stats line within 10 s"

    record(script, stats_seconds=1.0, on_stats=lines.append)
    first = lines[0]
    assert first["frame_pipeline"]["pages"] == 0           # no tile page written yet: the file holds no block
    assert first["bytes_pending_raw"] > 0 and first["compression_ratio"] == PRIOR_RATIO
    assert first["bytes_pending"] == round(first["bytes_pending_raw"] * PRIOR_RATIO)
    assert first["rates"]["bytes_per_min"] > 0


def test_peak_memory_is_the_recorders_own_not_its_parents():
    """Linux carries a parent's peak into ``ru_maxrss`` across fork and exec: a recorder started
    by a process that once held 600 MB must not report 600 MB."""
    import subprocess
    import sys
    code = ("import numpy as np, subprocess, sys\n"
            "a = np.ones(600 * 2**20 // 8); del a\n"
            "child = 'from encoder.capture.stats import peak_rss_bytes; print(peak_rss_bytes())'\n"
            "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True).stdout)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 10 * 2**20 < int(out.stdout.split()[-1]) < 400 * 2**20
