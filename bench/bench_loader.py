"""The loader (encoder.loader) beside loaders of the same samples built on Parquet + PNG and zstd.

One run measures, on the same seeded data and the same sample keys in the same order:

* ``encoder``: :class:`encoder.loader.ShardDataset` yielding batches (``batch_size``) of 1080p
  BGRA frames with their event windows (pointer, button, scroll, key, focus), 1 and 2 worker
  processes (spawned, each given its ``worker``; no framework in the way), without read-ahead
  (as in a DataLoader worker), plus one run with a 64 MiB read-ahead thread;
* ``parquet+png``: events from Parquet (zstd; each shard's streams read once and cached, then
  windows cut with binary searches: the baseline gets the same caching as ours), frames from
  one PNG file per frame decoded with Pillow (written at ``compress_level=1``, which decodes
  faster than Pillow's default 6: the baseline is favoured);
* ``zstd-frames``: the same events, frames stored whole as zstd-3 frames (one blob per shard,
  with offsets), decoded with python-zstandard.

Figures: samples/s and decoded MB/s (bytes of the arrays of the batches produced) over wall
time; peak resident memory of every process (``ru_maxrss``); the memcpy bandwidth of one core
(``numpy.copyto`` of batch-sized buffers) and the rate at which our frame batches are
assembled on one core (``ShardMapDataset.get_batch`` of frames only, in shard order and in
shuffled order), measured in the same run; import time and first-call (JIT cache) time. Every
loader's batches are checked equal to ours before anything is timed, and two correctness
checks run on the same data: a resume after ``k`` batches reproduces the rest of the epoch
exactly, and 2 ranks x 2 workers cover every sample of an epoch exactly once.

Targets (issue 4): frame batches >= 50 % of one core's memcpy bandwidth; >= 10x the samples/s
of the Parquet + PNG loader. Run::

    python -m bench.bench_loader                 # prints the report (markdown), ~1-2 minutes
    python -m bench.bench_loader --json out.json --shards 4 --frames 64
    python -m pytest bench/bench_loader.py       # a smaller run; asserts the correctness checks
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core per process, before numba loads

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import encoder  # noqa: E402
from encoder.loader import ShardDataset, ShardMapDataset, partition  # noqa: E402
from encoder.loader.samples import nbytes  # noqa: E402
from encoder.testing.synthetic import generate_session, session_metadata, to_tables  # noqa: E402

STREAMS = ("pointer", "button", "scroll", "key", "focus")
DEFAULTS = dict(shards=4, frames=64, height=1080, width=1920, fps=10, batch=8, seed=0)


# -- data ---------------------------------------------------------------------------------
def desktop_frames(n: int, height: int, width: int, seed: int):
    """Seeded 'desktop' frames (BGRA): a terminal being typed into (left), a page that scrolls (right).

    Text is drawn from 95 random 8x16 glyphs on a 16 px line grid, so frames repeat tiles the
    way real screens do (typing changes a few tiles, output scrolls whole lines). The same
    array is updated and yielded each time: copy it to keep it.
    """
    rng = np.random.default_rng(seed)
    atlas = rng.random((96, 16, 8)) < 0.35
    atlas[0] = False
    atlas[:, :3] = atlas[:, -2:] = False
    atlas[:, :, -1] = False
    glyphs = np.where(atlas[..., None], np.array([210, 220, 220, 255], np.uint8),
                      np.array([30, 24, 20, 255], np.uint8))
    rows, cols = height // 16, (width // 2) // 8
    page_cols = (width - width // 2) // 8
    text = np.zeros((rows, cols), np.int64)
    page = rng.integers(0, 96, (rows * 4, page_cols)) * (rng.random((rows * 4, page_cols)) < 0.6)
    row = col = scroll = 0
    frame = np.full((height, width, 4), 240, np.uint8)
    frame[..., 3] = 255

    def draw(cells):
        return glyphs[cells].transpose(0, 2, 1, 3, 4).reshape(cells.shape[0] * 16, cells.shape[1] * 8, 4)

    for _ in range(n):
        for _ in range(int(rng.integers(0, 4))):  # typing
            text[row, col] = rng.integers(1, 96)
            col += 1
            if col >= cols:
                col, row = 0, row + 1
        if rng.random() < 0.08:  # a command's output
            for _ in range(int(rng.integers(2, 12))):
                row, col = row + 1, 0
                if row >= rows:
                    text[:-1], text[-1], row = text[1:], 0, rows - 1
                text[row, :int(rng.integers(5, cols))] = rng.integers(1, 96)
        if row >= rows:
            text[:-1], text[-1], row = text[1:], 0, rows - 1
        if rng.random() < 0.05:
            scroll = (scroll + int(rng.integers(1, 4))) % (rows * 3)
        frame[:rows * 16, :cols * 8] = draw(text)
        frame[:rows * 16, width // 2:width // 2 + page_cols * 8] = draw(page[scroll:scroll + rows])
        yield frame


def _png(args):
    path, frame = args
    from PIL import Image
    Image.fromarray(frame, "RGBA").save(path, "PNG", compress_level=1)


def make_data(folder: str, *, shards: int, frames: int, height: int, width: int, fps: int, seed: int,
              baselines: bool = True) -> dict:
    """Shards (events + frames) and the same data as Parquet + PNG and as zstd frames."""
    import pyarrow.parquet as pq
    import zstandard

    out = {"shards": [], "parquet": [], "png": [], "zstd": []}
    cctx = zstandard.ZstdCompressor(level=3)
    pngs = []
    for s in range(shards):
        session = generate_session(frames / fps + 2, seed + s)
        tables = to_tables(session)
        t0 = int(session["pointer"]["t"].min())
        path = os.path.join(folder, f"shard{s}.enc")
        pq_dir, png_dir = os.path.join(folder, f"pq{s}"), os.path.join(folder, f"png{s}")
        os.makedirs(pq_dir, exist_ok=True)
        os.makedirs(png_dir, exist_ok=True)
        blobs = []
        with encoder.ShardWriter(path, metadata=session_metadata(frames / fps + 2, seed + s)) as w:
            for name, table in tables.items():
                w.write(name, table)
                if baselines:
                    pq.write_table(table, os.path.join(pq_dir, f"{name}.parquet"), compression="zstd")
            for k, image in enumerate(desktop_frames(frames, height, width, seed + s)):
                w.add_frame(t0 + k * (1_000_000 // fps), image)
                if baselines:
                    pngs.append((os.path.join(png_dir, f"{k:06d}.png"), image.copy()))
                    blobs.append(cctx.compress(image.tobytes()))
                if len(pngs) >= 16:  # bounded memory: 16 raw frames at a time
                    _write_pngs(pngs)
                    pngs = []
        if baselines:
            offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
            np.save(os.path.join(folder, f"zstd{s}.offsets.npy"), offsets)
            with open(os.path.join(folder, f"zstd{s}.bin"), "wb") as f:
                f.write(b"".join(blobs))
        out["shards"].append(path)
        out["parquet"].append(pq_dir)
        out["png"].append(png_dir)
        out["zstd"].append(os.path.join(folder, f"zstd{s}"))
    _write_pngs(pngs)
    out["shape"] = (height, width, 4)
    return out


def _write_pngs(items):
    if items:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(_png, items, chunksize=4)


# -- the baseline loaders ------------------------------------------------------------------
class BaselineLoader:
    """Batches of the same samples as ours, from Parquet events and PNG or zstd frames."""

    def __init__(self, data: dict, index, spec, frames: str):
        self.data, self.index, self.spec, self.kind = data, index, spec, frames
        self.events: dict = {}
        self.blobs: dict = {}
        import zstandard
        self.dctx = zstandard.ZstdDecompressor()

    def _events(self, s: int) -> dict:
        hit = self.events.get(s)
        if hit is None:
            import pyarrow.parquet as pq
            hit = {}
            for stream in self.spec.streams:
                table = pq.read_table(os.path.join(self.data["parquet"][s], f"{stream}.parquet"),
                                      columns=list(self.spec.columns[stream]))
                cols = {c: table.column(c).to_numpy() for c in self.spec.columns[stream]}
                order = np.argsort(cols["t"], kind="stable")
                hit[stream] = {c: v[order] for c, v in cols.items()}
            self.events[s] = hit
        return hit

    def _frame(self, s: int, i: int, out: np.ndarray) -> None:
        if self.kind == "png":
            from PIL import Image
            with Image.open(os.path.join(self.data["png"][s], f"{i:06d}.png")) as im:
                out[...] = np.asarray(im)
        else:
            if s not in self.blobs:
                base = self.data["zstd"][s]
                with open(base + ".bin", "rb") as f:
                    self.blobs[s] = (np.load(base + ".offsets.npy"), f.read())
            offsets, blob = self.blobs[s]
            raw = self.dctx.decompress(blob[offsets[i]:offsets[i + 1]])
            out[...] = np.frombuffer(raw, np.uint8).reshape(out.shape)

    def build(self, keys) -> dict:
        spec, index = self.spec, self.index
        n = len(keys)
        out = {"shard": [], "t_us": np.zeros(n, np.int64), "sample_id": np.asarray(keys, np.int64)}
        for stream in spec.streams:
            for c in spec.columns[stream]:
                out[f"{stream}.{c}"] = np.zeros((n, spec.max_rows[stream]), self._dtype(stream, c))
            out[f"{stream}.len"] = np.zeros(n, np.int32)
        out["frames"] = np.empty((n, 1) + self.data["shape"], np.uint8)
        out["frame_t"] = np.zeros((n, 1), np.int64)
        out["frame_index"] = np.zeros((n, 1), np.int64)
        for b, key in enumerate(keys):
            s, local = index.shard_of(int(key))
            t = int(index.times[s][local])
            out["shard"].append(index.shards[s])
            out["t_us"][b] = t
            events = self._events(s)
            for stream in spec.streams:
                cols = events[stream]
                lo = np.searchsorted(cols["t"], t - spec.before_us)
                hi = np.searchsorted(cols["t"], t + spec.after_us)
                cap = spec.max_rows[stream]
                if hi - lo > cap:
                    m = int(np.searchsorted(cols["t"], t))
                    share = int(round(cap * spec.before_us / (spec.before_us + spec.after_us)))
                    lo = m - min(m - lo, max(share, cap - (hi - m)))
                    hi = lo + cap
                for c in spec.columns[stream]:
                    v = cols[c][lo:hi]
                    out[f"{stream}.{c}"][b, :hi - lo] = v - t if c == "t" else v
                out[f"{stream}.len"][b] = hi - lo
            fi = int(index.frames[s][local])
            self._frame(s, fi, out["frames"][b, 0])
            out["frame_index"][b, 0] = fi
            out["frame_t"][b, 0] = 0
        return out

    @staticmethod
    def _dtype(stream, column):
        from encoder.loader.spec import column_dtype
        return column_dtype(stream, column)


# -- measurements --------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ``ru_maxrss``, not inherited across exec)."""
    from encoder.capture.stats import peak_rss_bytes
    return peak_rss_bytes() / 2**20


def memcpy_bandwidth(nbytes_: int, rounds: int = 7) -> float:
    """Bytes/s of ``numpy.copyto`` between two buffers of ``nbytes_`` (best round, one thread)."""
    src = np.ones(nbytes_, np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return nbytes_ / best


def _loader(kind: str, data: dict, index, spec, worker: int, workers: int, batch: int, prefetch: int):
    if kind == "encoder":
        ds = ShardDataset(index=index, spec=spec, worker=worker, num_workers=workers, batch_size=batch,
                          seed=0, shuffle=True, prefetch_bytes=prefetch)
        return iter(ds)
    order = partition.epoch_order(index.offsets, seed=0, epoch=0, shuffle=True)
    sample_ids = partition.plan(order, rank=0, world_size=1, worker=worker, num_workers=workers).sample_ids
    loader = BaselineLoader(data, index, spec, kind)
    return (loader.build(sample_ids[p:p + batch]) for p in range(0, len(sample_ids), batch))


def _consume(kind, data, index, spec, worker, workers, batch, prefetch, epochs, queue, barrier):
    """One worker: ``epochs`` passes over its part; reports samples, bytes, times and peak RSS.

    Kernels are warmed up before the barrier, so the timed part is reading only (a worker
    of a real job warms up once and reads for hours).
    """
    encoder.loader.warmup()
    barrier.wait()
    samples = size = 0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        for item in _loader(kind, data, index, spec, worker, workers, batch, prefetch):
            samples += len(item["t_us"])
            size += nbytes(item)
    queue.put({"samples": samples, "bytes": size, "cpu_s": time.process_time() - cpu, "start": start,
               "end": time.perf_counter(), "max_rss_mb": peak_rss_mb()})


def measure(kind: str, data: dict, index, spec, *, workers: int, batch: int, prefetch: int, epochs: int) -> dict:
    """Wall-clock throughput of ``workers`` fresh processes reading an epoch ``epochs`` times.

    Workers are spawned, not forked, so that their peak memory is their own (a forked child
    starts with the parent's resident pages, here the data generator's and the checks').
    """
    ctx = multiprocessing.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(workers)
    procs = [ctx.Process(target=_consume, args=(kind, data, index, spec, w, workers, batch, prefetch, epochs, queue,
                                                barrier)) for w in range(workers)]
    for p in procs:
        p.start()
    results = []
    while len(results) < workers:
        try:
            results.append(queue.get(timeout=1.0))
        except Exception:  # noqa: BLE001 - queue.Empty: check that no worker died
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a {kind} worker exited with {dead[0]}") from None
    for p in procs:
        p.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    samples = sum(r["samples"] for r in results)
    size = sum(r["bytes"] for r in results)
    return {"loader": kind, "workers": workers, "samples": samples, "wall_s": wall,
            "samples_per_s": samples / wall, "MB_per_s": size / wall / 1e6,
            "cpu_s": sum(r["cpu_s"] for r in results),
            "max_rss_mb": max(r["max_rss_mb"] for r in results)}


def assembly_rate(data: dict, index, spec, *, batch: int, shuffled: bool, rounds: int = 5) -> dict:
    """Frames-only batches on one core beside memcpy of the same bytes, rounds interleaved.

    Each round times one pass of ``get_batch`` over every sample and one ``numpy.copyto``
    of as many bytes between two batch buffers; the best round of each is kept (other jobs
    on a shared machine only ever slow a round down).
    """
    frames_only = spec.replace(streams=())
    ds = ShardMapDataset(index=index, spec=frames_only)
    keys = np.arange(index.total)
    if shuffled:
        keys = partition.permutation(index.total, 0, 0)
    for p in range(0, len(keys), batch):  # open the shards, fill the page cache once
        ds.get_batch(keys[p:p + batch])
    src = np.ones((batch,) + data["shape"], np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = cpu_best = copy_best = float("inf")
    total = 0
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        total = 0
        for p in range(0, len(keys), batch):
            total += ds.get_batch(keys[p:p + batch])["frames"].nbytes
        best = min(best, time.perf_counter() - t)
        cpu_best = min(cpu_best, time.process_time() - c)
        t = time.perf_counter()
        for p in range(0, len(keys), batch):
            np.copyto(dst, src)
        copy_best = min(copy_best, time.perf_counter() - t)
    copied = src.nbytes * len(range(0, len(keys), batch))
    return {"order": "shuffled" if shuffled else "shard order", "frames": len(keys),
            "MB_per_s": total / best / 1e6, "MB_per_cpu_s": total / cpu_best / 1e6,
            "ms_per_frame": best / len(keys) * 1e3, "memcpy_MB_per_s": copied / copy_best / 1e6}


def check_resume(index, spec, *, batch: int, k: int = 3) -> bool:
    """A state taken after ``k`` batches, loaded into a new dataset, yields exactly the rest."""
    def ds():
        return ShardDataset(index=index, spec=spec, batch_size=batch, seed=5, prefetch_bytes=64 << 20)

    full = list(ds())
    k = max(0, min(k, len(full) - 1))
    first = ds()
    it = iter(first)
    for _ in range(k):
        next(it)
    state = first.state_dict()
    it.close()
    resumed = ds()
    resumed.load_state_dict(state)
    rest = list(resumed)
    if len(rest) != len(full) - k:
        return False
    for a, b in zip(rest, full[k:]):
        if a["shard"] != b["shard"] or not all(np.array_equal(a[key], b[key]) for key in a if key != "shard"):
            return False
    return True


def check_coverage(index, spec) -> bool:
    """2 ranks x 2 workers: every sample of the epoch exactly once (N is made divisible by 2)."""
    seen = []
    for rank in range(2):
        for worker in range(2):
            ds = ShardDataset(index=index, spec=spec.replace(streams=()), rank=rank, world_size=2,
                              worker=worker, num_workers=2, seed=1, remainder="drop", prefetch_bytes=0)
            seen += [(s["shard"], int(s["t_us"])) for s in ds]
    expected = index.total - index.total % 2
    return len(seen) == len(set(seen)) == expected


def import_times() -> dict:
    code = ("import time; t = time.perf_counter(); import encoder.loader; a = time.perf_counter() - t; "
            "t = time.perf_counter(); encoder.loader.warmup(); b = time.perf_counter() - t; print(a, b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    a, b = out.stdout.split()
    return {"import_s": float(a), "warmup_s": float(b)}


def run(*, shards: int, frames: int, height: int, width: int, fps: int, batch: int, seed: int,
        epochs: int = 3, prefetch: int = 0, rounds: int = 2, folder: str | None = None,
        baselines: bool = True, keep: bool = False) -> dict:
    """Make the data, check the baselines against us, measure; the data is removed afterwards
    (unless ``keep``, or ``folder`` was given)."""
    if folder is None and not keep:
        with tempfile.TemporaryDirectory(prefix="bench_loader_") as tmp:
            return run(shards=shards, frames=frames, height=height, width=width, fps=fps, batch=batch, seed=seed,
                       epochs=epochs, prefetch=prefetch, rounds=rounds, folder=tmp, baselines=baselines)
    folder = folder or tempfile.mkdtemp(prefix="bench_loader_")
    t = time.perf_counter()
    data = make_data(folder, shards=shards, frames=frames, height=height, width=width, fps=fps, seed=seed,
                     baselines=baselines)
    made = time.perf_counter() - t
    encoder.loader.warmup()
    probe = ShardMapDataset(data["shards"])
    index, spec = probe.index, probe.spec
    report = {"config": dict(shards=shards, frames=frames, height=height, width=width, batch=batch,
                             samples=index.total, prefetch_bytes=prefetch, epochs_encoder=epochs, rounds=rounds),
              "data_s": made, "machine": machine(), **import_times()}
    keys = partition.epoch_order(index.offsets, seed=0, epoch=0, shuffle=True)[:batch]
    ours = probe.get_batch(keys)
    kinds = ["encoder"] + (["png", "zstd"] if baselines else [])
    for kind in kinds[1:]:  # a baseline must produce our batches exactly
        theirs = BaselineLoader(data, index, spec, kind).build(keys)
        for key, value in ours.items():
            same = value == theirs[key] if isinstance(value, list) else np.array_equal(value, theirs[key])
            if not same:
                raise AssertionError(f"baseline {kind} differs from ours in {key!r}")
    frame_bytes = int(np.prod(data["shape"])) * batch
    report["memcpy_MB_per_s"] = memcpy_bandwidth(frame_bytes) / 1e6
    report["assembly"] = [assembly_rate(data, index, spec, batch=batch, shuffled=s) for s in (False, True)]
    # Rounds interleave the loaders (ours, png, zstd, ours, ...) and the best round of each
    # is kept: other jobs on a shared machine only ever slow a round down, and interleaving
    # spreads their load over all loaders alike.
    best: dict = {}
    configs = [(kind, workers, prefetch) for kind in kinds for workers in (1, 2)]
    # Read-ahead on a thread pays when the consumer works (a training step); here it does
    # nothing, so this row shows the thread's cost, not its benefit.
    configs.append(("encoder", 1, 64 << 20))
    for _ in range(rounds):
        for kind, workers, ahead in configs:
            r = measure(kind, data, index, spec, workers=workers, batch=batch, prefetch=ahead,
                        epochs=epochs if kind == "encoder" else 1)
            if ahead != prefetch:
                r["loader"] = f"encoder, prefetch {ahead >> 20} MiB"
            key = (r["loader"], workers)
            if key not in best or r["samples_per_s"] > best[key]["samples_per_s"]:
                best[key] = r
    report["runs"] = list(best.values())
    report["resume_exact"] = check_resume(index, spec, batch=batch)
    report["coverage_exact"] = check_coverage(index, spec)
    report["folder"] = folder
    return report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def render(report: dict) -> str:
    cfg = report["config"]
    memcpy = report["memcpy_MB_per_s"]
    lines = [f"Machine: {report['machine']}", "",
             f"Data: {cfg['shards']} shards x {cfg['frames']} frames of {cfg['width']}x{cfg['height']} BGRA "
             f"(+ events), {cfg['samples']} samples, batches of {cfg['batch']}, best of {cfg['rounds']} interleaved "
             f"rounds; import {report['import_s']:.2f} s, "
             f"warm-up (JIT cache) {report['warmup_s']:.2f} s", "",
             "| loader | workers | samples/s | decoded MB/s | CPU s / sample (ms) | peak RSS per process (MB) |",
             "|---|---:|---:|---:|---:|---:|"]
    by = {}
    for r in report["runs"]:
        by[(r["loader"], r["workers"])] = r
        lines.append(f"| {r['loader']} | {r['workers']} | {r['samples_per_s']:.0f} | {r['MB_per_s']:.0f} | "
                     f"{r['cpu_s'] / r['samples'] * 1e3:.2f} | {r['max_rss_mb']:.0f} |")
    lines += ["", f"memcpy, one core: {memcpy:.0f} MB/s (numpy.copyto of {cfg['batch']} frames)", "",
              "| frame batches (frames only, one core) | MB/s wall | MB per CPU-s | ms per frame | memcpy MB/s "
              "(same rounds) | % of memcpy |",
              "|---|---:|---:|---:|---:|---:|"]
    for a in report["assembly"]:
        lines.append(f"| {a['order']} | {a['MB_per_s']:.0f} | {a['MB_per_cpu_s']:.0f} | {a['ms_per_frame']:.2f} | "
                     f"{a['memcpy_MB_per_s']:.0f} | {100 * a['MB_per_s'] / a['memcpy_MB_per_s']:.0f} % |")
    lines.append("")
    if ("png", 1) in by:
        for w in (1, 2):
            ratio = by[("encoder", w)]["samples_per_s"] / by[("png", w)]["samples_per_s"]
            zratio = by[("encoder", w)]["samples_per_s"] / by[("zstd", w)]["samples_per_s"]
            lines.append(f"- {w} worker(s): encoder / parquet+png = {ratio:.1f}x (target >= 10x); "
                         f"encoder / zstd-frames = {zratio:.1f}x")
    share = max(a["MB_per_s"] / a["memcpy_MB_per_s"] for a in report["assembly"])
    lines.append(f"- frame batches at {100 * share:.0f} % of one core's memcpy (target >= 50 %)")
    lines.append(f"- resume after k batches reproduces the rest exactly: {report['resume_exact']}")
    lines.append(f"- 2 ranks x 2 workers cover every sample exactly once: {report['coverage_exact']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_loader", description=__doc__.split("\n")[0])
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name}", type=int, default=value)
    parser.add_argument("--epochs", type=int, default=3, help="passes of our loader (baselines: one)")
    parser.add_argument("--prefetch", type=int, default=0, help="prefetch budget of our loader, bytes per worker")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per loader (the best is kept)")
    parser.add_argument("--json", help="also write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the generated data (its folder is in the report)")
    args = parser.parse_args(argv)
    report = run(**{k: getattr(args, k) for k in DEFAULTS}, epochs=args.epochs, prefetch=args.prefetch,
                 rounds=args.rounds, keep=args.keep)
    print(render(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0 if report["resume_exact"] and report["coverage_exact"] else 1


def test_loader_benchmark(benchmark, tmp_path):
    """A small run under pytest-benchmark: figures in extra_info, correctness asserted."""
    report = benchmark.pedantic(run, kwargs=dict(shards=2, frames=24, height=270, width=480, fps=10, batch=4, seed=0,
                                                 epochs=2, rounds=1, folder=str(tmp_path)), rounds=1,
                              iterations=1)
    benchmark.extra_info.update({f"{r['loader']}_{r['workers']}w_samples_per_s": r["samples_per_s"]
                                 for r in report["runs"]})
    benchmark.extra_info["memcpy_MB_per_s"] = report["memcpy_MB_per_s"]
    benchmark.extra_info["assembly_MB_per_s"] = max(a["MB_per_s"] for a in report["assembly"])
    assert report["resume_exact"] and report["coverage_exact"]


if __name__ == "__main__":
    raise SystemExit(main())
