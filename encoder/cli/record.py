"""``encoder record --out DIR``: record the X display named by DISPLAY into rotating shards.

Screen frames (MIT-SHM grabs of what XDamage reports changed), input (XRecord) and window
focus go through the privacy policy (``--policy FILE``, defaults safe; ``--keys`` overrides
its key mode) into shards ``DIR/session-<UTC time>-<part>.enc``. SIGINT or SIGTERM (or
``--duration``) stops it: everything captured so far is written and every shard is closed
with its footer. A stats line goes to stderr every ``--stats-interval`` seconds and into the
shard's ``marker`` stream (kind ``recorder.stats``) every minute.

Exit codes: 0 stopped normally; 2 could not start (no display, a missing package, a bad
policy) or a source failed while recording (what was captured is still written). A start
that fails leaves nothing behind: no shard, and no ``--out`` folder unless it existed before.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from . import _console
from ._args import positive

_positive = positive(1e9)  # seconds, MB, fps


def register(sub, common) -> None:
    p = sub.add_parser(
        "record", parents=[common], help="record this X display (screen, input, focus) into shards",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the install lines whole
        description="Record the X display named by DISPLAY: screen frames, pointer, buttons, wheel,\n"
                    "keys and window focus, with the privacy policy applied before anything is\n"
                    "written. Stop with Ctrl-C or SIGTERM.\n\n"
                    "Needs the capture extra (python-xlib, mss):\n"
                    "  pip install '.[capture]'              (from a clone)\n"
                    "  pip install 'hci-encoder[capture]'    (a release)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder of the shards (created if missing; removed again if the start fails)")
    p.add_argument("--fps", type=_positive, default=2.0, metavar="N", help="screen frames per second "
                   "(default 2); unchanged screens cost almost nothing")
    p.add_argument("--duration", type=_positive, metavar="S", help="stop after S seconds")
    p.add_argument("--keys", choices=("full", "timing-only", "none"),
                   help="what the key stream keeps, overriding the policy's 'keys' (default from the policy: "
                        "timing-only): full = keysyms and typed text; timing-only = press/release times and key "
                        "classes, no text; none = no key rows. This is the key stream only: screen frames still "
                        "show whatever the typing displays; exclude apps or titles in the policy to black "
                        "those windows out (docs/capture.md)")
    p.add_argument("--policy", metavar="FILE", help="privacy policy, TOML or JSON (docs/capture.md); "
                   "default: the built-in safe policy")
    p.add_argument("--display", metavar="NAME", help="X display (default: $DISPLAY)")
    p.add_argument("--rotate-mb", type=_positive, default=256.0, metavar="MB",
                   help="start a new shard past this size (default 256)")
    p.add_argument("--rotate-minutes", type=_positive, default=60.0, metavar="MIN",
                   help="start a new shard after this long (default 60)")
    p.add_argument("--stats-interval", type=_positive, default=5.0, metavar="S",
                   help="seconds between stats lines on stderr (default 5)")
    p.add_argument("--marker-interval", type=_positive, default=60.0, metavar="S",
                   help="seconds between recorder.stats rows in the marker stream (default 60)")
    p.add_argument("--flush-seconds", type=_positive, default=30.0, metavar="S",
                   help="at most this much recording is lost if the machine crashes (default 30)")
    p.add_argument("--tile-store-mb", type=_positive, default=24.0, metavar="MB",
                   help="screen tiles kept for deduplication; bounds memory (default 24)")
    p.add_argument("--queue", type=int, default=65536, metavar="N",
                   help="input events the queue holds before counting drops (default 65536)")
    p.add_argument("--no-screen", action="store_true", help="record input and focus only")
    p.add_argument("--no-input", action="store_true", help="record screen and focus only")
    p.add_argument("--no-damage", action="store_true", help="grab whole screens every frame (no XDamage)")
    p.add_argument("--elements", choices=("on", "off"), default="on",
                   help="UI elements clicked, focused and opened in menus, from the accessibility bus "
                        "(AT-SPI; default on: without a bus nothing is recorded, said once)")
    p.add_argument("--commands", choices=("on", "off"), default="on",
                   help="shell commands reported by `encoder shell-hook` (text with secrets redacted, cwd, exit "
                        "status, duration; default on)")
    p.set_defaults(run=run)


def _format_stats(stats: dict, paused: bool) -> str:
    rates = stats.get("rates", {})
    elapsed = int(stats["elapsed_s"])
    clock = f"{elapsed // 3600:02d}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}"
    line = (f"[{clock}] {rates.get('events_per_s', 0):8.1f} events/s  {rates.get('frames_per_s', 0):5.2f} frames/s  "
            f"CPU {rates.get('cpu_percent', 0):5.2f}%  {rates.get('bytes_per_min', 0) / 1e6:7.3f} MB/min  "
            f"dropped {stats['dropped_total']}  rss {stats['rss_mb']:.0f} MB")
    return line + ("  (paused)" if paused else "")


class _NoPandas:
    """An import finder that refuses pandas: pyarrow then works as without pandas."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} is not imported by `encoder record` (memory)", name=name)
        return None


def tune_allocators() -> dict:
    """Allocator settings for a process that records all day; returns what was applied.

    Measured on a 1080p desktop with a capped tile store (docs/capture.md): with the
    defaults, resident memory crept up by ~2 MB a minute although every structure of the
    recorder is bounded: freed memory stayed with the allocators (Arrow's mimalloc pool and
    glibc's per-thread arenas, where the recorder's threads allocate and free pages and
    staged tiles of up to megabytes). With these it is flat (~0.2 MB/min, settling):

    * Arrow allocates from the system allocator (``pyarrow.set_memory_pool``);
    * glibc keeps at most 2 arenas, and serves blocks of 128 KiB and more with ``mmap`` (a
      fixed threshold: the dynamic one climbs to 32 MiB and keeps them in the heap), so
      freed frames and pages go back to the system;
    * pandas is not imported: pyarrow imports it, when installed, on its first conversion
      of a Python or NumPy value (``pa.array``, ``pa.scalar``), 33 MB resident that nothing
      in a recorder uses (:class:`_NoPandas`).

    Called by ``encoder record`` before any recorder thread starts; a program embedding
    :class:`~encoder.capture.Recorder` decides for itself (same effect:
    ``MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 ARROW_DEFAULT_MEMORY_POOL=system``).
    """
    applied = {}
    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())
        applied["pandas"] = "not imported"
    try:
        import pyarrow as pa
        pa.set_memory_pool(pa.system_memory_pool())
        applied["arrow_memory_pool"] = "system"
    except Exception:  # pragma: no cover - an Arrow build without it
        pass
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        # M_ARENA_MAX = -8, M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1 (glibc malloc.h)
        if mallopt(-8, 2) == 1:
            applied["malloc_arena_max"] = 2
        if mallopt(-3, 128 * 1024) == 1 and mallopt(-1, 128 * 1024) == 1:
            applied["malloc_mmap_threshold"] = 128 * 1024
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        pass
    return applied


def run(args) -> int:
    from ..capture import Policy, PolicyError, Recorder, SourceUnavailableError, x11_sources
    from ..capture.events import input_rows
    try:
        policy = Policy.load(args.policy) if args.policy else Policy()
        if args.keys:
            policy = policy.replace(keys=args.keys)
    except PolicyError as exc:
        _console.error(str(exc))
        return 2
    except OSError as exc:
        _console.error(_console.os_message(exc))
        return 2
    display = args.display or os.environ.get("DISPLAY")
    try:
        sources = x11_sources(display, fps=args.fps, screen=not args.no_screen, input=not args.no_input,
                              damage=not args.no_damage, elements=args.elements == "on",
                              commands=args.commands == "on")
    except SourceUnavailableError as exc:
        _console.error(str(exc))
        return 2

    def on_stats(stats):
        print(_format_stats(stats, stats.get("paused_now", False)), file=sys.stderr, flush=True)

    tuned = tune_allocators()
    recorder = Recorder(args.out, sources=sources, policy=policy, metadata={"process": {"allocators": tuned}},
                        rotate_bytes=int(args.rotate_mb * 2**20),
                        rotate_seconds=args.rotate_minutes * 60, stats_seconds=args.stats_interval,
                        marker_seconds=args.marker_interval,
                        flush_seconds=args.flush_seconds, tile_store_bytes=int(args.tile_store_mb * 2**20),
                        queue_events=max(args.queue, 1), on_stats=None if args.quiet else on_stats)
    stop = threading.Event()   # a signal, or a source's failure (told before any source starts)
    recorder.failure_listeners.append(stop.set)
    received = []

    def on_signal(signum, frame):
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            recorder.start()
        except SourceUnavailableError as exc:
            _console.error(str(exc))
            return 2
        print(f"recording {display} into {args.out} (keys: {policy.keys}; policy: {policy.source}; "
              f"pause: {policy.hotkey or 'no hotkey'}, file {recorder.pause_path or 'none'}); "
              "Ctrl-C stops", flush=True)
        # sleep until a signal (its handler runs inside the wait), a source's failure or the end of
        # --duration: waking twice a second to look cost ~0.02 % of a core
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.is_set():
            timeout = 60.0 if deadline is None else min(60.0, deadline - time.monotonic())
            if timeout <= 0:
                break
            stop.wait(timeout)
        # a second Ctrl-C while finishing would lose the footer: ignore it
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        failure = recorder.failure
        recorder.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stats = recorder.last_stats or recorder.stats()
    stored = stats["stored"]
    print(f"stopped{' by ' + signal.Signals(received[0]).name if received else ''}: "
          f"{len(recorder.shards)} shard(s), {recorder.bytes_written() / 1e6:.2f} MB, "
          f"{input_rows(stored)} input rows, "
          f"{recorder.frames} frames, {stats['dropped_total']} dropped", flush=True)
    for path in recorder.shards:
        print(f"  {path}", flush=True)
    if failure is not None:
        _console.error(f"source {failure[0]} failed: {failure[1]}")
        return 2
    return 0
