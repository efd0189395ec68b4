"""What a recording costs and keeps: the recorder's stats, its live stats line and its stats rows.

:meth:`Recorder.stats <encoder.capture.Recorder.stats>` is one snapshot of every counter
(numbers, and dicts of numbers per stream) with the process's CPU and memory. Snapshots feed

* the live stats line: ``on_stats`` every ``stats_seconds``, with the rates since the
  previous line (events and frames per second, CPU percent, bytes per minute) added;
  the byte rate counts ``bytes`` (in the shard files) and what the open shard holds in
  memory (rows wait up to ``flush_seconds`` before they become a block): its raw bytes
  ``bytes_pending_raw`` times ``compression_ratio`` (file bytes per raw byte so far), whose
  product is ``bytes_pending`` (:meth:`~encoder.capture.rotation.ShardRotation.pending`), so the rate
  is not 0 until the first block is written. Both ends of a rate use the latest ratio, so
  rows moving from memory to the file do not make it jump;
* the ``recorder.stats`` marker rows, every ``marker_seconds``, at every rotation and at the
  end (``text`` = the snapshot as JSON, ``value`` = input rows stored since the previous row);
* and beside them, the ``recorder.dropped`` marker rows, written whenever events were
  refused since the previous one (``value`` = how many, ``text`` = how many per stream).

CPU and memory come from ``/proc`` and ``getrusage`` (Linux; zeros or nothing elsewhere).
"""
from __future__ import annotations

import json
import os
import resource
import threading

from .events import input_rows

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def rss_bytes() -> int:
    """Resident memory of this process now (0 where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_rss_bytes() -> int:
    """The highest resident memory of this process so far.

    VmHWM where ``/proc`` has it: Linux carries the parent's peak into ``ru_maxrss`` across
    fork and exec, so a recorder started by a big process would report that process's peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """User and system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu_seconds() -> dict:
    """CPU seconds of every live Python thread by name (Linux ``/proc``; empty elsewhere).

    Names of the pipeline: ``encoder-x11-screen`` (grab and ``add_frame``: compare and tile
    lookup), ``encoder-frames`` (the lookup, only with ``configure_frames(background=True)``),
    ``encoder-writer`` (compression and
    writes), ``encoder-recorder`` (policy, event columns), ``encoder-x11-input``,
    ``encoder-x11-windows``, ``encoder-atspi`` (UI element lookups), ``encoder-atspi-bus``, ``MainThread``.
    """
    out: dict = {}
    for thread in threading.enumerate():
        tid = getattr(thread, "native_id", None)
        if tid is None:
            continue
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        out[thread.name] = round(out.get(thread.name, 0.0) + seconds, 3)
    return out


class RecorderStats:
    """The stats of one recorder since its start (see the module docstring).

    Reads the recorder's counters, queue, pause switch, sources and shards; keeps what the
    rates and the marker rows are measured from. :meth:`snapshot` may be called from any
    thread; the other methods are called by the recorder thread only.
    """

    def __init__(self, recorder):
        self.recorder = recorder
        self.t_start = recorder.clock()
        self.cpu_start = cpu_seconds()
        # (time, process CPU seconds, input rows, frames, file bytes, raw bytes in memory)
        # at the previous stats line
        self._previous_line = (self.t_start, self.cpu_start, 0, 0, 0, 0)
        self._marker_events = 0     # input rows stored when the previous recorder.stats row was made
        self._reported_drops = 0    # events refused when the previous recorder.dropped row was made

    def snapshot(self, *, pending: int, frame_pipeline: dict, unwritten: tuple = (0, 1.0)) -> dict:
        """Counters since the start; ``pending``: events waiting for their verdict,
        ``frame_pipeline``: the current shard's frame writer stats, ``unwritten``: ``(raw
        bytes, file bytes per raw byte)`` of what the current shard holds in memory."""
        raw_unwritten, ratio = unwritten
        rec = self.recorder
        now = rec.clock()
        sources = {}
        for s in rec.sources:
            try:
                sources[getattr(s, "name", type(s).__name__)] = s.stats()
            except Exception as exc:  # a stats failure must not stop a recording
                sources[getattr(s, "name", "?")] = {"error": repr(exc)}
        return {
            "elapsed_s": round((now - self.t_start) / 1e6, 3),
            "stored": dict(rec.stored),
            "received": dict(rec.received),
            "dropped": dict(rec.queue.dropped),
            "dropped_total": sum(rec.queue.dropped.values()) + rec.side_dropped,
            "excluded": dict(rec.excluded),
            "paused": dict(rec.paused_events),
            "keys_not_stored": rec.keys_not_stored,
            "secret_keys": rec.secret_keys,
            "lookup_timeouts": sum(s.get("timeouts", 0) for s in sources.values()),   # UI elements (AT-SPI)
            "frames": rec.frames,
            "frames_paused": rec.frames_paused,
            "queue_peak": rec.queue.peak,
            "queue_capacity": rec.queue.capacity,
            "pending": pending,
            "cpu_s": round(cpu_seconds() - self.cpu_start, 3),
            "threads_cpu_s": thread_cpu_seconds(),
            "rss_mb": round(rss_bytes() / 2**20, 1),
            "peak_rss_mb": round(peak_rss_bytes() / 2**20, 1),
            "bytes": rec.bytes_written(),
            "bytes_pending": round(raw_unwritten * ratio),
            "bytes_pending_raw": raw_unwritten,
            "compression_ratio": round(ratio, 4),
            "shards": len(rec.shards),
            "paused_now": rec.pause.paused,
            "sources": sources,
            "frame_pipeline": frame_pipeline,
        }

    def add_rates(self, stats: dict, now: int) -> dict:
        """``stats`` with ``rates`` since the previous call added: the live stats line."""
        t0, cpu0, events0, frames0, bytes0, raw0 = self._previous_line
        dt = max((now - t0) / 1e6, 1e-6)
        events = input_rows(stats["stored"])
        cpu = stats["cpu_s"] + self.cpu_start
        raw = stats.get("bytes_pending_raw", 0)
        grown = stats["bytes"] - bytes0 + (raw - raw0) * stats.get("compression_ratio", 0)
        stats["rates"] = {
            "events_per_s": round((events - events0) / dt, 1),
            "frames_per_s": round((stats["frames"] - frames0) / dt, 2),
            "cpu_percent": round(100 * (cpu - cpu0) / dt, 2),
            "bytes_per_min": round(grown / dt * 60),
        }
        self._previous_line = (now, cpu, events, stats["frames"], stats["bytes"], raw)
        return stats

    def stats_row(self, now: int, stats: dict, final: bool = False) -> tuple:
        """The ``recorder.stats`` marker row ``(t, kind, text, value)`` of ``stats``."""
        events = input_rows(stats["stored"])
        row = (now, "recorder.stats", json.dumps(dict(stats, final=final), sort_keys=True),
               events - self._marker_events)
        self._marker_events = events
        return row

    def dropped_row(self, now: int) -> tuple | None:
        """The ``recorder.dropped`` marker row, or None when nothing was refused since the last one."""
        rec = self.recorder
        total = sum(rec.queue.dropped.values()) + rec.side_dropped
        if total == self._reported_drops:
            return None
        text = json.dumps({"dropped": dict(rec.queue.dropped), "side": rec.side_dropped,
                           "queue_capacity": rec.queue.capacity})
        row = (now, "recorder.dropped", text, total - self._reported_drops)
        self._reported_drops = total
        return row
