"""The Recorder: sources in, privacy policy applied, shards out.

Threads and hand-offs (docs/capture.md draws the same picture)::

    X11Input (XRecord)  --put(events)-->  EventQueue (bounded) --+
    X11Windows (events) --focus/excluded--> WindowTimeline       |--> recorder thread:
                        --focus rows, markers--> side list  -----+    policy, ShardWriter.write
    X11Screen (timer)   --add_frame (under the shard lock)--------------> ShardWriter.add_frame
                                                                         (tile threads)

* One clock: every ``t`` is ``CLOCK_MONOTONIC`` microseconds (:mod:`.clock`); X server
  stamps are mapped onto it by :class:`~.clock.ServerClock`.
* Nothing is dropped silently: input that does not fit the queue is counted per stream and
  reported in ``recorder.dropped`` marker rows, ``recorder.stats`` rows and the live stats.
  Input that arrives before the first frame is kept like any other.
* The policy is applied on the recorder thread before any row reaches the writer: events
  wait in memory until the window source has reported every change up to
  ``t + guard`` (:meth:`barrier`), then each is judged by the windows around its own time.
  Frames are blacked out by the screen source before :meth:`add_frame`.
* Shards rotate by size or age (:mod:`.rotation`); all share the clock anchor, so their
  rows line up.
* Counters, the live stats line and the ``recorder.stats`` rows: :mod:`.stats`.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import threading
import time
from collections import deque

from .._version import __version__
from ..errors import RecorderError, SourceUnavailableError
from . import clock as _clock
from .events import (BUTTON, FOCUS, INPUT_STREAMS, INPUT_TAGS, KEY, MARKER, POINTER, SCROLL, STREAM_OF, EventQueue,
                     to_columns)
from .policy import EXCLUDED, SECRET, FieldFocus, PauseSwitch, Policy, worst
from .rotation import ShardRotation
from .stats import RecorderStats
from .windows import WindowInfo, WindowTimeline

EXCLUDED_APP = "(excluded)"
ROWS = "rows"   # side item of another stream (UI elements), judged by its source: put_row
_SIDE_LIMIT = 10_000


class Recorder:
    """Record sources into rotating shards in ``out_dir``.

    Parameters
    ----------
    out_dir : str or path
        Folder of the shards, created by :meth:`start` (with its missing parents) if needed.
        Files are ``<session>-<part>.enc``. A start that fails removes what it created: its
        shard and the folders it made, if they hold nothing else.
    sources : list of Source
        What to record (:func:`encoder.capture.sources.x11_sources`, or test fakes).
    policy : Policy, optional
        The privacy policy (default: :class:`Policy` defaults, which are the safe ones).
    rotate_bytes, rotate_seconds : int, float or None
        Start a new shard when the current one holds this many bytes or is this old.
    queue_events : int
        Capacity of the input queue (events); beyond it events are counted as dropped.
    stats_seconds : float
        Period of ``on_stats`` calls (the live stats line).
    marker_seconds : float
        Period of the ``recorder.stats`` marker rows (one is also written at every rotation
        and at the end).
    flush_seconds : float
        Buffered rows become blocks at the latest this long after arriving (what a crash
        can lose).
    tile_store_bytes : int
        Bytes of screen tiles kept for deduplication (bounds the recorder's memory).
    on_stats : callable, optional
        Called with the stats dict every ``stats_seconds`` (from the recorder thread).
    metadata : dict, optional
        Extra top-level metadata for every shard (entries the recorder writes itself win).
    batch_seconds : float
        Events are written in batches at most this often (each batch costs a round trip to
        the window source and one write per stream); they wait in memory meanwhile.

    Examples
    --------
    >>> import tempfile, encoder
    >>> from encoder.capture.sources.fake import FakeInput
    >>> src = FakeInput()
    >>> rec = Recorder(tempfile.mkdtemp(), sources=[src], policy=Policy(keys="full"))
    >>> rec.start()
    >>> src.emit([(POINTER, 1_000, 5, 7), (KEY, 2_000, 0x61, True, 0, "a")])
    2
    >>> rec.stop()
    >>> r = encoder.ShardReader(rec.shards[0])
    >>> r.read("pointer").to_pylist(), r.read("key")["text"].to_pylist()
    ([{'t': 1000, 'x': 5, 'y': 7}], ['a'])
    """

    def __init__(self, out_dir, *, sources=(), policy: Policy | None = None,
                 rotate_bytes: int | None = 256 << 20, rotate_seconds: float | None = 3600.0,
                 queue_events: int = 65536, stats_seconds: float = 5.0, marker_seconds: float = 60.0,
                 flush_seconds: float = 30.0, tile_store_bytes: int = 24 << 20, on_stats=None,
                 metadata: dict | None = None, session: str | None = None, batch_seconds: float = 1.0):
        self.out_dir = os.fspath(out_dir)
        self.sources = list(sources)
        self.policy = policy or Policy()
        self.stats_seconds, self.marker_seconds = stats_seconds, marker_seconds
        self.on_stats = on_stats
        self.last_stats: dict | None = None  # the latest periodic stats (with rates), once emitted
        self.extra_metadata = dict(metadata or {})
        self.clock = _clock.now_us
        self.server_clock = _clock.ServerClock()
        self.anchor = _clock.anchor()
        self.session = session or time.strftime("session-%Y%m%dT%H%M%SZ", time.gmtime())
        self.guard_us = self.policy.guard_ms * 1000
        self.batch_us = int(batch_seconds * 1e6)
        self.timeline = WindowTimeline(guard_us=self.guard_us)
        self.queue = EventQueue(queue_events)
        self.input_listeners: list = []   # called with each input batch on its source's thread (must not block)
        self.field_focus = FieldFocus(self.guard_us)   # password fields in focus (the accessibility source)
        self._side: deque = deque()          # focus rows and markers (rare, never refused)
        self._side_lock = threading.Lock()
        self._pending: list = []
        self._rotation = ShardRotation(self.out_dir, self.session, self._metadata, rotate_bytes=rotate_bytes,
                                       rotate_seconds=rotate_seconds, flush_seconds=flush_seconds,
                                       tile_store_bytes=tile_store_bytes)
        self.shards: list[str] = self._rotation.paths
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = False
        self._stopped = False
        self._error: BaseException | None = None
        self._barrier_source = None
        self.failed = threading.Event()
        self.failure = None
        self.failure_listeners: list = []   # called (no argument) when a source fails
        self.pause = PauseSwitch(self._pause_changed, start_paused=self.policy.start_paused)
        self.pause_path = self.policy.pause_path(self.out_dir)
        self._pause_file_seen = False
        self._file_lock = threading.Lock()
        # counters (the recorder thread writes most; sources only through add_frame/hotkey)
        streams = tuple(STREAM_OF.values())
        self.stored = dict.fromkeys(streams, 0)
        self.received = dict.fromkeys(streams, 0)
        self.excluded = dict.fromkeys(INPUT_STREAMS, 0)
        self.paused_events = dict.fromkeys(INPUT_STREAMS, 0)
        self.keys_not_stored = self.secret_keys = self.side_dropped = self.frames = self.frames_paused = 0
        self._stats = RecorderStats(self)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Open every source and the first shard, then start recording."""
        if self._started:
            raise RecorderError("a recorder starts once")
        self._started = True
        opened = []
        try:
            for source in self.sources:
                try:
                    source.open(self)
                except SourceUnavailableError:
                    raise
                except Exception as exc:  # an X error while setting up, say: say which source
                    raise SourceUnavailableError(f"{getattr(source, 'name', type(source).__name__)} could not "
                                                 f"start: {exc!r}") from exc
                opened.append(source)
                if getattr(source, "barrier", None) is not None and self._barrier_source is None:
                    self._barrier_source = source
            self.poll_pause_file()
            self._rotation.open()
            if self.policy.start_paused:
                self.marker("pause", json.dumps({"by": "start"}))
            self._thread = threading.Thread(target=self._run, name="encoder-recorder", daemon=True)
            self._thread.start()
            # windows first (focus known before the first key), then input, then screens
            for source in sorted(self.sources, key=lambda s: not s.is_window_source):
                source.start()
        except BaseException:
            self._stopping.set()
            self.queue.close()
            for source in reversed(opened):
                try:
                    source.stop()
                except Exception:
                    pass
            if self._thread is not None:
                self._thread.join()
            self._rotation.discard()   # nothing was recorded: no shard, no folder left behind
            raise

    def stop(self) -> None:
        """Stop the sources, write everything they captured, close the shard (idempotent)."""
        if self._stopped or not self._started:
            return
        self._stopped = True
        errors = []
        for source in self.sources:  # input and screens first: the window source must answer
            if not source.is_window_source:
                errors.extend(self._stop_source(source))
        self._stopping.set()
        self.queue.wake()
        if self._thread is not None:
            self._thread.join()
        for source in self.sources:
            if source.is_window_source:
                errors.extend(self._stop_source(source))
        self.queue.close()
        if self._error is not None:
            error, self._error = self._error, None
            raise RecorderError(f"the recorder stopped on an error: {error!r}") from error
        if errors:
            raise RecorderError(f"stopping {errors[0][0]} failed: {errors[0][1]!r}") from errors[0][1]

    @staticmethod
    def _stop_source(source):
        try:
            source.stop()
            return []
        except Exception as exc:
            return [(getattr(source, "name", type(source).__name__), exc)]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def error(self) -> BaseException | None:
        return self._error

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- the sink: what sources call -----------------------------------------------------
    def put(self, events) -> int:
        """Input event tuples from a source (any thread); returns how many were accepted."""
        for listener in self.input_listeners:
            listener(events)
        return self.queue.put(events)

    def put_row(self, t_us: int, judge) -> None:
        """Another stream's row: ``judge(t, rows)`` adds it to ``rows[stream]`` (recorder thread, windows known)."""
        self._put_side((ROWS, int(t_us), judge))

    def focus_changed(self, t_us: int, info: WindowInfo) -> None:
        self.timeline.set_focus(t_us, info)
        self._put_side((FOCUS, int(t_us), info))

    def excluded_changed(self, t_us: int, rects) -> None:
        self.timeline.set_excluded(t_us, rects)

    def hotkey(self, t_us: int) -> None:
        """The pause hotkey was pressed at ``t_us`` (its key rows are not stored)."""
        self.pause.toggle(t_us, "hotkey")

    def source_failed(self, source, exc: BaseException) -> None:
        """A source's thread died (the X server went away, say): recording cannot go on.

        The caller (``encoder record``) sees :attr:`failed` set and stops the recorder,
        which still writes everything captured so far.
        """
        if self.failure is None:
            self.failure = (getattr(source, "name", type(source).__name__), exc)
        self.failed.set()
        for listener in self.failure_listeners:
            listener()

    def paused_at(self, t_us: int) -> bool:
        return self.pause.paused_at(t_us)

    def poll_pause_file(self) -> bool:
        """Check the control file now (the screen source calls this before every grab)."""
        if self.pause_path is None:
            return self.pause.paused
        with self._file_lock:
            present = os.path.exists(self.pause_path)
            if present != self._pause_file_seen:
                self._pause_file_seen = present
                self.pause.set_file(present, self.clock())
        return self.pause.paused

    def add_frame(self, t_us: int, image, screen: int = 0, changed=None) -> bool:
        """A screen frame, already blacked out by its source; False when not written (paused)."""
        if self.pause.paused_at(t_us):
            self.frames_paused += 1
            return False
        if not self._rotation.add_frame(t_us, image, screen, changed):
            return False
        self.frames += 1
        return True

    def marker(self, kind: str, text: str | None = None, value: int = 0, t_us: int | None = None) -> None:
        """Add a marker row (any thread)."""
        self._put_side((MARKER, self.clock() if t_us is None else int(t_us), kind, text, int(value)))

    def _put_side(self, item) -> None:
        with self._side_lock:
            if len(self._side) >= _SIDE_LIMIT:
                self.side_dropped += 1
                return
            self._side.append(item)
        self.queue.wake()

    def _pause_changed(self, t_us: int, paused: bool, by: str) -> None:
        self.marker("pause" if paused else "resume", json.dumps({"by": by}), 0, t_us)

    # -- the recorder thread ----------------------------------------------------------------
    def _run(self) -> None:
        try:
            last_house = self.clock()
            next_stats = last_house + int(self.stats_seconds * 1e6)
            next_marker = last_house + int(self.marker_seconds * 1e6)
            due = None
            while True:
                stopping = self._stopping.is_set()
                items = self.queue.take()
                with self._side_lock:
                    side = list(self._side)
                    self._side.clear()
                self._pending.extend(side)
                self._pending.extend(items)
                now = self.clock()
                if stopping:
                    self._process(final=True)
                    break
                if self._pending and (due is None or now >= due):
                    due = self._process()
                # every 0.5-1 s, on a wake-up there is anyway (a batch): each costs ~0.1 ms of CPU on a VM
                if now - last_house >= 500_000:
                    self.poll_pause_file()
                    self._report_drops(now)
                    self._maybe_rotate(now)
                    last_house = now
                if now >= next_stats:
                    self._emit_stats(now)
                    next_stats = now + int(self.stats_seconds * 1e6)
                if now >= next_marker:
                    self._stats_marker(now)
                    next_marker = now + int(self.marker_seconds * 1e6)
                next_house = last_house + 1_000_000   # the longest between two looks
                wake = min(next_house, next_stats, next_marker,
                           due if (due is not None and self._pending) else next_house)
                self.queue.wait(max(wake - self.clock(), 0) / 1e6)
            now = self.clock()
            self._report_drops(now)
            stats = self.stats()    # one snapshot for the last recorder.stats row and the last stats line
            self._stats_marker(now, stats, final=True)
            self._emit_stats(now, stats)
            self._rotation.close()
        except BaseException as exc:  # reported by stop(); keep what was written readable
            self._error = exc
            try:
                self._rotation.close()
            except BaseException:
                pass

    def barrier(self, recent_us: int = 0) -> int:
        """Time up to which every window change is known (the window source's answer; any thread).
        ``recent_us``: the answer of a barrier begun at most that long ago will do."""
        source = self._barrier_source
        if source is None:
            return self.clock()
        return source.barrier(recent_us=recent_us)

    def _process(self, final: bool = False):
        """Write the pending events the window state is complete for; returns when to come back."""
        # the screen source's barriers (one per grab) serve the batches too: the events they
        # do not cover wait for the next batch
        watermark = self.barrier(0 if final else self.batch_us // 2)
        limit = (1 << 62) if final else watermark - self.guard_us
        ready, keep = [], []
        for e in self._pending:
            (ready if e[1] <= limit or e[0] == MARKER else keep).append(e)
        self._pending = keep
        if ready:
            self._write_events(ready)
        if not keep:
            return self.clock() + self.batch_us  # the next events wait at least a batch period
        # come back when the oldest kept event can be judged; batch for at least the batch
        # period (each pass costs a barrier round trip and one write per stream)
        oldest = min(e[1] for e in keep)
        return max(oldest + self.guard_us + 10_000, self.clock() + self.batch_us)

    def _write_events(self, events) -> None:
        rows = {name: [] for name in STREAM_OF.values()}
        policy, timeline, pause = self.policy, self.timeline, self.pause
        for e in events:
            tag, t = e[0], e[1]
            if tag == ROWS:   # UI elements (.sources.atspi): the source applies the policy, pause, redaction
                e[2](t, rows)
                continue
            stream = STREAM_OF[tag]
            self.received[stream] += 1
            if tag in INPUT_TAGS:
                if pause.paused_at(t):
                    self.paused_events[stream] += 1
                    continue
                if tag == KEY:
                    verdict = worst((timeline.focus_verdict(t), self.field_focus.verdict(t)))
                    row = policy.key_row(e[2], e[3], e[4], e[5], verdict)
                    if row is None:
                        if verdict == EXCLUDED:
                            self.excluded["key"] += 1
                        else:
                            self.keys_not_stored += 1
                        continue
                    if verdict == SECRET:
                        self.secret_keys += 1
                    rows["key"].append((t, row[0], e[3], row[1], row[2]))
                    continue
                x, y = e[-2], e[-1]
                if timeline.excluded_at(x, y, t):
                    self.excluded[stream] += 1
                    continue
                rows[stream].append(e[1:])
            elif tag == FOCUS:
                info = e[2]
                if info.verdict == EXCLUDED:
                    app, title = EXCLUDED_APP, None
                else:
                    app, title = info.app or info.instance or "", info.title
                x, y, w, h = info.rect
                rows["focus"].append((t, app, title, info.window, x, y, w, h))
            else:
                rows["marker"].append(e[1:])
        for stream, data in rows.items():
            if data:
                self._write(stream, to_columns(stream, data))

    def _write(self, stream: str, columns: dict) -> None:
        if self._rotation.write(stream, columns):
            self.stored[stream] = self.stored.get(stream, 0) + len(columns["t"])

    # -- shards ---------------------------------------------------------------------------
    def _metadata(self, part: int) -> dict:
        """The metadata of shard number ``part``."""
        sources, screens, platform_settings = {}, None, None
        for s in self.sources:
            info = s.describe()
            if "screens" in info and screens is None:
                screens = info["screens"]
            if "platform" in info and platform_settings is None:   # double-click settings (XSettings)
                platform_settings = info["platform"]
            sources[getattr(s, "name", type(s).__name__)] = info
        meta = {
            "clock": self.anchor,
            "recorder": {"name": "encoder record", "version": __version__, "host": socket.gethostname(),
                         "platform": platform.platform(), "session": self.session, "part": part,
                         "sources": sources, "pid": os.getpid()},
            "privacy": self.policy.to_json(),
        }
        if screens is not None:
            meta["screens"] = screens
        if platform_settings is not None:
            meta["platform"] = platform_settings
        for name, value in self.extra_metadata.items():
            meta.setdefault(name, value)
        return meta

    def _maybe_rotate(self, now: int) -> None:
        if not self._rotation.due():
            return
        self._stats_marker(now)           # the old shard ends with its stats
        self._rotation.rotate()
        focus = self.timeline.focus       # every shard opens with the focus in force
        if focus.window:
            self._write_events([(FOCUS, now, focus)])

    # -- stats ------------------------------------------------------------------------------
    def bytes_written(self) -> int:
        """Bytes of every shard so far (the closed ones and the one being written)."""
        return self._rotation.bytes_written()

    def stats(self) -> dict:
        """Counters since the start (numbers, and dicts of numbers per stream; see :mod:`.stats`)."""
        return self._stats.snapshot(pending=len(self._pending), frame_pipeline=self._rotation.frame_writer_stats(),
                                    unwritten=self._rotation.pending())

    def _emit_stats(self, now: int, stats: dict | None = None) -> None:
        stats = self._stats.add_rates(self.stats() if stats is None else stats, now)
        self.last_stats = stats
        if self.on_stats is not None:
            self.on_stats(stats)

    def _stats_marker(self, now: int, stats: dict | None = None, final: bool = False) -> None:
        row = self._stats.stats_row(now, self.stats() if stats is None else stats, final)
        self._write("marker", to_columns("marker", [row]))

    def _report_drops(self, now: int) -> None:
        row = self._stats.dropped_row(now)
        if row is not None:
            self._write("marker", to_columns("marker", [row]))


__all__ = ["Recorder", "RecorderError", "POINTER", "BUTTON", "SCROLL", "KEY", "FOCUS", "MARKER"]
