"""The screen half of ``encoder demo``: copy a shard's frames, check them, compare with zstd.

Frames are streamed (one decoded frame at a time), so the demo's memory stays at a few
frames whatever the recording's length. The baseline is what a naive recorder stores:
every frame compressed whole with zstd-3, measured on up to :data:`BASELINE_FRAMES`
evenly spaced frames (frames are independent there, so a sample gives the same bytes per
frame as all of them).
"""
from __future__ import annotations

import time

import numpy as np
import zstandard

from ..shard import ShardReader, ShardWriter
from . import _console

#: Streams that :meth:`ShardWriter.add_frame` writes (never passed to ``write``).
FRAME_STREAMS = ("frame", "tile")
BASELINE_FRAMES = 24
RANDOM_FRAMES = 12


def copy_frames(source: ShardReader, writer: ShardWriter) -> float:
    """Add every frame of ``source`` to ``writer``; returns the CPU seconds of the writer's work.

    The writer looks tiles up and compresses on background threads, so the time is the
    process CPU time from the first ``add_frame`` to the end of ``flush_frames``, less the
    time spent decoding the source frames.
    """
    decode_cpu = 0.0
    start = time.process_time()
    for screen in source.frame_screens():
        it = source.iter_frames(screen=screen, copy=False)
        for i, t in enumerate(source.frame_times(screen).tolist()):
            d0 = time.process_time()
            image = next(it)
            fmt = source.frame_info(i, screen)["format"]  # kept as declared
            decode_cpu += time.process_time() - d0
            writer.add_frame(t, image, screen=screen, pixel_format=fmt)
    writer.flush_frames()
    return time.process_time() - start - decode_cpu


def first_frame_difference(source: ShardReader, copy: ShardReader) -> str | None:
    """``None`` if ``copy`` holds the frames of ``source`` bit for bit, else the first difference."""
    if source.frame_screens() != copy.frame_screens():
        return f"screens {copy.frame_screens()}, expected {source.frame_screens()}"
    for screen in source.frame_screens():
        expected, got = source.frame_times(screen), copy.frame_times(screen)
        if not np.array_equal(expected, got):
            return f"screen {screen}: frame times differ"
        for i, (a, b) in enumerate(zip(source.iter_frames(screen=screen, copy=False),
                                       copy.iter_frames(screen=screen, copy=False))):
            if a.shape != b.shape or not np.array_equal(a, b):
                return f"screen {screen}, frame {i} differs"
    return None


def measure(path: str, cpu_encode: float, quiet: bool) -> dict:
    """Bytes, decode and random-access times of the written shard, and zstd-3's on the same frames."""
    with ShardReader(path) as reader:
        stats = reader.frame_stats()
        screens = reader.frame_screens()
        n = stats["frames"]
        start = time.perf_counter()
        for screen in screens:
            for _ in reader.iter_frames(screen=screen, copy=False):
                pass
        sequential = (time.perf_counter() - start) / n
        rng = np.random.default_rng(0)
        reader.frame(0, screens[0])  # loads the random-access kernels (JIT cache) outside the timing
        random_s = []
        for screen in screens:
            for i in rng.integers(0, reader.frame_count(screen), RANDOM_FRAMES).tolist():
                reader.drop_frame_cache()  # no page cached: what a random sample costs a loader
                start = time.perf_counter()
                reader.frame(i, screen)
                random_s.append(time.perf_counter() - start)
        # the baseline, compressed one frame at a time (24 1080p frames held together: 200 MB)
        count = reader.frame_count(screens[0])
        sample = np.unique(np.linspace(0, count - 1, min(count, BASELINE_FRAMES)).astype(int)).tolist()
        zc, zd = zstandard.ZstdCompressor(level=3), zstandard.ZstdDecompressor()
        blobs, z_enc = [], 0.0
        for i in _console.progress(sample, quiet=quiet, desc="zstd-3 baseline", unit="frame"):
            image = reader.frame(i, screens[0])
            start = time.process_time()
            blobs.append(zc.compress(image))
            z_enc += time.process_time() - start
    start = time.perf_counter()
    for blob in blobs:  # decoded apart from our reads, which would interleave their allocations
        zd.decompress(blob)
    z_dec = time.perf_counter() - start
    z_bytes = sum(map(len, blobs))
    k = len(sample)
    return {"frames": n, "unique_tiles": stats["unique_tiles"], "raw": stats["raw_bytes"] / n,
            "ours": stats["bytes_per_frame"], "enc": cpu_encode / n, "dec": sequential,
            "random": float(np.median(random_s)), "random_max": max(random_s),
            "z_bytes": z_bytes / k, "z_enc": z_enc / k, "z_dec": z_dec / k, "z_frames": k}


def report(r: dict) -> None:
    ms = lambda s: f"{1000 * s:.2f}"  # noqa: E731
    rows = [["encoder (tiles)", _console.count(r["frames"]), _console.count(round(r["ours"])),
             f"{r['raw'] / r['ours']:,.0f}x", ms(r["enc"]), ms(r["dec"]),
             f"{ms(r['random'])} / {ms(r['random_max'])}"],
            [f"zstd-3, whole frames ({r['z_frames']} of them)", _console.count(r["z_frames"]),
             _console.count(round(r["z_bytes"])), f"{r['raw'] / r['z_bytes']:,.0f}x", ms(r["z_enc"]),
             ms(r["z_dec"]), ms(r["z_dec"])]]
    _console.table(
        None, ["frames", "n", "B/frame", "ratio", "enc ms/frame", "dec ms/frame", "random ms (median / max)"],
        rows, caption=f"{_console.count(r['unique_tiles'])} unique tiles. enc: CPU time, writer threads included; "
                      "dec: reading every frame in order; random: one frame, no page cached. "
                      "ratio: raw pixels / stored bytes.")
