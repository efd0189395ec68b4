"""Capture the screen corpus: real-work desktop recordings for the frame benchmarks.

Every scenario of ``bench/desktop_workload.py`` runs on its own Xvfb desktop at 1920x1080 for
``--seconds`` (default 130: over two minutes) and is captured at 10 fps with ``--cache`` into
``OUT/<scenario>/`` (zstd-1 ``.npy`` chunks, ``times.npy``, ``meta.json``), with a fixed seed so
that a rerun drives the same session:

* ``terminal``: commands typed in a maximized xterm, ``less`` paging;
* ``browser``: Chromium on the Python docs beside an xterm, switching between them;
* ``build-log``: build and test output scrolling fast, ``git log -p`` and logs paged in ``less``;
* ``editor``: vim: scrolling, searching, typing code, ``:w``, splits;
* ``browser-scroll``: Chromium over most of the screen: wheel bursts, PageDown, links, back;
* ``windows``: xterms and Chromium dragged, raised, Alt+Tabbed, resized, minimized;
* ``gtk-dialogs``: a GTK 3 form application: menus, message/file/preferences/About dialogs;
* ``animation``: a CI dashboard (spinner, progress bar, clocks) and ``top`` beside a terminal.

The 2 fps figures come from every 5th frame of the 10 fps capture
(``load_cache(folder, step=5)`` / ``iter_cache(folder, step=5)``): the same frames a 2 fps
capture of the same session would have grabbed, so one capture serves both rates.

Scenarios already captured (``meta.json`` present) are skipped unless ``--force``; captures run
one after another (each desktop wants the machine's CPUs). The summary lists per scenario the
frames, the slots the capture missed because it fell behind (``late``), the fraction of frames
that differ from the previous one at 10 and 2 fps, the mean fraction of pixels that changed in
those frames, and the cache size::

    python -m bench.screen_corpus --seconds 130 --out /tmp/encoder-frames/corpus
    python -m bench.screen_corpus --only editor,windows --seconds 15 --out /tmp/try --shots /tmp/shots
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__:
    from .desktop_workload import DOCS, iter_cache
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from desktop_workload import DOCS, iter_cache

WORKLOAD = Path(__file__).resolve().with_name("desktop_workload.py")
#: scenario -> seed
CORPUS = {"terminal": 1, "browser": 2, "build-log": 3, "editor": 4, "browser-scroll": 5, "windows": 6,
          "gtk-dialogs": 7, "animation": 8}
FPS = 10
STEP_2FPS = 5


def changes(folder: Path, step: int) -> tuple[float, float]:
    """(fraction of frames that differ from the previous frame, mean fraction of pixels changed
    in those frames), streaming the cache every ``step``-th frame."""
    prev, changed, frames, pixels = None, 0, 0, 0.0
    for _, chunk in iter_cache(str(folder), step=step):
        for frame in chunk:
            px = frame.view(np.uint32)[..., 0]
            if prev is not None:
                frames += 1
                if not np.array_equal(px, prev):
                    changed += 1
                    pixels += float(np.count_nonzero(px != prev)) / px.size
            prev = px.copy()
    return changed / max(1, frames), pixels / max(1, changed)


def summarize(folder: Path) -> dict:
    meta = json.loads((folder / "meta.json").read_text())
    cached = folder / "summary.json"
    if cached.exists():
        summary = json.loads(cached.read_text())
        if summary.get("frames") == meta["frames"]:
            return summary
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    c10, px10 = changes(folder, 1)
    c2, px2 = changes(folder, STEP_2FPS)
    summary = {"scenario": meta["scenario"], "seconds": meta["seconds"], "frames": meta["frames"],
               "late_slots": meta["late_slots"], "changed_10fps": round(c10, 4), "changed_2fps": round(c2, 4),
               "changed_pixels_10fps": round(px10, 5), "changed_pixels_2fps": round(px2, 5),
               "cache_mb": round(size / 2**20, 1), "grab_ms_per_frame": round(meta["grab_ms_per_frame"], 1)}
    cached.write_text(json.dumps(summary, indent=1))
    return summary


def shots(folder: Path, dest: Path, count: int = 4) -> list[str]:
    """Save ``count`` evenly spaced frames of a capture as PNG (to look at them)."""
    from PIL import Image
    n = len(np.load(folder / "times.npy"))
    wanted = {int(i) for i in np.linspace(n // (2 * count), n - 1, count)}
    dest.mkdir(parents=True, exist_ok=True)
    out, at = [], 0
    for _, chunk in iter_cache(str(folder)):
        for frame in chunk:
            if at in wanted:
                path = dest / f"{folder.name}-{at:05d}.png"
                Image.frombuffer("RGBA", (frame.shape[1], frame.shape[0]), frame.tobytes(), "raw", "BGRA").convert(
                    "RGB").save(path)
                out.append(str(path))
            at += 1
    return out


def preflight() -> list[str]:
    """What the scenarios need and this machine lacks: the window manager, the browser, vim and
    the local Python documentation that the browser scenarios open (Debian's python3-doc)."""
    missing = [f"{tool} (apt-get install {tool})" for tool in ("openbox", "chromium", "vim", "xdotool", "xterm")
               if shutil.which(tool) is None]
    if not os.path.isdir(DOCS):
        missing.append(f"{DOCS} (apt-get install python3-doc)")
    return missing


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=130)
    parser.add_argument("--out", default="/tmp/encoder-frames/corpus")
    parser.add_argument("--only", help="comma-separated scenarios (default: all of " + ", ".join(CORPUS) + ")")
    parser.add_argument("--force", action="store_true", help="capture again scenarios already captured")
    parser.add_argument("--shots", metavar="DIR", help="also save 4 frames of each scenario as PNG here")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(CORPUS)
    unknown = [n for n in names if n not in CORPUS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}: choose from {', '.join(CORPUS)}")
    missing = preflight()
    if missing:  # a capture without them records an error page or an undecorated desktop, silently
        raise SystemExit(f"the corpus needs {', '.join(missing)} (docs/tiles.md, Reproducing)")
    out = Path(args.out)
    failed = []
    root = str(WORKLOAD.parents[1])  # the workload imports encoder (for --out)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    for name in names:
        folder = out / name
        if (folder / "meta.json").exists() and not args.force:
            print(f"{name}: already captured in {folder} (--force to capture again)", flush=True)
            continue
        print(f"{name}: capturing {args.seconds:g} s at {FPS} fps into {folder} ...", flush=True)
        t0 = time.monotonic()
        (folder / "meta.json").unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, str(WORKLOAD), "--scenario", name, "--seconds", str(args.seconds),
                               "--fps", str(FPS), "--seed", str(CORPUS[name]), "--cache", str(folder)],
                              stdout=subprocess.DEVNULL, timeout=args.seconds + 300, env=env)
        if proc.returncode or not (folder / "meta.json").exists():
            print(f"{name}: FAILED (exit {proc.returncode})", flush=True)
            failed.append(name)
            continue
        print(f"{name}: done in {time.monotonic() - t0:.0f} s", flush=True)
    rows = []
    for name in CORPUS:  # the whole corpus in OUT, captured now or before
        folder = out / name
        if (folder / "meta.json").exists():
            rows.append(summarize(folder))
            if args.shots and name in names:
                print("\n".join(shots(folder, Path(args.shots))))
    print(f"\n{'scenario':<15}{'seconds':>8}{'frames':>8}{'late':>6}{'changed@10':>12}{'changed@2':>11}"
          f"{'px@10':>9}{'px@2':>9}{'cache MB':>10}")
    for r in rows:
        print(f"{r['scenario']:<15}{r['seconds']:>8g}{r['frames']:>8}{r['late_slots']:>6}{r['changed_10fps']:>12.1%}"
              f"{r['changed_2fps']:>11.1%}{r['changed_pixels_10fps']:>9.2%}{r['changed_pixels_2fps']:>9.2%}"
              f"{r['cache_mb']:>10.1f}")
    print("\nchanged@N: frames that differ from the previous frame at N fps; px@N: mean fraction of the "
          "pixels changed in those frames; late: capture slots skipped because the capture fell behind")
    if rows:
        (out / "summary.json").write_text(json.dumps(rows, indent=1))
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
