"""Write the golden shards of the current format version (run once per version, then commit).

    python tests/golden/make_golden.py

Files are named ``v{major}.{minor}-{name}.enc``; tests/test_golden.py decodes every committed
file, of every version, and compares it with :func:`expected` below, forever.
"""
import pathlib

import numpy as np
import pyarrow as pa

import encoder
from encoder.shard import format as fmt

HERE = pathlib.Path(__file__).parent
METADATA = {"clock": {"source": "monotonic", "t0_us": 0, "unix_us_at_t0": 1_700_000_000_000_000},
            "screens": [{"id": 0, "x": 0, "y": 0, "width": 1920, "height": 1080},
                        {"id": 1, "x": -1280, "y": 0, "width": 1280, "height": 1024}],
            "recorder": {"name": "golden", "version": "1"}, "privacy": {"keys": "full"}}


def expected(version: tuple = (1, 0)) -> dict:
    """The session a golden shard of format ``version`` holds: edge values in every stream kind.

    From 1.2 on, the ``command`` stream has its new columns (edge values) and the ``element``
    stream is there; shards of 1.0 and 1.1 hold the 1.0 session, forever.
    """
    rng = np.random.default_rng(20261121)
    n = 3000
    t = np.cumsum(rng.integers(-3, 30, n)) * 1000
    t[100] = t[99]  # equal, decreasing (above) and huge jumps occur in real data
    t[2000:] += 10**12
    x = np.cumsum(rng.integers(-12, 13, n)).astype(np.int32) - 1500
    x[[5, 1000]] = 65535  # sentinels in the middle of a session
    return {
        "pointer": {"t": t, "x": x, "y": np.cumsum(rng.integers(-5, 6, n)).astype(np.int32)},
        "button": {"t": t[::300], "button": np.arange(10, dtype=np.uint8) % 3 + 1,
                   "pressed": np.arange(10) % 2 == 0, "x": x[::300], "y": np.zeros(10, np.int32)},
        "scroll": {"t": [1, 2, 3], "dx": [0, 0, 120], "dy": [-1, -1, 0], "precise": [False, False, True],
                   "x": [5, 5, 5], "y": [6, 6, 6]},
        "key": {"t": np.arange(40) * 97_000, "code": np.arange(40, dtype=np.uint32) % 7 + 0xFF00,
                "pressed": np.arange(40) % 2 == 0, "modifiers": (np.arange(40) % 4).astype(np.uint16),
                "text": pa.array([("é" if i % 5 == 0 else chr(97 + i % 26)) if i % 2 == 0 else None
                                  for i in range(40)], pa.string())},
        "focus": {"t": [0, 10, 20], "app": ["xterm", "firefox", "xterm"], "title": ["~", None, "vim ✓"],
                  "window": [2**62, 7, 2**62], "x": [0, -1280, 0], "y": [0, 0, 0], "width": [800, 1280, 800],
                  "height": [600, 1024, 600]},
        "command": {"t": [int(-2**63), 2**63 - 1], "kind": ["shell", "menu"], "text": ["ls -la | wc -l", None]},
        "marker": {"t": [0], "kind": ["start"], "text": [None], "value": [0]},
    } | (_since_1_2() if tuple(version) >= (1, 2) else {})


def _since_1_2() -> dict:
    """The streams that changed or appeared in format 1.2."""
    return {
        "command": {"t": [int(-2**63), 5, 2**63 - 1], "kind": ["shell", "shell", "menu"],
                    "text": ["ls -la | wc -l", "curl -H 'Authorization: ***' https://u:***@h/ ✓", None],
                    "cwd": ["/home/ü/proj", None, "/"], "exit_code": [0, -1, 2**31 - 1],
                    "duration_us": [1_200_345, -1, 2**63 - 1], "pid": [4242, -1, -2**31],
                    "terminal": ["/dev/pts/3", None, "/dev/tty1"]},
        "element": {"t": [10, 10, 2_000_000], "event": ["click", "focus", "menu"],
                    "role": ["push button", "password text", "menu item"],
                    "name": ["Save", None, "Save As…"], "path": ["gedit > Untitled 1 > Save", None,
                                                             "gedit > Untitled 1 > File > Save As…"],
                    "app": ["gedit", "gedit", None], "x": [0, -1280, 2**31 - 1], "y": [0, 5, -2**31],
                    "width": [80, 300, 0], "height": [24, 30, 0]},
    }


def frames() -> list:
    """The frames of the ``-frames`` golden shards (from 1.3): a view that scrolls by amounts
    that are not multiples of the tile size (panes), edits, a page change, a still frame."""
    rng = np.random.default_rng(20261206)
    doc = rng.integers(0, 4, (400, 152, 4), dtype=np.uint8) * 80
    back = rng.integers(0, 3, (96, 200, 4), dtype=np.uint8) * 90
    out = []
    for i, y in enumerate([0, 0, 5, 23, 23, 61, 40, 41, 90, 90, 300, 287]):
        f = back.copy()
        f[10:90, 20:172] = doc[y:y + 80]
        if i == 7:
            f[0:4, 0:9] = 7  # an edit outside the view
        if i >= 10:
            doc = doc[::-1].copy()  # a new page
        out.append(f)
    return out


def main():
    name = f"v{fmt.VERSION[0]}.{fmt.VERSION[1]}"
    with encoder.ShardWriter(HERE / f"{name}-session.enc", metadata=METADATA, block_rows=1000,
                             flush_seconds=None) as w:
        for stream, columns in expected(fmt.VERSION).items():
            w.write(stream, columns)
    with encoder.ShardWriter(HERE / f"{name}-frames.enc", flush_seconds=None) as w:
        w.configure_frames(tile=8, block_frames=5, background=False)
        for i, f in enumerate(frames()):
            w.add_frame(i * 100_000, f)
        report = w._frame_writer.report()
    assert report["panes_created"] and report["motion_frames"] >= 5, report
    print("wrote", name)


if __name__ == "__main__":
    main()
