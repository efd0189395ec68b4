"""The Recorder with scripted sources (no X server): what reaches the shard, and what the policy keeps out."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from encoder.capture import (BUTTON, EXCLUDED, KEY, NORMAL, POINTER, SCROLL, SECRET, Policy, Recorder, Source,
                             WindowInfo, now_us)
from encoder.streams.keys import CLASS_CODE, SHIFT
from encoder.capture.sources.fake import FakeInput, FakeWindows
from encoder.errors import EncoderError, RecorderError, SourceUnavailableError


def test_input_before_the_first_frame_is_kept(record, rows, markers, keystrokes):
    t0 = now_us()

    def script(inp, win, scr, rec):
        inp.emit([(POINTER, t0 - 5_000, 3, 4), (BUTTON, t0 - 4_000, 1, True, 3, 4),
                  (SCROLL, t0 - 3_000, 0, 1, 3, 4)] + keystrokes(t0 - 2_000, "ok"))
        image = np.full((48, 64, 4), 200, np.uint8)
        assert scr.frame(t0, image)
        inp.emit([(POINTER, t0 + 1_000, 9, 9)])

    rec, (r,) = record(script)
    assert [(p["t"] - t0, p["x"]) for p in rows(r, "pointer")] == [(-5_000, 3), (1_000, 9)]
    assert rows(r, "button") == [{"t": t0 - 4_000, "button": 1, "pressed": True, "x": 3, "y": 4}]
    assert rows(r, "scroll")[0]["dy"] == 1
    assert [k["text"] for k in rows(r, "key")] == ["o", None, "k", None]
    assert r.frame_count() == 1 and r.frame_times()[0] == t0
    meta = r.metadata
    assert meta["privacy"]["keys"] == "full" and meta["clock"]["source"] == "CLOCK_MONOTONIC"
    assert meta["screens"][0]["width"] == 64
    final = json.loads(markers(r, "recorder.stats")[-1]["text"])
    assert final["final"] and final["dropped_total"] == 0 and final["stored"]["key"] == 4


def test_event_batches_accept_a_recent_barrier_and_the_last_asks_for_a_fresh_one(record, rows):
    t0 = now_us()
    seen = []

    def script(inp, win, scr, rec):
        inp.emit([(POINTER, t0, 1, 1)])
        deadline = now_us() + 5_000_000
        while not win.recent_allowed and now_us() < deadline:   # the recorder thread's batch
            inp.emit([(POINTER, now_us(), 2, 2)])
            time.sleep(0.05)
        seen.append((win.barriers, win.recent_allowed))

    rec, (r,) = record(script)
    (_, recent), = seen
    assert recent >= 1, "a batch should accept a recent barrier"
    win = next(s for s in rec.sources if isinstance(s, FakeWindows))
    assert win.barriers - win.recent_allowed >= 1, "the final batch asks for a fresh barrier"
    assert rows(r, "pointer")[0]["t"] == t0


def test_timing_only_keeps_timings_not_text(record, rows, keystrokes):
    t0 = now_us()
    typed = keystrokes(t0, "a1 ,")

    def script(inp, win, scr, rec):
        inp.emit(typed + [(KEY, t0 + 90_000, 0xffe1, True, 0, None), (KEY, t0 + 95_000, ord("A"), True, SHIFT, "A")])

    rec, (r,) = record(script, Policy(keys="timing-only"))
    keys = rows(r, "key")
    assert [k["t"] for k in keys[:8]] == [e[1] for e in typed]
    assert all(k["text"] is None for k in keys)
    names = ["letter", "letter", "digit", "digit", "space", "space", "punctuation", "punctuation",
             "modifier", "letter"]
    assert [k["code"] for k in keys] == [CLASS_CODE[n] for n in names]
    assert keys[-1]["modifiers"] == SHIFT
    assert r.metadata["privacy"]["keys"] == "timing-only"


def test_keys_none_counts_them(record, rows, markers, keystrokes):
    t0 = now_us()
    rec, (r,) = record(lambda inp, *_: inp.emit(keystrokes(t0, "abc") + [(POINTER, t0, 1, 1)]),
                        Policy(keys="none"))
    assert "key" not in r.streams and len(rows(r, "pointer")) == 1
    final = json.loads(markers(r, "recorder.stats")[-1]["text"])
    assert final["keys_not_stored"] == 6 and final["received"]["key"] == 6


def test_secret_and_excluded_windows(record, rows, markers, keystrokes):
    t0 = now_us()
    normal = WindowInfo(1, "XTerm", "xterm", "bob@box: ~", (0, 0, 32, 48), NORMAL)
    secret = WindowInfo(2, "XTerm", "xterm", "[sudo] password for bob", (0, 0, 32, 48), SECRET)
    private = WindowInfo(3, "Chromium", "chromium", "Bank - Incognito", (32, 0, 32, 48), EXCLUDED)
    frame = np.full((48, 64, 4), 255, np.uint8)

    def script(inp, win, scr, rec):
        win.focus(t0, normal)
        inp.emit(keystrokes(t0 + 10_000, "ls"))                  # normal: full text
        win.focus(t0 + 1_000_000, secret)
        inp.emit(keystrokes(t0 + 900_000, "hunter2"))            # starts 100 ms before the prompt had focus
        win.focus(t0 + 3_000_000, private)
        win.excluded(t0 + 3_000_000, [private.rect])
        inp.emit(keystrokes(t0 + 3_500_000, "card"))             # excluded: dropped
        inp.emit([(POINTER, t0 + 3_600_000, 40, 10), (POINTER, t0 + 3_600_500, 10, 10),
                  (BUTTON, t0 + 3_700_000, 1, True, 40, 10)])
        assert scr.frame(t0 + 3_800_000, frame.copy())

    rec, (r,) = record(script)
    keys = rows(r, "key")
    assert [k["text"] for k in keys[:4]] == ["l", None, "s", None]
    secret_rows = keys[4:]
    assert len(secret_rows) == 14 and all(k["code"] == CLASS_CODE["secret"] and k["text"] is None
                                          and k["modifiers"] == 0 for k in secret_rows)
    assert not any(k["text"] for k in keys if k["t"] >= t0 + 3_000_000)
    assert [(p["x"], p["y"]) for p in rows(r, "pointer")] == [(10, 10)]
    assert "button" not in r.streams
    focus = rows(r, "focus")
    assert [f["app"] for f in focus] == ["XTerm", "XTerm", "(excluded)"]
    assert focus[2]["title"] is None and focus[1]["title"] == "[sudo] password for bob"
    image = r.frame(0)
    assert image[:, 32:].max() == 0 and image[:, :32].min() == 255
    final = json.loads(markers(r, "recorder.stats")[-1]["text"])
    assert final["excluded"] == {"pointer": 1, "button": 1, "scroll": 0, "key": 8}
    assert final["secret_keys"] == 14


def test_pause_hotkey_and_file(record, rows, markers, keystrokes):
    t0 = now_us() - 1_000_000  # the scripted hotkey presses lie in the past

    def script(inp, win, scr, rec):
        inp.emit([(POINTER, t0, 1, 1)])
        inp.hotkey(t0 + 1_000)                                # pause
        inp.emit([(POINTER, t0 + 2_000, 2, 2)] + keystrokes(t0 + 3_000, "secret"))
        inp.hotkey(t0 + 100_000)                              # resume
        inp.emit([(POINTER, t0 + 101_000, 3, 3)])
        open(rec.pause_path, "w").close()                     # pause by control file
        assert rec.poll_pause_file()
        assert not scr.frame(now_us(), np.zeros((48, 64, 4), np.uint8))
        inp.emit([(POINTER, now_us(), 4, 4)])
        os.remove(rec.pause_path)
        assert not rec.poll_pause_file()
        inp.emit([(POINTER, now_us() + 1, 5, 5)])

    rec, (r,) = record(script)
    assert [p["x"] for p in rows(r, "pointer")] == [1, 3, 5]
    assert "key" not in r.streams
    marks = [(m["kind"], json.loads(m["text"])["by"]) for m in rows(r, "marker") if m["kind"] in ("pause", "resume")]
    assert marks == [("pause", "hotkey"), ("resume", "hotkey"), ("pause", "file"), ("resume", "file")]
    final = json.loads(markers(r, "recorder.stats")[-1]["text"])
    assert final["paused"]["key"] == 12 and final["paused"]["pointer"] == 2 and final["frames_paused"] == 1


def test_a_source_that_cannot_start_stops_the_start(tmp_path):
    class Broken(Source):
        name = "broken"

        def open(self, recorder):
            raise OSError("no such device")

    rec = Recorder(tmp_path / "out", sources=[FakeWindows(), Broken()])
    with pytest.raises(SourceUnavailableError, match="broken could not start: OSError") as caught:
        rec.start()
    assert isinstance(caught.value, (EncoderError, RuntimeError))   # callers catching either still do
    assert rec.shards == [] and not rec.running
    assert not (tmp_path / "out").exists()        # the folder it created is gone again
    with pytest.raises(RecorderError, match="starts once"):
        rec.start()


def test_a_failing_source_is_told_to_the_listeners_and_an_idle_recorder_wakes_once_a_second(tmp_path):
    src = FakeInput()
    rec = Recorder(tmp_path / "out", sources=[FakeWindows(), src])
    told = []
    rec.failure_listeners.append(lambda: told.append(rec.failure))
    waits = []
    wait = rec.queue.wait
    rec.queue.wait = lambda timeout: (waits.append(timeout), wait(timeout))
    rec.start()
    time.sleep(2.5)
    src.fail(OSError("the X server went away"))
    assert rec.failed.is_set() and told == [("fake-input", told[0][1])]
    rec.stop()
    # nothing to write: the thread sleeps until its next look at the pause file, a second on
    assert 2 <= len(waits) <= 4 and max(waits) > 0.9   # it was twice a second: 5 or 6 waits


class _FailsToStart(Source):
    """Opens, then fails in ``start`` (after the recorder opened its first shard)."""

    name = "fails-to-start"

    def start(self):
        raise OSError("XRecord refused")


def test_a_failed_start_removes_the_folders_and_shards_it_made(tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    rec = Recorder(out, sources=[FakeWindows(), _FailsToStart()])
    assert not (tmp_path / "new").exists()                       # nothing made before start()
    with pytest.raises(OSError, match="XRecord refused"):
        rec.start()
    assert rec.shards == [] and not (tmp_path / "new").exists()


def test_a_failed_start_keeps_a_folder_that_existed_or_holds_anything(tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(OSError):
        Recorder(existing, sources=[_FailsToStart()]).start()
    assert existing.is_dir() and os.listdir(existing) == []      # the failed start's shard is gone
    out = tmp_path / "new" / "out"

    class Writes(Source):   # something else puts a file into the new folder meanwhile
        def start(self):
            (out / "notes.txt").write_text("mine")

    with pytest.raises(OSError, match="XRecord refused"):
        Recorder(out, sources=[Writes(), _FailsToStart()]).start()
    assert os.listdir(out) == ["notes.txt"]
