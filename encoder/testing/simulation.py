"""The simulated person of :mod:`encoder.testing.synthetic`: pointer movements, clicks, drags,
scrolling, typing, and the activities made of them, each appending rows to the streams.

:class:`Simulation` holds the state (time reached, pointer position, focused window) and the
rows; the desktop it works on is :mod:`encoder.testing.desktop`.
"""
from __future__ import annotations

import json

import numpy as np

from ..streams import STREAMS
from ..streams.schema import KINDS
from .desktop import (CODE_LINES, CONTROL_MASK, DESKTOP, PAGES, SENTINEL, SHELL_COMMANDS, SHIFT_MASK, SHIFTED,
                      T0_US, TYPO_NEIGHBOURS, WINDOWS, XK_BACKSPACE, XK_CONTROL_L, XK_RETURN, XK_SHIFT_L)

#: The recorder named in the start marker and the metadata of a synthetic session.
RECORDER_NAME = "encoder.testing.synthetic"
#: The simulated shell's process id and terminal, as the shell hook reports them.
SHELL_PID, SHELL_TTY = 4242, "/dev/pts/1"


class Simulation:
    """Mutable state of the simulation; each activity appends rows and advances ``now``.

    ``run()`` then ``finish()`` give the session; :func:`encoder.testing.synthetic.generate_session`
    does both.
    """

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
            return PAGES[self.page][1]
        return "synthetic.py - encoder - Visual Studio Code"

    def focus_row(self, app: str) -> None:
        w = WINDOWS[app]
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
        w = WINDOWS[app]
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
        return next((a for a, w in WINDOWS.items() if w.contains(self.x, self.y)), self.focus)

    def focus_is_under_pointer(self) -> bool:
        return self.app_under_pointer() == self.focus

    def drag(self) -> None:
        """Select text: press, move while held, release."""
        x, y = self.target_in(self.focus, margin=120)
        self.move_to(x, y)
        self.wait(100, 250)
        self._button(1, True)
        self.wait(80, 200)
        w = WINDOWS[self.focus]
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
            shifted = ch.isupper() or ch in SHIFTED
            if shift_up_after is not None and not shifted:
                # Release Shift before the next key-down, or the next key would be shifted.
                release = shift_up_after + rng.uniform(20, 60) * 1000
                self._key(release, XK_SHIFT_L, False, SHIFT_MASK, None)
                self.now = max(self.now, int(release + rng.uniform(15, 40) * 1000))
                shift_up_after = None
            if not shifted and ch.lower() in TYPO_NEIGHBOURS and rng.random() < 0.02:
                wrong = TYPO_NEIGHBOURS[ch.lower()]
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
        command, cwd = SHELL_COMMANDS[int(self.rng.integers(len(SHELL_COMMANDS)))]
        self.type_text(command)
        self.press(XK_RETURN, "\r")
        start = self.recorder_us(self.now)
        row = len(self.rows["command"])
        # what the shell hook reports: the directory it ran in, then its status and duration below
        self.rows["command"].append((start, "shell", command, self.cwd, 0, -1, SHELL_PID, SHELL_TTY))
        ran_in = self.cwd
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
        status = 130 if command.startswith(("htop", "tail -f")) else 0  # Ctrl-C: 128 + SIGINT
        # the duration from the simulated clock: no draw from the generator, so seeds keep their sessions
        self.rows["command"][row] = (start, "shell", command, ran_in, status, max(int(self.now) - start, 0),
                                     SHELL_PID, SHELL_TTY)

    def browse(self) -> None:
        if self.focus != "firefox":
            self.go_to("firefox")
        rng = self.rng
        if rng.random() < 0.5:
            self.wait(400, 900)
            self.chord("l")
            self.page = (self.page + 1) % len(PAGES)
            self.type_text(PAGES[self.page][0])
            self.press(XK_RETURN, "\r")
            self.rows["command"].append((self.recorder_us(self.now), "navigate", "https://" + PAGES[self.page][0],
                                         None, -1, -1, -1, None))
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
        self.type_text(CODE_LINES[int(self.rng.integers(len(CODE_LINES)))])
        self.press(XK_RETURN, "\r")
        self.wait(400, 1200)
        self.chord("s")
        self.rows["command"].append((self.recorder_us(self.now), "action", "workbench.action.files.save",
                                     None, -1, -1, -1, None))

    def point_and_click(self) -> None:
        app = self.rng.choice(list(WINDOWS))
        self.move_to(*self.target_in(app), width=float(self.rng.uniform(16, 120)))
        self.click(button=3 if self.rng.random() < 0.08 else 1, double=self.rng.random() < 0.15)

    def read(self) -> None:
        """A reading pause: mostly no events at all, sometimes a slow idle drift of the hand."""
        self.wait(600, 4000)
        if self.rng.random() < 0.5:
            w = WINDOWS[self.app_under_pointer()]
            tx = np.clip(self.x + self.rng.normal(0, 80), w.x + 5, w.x + w.width - 5)
            ty = np.clip(self.y + self.rng.normal(0, 60), w.y + 5, w.y + w.height - 5)
            self._submove(tx, ty, self.rng.uniform(0.6, 2.0), bend=0.15)
            self.wait(300, 2000)

    def run(self) -> None:
        rng = self.rng
        self.marker("recorder.start", json.dumps({"recorder": RECORDER_NAME, "policy": "full"}), 0, t=T0_US)
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
