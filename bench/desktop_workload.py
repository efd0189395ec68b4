"""A real desktop at 1920x1080 for the frame benchmarks: Xvfb, openbox, xterm, Chromium.

Real applications render real pixels (anti-aliased text, a browser's smooth scrolling,
window decorations); xdotool drives them like a person would (typing at 5-15 keys/s,
running commands whose output scrolls, scrolling documentation with the wheel, switching
windows); mss grabs the screen at a fixed rate.

Scenarios:

* ``terminal``: one xterm; commands typed and run (listings, source files, ``less``
  paging, ``clear``).
* ``browser``: Chromium on the local Python documentation beside an xterm; scrolling,
  following pages, typing in the terminal, switching between the two windows.
* ``build-log``, ``editor``, ``browser-scroll``, ``windows``, ``gtk-dialogs``, ``animation``:
  the rest of the screen corpus (``bench/screen_corpus.py``), set up and driven by
  ``bench/desktop_scenarios.py``: fast-scrolling build and test output with ``git log -p`` in
  ``less``, vim, Chromium scrolling and following links, windows dragged and switched, a
  dialog-heavy GTK application, a region that animates beside a terminal.

Outputs (any combination):

* ``--out PATH``: a shard written live with :meth:`encoder.ShardWriter.add_frame`, plus the
  driver's ``key``, ``command`` and ``focus`` rows (what it typed, ran and switched to);
* ``--record DIR``: ``encoder record`` records the desktop (XRecord input, focus, XShm frames)
  while the driver works; how the bundled ``encoder demo`` session was made;
* ``--cache DIR``: the raw frames, zstd-1 compressed in chunks (``frames-00000.npy.zst``,
  ``times.npy``), for benchmarks to replay the same frames to every codec: :func:`load_cache`
  (all at once) or :func:`iter_cache` (chunk by chunk); ``step=5`` of a 10 fps capture is the
  2 fps sequence.

Needs (Debian): ``apt-get install xvfb xdotool xterm openbox chromium fonts-dejavu-core
python3-doc`` and ``pip install mss``; ``editor`` needs vim, ``build-log`` git, ``gtk-dialogs``
``python3-gi gir1.2-gtk-3.0`` for ``/usr/bin/python3``. Examples::

    python bench/desktop_workload.py --scenario terminal --seconds 60 --cache /tmp/encoder-frames/terminal
    python bench/desktop_workload.py --scenario browser --seconds 20 --out session.enc
    python bench/desktop_workload.py --scenario browser --seconds 30 --fps 5 --record /tmp/demo-rec
    python bench/desktop_workload.py --scenario gtk-dialogs --seconds 130 --seed 7 --cache /tmp/encoder-frames/gtk
    python -m bench.screen_corpus     # every scenario, 130 s each, into /tmp/encoder-frames/corpus/
"""
from __future__ import annotations

import argparse
import glob
import io
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

if __package__:  # bench.desktop_workload
    from . import desktop_scenarios as scenarios
else:  # python bench/desktop_workload.py, or bench/ on sys.path
    import desktop_scenarios as scenarios

WIDTH, HEIGHT = 1920, 1080
DOCS = "/usr/share/doc/python3-dev/html"  # Debian's python3-doc (local, no network needed)
CHUNK_FRAMES = 20
SCENARIOS = ("terminal", "browser", *scenarios.SCENARIOS)

TERMINAL_COMMANDS = [
    "ls -la /usr/lib/python3.11 | head -40",
    "cat /etc/os-release",
    "python3 -c 'import this'",
    "wc -l /usr/lib/python3.11/json/*.py",
    "grep -n 'def ' /usr/lib/python3.11/json/decoder.py",
    "seq 1 60 | paste - - - - - - | column -t",
    "ps aux --sort=-%cpu | head -15",
    "df -h; free -m",
    "find /usr/share/doc -maxdepth 1 -name 'lib*' | head -30",
    "python3 -c 'for i in range(25): print(i, i**2, 2**i)'",
    "head -50 /usr/lib/python3.11/textwrap.py",
    "clear",
    "date; uptime",
    "ls /usr/bin | column -c 160 | head -30",
    "cat /usr/lib/python3.11/this.py | tail -20",
]
LESS_FILES = ["/usr/lib/python3.11/argparse.py", "/usr/lib/python3.11/dataclasses.py"]
DOC_PAGES = ["library/functions.html", "library/stdtypes.html", "tutorial/controlflow.html",
             "library/itertools.html", "library/collections.html", "reference/datamodel.html",
             "library/re.html", "library/pathlib.html"]


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"missing {missing}: apt-get install xvfb xdotool xterm openbox chromium")


class Desktop:
    """Xvfb + openbox on a free display; ``env`` points X clients at it."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT, bash_rcfile: str | None = None):
        need("Xvfb", "xdotool", "xterm")
        self.width, self.height = width, height
        #: the rc file of the xterms' bash (e.g. one that evals ``encoder shell-hook bash``); None: --norc
        self.bash_rcfile = bash_rcfile
        self.procs: list[subprocess.Popen] = []
        self.home = tempfile.mkdtemp(prefix="encoder-desktop-")

    def __enter__(self):
        for n in range(90, 140):
            if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
                self.display = f":{n}"
                break
        else:
            raise SystemExit("no free X display in :90-:139")
        self.env = dict(os.environ, DISPLAY=self.display, HOME=self.home)
        self.env.pop("WAYLAND_DISPLAY", None)
        self.spawn(["Xvfb", self.display, "-screen", "0", f"{self.width}x{self.height}x24", "-nolisten", "tcp"])
        for _ in range(100):
            if os.path.exists(f"/tmp/.X11-unix/X{self.display[1:]}"):
                break
            time.sleep(0.05)
        if shutil.which("openbox"):
            self.spawn(["openbox"])
            time.sleep(0.5)
        self.run("xsetroot", "-solid", "#2e3440") if shutil.which("xsetroot") else None
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.home, ignore_errors=True)

    def spawn(self, args: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def run(self, *args: str) -> str:
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=30).stdout.strip()

    def wait_window(self, *search: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = self.run("xdotool", "search", "--onlyvisible", *search)
            if out:
                return out.split()[-1]
            time.sleep(0.2)
        raise SystemExit(f"window {search} did not appear")

    def xterm(self, geometry: str, title: str) -> str:
        self.spawn(["xterm", "-fa", "DejaVu Sans Mono", "-fs", "11", "-geometry", geometry, "-title", title,
                    "-bg", "#1e1e1e", "-fg", "#d4d4d4", "-e", "bash",
                    *(["--rcfile", self.bash_rcfile] if self.bash_rcfile else ["--norc"]), "-i"])
        return self.wait_window("--name", title)

    def chromium(self, url: str, x: int, y: int, w: int, h: int) -> str:
        browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if browser is None:
            raise SystemExit("missing chromium: apt-get install chromium")
        self.spawn([browser, "--no-sandbox", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                    "--disable-extensions", "--disable-dev-shm-usage", "--password-store=basic", "--test-type",
                    f"--user-data-dir={self.home}/chromium", f"--window-position={x},{y}",
                    f"--window-size={w},{h}", url])
        return self.wait_window("--class", "chromium", timeout=60)


class Driver(threading.Thread):
    """Acts on the desktop like a person, and reports what it did as event rows."""

    def __init__(self, desk: Desktop, scenario: str, seed: int, events: queue.Queue):
        super().__init__(name="workload-driver", daemon=True)
        self.desk, self.scenario, self.events = desk, scenario, events
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.windows: dict[str, str] = {}
        self.state: dict = {}  # what a scenario's steps remember between calls
        self.areas: dict[str, tuple[int, int, int, int]] = {"browser": (0, 0, 1280, 1050),
                                                           "terminal": (1000, 300, 900, 700)}

    def now(self) -> int:
        return time.monotonic_ns() // 1000

    def xdo(self, *args: str) -> None:
        if not self.stop.is_set():
            self.desk.run("xdotool", *args)

    def pause(self, lo: float, hi: float) -> None:
        self.stop.wait(self.rng.uniform(lo, hi))

    def type(self, text: str) -> None:
        for ch in text:  # one key at a time so the typing rate is a person's (5-15 keys/s)
            if self.stop.is_set():
                return
            self.xdo("type", "--delay", "0", ch)
            t = self.now()
            self.events.put(("key", {"t": [t, t + 40_000], "code": [ord(ch), ord(ch)], "pressed": [True, False],
                                     "modifiers": [0, 0], "text": [ch, None]}))
            self.stop.wait(self.rng.uniform(0.06, 0.2))

    def type_with_typo(self, text: str) -> None:
        """Type ``text`` with a slip corrected by BackSpace, as people do."""
        at = self.rng.randint(1, max(1, len(text) - 1))
        self.type(text[:at] + self.rng.choice("qxzj"))
        self.stop.wait(self.rng.uniform(0.2, 0.5))  # notices the slip
        self.xdo("key", "BackSpace")
        self.type(text[at:])

    def click_at(self, x: int, y: int, button: str = "1", repeat: int = 1) -> None:
        self.glide(x, y)
        self.stop.wait(self.rng.uniform(0.1, 0.4))
        self.xdo("click", "--repeat", str(repeat), "--delay", "90", button)

    def drag(self, x0: int, y0: int, x1: int, y1: int) -> None:
        """Press, glide and release: a text selection in the browser."""
        self.glide(x0, y0)
        self.xdo("mousedown", "1")
        self.glide(x1, y1)
        self.xdo("mouseup", "1")

    def command(self, text: str) -> None:
        (self.type_with_typo if self.rng.random() < 0.5 else self.type)(text)
        self.xdo("key", "Return")
        self.events.put(("command", {"t": [self.now()], "kind": ["shell"], "text": [text]}))

    def glide(self, x: int, y: int) -> None:
        """Move the pointer to (x, y) along a slightly curved path at ~100 Hz, like a hand."""
        here = self.desk.run("xdotool", "getmouselocation", "--shell").split()
        x0, y0 = (int(v.split("=")[1]) for v in here[:2]) if len(here) >= 2 else (WIDTH // 2, HEIGHT // 2)
        steps = max(4, int(np.hypot(x - x0, y - y0) / 40))
        bow = self.rng.uniform(-0.15, 0.15)
        for i in range(1, steps + 1):
            f = 0.5 - 0.5 * np.cos(np.pi * i / steps)  # ease in and out
            px = x0 + (x - x0) * f - (y - y0) * bow * np.sin(np.pi * f)
            py = y0 + (y - y0) * f + (x - x0) * bow * np.sin(np.pi * f)
            self.xdo("mousemove", str(int(px)), str(int(py)))
            self.stop.wait(0.01)

    def focus(self, name: str) -> None:
        x, y, w, h = self.areas.get(name, (0, 0, WIDTH, HEIGHT))
        self.glide(x + int(w * self.rng.uniform(0.3, 0.7)), y + int(h * self.rng.uniform(0.3, 0.7)))
        self.xdo("windowactivate", "--sync", self.windows[name])
        self.events.put(("focus", {"t": [self.now()], "app": [name], "title": [name],
                                   "window": [int(self.windows[name])], "x": [0], "y": [0],
                                   "width": [WIDTH], "height": [HEIGHT]}))

    def terminal_step(self) -> None:
        if self.rng.random() < 0.15:
            path = self.rng.choice(LESS_FILES)
            self.command(f"less {path}")
            self.pause(1, 2)
            for _ in range(self.rng.randint(3, 8)):
                self.xdo("key", self.rng.choice(["space", "Down", "Down", "Down", "b"]))
                self.pause(0.3, 1.2)
            self.xdo("key", "q")
        else:
            self.command(self.rng.choice(TERMINAL_COMMANDS))
        self.pause(1, 3)

    def browser_step(self) -> None:
        r = self.rng.random()
        if r < 0.5:  # read and scroll
            self.focus("browser")
            for _ in range(self.rng.randint(3, 10)):
                if self.rng.random() < 0.3:  # the hand drifts while reading
                    self.glide(self.rng.randint(200, 1100), self.rng.randint(150, 950))
                self.xdo("click", "--repeat", str(self.rng.randint(1, 4)), "--delay", "80",
                         self.rng.choice(["5", "5", "5", "4"]))
                self.pause(0.4, 2.0)
        elif r < 0.58:  # select: a word by double click, a line by a drag, then copy it
            self.focus("browser")
            x, y = self.rng.randint(250, 900), self.rng.randint(250, 900)
            if self.rng.random() < 0.5:
                self.click_at(x, y, repeat=2)
            else:
                self.drag(x, y, x + self.rng.randint(150, 400), y + self.rng.randint(0, 40))
            self.pause(0.3, 0.8)
            self.xdo("key", "ctrl+c")
            self.pause(0.5, 1.5)
            self.click_at(x + 30, y + 60)  # a click elsewhere drops the selection
            self.pause(0.5, 1.5)
        elif r < 0.62:  # the context menu, dismissed
            self.focus("browser")
            self.click_at(self.rng.randint(300, 900), self.rng.randint(300, 900), button="3")
            self.pause(0.6, 1.2)
            self.xdo("key", "Escape")
            self.pause(0.3, 0.8)
        elif r < 0.7:  # another page
            self.focus("browser")
            self.xdo("key", "ctrl+l")
            self.pause(0.3, 0.6)
            self.type_with_typo(f"file://{DOCS}/{self.rng.choice(DOC_PAGES)}")
            self.xdo("key", "Return")
            self.pause(1.5, 3)
        else:  # back to the terminal for a command
            self.focus("terminal")
            self.pause(0.3, 1)
            self.command(self.rng.choice(TERMINAL_COMMANDS))
            self.pause(1, 2.5)

    def run(self) -> None:
        steps = {"terminal": self.terminal_step, "browser": self.browser_step}
        step = steps.get(self.scenario) or (lambda: scenarios.STEPS[self.scenario](self))
        try:
            while not self.stop.is_set():
                step()
        except Exception as exc:  # noqa: BLE001 - report, the capture goes on
            print(f"driver: {exc}", file=sys.stderr)


def setup(desk: Desktop, scenario: str) -> dict[str, str]:
    windows = {}
    if scenario == "terminal":
        windows["terminal"] = desk.xterm("205x53+0+0", "terminal")  # about maximized
    elif scenario in scenarios.SETUPS:
        windows = scenarios.SETUPS[scenario](desk)
    else:
        page = f"file://{DOCS}/library/functions.html" if os.path.isdir(DOCS) else "about:blank"
        windows["browser"] = desk.chromium(page, 0, 0, 1280, 1050)
        windows["terminal"] = desk.xterm("110x40+1000+300", "terminal")
    time.sleep(3)  # first paint, fonts
    return windows


class FrameCache:
    """Frames as zstd-1 compressed .npy chunks (written by a thread so capture stays on time)."""

    def __init__(self, folder: str):
        import zstandard
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in glob.glob(str(self.folder / "frames-*.npy.zst")):
            os.remove(old)
        self.cctx = zstandard.ZstdCompressor(level=1, threads=1)
        self.chunk: list[np.ndarray] = []
        self.times: list[int] = []
        self.count = 0
        self.jobs: queue.Queue = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def add(self, t_us: int, frame: np.ndarray) -> None:
        self.chunk.append(frame)
        self.times.append(t_us)
        if len(self.chunk) == CHUNK_FRAMES:
            self._flush()

    def _flush(self) -> None:
        if self.chunk:
            self.jobs.put((self.count, np.stack(self.chunk)))
            self.count += 1
            self.chunk = []

    def _drain(self) -> None:
        while (job := self.jobs.get()) is not None:
            index, frames = job
            buf = io.BytesIO()
            np.save(buf, frames)
            (self.folder / f"frames-{index:05d}.npy.zst").write_bytes(self.cctx.compress(buf.getvalue()))

    def close(self, meta: dict) -> None:
        self._flush()
        self.jobs.put(None)
        self.thread.join()
        np.save(self.folder / "times.npy", np.array(self.times, np.int64))
        (self.folder / "meta.json").write_text(json.dumps(meta, indent=1))


def iter_cache(folder: str, step: int = 1, limit: int | None = None):
    """Yield ``(times int64[k], frames uint8[k, H, W, 4])`` from a ``--cache`` folder chunk by chunk
    (at most :data:`CHUNK_FRAMES` frames at a time, so a 10 GB capture streams in ~170 MB).

    ``step``: every ``step``-th frame (frames 0, step, 2*step, ... with their capture times):
    ``step=5`` of a 10 fps capture is the 2 fps sequence. ``limit``: at most this many frames
    (of the stepped sequence)."""
    import zstandard
    if step < 1:
        raise ValueError(f"step must be >= 1, not {step}")
    folder = Path(folder)
    times = np.load(folder / "times.npy")
    n = len(range(0, len(times), step)) if limit is None else min(limit, len(range(0, len(times), step)))
    dctx = zstandard.ZstdDecompressor()
    at = done = 0  # index of the chunk's first frame; frames yielded
    for path in sorted(folder.glob("frames-*.npy.zst")):
        if done >= n:
            break
        chunk = np.load(io.BytesIO(dctx.decompress(path.read_bytes())))
        first = -at % step  # the chunk's first frame on the step grid
        frames = chunk[first::step][:n - done]
        if len(frames):
            picked = times[at + first::step][:len(frames)]
            yield picked, (frames if step == 1 else np.ascontiguousarray(frames))
            done += len(frames)
        at += len(chunk)
    if done < n:
        raise SystemExit(f"{folder}: {done} frames cached, {n} expected")


def load_cache(folder: str, limit: int | None = None, step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(times int64[n], frames uint8[n, H, W, 4])`` from a ``--cache`` folder: every ``step``-th
    frame (``step=5``: 2 fps from a 10 fps capture), at most ``limit`` of them."""
    times, out, at = [], None, 0
    for t, frames in iter_cache(folder, step=step, limit=limit):
        if out is None:
            total = len(np.load(Path(folder) / "times.npy"))
            n = len(range(0, total, step)) if limit is None else min(limit, len(range(0, total, step)))
            out = np.empty((n, *frames.shape[1:]), np.uint8)
        out[at:at + len(frames)] = frames
        times.append(t)
        at += len(frames)
    if out is None:
        raise SystemExit(f"{folder}: no frames cached")
    return np.concatenate(times), out


def capture(args) -> dict:
    import mss

    import encoder

    events: queue.Queue = queue.Queue()
    with Desktop(bash_rcfile=args.bash_rcfile) as desk:
        windows = setup(desk, args.scenario)
        driver = Driver(desk, args.scenario, args.seed, events)
        driver.windows = windows
        writer = cache = None
        if args.out:
            writer = encoder.ShardWriter(args.out, metadata={
                "recorder": {"name": "bench/desktop_workload.py", "scenario": args.scenario, "fps": args.fps},
                "screens": [{"screen": 0, "width": WIDTH, "height": HEIGHT, "format": "bgra"}]})
            writer.configure_frames(pixel_format="bgra")
        if args.cache:
            cache = FrameCache(args.cache)
        os.environ["DISPLAY"] = desk.display
        period = 1.0 / args.fps
        grabbed = late = 0
        grab_s = encode_s = 0.0
        with getattr(mss, "MSS", None or mss.mss)(display=desk.display) as sct:
            monitor = sct.monitors[1]
            driver.start()
            start = time.monotonic()
            due = start
            while due - start < args.seconds:
                now = time.monotonic()
                if now < due:
                    time.sleep(due - now)
                elif now - due > period:  # fell behind: skip the missed slots, keep the rate
                    late += int((now - due) // period)
                    due += period * int((now - due) // period)
                t_us = time.monotonic_ns() // 1000
                g0 = time.perf_counter()
                shot = sct.grab(monitor)
                frame = np.frombuffer(shot.raw, np.uint8).reshape(shot.height, shot.width, 4)
                g1 = time.perf_counter()
                grab_s += g1 - g0
                if writer is not None:
                    while not events.empty():
                        stream, rows = events.get()
                        writer.write(stream, rows)
                    writer.add_frame(t_us, frame)
                    encode_s += time.perf_counter() - g1
                if cache is not None:
                    cache.add(t_us, frame)
                grabbed += 1
                due += period
            driver.stop.set()
            driver.join(10)
        meta = {"scenario": args.scenario, "fps": args.fps, "seconds": args.seconds, "frames": grabbed,
                "late_slots": late, "grab_ms_per_frame": 1000 * grab_s / max(1, grabbed),
                "add_frame_ms_per_frame": 1000 * encode_s / max(1, grabbed), "width": WIDTH, "height": HEIGHT}
        if writer is not None:
            writer.close()
            meta["shard_bytes"] = os.path.getsize(args.out)
        if cache is not None:
            cache.close(meta)
        return meta


def record(args) -> dict:
    """Drive the desktop while ``encoder record`` records it: real input, focus and frames."""
    with Desktop(bash_rcfile=args.bash_rcfile) as desk:
        windows = setup(desk, args.scenario)
        driver = Driver(desk, args.scenario, args.seed, queue.Queue())
        driver.windows = windows
        os.makedirs(args.record, exist_ok=True)
        root = str(Path(__file__).resolve().parents[1])
        env = dict(desk.env, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        proc = subprocess.Popen([sys.executable, "-m", "encoder", "record", "--out", args.record,
                                 "--fps", str(args.fps), "--duration", str(args.seconds), "--keys", "full",
                                 "--stats-interval", "1000", "-q"], env=env)
        time.sleep(2)  # the recorder's imports and X set-up
        driver.start()
        code = proc.wait(args.seconds + 60)
        driver.stop.set()
        driver.join(10)
        if code != 0:
            raise SystemExit(f"encoder record exited with {code}")
    shards = sorted(glob.glob(os.path.join(args.record, "*.enc")))
    return {"scenario": args.scenario, "fps": args.fps, "seconds": args.seconds,
            "shards": {s: os.path.getsize(s) for s in shards}}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="terminal")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--fps", type=float, default=10)
    parser.add_argument("--out", help="write a shard here")
    parser.add_argument("--cache", help="save raw frames here (a git-ignored folder, e.g. /tmp/...)")
    parser.add_argument("--record", metavar="DIR", help="record with `encoder record` into DIR instead "
                                                        "(real input events; the bundled demo session)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bash-rcfile", metavar="FILE", help="rc file of the xterm's bash instead of --norc, "
                        "e.g. one holding `eval \"$(encoder shell-hook bash)\"` so that its commands are recorded")
    args = parser.parse_args(argv)
    if args.record:
        print(json.dumps(record(args), indent=1))
        return
    if not args.out and not args.cache:
        parser.error("give --out, --cache or both, or --record")
    meta = capture(args)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
