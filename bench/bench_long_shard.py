"""Random access in a 10-minute shard made of the screen corpus.

The 8 corpus captures (bench/screen_corpus.py) are written one after another through one
``ShardWriter`` (default settings, each capture's times shifted past the previous one's),
``--seconds`` of each (75 s: 10 minutes at 10 fps), so the shard holds 10 minutes of varied
work. Then ``--frames`` random frames are read cold (``drop_frame_cache()`` before each):
wall milliseconds median / p90 / max, and the pages each needs. The docs' target: < 10 ms.

    python -m bench.bench_long_shard [--corpus DIR] [--seconds 75] [--frames 100] [--out PATH]
        [--options JSON] [--read-only]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import encoder
from encoder.tiles.panes import all_ids

try:
    from bench.desktop_workload import iter_cache
except ImportError:  # run from bench/
    from desktop_workload import iter_cache

SCENARIOS = ("terminal", "browser", "build-log", "editor", "browser-scroll", "windows", "gtk-dialogs", "animation")


def write(corpus: Path, out: str, seconds: float, options: dict | None = None) -> tuple[int, float]:
    """Write the long shard (``options`` go to ``configure_frames``); returns (frames, encode CPU
    ms per frame)."""
    frames, offset, cpu = 0, 0, 0.0
    with encoder.ShardWriter(out) as w:
        if options:
            w.configure_frames(**options)
        for name in SCENARIOS:
            folder = corpus / name
            if not (folder / "meta.json").exists():
                continue
            first = last = None
            for times, chunk in iter_cache(str(folder), limit=int(seconds * 10)):
                first = int(times[0]) if first is None else first
                c0 = time.process_time()
                for t, f in zip(times.tolist(), chunk):
                    w.add_frame(offset + t - first, f)
                cpu += time.process_time() - c0
                last = int(times[-1]) - first
                frames += len(chunk)
            offset += last + 100_000
        c0 = time.process_time()
    cpu += time.process_time() - c0
    return frames, 1000 * cpu / max(1, frames)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("ENCODER_CORPUS", "/tmp/encoder-frames/corpus"))
    parser.add_argument("--seconds", type=float, default=75)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--out", default="/tmp/encoder-long-corpus.enc")
    parser.add_argument("--options", default="{}", help="JSON dict for ShardWriter.configure_frames")
    parser.add_argument("--read-only", action="store_true", help="time the reads of an existing --out")
    args = parser.parse_args(argv)
    encoder.warmup()
    encode = "" if args.read_only else \
        "encode %.2f ms CPU/frame, " % write(Path(args.corpus), args.out, args.seconds, json.loads(args.options))[1]
    r = encoder.ShardReader(args.out)
    n = r.frame_count()
    reader = r._frames()
    rng = np.random.default_rng(0)
    picks = rng.choice(n, size=min(args.frames, n), replace=False).tolist()
    r.frame(picks[0])  # the frame index, once
    ms, pages = [], []
    for i in picks:
        r.drop_frame_cache()
        t0 = time.perf_counter()
        r.frame(i)
        ms.append(1000 * (time.perf_counter() - t0))
        ids, panes = reader.grid(reader.index.row(i, 0))
        store = next(iter(reader.pages.stores.values()))
        pages.append(len(np.unique(np.searchsorted(store.firsts, all_ids(ids, panes), side="right"))))
    size = os.path.getsize(args.out)
    print(f"{args.out}: {n} frames ({n / 600:.1f} min at 10 fps), {size / n / 1024:.2f} KB/frame, "
          f"{encode}load average {os.getloadavg()[0]:.1f}")
    print(f"cold random frame over {len(ms)}: {np.median(ms):.1f} / {np.percentile(ms, 90):.1f} / {max(ms):.1f} ms "
          f"(median / p90 / max); pages {np.median(pages):.0f} / {np.percentile(pages, 90):.0f} / {max(pages)}")


if __name__ == "__main__":
    main()
