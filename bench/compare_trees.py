"""Before and after: the same measurements on another source tree and on this one, interleaved.

A refactor must leave speed where it was, and this 2-core shared machine drifts by tens of
percent between runs, so the two trees run alternately, each measurement in a fresh process,
and the best of the rounds is kept for each. The other tree needs its native core built in
place (``python setup.py build_ext --inplace``), e.g. a worktree of the commit before:

    git worktree add /tmp/before HEAD~5 && (cd /tmp/before && python setup.py build_ext --inplace)
    python bench/compare_trees.py /tmp/before --rounds 3

Measurements: encode / decode of the real recordings (``../shared/data``, when present), and
sequential decode, cold random access and 8-frame batches of the bundled demo session.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

#: Runs in the tree of its working directory; prints one JSON object.
PROBE = textwrap.dedent('''
    import glob, json, os, time
    import numpy as np
    import encoder
    out = {}
    try:
        from encoder.testing import recordings as ds
    except ImportError:  # trees before encoder.testing
        import encoder.datasets as ds
    root = ds.shared_data_dir()
    for name, load in (("balabit", "load_balabit"), ("aalto", "load_aalto")):
        if root is None:
            break
        data = getattr(ds, load)(root)
        n = sum(len(c["t"]) for c in data.values())
        blob = encoder.encode(data)
        enc, dec = [], []
        for _ in range(5):
            t0 = time.perf_counter(); encoder.encode(data); enc.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); encoder.decode(blob); dec.append(time.perf_counter() - t0)
        out[name + " B/event"] = len(blob) / n
        out[name + " encode M events/s"] = n / min(enc) / 1e6
        out[name + " decode M events/s"] = n / min(dec) / 1e6
    path = (glob.glob("encoder/data/demo_session.enc") + glob.glob("encoder/data/sample_session.enc"))[0]
    encoder.warmup()
    r = encoder.ShardReader(path)
    r.configure_frame_cache(parallel=False)
    n = r.frame_count()
    r.frame(0)
    seq = []
    for _ in range(3):
        r.drop_frame_cache()
        t0 = time.perf_counter()
        for _f in r.iter_frames(copy=False):
            pass
        seq.append((time.perf_counter() - t0) / n * 1e3)
    rand = []
    for i in np.random.default_rng(0).integers(0, n, 60).tolist():
        r.drop_frame_cache()
        t0 = time.perf_counter(); r.frame(i); rand.append((time.perf_counter() - t0) * 1e3)
    batch = []
    for _ in range(3):
        r.drop_frame_cache()
        t0 = time.perf_counter()
        for s in range(0, n - 7, 8):
            r.frames(list(range(s, s + 8)))
        batch.append((time.perf_counter() - t0) / ((n // 8) * 8) * 1e3)
    out["demo: sequential decode ms/frame"] = min(seq)
    out["demo: cold random frame ms (median)"] = float(np.median(rand))
    out["demo: 8-frame batches ms/frame"] = min(batch)
    print(json.dumps(out))
''')

#: For each figure, whether more is better (the best round is the max) or less (the min).
HIGHER = ("M events/s",)


def measure(tree: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_NUM_THREADS="1")
    shared = HERE.parent / "shared" / "data"  # both trees read this checkout's recordings
    if shared.is_dir():
        env.setdefault("ENCODER_SHARED_DATA", str(shared))
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=900)
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="the other source tree (built in place)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": HERE}
    rounds: dict[str, list] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            rounds[name].append(measure(tree))
    print("| figure | before | after |\n| --- | ---: | ---: |")
    for key in rounds["after"][0]:
        pick = max if key.endswith(HIGHER) else min
        best = {name: pick(r[key] for r in rs if key in r) for name, rs in rounds.items()}
        print(f"| {key} | {best['before']:.3f} | {best['after']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
