"""``add_frame`` as the recorder calls it: damage bands, one frame every half second.

The recorder grabs full-width bands of rows that XDamage reports changed and hands them to
``add_frame(changed=...)``, one tick every 1/fps seconds, between which Chromium, Xvfb and
the other threads run: its caches are cold at every frame. This feeds a corpus sequence
(bench/screen_corpus.py) the same way: each changed frame with the band of rows that differ
from the previous one, back to back and then with ``--pause`` seconds of sleep before each
frame, alternating, and prints the caller's CPU per ``add_frame`` (median and mean) of both.

    python -m bench.bench_damage_bands [--scenario terminal] [--step 5] [--frames 600]
                                       [--pause 0.4] [--max-rows 40] [--rounds 2]

``--max-rows`` keeps only the frames whose band is at most that tall (a typed line: 19 rows),
0 keeps every changed frame.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import encoder

try:
    from bench import bench_screens as bs
except ImportError:  # run from bench/
    import bench_screens as bs


def banded(folder, step: int, limit: int):
    """``(times, frames, bands)``: the sequence and, per frame, its changed band (None: the first)."""
    times, frames = [], []
    for t, f, _ in bs.iter_chunks(folder, step, limit):
        times.append(t)
        frames.append(f.copy())
    times, frames = np.concatenate(times).tolist(), np.concatenate(frames)
    bands = [None]
    for i in range(1, len(frames)):
        rows = np.flatnonzero((frames[i] != frames[i - 1]).reshape(frames.shape[1], -1).any(axis=1))
        bands.append([(0, int(rows[0]), frames.shape[2], int(rows[-1] - rows[0] + 1))] if len(rows) else [])
    return times, frames, bands


def run(times, frames, bands, keep, pause: float) -> np.ndarray:
    """CPU seconds of each ``add_frame`` (the first three left out: the writer's start)."""
    with tempfile.TemporaryDirectory() as d:
        w = encoder.ShardWriter(os.path.join(d, "x.enc"))
        buf = frames[0].copy()  # one buffer, rewritten in place, as the recorder's grab buffer
        cpu = []
        for i in keep:
            buf[...] = frames[i]
            if pause:
                time.sleep(pause)
            c0 = time.thread_time()
            w.add_frame(times[i], buf, changed=bands[i])
            cpu.append(time.thread_time() - c0)
        w.close()
    return np.array(cpu[3:])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=str(bs.CORPUS))
    p.add_argument("--scenario", default="terminal", choices=bs.SCENARIOS)
    p.add_argument("--step", type=int, default=5, help="every how many capture frames (5: 2 fps)")
    p.add_argument("--frames", type=int, default=600, help="frames of the sequence read (every --step-th)")
    p.add_argument("--pause", type=float, default=0.4)
    p.add_argument("--max-rows", type=int, default=40)
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args(argv)
    bs.pin_malloc()
    bs._warmup()
    times, frames, bands = banded(os.path.join(a.corpus, a.scenario), a.step, a.frames)
    keep = [i for i, b in enumerate(bands) if b is None or (b and (not a.max_rows or b[0][3] <= a.max_rows))]
    print(f"{a.scenario}, every {a.step}th frame: {len(keep)} changed frames fed of {len(frames)}")
    for _ in range(a.rounds):
        for pause in (0.0, a.pause):
            cpu = run(times, frames, bands, keep, pause) * 1e3
            print(f"  pause {pause:.1f} s: add_frame CPU median {np.median(cpu):.3f} ms, mean {cpu.mean():.3f} ms",
                  flush=True)


if __name__ == "__main__":
    main()
