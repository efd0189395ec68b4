"""Overhead of ``encoder record`` beside ffmpeg x11grab lossless, on one real X desktop.

Everything runs in one session, one after the other, on the same 1920x1080 Xvfb desktop
(openbox when installed, an xterm running bash) with the same input activity: an xdotool
loop typing shell commands at ~10 keys/s (their output scrolls the terminal) and moving
the mouse. Measured per run, from ``/proc`` of the recording process:

* CPU seconds per recorded minute, steady state (the process' CPU between the moment it
  reports that it records and the moment it is told to stop; start-up and finalisation
  are shown apart), and the CPU of the X server over the same time (grabs cost it too);
* for ``encoder record``, the split by thread from its own ``recorder.stats`` markers
  (taken ``--marker-interval`` apart, the first one after a warm-up): encoding (tile
  lookup, compression, the caller's share of ``add_frame``), grabbing (XDamage, XShm,
  blackout), input and policy;
* peak resident memory (``VmHWM``) and RSS over time: the slope tells whether memory is flat;
* bytes written per minute.

Runs: ``encoder record`` at 2 and 10 fps, ``ffmpeg -f x11grab -c:v libx264rgb -qp 0 -preset
ultrafast`` at 2 and 10 fps, then a lossless-input check: synthetic XTest input at 1000
events/s (pointer moves with key presses and releases mixed in) while recording at 2 fps;
the events sent are compared with the rows stored. ``--memory-minutes M`` adds a long run
at 2 fps whose RSS curve is the basis of the one-hour extrapolation.

``--context on|off|both`` measures the context sources instead (shell commands and UI elements,
docs/capture.md): the browser desktop of ``bench/desktop_workload.py`` (Chromium started with
``--force-renderer-accessibility`` and ``ACCESSIBILITY_ENABLED=1`` beside an xterm whose bash evals
``encoder shell-hook bash``; ``--context-scenario`` picks another of its scenarios, e.g.
``terminal``), with a session D-Bus and an accessibility bus (``at-spi-bus-launcher``), driven by
that scenario (browser: scrolling, clicks, selections, context menus, window switches, commands typed);
``encoder record`` with both sources on, and with ``--commands off --elements off``, alternating,
``--repeat`` times, the same seed for each run. Besides CPU and memory it reports the rows of the
``command`` and ``element`` streams and the lookup latency and timeouts of the last
``recorder.stats`` marker.

Needs: ``apt-get install xvfb xdotool xterm ffmpeg`` (openbox optional),
``pip install '.[capture]'``. Example::

    python bench/bench_recorder.py --seconds 60 --memory-minutes 5 --json /tmp/bench_recorder.json
    python bench/bench_recorder.py --context both --fps 2 --seconds 60 --repeat 2 --json /tmp/context.json
    python bench/bench_recorder.py --context both --context-scenario terminal --keep /tmp/shards

The context runs also need ``apt-get install chromium python3-doc dbus at-spi2-core``.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/bench_recorder.py` from a checkout
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import desktop_workload as workload  # noqa: E402
WIDTH, HEIGHT = 1920, 1080
TICK = os.sysconf("SC_CLK_TCK")
COMMANDS = ["ls -la /usr/lib | head -40", "seq 1 200 | paste - - - - - - - - | column -t | tail -25",
            "cat /etc/os-release", "ps aux | head -30", "df -h", "clear", "echo the quick brown fox",
            "grep -c def /usr/lib/python3*/json/*.py", "date; uptime", "ls /usr/share | head -50"]


# -- /proc --------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_kb(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssShmem", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    return out


class Sampler(threading.Thread):
    """RSS of a process every ``period`` seconds (for the flatness of memory)."""

    def __init__(self, pid: int, period: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.period, self.samples, self.stop = pid, period, [], threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop.wait(self.period):
            try:
                mem = memory_kb(self.pid)
            except OSError:
                return
            self.samples.append((round(time.monotonic() - self.t0, 1), mem.get("VmRSS", 0) / 1024,
                                 mem.get("VmHWM", 0) / 1024))


def slope_mb_per_min(samples, skip_s: float = 20.0) -> float | None:
    pts = [(t, rss) for t, rss, _ in samples if t >= skip_s]
    if len(pts) < 3:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mr = sum(r for _, r in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    return 60 * sum((t - mt) * (r - mr) for t, r in pts) / var if var else None


# -- the desktop ------------------------------------------------------------------------------
class Desktop(workload.Desktop):
    """The frame benchmarks' Xvfb + openbox (``bench/desktop_workload.py``), with one xterm
    running bash, focused."""

    def __init__(self):
        super().__init__(WIDTH, HEIGHT)
        self.__enter__()
        self.xvfb = self.procs[0]
        self.wm = shutil.which("openbox")
        self.spawn(["xterm", "-geometry", "160x50+10+10", "-T", "terminal", "-e", "bash", "--norc"])
        self.terminal = self.wait_window("--name", "^terminal$", timeout=20)
        self.run("xdotool", "windowactivate" if self.wm else "windowfocus", "--sync", self.terminal)

    def close(self):
        self.__exit__(None, None, None)


class Activity(threading.Thread):
    """A person at the terminal: commands typed at ~10 keys/s, mouse moves between them."""

    def __init__(self, desk: Desktop, seed: int = 0):
        super().__init__(daemon=True)
        self.desk, self.rng, self.stop = desk, random.Random(seed), threading.Event()
        self.keys = 0

    def run(self):
        while not self.stop.is_set():
            command = self.rng.choice(COMMANDS)
            self.desk.run("xdotool", "type", "--delay", "100", command)
            self.desk.run("xdotool", "key", "Return")
            self.keys += len(command) + 1
            for _ in range(self.rng.randint(2, 6)):
                if self.stop.is_set():
                    return
                self.desk.run("xdotool", "mousemove", str(self.rng.randint(50, WIDTH - 50)),
                              str(self.rng.randint(50, HEIGHT - 50)))
                time.sleep(self.rng.uniform(0.1, 0.4))
            self.stop.wait(self.rng.uniform(0.5, 1.5))


# -- the context desktop (--context) ------------------------------------------------------------
AT_SPI_LAUNCHERS = ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher",
                    "/usr/lib/at-spi2/at-spi-bus-launcher")


class ContextDesktop(workload.Desktop):
    """A desktop of ``desktop_workload.py`` (its ``browser`` scenario by default) with both context
    sources fed: a session D-Bus and an accessibility bus, Chromium with
    ``--force-renderer-accessibility``, the xterms' bash with the shell hook (its
    ``XDG_RUNTIME_DIR`` is the recorder's)."""

    def __init__(self, scenario: str = "browser"):
        launcher = next((p for p in AT_SPI_LAUNCHERS if os.path.exists(p)), None)
        if shutil.which("dbus-daemon") is None or launcher is None:
            raise SystemExit("--context needs dbus-daemon and at-spi2-core: apt-get install dbus at-spi2-core")
        self.runtime = tempfile.mkdtemp(prefix="encoder-bench-run-")   # 0700: the hook's and recorder's
        rc = Path(self.runtime) / "bashrc"
        rc.write_text(f'eval "$(PYTHONPATH={ROOT} {sys.executable} -m encoder shell-hook bash)"\n')
        super().__init__(WIDTH, HEIGHT, bash_rcfile=str(rc))
        self.groups = []
        self.__enter__()
        self.xvfb = self.procs[0]
        self.wm = shutil.which("openbox")
        self.env["XDG_RUNTIME_DIR"] = self.runtime
        daemon = self._group(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE)
        address = daemon.stdout.readline().decode().strip()
        daemon.stdout.close()
        # ACCESSIBILITY_ENABLED=1: Chromium 150 loads its AT-SPI bridge only with it (or a desktop's
        # accessibility setting); --force-renderer-accessibility alone leaves it off the bus
        self.env.update(DBUS_SESSION_BUS_ADDRESS=address, NO_AT_BRIDGE="0", GTK_MODULES="", ACCESSIBILITY_ENABLED="1")
        self.env.pop("AT_SPI_BUS_ADDRESS", None)
        self._group([launcher, "--launch-immediately"], stdout=subprocess.DEVNULL)
        from encoder.capture.sources.atspi_bus import find_bus_address
        for _ in range(150):
            try:
                self.a11y_bus = find_bus_address(self.env)
                break
            except LookupError:
                time.sleep(0.1)
        else:
            raise SystemExit("the accessibility bus did not start")
        self.scenario = scenario
        self.windows = workload.setup(self, scenario)
        self.terminal = self.windows.get("terminal")

    def _group(self, args, stdout):
        proc = subprocess.Popen(args, env=self.env, stdout=stdout, stderr=subprocess.DEVNULL, start_new_session=True)
        self.groups.append(proc)
        return proc

    def spawn(self, args, **kw):
        if os.path.basename(args[0]).startswith(("chromium", "chrome", "google-chrome")):
            args = [args[0], "--force-renderer-accessibility", *args[1:]]   # page elements on the bus
        return super().spawn(args, **kw)

    def close(self):
        self.__exit__(None, None, None)
        for proc in reversed(self.groups):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.runtime, ignore_errors=True)


class ScenarioActivity(workload.Driver):
    """The desktop's ``desktop_workload`` scenario as the input of a run (``keys``: characters typed)."""

    def __init__(self, desk: ContextDesktop, seed: int = 0):
        super().__init__(desk, desk.scenario, seed, queue.Queue())
        self.windows = desk.windows
        self.keys = 0

    def type(self, text: str) -> None:
        self.keys += len(text)
        super().type(text)


def system_cpu() -> tuple:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def context_run(desk: ContextDesktop, fps: float, seconds: float, out: Path, on: bool, seed: int) -> dict:
    """``encoder record`` on the context desktop, with both context sources ``on`` or off."""
    shutil.rmtree(out, ignore_errors=True)
    args = [*encoder_cmd(), "record", "--out", str(out), "--fps", str(fps), "--keys", "full",
            "--marker-interval", "10", "--stats-interval", "3600", "-q", *EXTRA_ARGS]
    if not on:
        args += ["--commands", "off", "--elements", "off"]
    busy0, total0 = system_cpu()
    result = measure(desk, args, seconds, wait_line("recording"), make_activity=lambda d: ScenarioActivity(d, seed))
    busy1, total1 = system_cpu()
    result["machine_busy_percent"] = round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)
    result["command"] = " ".join(args[args.index("record") - 1:])
    result.update(shard_figures(out, seconds))
    result.update(context_figures(out))
    return result


def context_figures(out: Path) -> dict:
    """Rows of the context streams, and the sources' counters of the last ``recorder.stats``."""
    import encoder
    figures = {"command_rows": 0, "element_rows": 0, "element_events": {}}
    last = None
    for p in sorted(out.glob("*.enc")):
        with encoder.ShardReader(p) as r:
            if "command" in r.streams:
                figures["command_rows"] += r.num_rows("command")
            if "element" in r.streams:
                figures["element_rows"] += r.num_rows("element")
                for event in r.read("element", columns=["event"]).column("event").to_pylist():
                    figures["element_events"][event] = figures["element_events"].get(event, 0) + 1
            if "marker" in r.streams:
                stats = [m for m in r.read("marker").to_pylist() if m["kind"] == "recorder.stats"]
                last = json.loads(stats[-1]["text"]) if stats else last
    if last is not None:
        figures["lookup_timeouts"] = last.get("lookup_timeouts")
        elements = last["sources"].get("atspi-elements", {})
        figures["elements"] = {k: elements.get(k) for k in (
            "available", "reason", "latency", "timeouts", "calls_calls", "calls_timeouts", "calls_skipped",
            "lookups_timed_out", "lookups_dropped", "clicks_unresolved", "click", "focus", "menu", "events",
            "stored", "excluded", "redacted", "password_focus") if k in elements}
        figures["shell"] = last["sources"].get("shell")
        threads = last.get("threads_cpu_s", {})
        figures["context_threads_cpu_s"] = {k: v for k, v in threads.items()
                                            if k.startswith(("encoder-atspi", "encoder-shell"))}
    return figures


def context_main(args, results: dict, work: Path) -> None:
    desk = ContextDesktop(args.context_scenario)
    results["desktop"] = (f"Xvfb {WIDTH}x{HEIGHT}x24, {'openbox' if desk.wm else 'no WM'}, "
                          f"{'Chromium (--force-renderer-accessibility) + ' if 'browser' in desk.windows else ''}"
                          "xterm/bash with the shell hook, session D-Bus + at-spi bus; desktop_workload "
                          f"{args.context_scenario} scenario")
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.context]
    try:
        time.sleep(3)  # Chromium's first paint and accessibility tree
        for fps in args.fps:
            for i in range(args.repeat):
                for on in modes:
                    name = f"context_{'on' if on else 'off'}_{fps:g}fps_{i + 1}"
                    print(f"{name} ...", file=sys.stderr, flush=True)
                    run = context_run(desk, fps, args.seconds, work / name, on, args.seed)
                    if args.keep:
                        shutil.copytree(work / name, Path(args.keep) / name, dirs_exist_ok=True)
                    results["runs"][name] = run
                    brief = {k: run.get(k) for k in ("cpu_percent_of_core", "peak_rss_mb_while_recording",
                                                     "machine_busy_percent", "load_average_at_end",
                                                     "command_rows", "element_rows", "lookup_timeouts",
                                                     "returncode")}
                    brief["latency"] = run.get("elements", {}).get("latency")
                    print(json.dumps(brief), file=sys.stderr, flush=True)
    finally:
        desk.close()


# -- runs ---------------------------------------------------------------------------------------
def measure(desk: Desktop, args: list, seconds: float, ready, activity: bool = True, out_dir=None,
            make_activity=None) -> dict:
    """Run a recording command for ``seconds`` of steady state; CPU, memory, X server CPU.
    ``make_activity(desk)``: the input thread (default :class:`Activity`)."""
    # cwd: `python -m` puts it first on sys.path, before PYTHONPATH
    proc = subprocess.Popen(args, env=dict(desk.env, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    t_spawn = time.monotonic()
    ready(proc)
    startup_s = time.monotonic() - t_spawn
    sampler = Sampler(proc.pid)
    sampler.start()
    act = (make_activity or Activity)(desk) if activity else None
    cpu0, x0, t0 = cpu_seconds(proc.pid), cpu_seconds(desk.xvfb.pid), time.monotonic()
    cpu_startup = cpu0
    if act:
        act.start()
    time.sleep(seconds)
    cpu1, x1, t1 = cpu_seconds(proc.pid), cpu_seconds(desk.xvfb.pid), time.monotonic()
    mem = memory_kb(proc.pid)
    if act:
        act.stop.set()
        act.join()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    sampler.stop.set()
    minutes = (t1 - t0) / 60
    result = {
        "steady_seconds": round(t1 - t0, 1),
        "cpu_s_per_min": round((cpu1 - cpu0) / minutes, 3),
        "cpu_percent_of_core": round(100 * (cpu1 - cpu0) / (t1 - t0), 3),
        "xserver_cpu_s_per_min": round((x1 - x0) / minutes, 3),
        "startup_s": round(startup_s, 2),
        "startup_cpu_s": round(cpu_startup, 2),
        "peak_rss_mb_while_recording": round(mem.get("VmHWM", 0) / 1024, 1),
        "rss_mb_at_end": round(mem.get("VmRSS", 0) / 1024, 1),
        "rss_shmem_mb": round(mem.get("RssShmem", 0) / 1024, 1),
        "rss_slope_mb_per_min": slope_mb_per_min(sampler.samples),
        "rss_samples": sampler.samples[:: max(1, len(sampler.samples) // 40)],
        "rss_samples_all": sampler.samples,
        "keys_typed": act.keys if act else 0,
        "load_average_at_end": os.getloadavg(),
        "returncode": proc.returncode,
    }
    if proc.returncode != 0:
        result["stderr"] = stderr[-2000:]
    return result


def wait_line(prefix):
    def ready(proc):
        line = proc.stdout.readline()
        if not line.startswith(prefix):
            raise SystemExit(f"the recorder did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return ready


def ffmpeg_ready(proc):
    time.sleep(2.0)  # ffmpeg prints no "recording" line on a pipe: give it two seconds to settle
    if proc.poll() is not None:
        raise SystemExit(f"ffmpeg failed: {proc.stderr.read()[-2000:]}")


EXTRA_ARGS: list = []   # --recorder-args
NO_TORCH: list = []     # --no-torch: [True]
NO_TORCH_CODE = "import sys; sys.modules['torch'] = None; from encoder.cli import main; sys.exit(main(sys.argv[1:]))"


def encoder_cmd() -> list:
    """How to start ``encoder``: ``python -m encoder``, or with torch made unimportable (--no-torch:
    ``encoder record`` then starts as on a machine without torch, which every ``encoder`` command
    imports through encoder.cli.convert -> encoder.loader when it is installed)."""
    return [sys.executable, "-c", NO_TORCH_CODE] if NO_TORCH else [sys.executable, "-m", "encoder"]


def recorder_run(desk, fps: float, seconds: float, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    args = [*encoder_cmd(), "record", "--out", str(out), "--fps", str(fps), "--keys", "full",
            "--marker-interval", "10", "--stats-interval", "3600", "-q", *EXTRA_ARGS]
    result = measure(desk, args, seconds, wait_line("recording"))
    result.update(shard_figures(out, seconds))
    return result


def shard_figures(out: Path, seconds: float) -> dict:
    import encoder
    shards = sorted(out.glob("*.enc"))
    size = sum(p.stat().st_size for p in shards)
    figures = {"bytes_per_min": round(size / (seconds / 60)), "shards": len(shards)}
    markers = []
    rows = {}
    frames = 0
    for p in shards:
        with encoder.ShardReader(p) as r:
            frames += r.frame_count() if "frame" in r.streams else 0
            for s in ("pointer", "button", "scroll", "key", "focus"):
                if s in r.streams:
                    rows[s] = rows.get(s, 0) + r.num_rows(s)
            if "marker" in r.streams:
                markers += [json.loads(m["text"]) for m in r.read("marker").to_pylist()
                            if m["kind"] == "recorder.stats"]
    figures["rows"], figures["frames"] = rows, frames
    if len(markers) >= 2:
        first = next((m for m in markers if m["elapsed_s"] >= 9), markers[0])
        last = markers[-1]
        span = last["elapsed_s"] - first["elapsed_s"]
        if span > 0:
            def delta(get):
                try:
                    return get(last) - get(first)
                except (KeyError, TypeError):
                    return 0.0
            thread = lambda name: delta(lambda m: m["threads_cpu_s"].get(name, 0.0))  # noqa: E731
            source = lambda src, key: delta(lambda m: m["sources"][src][key])  # noqa: E731
            grab = source("x11-screen", "grab_cpu_s")
            screen = source("x11-screen", "thread_cpu_s")
            encode = thread("encoder-writer") + thread("encoder-frames") + max(screen - grab, 0.0)
            split = {
                "encode: tile lookup + zstd + add_frame": encode,
                "of it, add_frame": source("x11-screen", "add_frame_cpu_s"),
                "grab: XDamage + XShm + blackout": grab,
                "input: XRecord decoding": source("x11-input", "thread_cpu_s"),
                "windows: focus tracking + barriers": thread("encoder-x11-windows"),
                "policy + event columns (recorder thread)": thread("encoder-recorder"),
                "context: AT-SPI lookups + bus, shell FIFO": thread("encoder-atspi") + thread("encoder-atspi-bus")
                + thread("encoder-shell"),
                "main thread": thread("MainThread"),
                "process total": delta(lambda m: m["cpu_s"]),
            }
            figures["cpu_percent_by_part"] = {k: round(100 * v / span, 3) for k, v in split.items()}
            figures["cpu_percent_by_part"]["window_s"] = round(span, 1)
        figures["dropped_total"] = last["dropped_total"]
        figures["frame_pipeline"] = last.get("frame_pipeline")
        figures["screen_counters"] = last["sources"].get("x11-screen")
    return figures


def ffmpeg_run(desk, fps: float, seconds: float, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"ffmpeg-{fps:g}fps.mkv"
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "x11grab", "-framerate", str(fps),
            "-video_size", f"{WIDTH}x{HEIGHT}", "-i", desk.display, "-c:v", "libx264rgb", "-qp", "0",
            "-preset", "ultrafast", str(path)]
    result = measure(desk, args, seconds, ffmpeg_ready)
    result["bytes_per_min"] = round(path.stat().st_size / ((seconds + 2) / 60))
    result["command"] = " ".join(args)
    return result


def lossless_input_run(desk, rate: int, seconds: float, out: Path) -> dict:
    """XTest input at ``rate`` events/s while recording; sent vs stored, per kind."""
    from Xlib import X, XK, display
    from Xlib.ext import xtest
    shutil.rmtree(out, ignore_errors=True)
    args = [sys.executable, "-m", "encoder", "record", "--out", str(out), "--fps", "2", "--keys", "full", "-q"]
    proc = subprocess.Popen(args, env=dict(desk.env, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    wait_line("recording")(proc)
    d = display.Display(desk.display)
    keycode = d.keysym_to_keycode(XK.string_to_keysym("a"))
    sent = {"pointer": 0, "key": 0}
    n = int(rate * seconds)
    t0 = time.monotonic()
    cpu0 = cpu_seconds(proc.pid)
    for i in range(n):
        if i % 10 == 5:
            xtest.fake_input(d, X.KeyPress if (i // 10) % 2 == 0 else X.KeyRelease, keycode)
            sent["key"] += 1
        else:
            xtest.fake_input(d, X.MotionNotify, x=200 + i % 1000, y=200 + (i // 1000) % 500)
            sent["pointer"] += 1
        if i % 50 == 49:
            d.flush()
            delay = t0 + (i + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    if sent["key"] % 2:  # leave no key held down
        xtest.fake_input(d, X.KeyRelease, keycode)
        sent["key"] += 1
    d.sync()
    elapsed = time.monotonic() - t0
    cpu1 = cpu_seconds(proc.pid)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    d.close()
    stored = shard_figures(out, elapsed)["rows"]
    return {"rate_events_per_s": round(sum(sent.values()) / elapsed), "seconds": round(elapsed, 2),
            "sent": sent, "stored": {k: stored.get(k, 0) for k in sent},
            "lost": {k: sent[k] - stored.get(k, 0) for k in sent},
            "recorder_cpu_percent_during": round(100 * (cpu1 - cpu0) / elapsed, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="steady-state seconds per run (default 60)")
    ap.add_argument("--fps", type=float, nargs="*", default=[2, 10])
    ap.add_argument("--memory-minutes", type=float, default=0, help="add a long 2 fps run for memory flatness")
    ap.add_argument("--input-rate", type=int, default=1000)
    ap.add_argument("--input-seconds", type=float, default=10)
    ap.add_argument("--skip-ffmpeg", action="store_true")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--recorder-args", default="", help="extra arguments of `encoder record`, e.g. "
                    "'--tile-store-mb 8'")
    ap.add_argument("--only-memory", action="store_true", help="run the memory run only")
    ap.add_argument("--context", choices=("on", "off", "both"), help="measure the context sources instead (shell "
                    "commands, UI elements) on the Chromium + hooked xterm desktop with an accessibility bus: both "
                    "on, both off (--commands off --elements off), or both alternating; only these runs")
    ap.add_argument("--no-torch", action="store_true", help="start `encoder record` with torch unimportable, "
                    "as on a machine without it (every `encoder` command imports torch when it is installed: "
                    "~185 MB of resident memory)")
    ap.add_argument("--context-scenario", default="browser", choices=workload.SCENARIOS,
                    help="--context: the desktop_workload scenario of the desktop (default browser)")
    ap.add_argument("--keep", help="--context: copy each run's shards into this folder (to re-encode or view them)")
    ap.add_argument("--repeat", type=int, default=1, help="--context: runs per mode (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="--context: the seed of the scenario (same for every run)")
    ap.add_argument("--recorder-root", help="run `encoder record` from this source tree (PYTHONPATH), e.g. a "
                    "patched copy, instead of this checkout")
    args = ap.parse_args(argv)
    global ROOT
    EXTRA_ARGS[:] = args.recorder_args.split()
    NO_TORCH[:] = [True] if args.no_torch else []
    if args.only_memory:
        args.fps, args.input_seconds = [], 0
    if args.recorder_root:
        ROOT = Path(args.recorder_root).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-recorder-"))
    if args.context:
        results = {"cores": os.cpu_count(), "recorder_tree": str(ROOT), "load_average_at_start": os.getloadavg(),
                   "runs": {}}
        try:
            context_main(args, results, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return _report(results, args)
    desk = Desktop()
    results = {"desktop": f"Xvfb {WIDTH}x{HEIGHT}x24, {'openbox' if desk.wm else 'no WM'}, xterm+bash",
               "cores": os.cpu_count(), "recorder_tree": str(ROOT), "load_average_at_start": os.getloadavg(),
               "runs": {}}
    try:
        for fps in args.fps:
            print(f"encoder record, {fps:g} fps ...", file=sys.stderr, flush=True)
            results["runs"][f"encoder_{fps:g}fps"] = recorder_run(desk, fps, args.seconds, work / f"rec{fps:g}")
            print(json.dumps(results["runs"][f"encoder_{fps:g}fps"], indent=1)[:1500], file=sys.stderr)
            if not args.skip_ffmpeg and shutil.which("ffmpeg"):
                print(f"ffmpeg x11grab lossless, {fps:g} fps ...", file=sys.stderr, flush=True)
                results["runs"][f"ffmpeg_{fps:g}fps"] = ffmpeg_run(desk, fps, args.seconds, work / "ffmpeg")
                print(json.dumps(results["runs"][f"ffmpeg_{fps:g}fps"], indent=1)[:800], file=sys.stderr)
        if args.input_seconds:
            print(f"lossless input at {args.input_rate} events/s ...", file=sys.stderr, flush=True)
            results["lossless_input"] = lossless_input_run(desk, args.input_rate, args.input_seconds, work / "input")
            print(json.dumps(results["lossless_input"], indent=1), file=sys.stderr)
        if args.memory_minutes:
            print(f"memory, {args.memory_minutes:g} min at 2 fps ...", file=sys.stderr, flush=True)
            run = recorder_run(desk, 2, args.memory_minutes * 60, work / "memory")
            slope = run["rss_slope_mb_per_min"] or 0.0
            # the tile store fills up to its cap and then stays there: the rest of the growth is
            # what matters for an hour; see docs/capture.md for the reasoning
            late = slope_mb_per_min(run["rss_samples_all"], skip_s=args.memory_minutes * 60 / 2)
            run["rss_slope_second_half_mb_per_min"] = late
            run["linear_extrapolation_mb_at_60_min"] = round(
                run["peak_rss_mb_while_recording"] + max(slope, 0) * (60 - args.memory_minutes), 1)
            results["memory"] = run
    finally:
        desk.close()
        shutil.rmtree(work, ignore_errors=True)
    return _report(results, args)


def _report(results: dict, args) -> int:
    """Print the results as JSON (and write them to ``--json``)."""
    results["load_average_at_end"] = os.getloadavg()
    text = json.dumps(results, indent=1)
    if args.json:
        Path(args.json).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
