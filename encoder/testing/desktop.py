"""The simulated desktop of :mod:`encoder.testing.synthetic`: clocks, screens, windows, keyboard, and
what the simulated person types and reads there.

Constants only; :mod:`encoder.testing.simulation` moves the pointer and types on this desktop.
"""
from __future__ import annotations

from dataclasses import dataclass

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

# X11 keysyms and state masks.
XK_RETURN, XK_BACKSPACE, XK_TAB = 0xFF0D, 0xFF08, 0xFF09
XK_SHIFT_L, XK_CONTROL_L = 0xFFE1, 0xFFE3
SHIFT_MASK, CONTROL_MASK = 1, 4
#: Characters that need Shift on a US layout (besides upper-case letters).
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?')


@dataclass(frozen=True)
class Window:
    """A top-level window of the desktop (X11 window id, geometry in desktop pixels)."""

    app: str
    window: int
    x: int
    y: int
    width: int
    height: int

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


#: The windows by application: terminal and browser on the primary monitor, editor on the second.
WINDOWS = {
    "xterm": Window("xterm", 0x1E00007, 0, 0, 960, 1080),
    "firefox": Window("firefox", 0x2A00003, 960, 0, 960, 1080),
    "code": Window("code", 0x3600001, -1920, 0, 1920, 1080),
}

#: Shell commands typed into the terminal: (command, working directory afterwards or None).
SHELL_COMMANDS = [
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
#: Lines typed into the editor.
CODE_LINES = [
    "def time_range(self, stream):",
    "    return min(b.t_min for b in blocks), max(b.t_max for b in blocks)",
    "# TODO: check the footer offset first",
    "assert table.num_rows == 1024",
    "x = np.cumsum(d, dtype=np.int64)",
]
#: Pages visited in the browser: (address typed, window title).
PAGES = [
    ("arrow.apache.org/docs/python", "Python — Apache Arrow — Mozilla Firefox"),
    ("github.com/facebook/zstd", "GitHub - facebook/zstd: Zstandard — Mozilla Firefox"),
    ("numba.readthedocs.io", "Numba documentation — Mozilla Firefox"),
    ("docs.python.org/3/library/argparse.html", "argparse — Python 3 docs — Mozilla Firefox"),
]
#: A neighbouring key on a US layout, hit by mistake now and then (then erased).
TYPO_NEIGHBOURS = {"a": "s", "s": "d", "e": "r", "t": "r", "o": "i", "i": "u", "n": "m", "r": "e",
                   "l": "k", "c": "v", "d": "f", "m": "n", "u": "y", "p": "o", "g": "h"}
