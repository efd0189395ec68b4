"""The recorder's stats: refused events counted and reported, the stats line and the recorder.stats rows."""
from __future__ import annotations

import json

from encoder.capture import POINTER, now_us


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
