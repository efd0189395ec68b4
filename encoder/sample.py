"""A deterministic, synthetic desktop session: the project's own sample data.

:func:`generate_session` simulates a person at a two-monitor Linux/X11 desktop switching
between a terminal (``xterm``), a browser (``firefox``) and an editor (``code``): pointer
moves between targets, clicks, drags, scroll bursts, typing bursts with shell commands,
focus changes, reading pauses. Nothing comes from third-party data; the same ``seed``
gives the same session, value for value, on every machine.

The quirks of real recordings are there on purpose, because the codecs must handle them
losslessly:

* Input timestamps (pointer, button, scroll, key) come from the X server's millisecond
  clock, stored as int64 microseconds; the pointer reports at ~125 Hz while moving with a
  jittered period, two events sometimes share a millisecond, a few are out of order.
  Rows written by the recorder itself (focus, command, marker) carry its microsecond clock.
* No pointer events during pauses; events only when the integer position changes.
* The second monitor sits left of the primary one, so ``x < 0`` there; one or two rows
  hold the 65535 sentinel that some drivers report for an off-screen position.
* Keys are key-down/key-up pairs (dwell ~80-120 ms, rollover allowed), ``code`` is the X11
  keysym, ``text`` the produced character on key-down and null on key-up, ``modifiers`` the
  X11 state mask *before* the event (Shift = 1, Control = 4).

Examples
--------
>>> from encoder.sample import generate_session
>>> session = generate_session(seconds=10, seed=1)
>>> sorted(session)
['button', 'command', 'focus', 'key', 'marker', 'pointer', 'scroll']
>>> session["pointer"]["t"].dtype, session["pointer"]["x"].dtype
(dtype('int64'), dtype('int32'))

``python -m encoder.sample PATH [SECONDS] [SEED]`` writes a generated session as a shard.
The bundled sample (:data:`SAMPLE_PATH`) is not synthetic: it is a real recording.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .streams import STREAMS
from .streams.schema import KINDS

#: The bundled sample (package data): a minute of a real 1920x1080 X desktop (Chromium on
#: local documentation beside an xterm, driven by xdotool) recorded by ``encoder record`` at
#: 5 fps with input and focus; made with ``python bench/desktop_workload.py --scenario browser
#: --seconds 60 --fps 5 --seed 1 --record DIR``. ``encoder demo`` reads it.
SAMPLE_PATH = os.path.join(os.path.dirname(__file__), "data", "sample_session.enc")

#: Monotonic time of the session's start (µs since the X server / machine started) and
#: the wall-clock time that corresponds to it (2024-05-01 12:00:00 UTC).
T0_US = 4_123_456_000
UNIX_US_AT_T0 = 1_714_564_800_000_000

#: Virtual desktop: the primary monitor at the origin, a second one to its left.
SCREENS = (
    {"id": 0, "name": "DP-1", "x": 0, "y": 0, "width": 1920, "height": 1080, "primary": True},
    {"id": 1, "name": "HDMI-1", "x": -1920, "y": 0, "width": 1920, "height": 1080, "primary": False},
)
#: Bounding box of the virtual desktop: (x0, y0, x1, y1), x1 and y1 exclusive.
DESKTOP = (min(s["x"] for s in SCREENS), min(s["y"] for s in SCREENS),
           max(s["x"] + s["width"] for s in SCREENS), max(s["y"] + s["height"] for s in SCREENS))
SENTINEL = 65535  # off-screen coordinate some drivers report

# X11 keysyms and state masks used below.
XK_RETURN, XK_BACKSPACE, XK_TAB = 0xFF0D, 0xFF08, 0xFF09
XK_SHIFT_L, XK_CONTROL_L = 0xFFE1, 0xFFE3
SHIFT_MASK, CONTROL_MASK = 1, 4
#: Characters that need Shift on a US layout (besides upper-case letters).
_SHIFTED = set('~!@#$%^&*()_+{}|:"<>?')


@dataclass(frozen=True)
class _Window:
    app: str
    window: int
    x: int
    y: int
    width: int
    height: int

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


_WINDOWS = {
    "xterm": _Window("xterm", 0x1E00007, 0, 0, 960, 1080),
    "firefox": _Window("firefox", 0x2A00003, 960, 0, 960, 1080),
    "code": _Window("code", 0x3600001, -1920, 0, 1920, 1080),
}

_SHELL = [  # (command, working directory afterwards)
    ("cd ~/src/encoder", "~/src/encoder"),
    ("git status", None),
    ("ls -la encoder/", None),
    ("python -m pytest -q tests/test_shard.py", None),
    ("git diff --stat", None),
    ("vim README.md", None),
    ("grep -rn \"MAX_BLOCK_ROWS\" encoder/ | head", None),
    ("python -m encoder inspect /tmp/session.enc", None),
    ("du -sh ~/recordings/*.enc", None),
    ("cd ~/recordings", "~/recordings"),
    ("ls -lt | head -5", None),
    ("htop", None),
    ("echo $DISPLAY", None),
    ("cd -", "~/src/encoder"),
    ("git log --oneline -5", None),
    ("make test", None),
    ("export ENCODER_BACKEND=reference", None),
    ("tail -f ~/.local/state/encoder/recorder.log", None),
]
_CODE_LINES = [
    "def time_range(self, stream):",
    "    return min(b.t_min for b in blocks), max(b.t_max for b in blocks)",
    "# TODO: check the footer offset first",
    "assert table.num_rows == 1024",
    "x = np.cumsum(d, dtype=np.int64)",
]
_PAGES = [
    ("arrow.apache.org/docs/python", "Python — Apache Arrow — Mozilla Firefox"),
    ("github.com/facebook/zstd", "GitHub - facebook/zstd: Zstandard — Mozilla Firefox"),
    ("numba.readthedocs.io", "Numba documentation — Mozilla Firefox"),
    ("docs.python.org/3/library/argparse.html", "argparse — Python 3 docs — Mozilla Firefox"),
]
_TYPO_NEIGHBOURS = {"a": "s", "s": "d", "e": "r", "t": "r", "o": "i", "i": "u", "n": "m", "r": "e",
                    "l": "k", "c": "v", "d": "f", "m": "n", "u": "y", "p": "o", "g": "h"}


class _Session:
    """Mutable state of the simulation; each activity appends rows and advances ``now``."""

    def __init__(self, seconds: float, seed: int):
        self.rng = np.random.default_rng(seed)
        self.end = T0_US + int(round(seconds * 1e6))
        self.now = T0_US  # µs, the time the simulated person has reached
        self.x, self.y = 412.0, 530.0  # pointer position (float; reported rounded)
        self.focus = "xterm"
        self.cwd = "~"
        self.page = 0
        self.rows = {name: [] for name in ("pointer", "button", "scroll", "key", "focus",
                                           "command", "marker")}
        self.released: dict[int, float] = {}  # key code -> time of its last key-up

    # -- clocks ----------------------------------------------------------------------
    def ms(self, t_us: float) -> int:
        """An X server timestamp: milliseconds, as µs."""
        return int(t_us // 1000) * 1000

    def recorder_us(self, t_us: float) -> int:
        """The recorder's own clock: µs with a little scheduling latency."""
        return int(t_us + self.rng.integers(150, 2500))

    def wait(self, lo_ms: float, hi_ms: float) -> None:
        self.now += int(self.rng.uniform(lo_ms, hi_ms) * 1000)

    # -- rows --------------------------------------------------------------------------
    def title(self, app: str) -> str:
        if app == "xterm":
            return f"dev@desk: {self.cwd}"
        if app == "firefox":
            return _PAGES[self.page][1]
        return "sample.py - encoder - Visual Studio Code"

    def focus_row(self, app: str) -> None:
        w = _WINDOWS[app]
        self.focus = app
        self.rows["focus"].append((self.recorder_us(self.now), app, self.title(app), w.window,
                                   w.x, w.y, w.width, w.height))

    def marker(self, kind: str, text: str | None, value: int, t: int | None = None) -> None:
        self.rows["marker"].append((self.recorder_us(self.now) if t is None else t, kind, text, value))

    # -- pointer -------------------------------------------------------------------------
    def move_to(self, tx: float, ty: float, width: float = 40.0) -> None:
        """A Fitts-like aimed movement: a curved minimum-jerk primary sub-movement that
        lands with a small error, then (often) a short corrective sub-movement."""
        rng = self.rng
        dist = float(np.hypot(tx - self.x, ty - self.y))
        if dist < 1.0:
            return
        err = rng.normal(0.0, 0.04 * dist + 2.0, 2) if dist > 30 else np.zeros(2)
        self._submove(tx + err[0], ty + err[1], 0.10 + 0.12 * np.log2(dist / width + 1.0), bend=0.08)
        if np.hypot(*err) > 3.0:
            self.wait(40, 140)  # the eye checks, the hand corrects
            self._submove(tx, ty, 0.12 + 0.05 * rng.random(), bend=0.02)

    def _submove(self, tx: float, ty: float, seconds: float, bend: float) -> None:
        rng = self.rng
        x0, y0 = self.x, self.y
        dx, dy = tx - x0, ty - y0
        dist = float(np.hypot(dx, dy)) or 1.0
        # Report instants: ~8 ms (125 Hz) with jitter; occasional equal timestamps and a
        # dropped report (16 ms).
        steps = rng.choice([7, 8, 9, 0, 16], size=int(seconds * 160) + 4, p=[0.14, 0.70, 0.13, 0.015, 0.015])
        t_ms = self.ms(self.now) // 1000 + np.cumsum(steps)
        tau = np.clip((t_ms * 1000 - self.now) / (seconds * 1e6), 0.0, 1.0)
        keep = np.concatenate([[True], tau[:-1] < 1.0])  # up to and including arrival
        t_ms, tau = t_ms[keep], tau[keep]
        s = 10 * tau**3 - 15 * tau**4 + 6 * tau**5  # minimum-jerk profile
        arc = rng.normal(0.0, bend) * dist * np.sin(np.pi * s)  # curved, not straight
        phase, freq = rng.uniform(0, 2 * np.pi), rng.uniform(8.0, 12.0)
        tremor = 0.6 * np.sin(2 * np.pi * freq * t_ms / 1000.0 + phase)
        px = x0 + dx * s - dy / dist * arc + tremor + rng.normal(0, 0.25, s.size)
        py = y0 + dy * s + dx / dist * arc + 0.7 * tremor + rng.normal(0, 0.25, s.size)
        # X confines the pointer to the desktop (both monitors side by side).
        px = np.clip(np.round(px), DESKTOP[0], DESKTOP[2] - 1).astype(int)
        py = np.clip(np.round(py), DESKTOP[1], DESKTOP[3] - 1).astype(int)
        last = (int(round(self.x)), int(round(self.y)))
        out = self.rows["pointer"]
        for t, ix, iy in zip(t_ms, px, py):
            pos = (int(ix), int(iy))
            if pos != last:  # X reports motion only when the pixel changes
                out.append((int(t) * 1000, *pos))
                last = pos
        self.x, self.y = float(last[0]), float(last[1])  # where the pointer really is
        self.now = max(self.now, int(t_ms[-1]) * 1000)

    def target_in(self, app: str, margin: int = 40) -> tuple[float, float]:
        w = _WINDOWS[app]
        return (w.x + self.rng.uniform(margin, w.width - margin),
                w.y + self.rng.uniform(margin, w.height - margin))

    # -- buttons and wheel -------------------------------------------------------------
    def click(self, button: int = 1, double: bool = False) -> None:
        self.wait(80, 260)  # verify the target before pressing
        for i in range(2 if double else 1):
            if i:
                self.wait(70, 150)
            self._button(button, True)
            if not self.focus_is_under_pointer():
                self.focus_row(self.app_under_pointer())
            self.wait(65, 140)
            self._button(button, False)

    def _button(self, button: int, pressed: bool) -> None:
        self.rows["button"].append((self.ms(self.now), button, pressed, int(round(self.x)), int(round(self.y))))

    def app_under_pointer(self) -> str:
        return next((a for a, w in _WINDOWS.items() if w.contains(self.x, self.y)), self.focus)

    def focus_is_under_pointer(self) -> bool:
        return self.app_under_pointer() == self.focus

    def drag(self) -> None:
        """Select text: press, move while held, release."""
        x, y = self.target_in(self.focus, margin=120)
        self.move_to(x, y)
        self.wait(100, 250)
        self._button(1, True)
        self.wait(80, 200)
        w = _WINDOWS[self.focus]
        self.move_to(min(x + self.rng.uniform(60, 400), w.x + w.width - 5), y + self.rng.choice([0, 18, 36]), 8)
        self.wait(50, 150)
        self._button(1, False)

    def scroll_burst(self) -> None:
        rng = self.rng
        x, y = int(round(self.x)), int(round(self.y))
        direction = 1 if rng.random() < 0.7 else -1  # dy > 0: content moves up (wheel towards you)
        if rng.random() < 0.25:  # touchpad: precise units (1/120 of a notch), kinetic decay
            units = np.maximum(4, (120 * np.exp(-np.arange(rng.integers(8, 25)) / 6.0)
                                   * rng.uniform(0.6, 1.2)).astype(int))
            for u in units:
                self.rows["scroll"].append((self.ms(self.now), 0, direction * int(u), True, x, y))
                self.wait(9, 13)
        else:  # wheel notches, in a few flicks
            for _ in range(rng.integers(1, 4)):
                for _ in range(rng.integers(2, 8)):
                    self.rows["scroll"].append((self.ms(self.now), 0, direction, False, x, y))
                    self.wait(18, 60)
                self.wait(150, 450)

    # -- keyboard -------------------------------------------------------------------------
    def _key(self, t_us: float, code: int, pressed: bool, modifiers: int, text: str | None) -> None:
        self.rows["key"].append((self.ms(t_us), code, pressed, modifiers, text))

    def press(self, code: int, text: str | None, modifiers: int = 0, hold_ms=(80, 120)) -> float:
        """A key-down at ``now`` and its key-up after a dwell; returns the key-up time."""
        released = self.released.get(code)
        if released is not None and self.now < released + 30_000:  # the same key again: the
            self.now = int(released + self.rng.uniform(30, 80) * 1000)  # finger must lift first
        dwell = float(np.clip(self.rng.normal(np.mean(hold_ms), 15), 45, 200)) * 1000
        self._key(self.now, code, True, modifiers, text)
        self._key(self.now + dwell, code, False, modifiers, None)
        self.released[code] = self.now + dwell
        return self.now + dwell

    def type_text(self, text: str) -> None:
        rng = self.rng
        shift_up_after = None  # key-up time of the last character typed with Shift held
        for i, ch in enumerate(text):
            shifted = ch.isupper() or ch in _SHIFTED
            if shift_up_after is not None and not shifted:
                # Release Shift before the next key-down, or the next key would be shifted.
                release = shift_up_after + rng.uniform(20, 60) * 1000
                self._key(release, XK_SHIFT_L, False, SHIFT_MASK, None)
                self.now = max(self.now, int(release + rng.uniform(15, 40) * 1000))
                shift_up_after = None
            if not shifted and ch.lower() in _TYPO_NEIGHBOURS and rng.random() < 0.02:
                wrong = _TYPO_NEIGHBOURS[ch.lower()]
                self.press(ord(wrong), wrong)
                self.wait(250, 500)  # notice, correct
                self.press(XK_BACKSPACE, "\x08")
                self.wait(120, 220)
            if shifted:
                if shift_up_after is None:  # Shift_L down shortly before the first shifted key
                    self._key(self.now, XK_SHIFT_L, True, 0, None)
                    self.wait(60, 130)
                shift_up_after = self.press(ord(ch), ch, SHIFT_MASK)
            else:
                self.press(ord(ch), ch)
            # Flight to the next key-down: log-normal around ~170 ms, longer around words.
            flight = rng.lognormal(np.log(165), 0.35)
            if ch == " " or (i + 1 < len(text) and text[i + 1] == " "):
                flight *= 1.3
            if rng.random() < 0.04:
                flight += rng.uniform(300, 900)  # hesitation
            self.now += int(flight * 1000)
        if shift_up_after is not None:
            self._key(shift_up_after + rng.uniform(20, 60) * 1000, XK_SHIFT_L, False, SHIFT_MASK, None)

    def chord(self, letter: str) -> None:
        """Control+letter (X produces the control character as text)."""
        self._key(self.now, XK_CONTROL_L, True, 0, None)
        self.wait(70, 140)
        up = self.press(ord(letter), chr(ord(letter) & 0x1F), CONTROL_MASK)
        self._key(up + self.rng.uniform(30, 90) * 1000, XK_CONTROL_L, False, CONTROL_MASK, None)
        self.now = int(up) + 150_000

    # -- activities ------------------------------------------------------------------------
    def go_to(self, app: str) -> None:
        """Move to a window and click into it (focus changes with the click)."""
        self.move_to(*self.target_in(app))
        self.click()

    def shell_command(self) -> None:
        if self.focus != "xterm":
            self.go_to("xterm")
        self.wait(300, 900)  # hand from mouse to keyboard
        command, cwd = _SHELL[int(self.rng.integers(len(_SHELL)))]
        self.type_text(command)
        self.press(XK_RETURN, "\r")
        self.rows["command"].append((self.recorder_us(self.now), "shell", command))
        if cwd is not None and cwd != self.cwd:
            self.cwd = cwd
            self.wait(5, 30)
            self.focus_row("xterm")  # the shell sets the title to the new directory
        if command.startswith("vim"):  # look, then quit
            self.wait(1500, 4000)
            self.type_text(":q")
            self.press(XK_RETURN, "\r")
        elif command.startswith(("htop", "tail -f")):  # watch, then interrupt
            self.wait(1500, 4000)
            self.chord("c")

    def browse(self) -> None:
        if self.focus != "firefox":
            self.go_to("firefox")
        rng = self.rng
        if rng.random() < 0.5:
            self.wait(400, 900)
            self.chord("l")
            self.page = (self.page + 1) % len(_PAGES)
            self.type_text(_PAGES[self.page][0])
            self.press(XK_RETURN, "\r")
            self.rows["command"].append((self.recorder_us(self.now), "navigate", "https://" + _PAGES[self.page][0]))
            self.wait(600, 1500)
            self.focus_row("firefox")  # new page, new title
        for _ in range(rng.integers(1, 4)):
            self.move_to(*self.target_in("firefox", 150), width=300)
            self.scroll_burst()
            self.read()

    def edit_code(self) -> None:
        if self.focus != "code":
            self.go_to("code")
        self.move_to(*self.target_in("code", 100), width=12)
        self.click()
        self.wait(300, 700)
        self.type_text(_CODE_LINES[int(self.rng.integers(len(_CODE_LINES)))])
        self.press(XK_RETURN, "\r")
        self.wait(400, 1200)
        self.chord("s")
        self.rows["command"].append((self.recorder_us(self.now), "action", "workbench.action.files.save"))

    def point_and_click(self) -> None:
        app = self.rng.choice(list(_WINDOWS))
        self.move_to(*self.target_in(app), width=float(self.rng.uniform(16, 120)))
        self.click(button=3 if self.rng.random() < 0.08 else 1, double=self.rng.random() < 0.15)

    def read(self) -> None:
        """A reading pause: mostly no events at all, sometimes a slow idle drift of the hand."""
        self.wait(600, 4000)
        if self.rng.random() < 0.5:
            w = _WINDOWS[self.app_under_pointer()]
            tx = np.clip(self.x + self.rng.normal(0, 80), w.x + 5, w.x + w.width - 5)
            ty = np.clip(self.y + self.rng.normal(0, 60), w.y + 5, w.y + w.height - 5)
            self._submove(tx, ty, self.rng.uniform(0.6, 2.0), bend=0.15)
            self.wait(300, 2000)

    def run(self) -> None:
        rng = self.rng
        self.marker("recorder.start", json.dumps({"recorder": "encoder.sample", "policy": "full"}), 0, t=T0_US)
        self.now += 1500
        self.focus_row(self.focus)
        self.wait(300, 800)
        activities = (self.point_and_click, self.shell_command, self.browse, self.edit_code, self.drag)
        weights = np.array([0.30, 0.25, 0.25, 0.10, 0.10])
        state = ("now", "x", "y", "focus", "cwd", "page")
        retried = False
        while True:
            # Run activities until one would end past the session's end; that one is undone
            # (every row it added is dropped), so rows stay within [T0_US, end] and key-down /
            # key-up and press / release pairs stay complete. One short pointer activity is
            # tried in its place, so that even a few seconds hold some pointer rows.
            mark = {name: len(rows) for name, rows in self.rows.items()}
            saved = {k: getattr(self, k) for k in state}
            activity = self.point_and_click if retried else activities[rng.choice(len(activities), p=weights)]
            activity()
            if rng.random() < 0.35:
                self.read()
            else:
                self.wait(150, 600)
            added = [r[0] for name, rows in self.rows.items() for r in rows[mark[name]:]]
            if max(added, default=self.now) > self.end - 300_000 or self.now > self.end:
                for name, rows in self.rows.items():
                    del rows[mark[name]:]
                for k, v in saved.items():
                    setattr(self, k, v)
                if retried:
                    break
                retried = True

    def finish(self) -> dict:
        """Sort rows, add the quirks, and return ``{stream: {column: array}}``."""
        rng = self.rng
        rows = self.rows
        # Pointer quirks: the sentinel once or twice (a driver glitch while the pointer
        # crosses into the second monitor), and a few out-of-order timestamps.
        pointer = sorted(rows["pointer"], key=lambda r: r[0])
        n = len(pointer)
        if n > 10:
            for i in sorted(rng.choice(np.arange(5, n - 5), size=min(2, n // 100 + 1), replace=False))[::-1]:
                pointer.insert(int(i), (pointer[i - 1][0], SENTINEL, SENTINEL))
            for i in rng.choice(np.arange(1, len(pointer) - 1), size=max(1, len(pointer) // 800), replace=False):
                (ta, *a), (tb, *b) = pointer[i], pointer[i + 1]
                if tb > ta:  # swap timestamps only: the later row is stamped earlier
                    pointer[i], pointer[i + 1] = (tb, *a), (ta, *b)
        rows["pointer"] = pointer
        last = max((r[0] for rs in rows.values() for r in rs), default=T0_US)
        stats = {stream: len(r) for stream, r in rows.items() if stream != "marker"}
        self.marker("recorder.stats", json.dumps({"rows": stats, "dropped": 0}, sort_keys=True), 0,
                    t=max(last + 1, min(self.end, last + 250_000)))
        out = {}
        for name, spec in STREAMS.items():
            if name not in rows:
                continue
            data = rows[name] if name == "pointer" else sorted(rows[name], key=lambda r: r[0])
            columns = list(zip(*data)) if data else [()] * len(spec.columns)
            out[name] = {}
            for col, values in zip(spec.columns, columns):
                if col.kind in ("string", "binary"):
                    out[name][col.name] = np.array(values, dtype=object)
                else:
                    out[name][col.name] = np.array(values, dtype=KINDS[col.kind][0])
        return out


def generate_session(seconds: float = 120, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Simulate ``seconds`` of desktop work; the same ``seed`` gives the same session.

    Parameters
    ----------
    seconds : float
        Length of the session (rows lie in ``[T0_US, T0_US + seconds * 1e6]``).
    seed : int
        Seed of the random generator (NumPy ``PCG64``).

    Returns
    -------
    dict
        ``{stream: {column: numpy array}}`` for the streams ``pointer``, ``button``,
        ``scroll``, ``key``, ``focus``, ``command`` and ``marker``, columns in schema order
        and dtypes (string columns are object arrays holding ``str`` or ``None``). Rows are
        in recording order: sorted by ``t`` except for the pointer's out-of-order quirks.

    Examples
    --------
    >>> s = generate_session(20, seed=3)
    >>> bool((s["key"]["pressed"]).sum() * 2 == len(s["key"]["t"]))
    True
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds!r}")
    session = _Session(float(seconds), int(seed))
    session.run()
    return session.finish()


def to_tables(session: dict) -> dict[str, pa.Table]:
    """The streams of :func:`generate_session` as ``pyarrow.Table`` in the streams' schemas."""
    out = {}
    for name, columns in session.items():
        schema = STREAMS[name].arrow_schema
        arrays = [pa.array(columns[f.name].tolist() if columns[f.name].dtype == object else columns[f.name],
                           f.type) for f in schema]
        out[name] = pa.Table.from_arrays(arrays, schema=schema)
    return out


def session_metadata(seconds: float = 120, seed: int = 0) -> dict:
    """Session metadata of a generated session (clock anchor, screens, recorder, privacy)."""
    from . import __version__
    return {
        "session": {"id": f"sample-{seed}", "seconds": seconds, "seed": seed},
        "clock": {"source": "monotonic", "t0_us": T0_US, "unix_us_at_t0": UNIX_US_AT_T0,
                  "resolution_us": {"pointer": 1000, "button": 1000, "scroll": 1000, "key": 1000,
                                    "focus": 1, "command": 1, "marker": 1}},
        "screens": [dict(s) for s in SCREENS],
        "recorder": {"name": "encoder.sample", "version": __version__, "synthetic": True},
        "privacy": {"policy": "full"},
        "host": {"os": "linux", "display": "x11", "keyboard_layout": "us"},
    }


def write_sample(path, seconds: float = 120, seed: int = 0) -> int:
    """Write a generated session as a shard at ``path``; returns the file size in bytes."""
    from .shard import ShardWriter
    session = generate_session(seconds, seed)
    with ShardWriter(path, metadata=session_metadata(seconds, seed), flush_seconds=None,
                     background=False) as writer:
        for name, table in to_tables(session).items():
            writer.write(name, table)
    return os.path.getsize(path)


if __name__ == "__main__":  # python -m encoder.sample PATH [SECONDS] [SEED]
    import sys
    if not 2 <= len(sys.argv) <= 4:
        raise SystemExit("usage: python -m encoder.sample PATH [SECONDS] [SEED]")
    seconds, seed = (float(sys.argv[2]) if len(sys.argv) > 2 else 120), (int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    print(f"{sys.argv[1]}: {write_sample(sys.argv[1], seconds, seed)} bytes")
