"""Screen recordings of a corpus: our tile store beside zstd, XOR+zstd, PNG, WebP and x264.

The corpus is a folder of real 1920x1080 BGRA captures, one per scenario (``terminal``,
``browser``, ``build-log``, ``editor``, ``browser-scroll``, ``windows``, ``gtk-dialogs``,
``animation``; about 130 s each at 10 fps), made by ``bench/desktop_workload.py`` and cached
raw by its ``FrameCache`` (zstd-1 ``frames-NNNNN.npy.zst`` chunks of 20 frames,
``times.npy``, ``meta.json``; a folder without ``meta.json`` is still being captured and is
skipped)::

    python bench/desktop_workload.py --scenario editor --seconds 130 --cache /tmp/encoder-frames/corpus/editor

Each scenario is measured as two sequences: every frame (10 fps) and every 5th frame (2 fps).
For each sequence, every codec (ours, ``encoder``, and those of :mod:`bench.frame_baselines`)
gets

* **KB/frame** (KB = 1024 bytes): the shard file for ours, the codec's output for the others;
* **encode CPU ms/frame**: every thread of this process and child processes (ffmpeg); for ours
  ``add_frame`` of every frame, the writer's background threads and ``ShardWriter.close()``;
* **sequential decode ms/frame** (CPU, every thread and child; and wall), each frame a new
  array (ours: ``ShardReader.iter_frames``), and its ratio to a memcpy of the same frames
  measured in the same run (``frame.copy()`` of every frame, read from memory in order;
  ``np.copyto`` into one reused buffer is reported beside it);
* **random access ms** (wall, median and max) over 30 random frames, ours with
  ``drop_frame_cache()`` before each (the frame index stays loaded);
* **exact channels** and **bit-exact**: every decoded frame (sequential and random) is compared
  with the source by ``np.array_equal`` on those channels; a difference is a failure (the
  run exits 1, the pytest form fails), never a note.

Memory stays bounded (a two-minute capture is 10 GB raw): the capture is read a chunk of 20
frames at a time, twice per sequence. The first pass feeds every chunk to every codec's
encoder in turn (:meth:`~bench.frame_baselines.Codec.start`: ours through ``add_frame``, x264
through ffmpeg's stdin) and times the memcpy; the second pass runs every codec's decoder
(:meth:`~bench.frame_baselines.Codec.iter_decode`) through the chunk in turn, comparing each
frame with the source, so that between two frames of a codec only its comparison runs, as
in a pass of its own. CPU is attributed exactly although the codecs share the passes: each
baseline's work runs in this thread (timed with ``time.thread_time``) or in its own ffmpeg
child (its rusage counted when it is reaped, inside that codec's timed call); our writer's
background threads and our reader's helpers are the only other threads of the process, so
their CPU is the process's (``time.process_time``) minus this thread's over the pass
(``other_threads_cpu_s`` in the JSON; it is 0 without ours). Reading the capture, the memcpy
and the comparisons are counted for no codec. Wall times feel the other codecs (our
writer's threads work while the baselines encode) and the machine's load, so compare CPU;
the wall time of a codec that runs in a child process is not shown (ffmpeg works ahead of
the pipe). PNG and WebP lossless cost 60-140 ms per frame: they see every 10th frame of each
sequence (said in the table) unless ``--full``; ours and zstd3 always see every frame.

Before anything is timed, the JIT kernels are compiled and the first 20 frames are written
and read back once per process (about 0.3 s that a recorder pays once, not per frame), and
glibc's malloc thresholds are pinned (:func:`pin_malloc`): left dynamic, whether each new
8 MB frame array is recycled memory or faulted in page by page depends on the process's
history, and moved the same decode between 0.8 and 5 ms per frame from one run to the next.

Command line (tables as markdown; about 4 minutes per scenario on 2 cores with the default
codecs; ``--limit`` cuts each sequence to its first N frames for a trial)::

    python -m bench.bench_screens [--corpus DIR] [--scenarios a,b] [--fps 10,2]
        [--codecs encoder,zstd3,xor-zstd3,png,webp,x264-ultrafast] [--options JSON]
        [--json OUT] [--limit N] [--full] [--random 30]

``--options '{"page_budget": 0, "reach_pages": 0}'`` is passed to
``ShardWriter.configure_frames`` to compare settings. After the tables of each (scenario, fps)
come the corpus mean per fps (the mean over scenarios of each figure, per codec) and the mean
over every sequence measured.

pytest-benchmark form (one benchmark per scenario and fps, missing scenarios skipped; the
tables are printed by the last test; ``ENCODER_CORPUS``, ``ENCODER_SCREENS_LIMIT``,
``ENCODER_SCREENS_CODECS``, ``ENCODER_SCREENS_FPS`` and ``ENCODER_SCREENS_OPTIONS`` stand for
the options above)::

    python -m pytest bench/bench_screens.py --benchmark-only -s

It asserts bit-exactness and, on the corpus mean of each fps, only comparisons with figures
of the same run: ours takes fewer bytes per frame than every baseline, and decodes in order
with less CPU than whole-frame zstd-3. Absolute times are never asserted.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # as bench/conftest.py: before numba is imported

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import zstandard  # noqa: E402

import encoder  # noqa: E402

try:
    from bench import frame_baselines as fb
except ImportError:  # collected from bench/ without the repository root on the path
    import frame_baselines as fb

CORPUS = Path(os.environ.get("ENCODER_CORPUS", "/tmp/encoder-frames/corpus"))
SCENARIOS = ("terminal", "browser", "build-log", "editor", "browser-scroll", "windows", "gtk-dialogs",
             "animation")
FPS = (10, 2)
CODECS = ("encoder", "zstd3", "xor-zstd3", "png", "webp", "x264-ultrafast")
ALWAYS = ("encoder", "zstd3")  # measured on every frame, whatever --codecs says
SLOW = {"png": 10, "webp": 10}  # codec -> every how many frames of a sequence it sees (without --full)
RANDOM = 30
KB = 1024


# ---------------------------------------------------------------------------------------------
# The capture: chunks of frames, never the whole of it


def scenario_state(folder: Path) -> str:
    """``'complete'``, ``'capturing'`` or ``'missing'``.

    Complete: ``meta.json`` is there and newer than ``times.npy`` and every chunk (a capture
    writes it last; a new capture into the folder deletes the chunks and writes new ones, and
    leaves the old ``meta.json`` until it ends), and counts as many frames as ``times.npy``.
    """
    meta, times = folder / "meta.json", folder / "times.npy"
    if not folder.is_dir():
        return "missing"
    try:
        written = meta.stat().st_mtime
        chunks = [c.stat().st_mtime for c in folder.glob("frames-*.npy.zst")]
        if not chunks or max(chunks) > written or times.stat().st_mtime > written:
            return "capturing"
        frames = json.loads(meta.read_text()).get("frames")
        if frames is not None and frames != len(np.load(times)):
            return "capturing"
    except (OSError, ValueError):
        return "capturing"
    return "complete"


def _load_chunk(dctx: zstandard.ZstdDecompressor, path: Path) -> np.ndarray:
    """One ``frames-NNNNN.npy.zst``: decompressed straight into the array (no extra copy)."""
    raw = path.read_bytes()
    with dctx.stream_reader(raw) as reader:
        version = np.lib.format.read_magic(reader)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = header(reader)
        if fortran or dtype != np.uint8:
            import io
            return np.load(io.BytesIO(dctx.decompress(raw)))
        out = np.empty(shape, dtype)
        view, got = memoryview(out).cast("B"), 0
        while got < len(view):
            n = reader.readinto(view[got:])
            if not n:
                raise ValueError(f"{path}: truncated")
            got += n
    return out


def sequence_times(folder: Path, step: int = 1, limit: int | None = None) -> np.ndarray:
    """Times (int64 us) of the sequence: every ``step``-th frame of the capture, the first ``limit``."""
    return np.load(folder / "times.npy")[::step][:limit]


def iter_chunks(folder: Path, step: int = 1, limit: int | None = None):
    """``(times, frames, first)`` per chunk of the capture in ``folder``: every ``step``-th frame
    (capture frames 0, step, 2 step, ...), at most ``limit`` frames in all; ``frames`` is a view
    ``uint8[k, H, W, 4]`` of the chunk just read, ``first`` the sequence index of its first frame.

    (``desktop_workload.iter_cache`` yields the same chunks; this one decompresses each chunk
    straight into its array, which makes a pass about three times faster.)
    """
    folder = Path(folder)
    times = np.load(folder / "times.npy")
    want = len(times[::step][:limit])
    dctx = zstandard.ZstdDecompressor()
    at = first = 0  # capture index of the chunk's first frame; sequence index of the next frame
    for path in sorted(folder.glob("frames-*.npy.zst")):
        if first >= want:
            break
        chunk = _load_chunk(dctx, path)
        k = len(chunk)
        skip = (-at) % step
        frames = chunk[skip::step][:want - first]
        if len(frames):
            yield times[at + skip:at + k:step][:len(frames)], frames, first
            first += len(frames)
        at += k
    if first != want:
        raise RuntimeError(f"{folder}: {first} frames in the chunks, {want} in times.npy")


# ---------------------------------------------------------------------------------------------
# Our codec, streamed


class Ours(fb.Codec):
    """Our shard: ``ShardWriter.add_frame`` (``configure_frames(**options)``), ``iter_frames``,
    ``frame`` after ``drop_frame_cache()``."""
    name = "encoder"

    def __init__(self, **options):
        self.options = options
        self.reader = None
        self.stats: dict = {}

    def start(self):
        return _OursStream(self)

    def size(self, path):
        return os.path.getsize(path)

    def iter_decode(self, path):
        reader = encoder.ShardReader(path)
        try:
            yield from reader.iter_frames()  # a new array per frame, as the baselines give
        finally:
            reader.close()

    def decode_one(self, path, i):
        if self.reader is None:
            self.reader = encoder.ShardReader(path)
            self.reader.frame_count()  # the frame index, loaded once (not part of a random read)
        self.reader.drop_frame_cache()
        return self.reader.frame(i)

    def close(self, path):
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        try:
            os.remove(path)
            os.rmdir(os.path.dirname(path))
        except OSError:
            pass


class _OursStream(fb.EncodeStream):
    def __init__(self, codec: Ours):
        self.codec = codec
        self.path = os.path.join(tempfile.mkdtemp(prefix="encoder-screens-"), "frames.enc")
        self.writer = encoder.ShardWriter(self.path)
        if codec.options:
            self.writer.configure_frames(**codec.options)

    def add(self, times, frames):
        add = self.writer.add_frame
        for t, frame in zip(times.tolist(), frames):
            add(t, frame)

    def finish(self):
        self.writer.close()  # the background threads finish their work here: timed with the rest
        try:
            self.codec.stats = dict(self.writer.frame_writer_stats())
        except Exception:  # noqa: BLE001 - statistics only
            self.codec.stats = {}
        return self.path

    def abort(self):
        try:
            self.writer.close()
        finally:
            self.codec.close(self.path)


def make_codec(name: str, options: dict | None = None) -> fb.Codec:
    if name == "encoder":
        return Ours(**(options or {}))
    if name.startswith("x264-"):
        return fb.X264(name[len("x264-"):])
    if name == "png":
        return fb.PillowCodec("png", format="PNG")
    if name == "webp":
        return fb.PillowCodec("webp", format="WEBP", lossless=True, exact=True)
    for codec in (fb.Zstd3(), fb.XorZstd3()):
        if codec.name == name:
            return codec
    raise ValueError(f"unknown codec {name!r} (encoder, zstd3, xor-zstd3, png, webp, x264-<preset>)")


# ---------------------------------------------------------------------------------------------
# One sequence through every codec


def _children_cpu() -> float:
    import resource
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return child.ru_utime + child.ru_stime


@dataclass
class _Clock:
    """CPU (this thread + children reaped meanwhile) and wall seconds of the calls timed."""
    cpu: float = 0.0
    wall: float = 0.0

    def call(self, fn, *args):
        c, k, w = time.thread_time(), _children_cpu(), time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.cpu += time.thread_time() - c + _children_cpu() - k
            self.wall += time.perf_counter() - w


class _OtherThreads:
    """CPU of every thread of the process but this one, between start and stop."""

    def __init__(self):
        self.p0, self.t0 = time.process_time(), time.thread_time()

    def stop(self) -> float:
        return (time.process_time() - self.p0) - (time.thread_time() - self.t0)


@dataclass
class _Run:
    """One codec on one sequence, while it is measured."""
    codec: fb.Codec
    every: int  # sees sequence frames 0, every, 2 every, ...
    count: int  # frames it sees
    encode: _Clock = field(default_factory=_Clock)
    decode: _Clock = field(default_factory=_Clock)
    stream: object = None
    encoded: object = None
    decoder: object = None
    decoded: int = 0
    mismatched: list = field(default_factory=list)  # sequence indices of frames that differ
    random_ms: list = field(default_factory=list)
    random_positions: list = field(default_factory=list)
    error: str = ""

    @property
    def name(self) -> str:
        return self.codec.name

    def fail(self, what: str, exc: BaseException) -> None:
        self.error = f"{what}: {type(exc).__name__}: {exc}"
        print(f"!! {self.name}: {self.error}", file=sys.stderr, flush=True)
        for closing in (lambda: self.stream.abort() if self.stream is not None else None,
                        lambda: self.decoder.close() if self.decoder is not None else None):
            try:
                closing()
            except Exception:  # noqa: BLE001 - already failing
                pass
        self.stream = self.decoder = None


def _warmup() -> None:
    """JIT kernels compiled (or loaded from Numba's cache) before anything is timed."""
    try:
        from encoder import backends
        backends.warmup()
    except Exception:  # noqa: BLE001
        pass
    try:
        from encoder.tiles import _numba
        _numba.warmup()
    except Exception:  # noqa: BLE001
        pass


def pin_malloc() -> bool:
    """Fix glibc's malloc thresholds (mmap above 32 MiB, trim above 256 MiB) for this process.

    Left dynamic, whether a new 8 MB frame array (every decoder's output, ``frame.copy()``) is
    recycled heap memory or fresh pages faulted in one by one (3-4 ms per 1080p frame) depends
    on what the process allocated and freed before: the same decode measured 0.8 or 5 ms per
    frame from one run to the next. Pinned, every codec's new arrays are recycled memory, as in
    a reader that has been running a while. Returns whether both settings took.
    """
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 256 << 20))


_warmed: set = set()


def _warm_ours(folder: Path, step: int, options: dict | None) -> float:
    """Write and read back the first 20 frames once per process and setting (JIT compilation,
    first allocations: about 0.3 s that a recorder pays once, not per frame). Returns seconds."""
    key = json.dumps(options or {}, sort_keys=True)
    if key in _warmed:
        return 0.0
    _warmed.add(key)
    w0 = time.perf_counter()
    codec = Ours(**(options or {}))
    chunk = next(iter_chunks(folder, step, 20))
    path = codec.encode_stream([chunk[:2]])
    try:
        for _ in codec.iter_decode(path):
            pass
        codec.decode_one(path, len(chunk[1]) - 1)
    finally:
        codec.close(path)
    return time.perf_counter() - w0


def _same(frame, source, channels: int) -> bool:
    return (getattr(frame, "shape", None) == source.shape
            and np.array_equal(frame[..., :channels], source[..., :channels]))


def measure_sequence(folder: Path, fps: int, codecs=CODECS, options: dict | None = None,
                     limit: int | None = None, full: bool = False, random: int = RANDOM, seed: int = 0,
                     log=None) -> dict:
    """Every figure of every codec on one sequence of the capture in ``folder`` (see the module)."""
    folder = Path(folder)
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    meta = json.loads((folder / "meta.json").read_text())
    capture_fps = int(meta.get("fps", 10))
    if capture_fps % fps:
        raise ValueError(f"{fps} fps is not a whole step of the capture's {capture_fps} fps")
    step = capture_fps // fps
    times = sequence_times(folder, step, limit)
    n = len(times)
    if n == 0:
        raise ValueError(f"{folder}: no frames")
    names = list(dict.fromkeys([*ALWAYS, *codecs]))
    runs: list[_Run] = []
    for name in names:
        every = 1 if full else SLOW.get(name, 1)
        runs.append(_Run(make_codec(name, options), every, math.ceil(n / every)))
    rng = np.random.default_rng(seed)
    by_every = {}
    for run in runs:  # random frames: the same ones for codecs that see the same frames
        if run.every not in by_every:
            by_every[run.every] = (rng.integers(0, run.count, random) * run.every).tolist()
        run.random_positions = by_every[run.every]
    wanted = {p for positions in by_every.values() for p in positions}
    malloc_pinned = pin_malloc()
    _warmup()
    warmup_s = _warm_ours(folder, step, options) if any(isinstance(r.codec, Ours) for r in runs) else 0.0
    label = f"{folder.name} @{fps} fps"

    try:
        # Pass 1: encode, every codec a chunk at a time; the memcpy reference.
        t_pass = time.perf_counter()
        log(f"{label}: encoding {n} frames ({', '.join(r.name for r in runs)})")
        for run in runs:
            try:
                run.stream = run.encode.call(run.codec.start)
            except Exception as exc:  # noqa: BLE001
                run.fail("start", exc)
        copy_clock, copyto_clock = _Clock(), _Clock()
        shape = None
        others = _OtherThreads()
        try:
            for chunk_times, frames, first in iter_chunks(folder, step, limit):
                if shape is None:
                    shape = frames.shape[1:]
                    dest = np.empty(shape, np.uint8)
                for run in runs:
                    if run.stream is None:
                        continue
                    skip = (-first) % run.every
                    sub_frames = frames[skip::run.every]
                    if len(sub_frames):
                        try:
                            run.encode.call(run.stream.add, chunk_times[skip::run.every], sub_frames)
                        except Exception as exc:  # noqa: BLE001
                            run.fail("encode", exc)
                for frame in frames:
                    copy_clock.call(frame.copy)
                    copyto_clock.call(np.copyto, dest, frame)
            for run in runs:
                if run.stream is not None:
                    try:
                        run.encoded = run.encode.call(run.stream.finish)
                    except Exception as exc:  # noqa: BLE001
                        run.fail("finish", exc)
                    run.stream = None
        except BaseException:
            for run in runs:
                if run.stream is not None:
                    run.stream.abort()
            raise
        encode_others = others.stop()  # our writer's threads: the only other threads of the process
        ours = next((r for r in runs if isinstance(r.codec, Ours)), None)
        if ours is not None:
            ours.encode.cpu += encode_others
        encode_pass_s = time.perf_counter() - t_pass

        # Pass 2: decode every codec in step with the source; every frame compared.
        t_pass = time.perf_counter()
        log(f"{label}: decoding and comparing ({encode_pass_s:.0f} s to encode)")
        sources: dict[int, np.ndarray] = {}
        for run in runs:
            if run.encoded is not None:
                run.decoder = iter(run.codec.iter_decode(run.encoded))
        others = _OtherThreads()
        try:
            for chunk_times, frames, first in iter_chunks(folder, step, limit):
                for j, source in enumerate(frames):
                    if first + j in wanted:
                        sources[first + j] = source.copy()
                for run in runs:  # codec by codec through the chunk: only the checks run between its frames
                    skip = (-first) % run.every
                    for j in range(skip, len(frames), run.every):
                        if run.decoder is None:
                            break
                        position = first + j
                        try:
                            frame = run.decode.call(next, run.decoder, None)
                        except Exception as exc:  # noqa: BLE001
                            run.fail(f"decode of frame {position}", exc)
                            break
                        if frame is None:
                            run.fail("decode", RuntimeError(f"{run.decoded} frames of {run.count}"))
                            break
                        run.decoded += 1
                        if not _same(frame, frames[j], run.codec.channels):
                            run.mismatched.append(position)
                        del frame
            for run in runs:
                if run.decoder is not None:
                    try:
                        extra = run.decode.call(next, run.decoder, None)  # the end (ffmpeg reaped here)
                        if extra is not None:
                            run.fail("decode", RuntimeError(f"more frames than the {run.count} encoded"))
                    except Exception as exc:  # noqa: BLE001
                        run.fail("decode", exc)
                    run.decoder = None
        finally:
            for run in runs:
                if run.decoder is not None:
                    run.decoder.close()
                    run.decoder = None
        decode_others = others.stop()  # our reader's helper threads
        if ours is not None:
            ours.decode.cpu += decode_others
        decode_pass_s = time.perf_counter() - t_pass

        # Random access: each codec alone, one untimed read first (reader opened, caches created).
        t_pass = time.perf_counter()
        for run in runs:
            if run.encoded is None or run.error:
                continue
            try:
                run.codec.decode_one(run.encoded, 0)
                for position in run.random_positions:
                    w = time.perf_counter()
                    frame = run.codec.decode_one(run.encoded, position // run.every)
                    run.random_ms.append(1000 * (time.perf_counter() - w))
                    if not _same(frame, sources[position], run.codec.channels):
                        run.mismatched.append(position)
            except Exception as exc:  # noqa: BLE001
                run.fail("random access", exc)
        random_pass_s = time.perf_counter() - t_pass
        sources.clear()
    except BaseException:  # a capture changed under us, an interrupt: leave no temporary file behind
        for run in runs:
            if run.encoded is not None:
                try:
                    run.codec.close(run.encoded)
                except Exception:  # noqa: BLE001
                    pass
        raise

    copy_ms = 1000 * copy_clock.cpu / n
    rows = {}
    for run in runs:
        k = run.count
        row = {"codec": run.name, "every": run.every, "frames": k, "channels_exact": run.codec.channels,
               "error": run.error, "mismatched_frames": len(run.mismatched),
               "first_mismatches": sorted(set(run.mismatched))[:10]}
        row["bit_exact"] = not run.error and not run.mismatched and run.decoded == k
        if run.encoded is not None:
            row["KB_per_frame"] = run.codec.size(run.encoded) / k / KB
            row["encode_cpu_ms"] = 1000 * run.encode.cpu / k
            row["encode_wall_ms"] = 1000 * run.encode.wall / k
            if not run.error:
                row["decode_cpu_ms"] = 1000 * run.decode.cpu / k
                row["decode_wall_ms"] = 1000 * run.decode.wall / k
                row["decode_vs_memcpy"] = row["decode_cpu_ms"] / copy_ms
            if run.random_ms:
                row["random_ms_median"] = float(np.median(run.random_ms))
                row["random_ms_max"] = float(np.max(run.random_ms))
            if isinstance(run.codec, fb.X264):
                row["wall_note"] = "ffmpeg runs in a child process beside the pipe: wall times are not its own"
            if isinstance(run.codec, Ours):
                row["writer_stats"] = run.codec.stats
            try:
                run.codec.close(run.encoded)
            except Exception:  # noqa: BLE001
                pass
        rows[run.name] = row
    figures = {
        "scenario": folder.name, "fps": fps, "step": step, "frames": n, "shape": list(shape or ()),
        "capture": dict(meta, folder=str(folder), written=time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime((folder / "meta.json").stat().st_mtime))),
        "seconds": float((times[-1] - times[0]) / 1e6) if n > 1 else 0.0, "options": options or {},
        "memcpy_copy_ms": copy_ms, "memcpy_copy_wall_ms": 1000 * copy_clock.wall / n,
        "memcpy_copyto_ms": 1000 * copyto_clock.cpu / n, "memcpy_copyto_wall_ms": 1000 * copyto_clock.wall / n,
        "load_average": os.getloadavg()[0], "warmup_s": warmup_s, "malloc_pinned": malloc_pinned,
        "encode_pass_s": encode_pass_s, "decode_pass_s": decode_pass_s,
        "random_pass_s": random_pass_s, "random_frames": random,
        "other_threads_cpu_s": {"encode": encode_others, "decode": decode_others},  # counted as ours
        "codecs": rows,
    }
    log(f"{label}: done ({encode_pass_s + decode_pass_s + random_pass_s:.0f} s)")
    return figures


# ---------------------------------------------------------------------------------------------
# Tables


MEAN_KEYS = ("KB_per_frame", "encode_cpu_ms", "encode_wall_ms", "decode_cpu_ms", "decode_wall_ms",
             "decode_vs_memcpy", "random_ms_median", "random_ms_max")


def _f(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _codec_label(row: dict, frames: int | None = None) -> str:
    if row.get("every", 1) > 1:
        return f"{row['codec']} (every {row['every']}th frame)"
    return row["codec"]


def _rows_table(rows: list[dict], ours_kb: float | None, count_label: str) -> list[str]:
    lines = [f"| codec | {count_label} | KB/frame | x ours | encode CPU ms/frame | decode CPU ms/frame | "
             "decode / memcpy | decode wall ms/frame | random ms median / max | exact channels | bit-exact |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        kb = row.get("KB_per_frame")
        child = row["codec"].startswith("x264")
        exact = row.get("bit_exact_text") or ("yes" if row["bit_exact"] else "**NO**")
        if row.get("error"):
            exact += f" (**{row['error']}**)"
        elif row.get("mismatched_frames"):
            exact += f" ({row['mismatched_frames']} frames differ, first {row['first_mismatches'][:3]})"
        lines.append(
            f"| {_codec_label(row)} | {row['count']} | {_f(kb)} | "
            f"{_f(kb / ours_kb if kb is not None and ours_kb else None, 1)} | {_f(row.get('encode_cpu_ms'))} | "
            f"{_f(row.get('decode_cpu_ms'))} | {_f(row.get('decode_vs_memcpy'))} | "
            f"{'-' if child else _f(row.get('decode_wall_ms'))} | "
            f"{_f(row.get('random_ms_median'))} / {_f(row.get('random_ms_max'))} | {row['channels_exact']} | {exact} |")
    return lines


def sequence_table(fig: dict) -> str:
    rows = list(fig["codecs"].values())
    ours = fig["codecs"].get("encoder", {}).get("KB_per_frame")
    h, w = (fig["shape"] + [0, 0])[:2]
    lines = [f"### {fig['scenario']}, {fig['fps']} fps ({fig['frames']} frames, {fig['seconds']:.0f} s, "
             f"{w}x{h}{', options ' + json.dumps(fig['options']) if fig['options'] else ''}"
             f"{', capture written ' + fig['capture']['written'] if 'capture' in fig else ''})", "",
             f"memcpy of the same frames: copy() {fig['memcpy_copy_ms']:.2f} ms/frame CPU, "
             f"np.copyto into one buffer {fig['memcpy_copyto_ms']:.2f}; load average {fig['load_average']:.1f}; "
             f"passes {fig['encode_pass_s']:.0f} + {fig['decode_pass_s']:.0f} + {fig['random_pass_s']:.0f} s", ""]
    return "\n".join(lines + _rows_table([dict(r, count=r["frames"]) for r in rows], ours, "frames"))


def corpus_means(figures: list[dict], fps=None) -> dict[str, dict]:
    """Per codec, the mean over the sequences (of ``fps``, or all) of each figure."""
    chosen = [f for f in figures if fps is None or f["fps"] == fps]
    out: dict[str, dict] = {}
    for fig in chosen:
        for name, row in fig["codecs"].items():
            agg = out.setdefault(name, {"codec": name, "every": row["every"], "channels_exact": row["channels_exact"],
                                        "sequences": 0, "exact": 0, "errors": [], "values": {}})
            agg["sequences"] += 1
            agg["exact"] += bool(row["bit_exact"])
            if row.get("error"):
                agg["errors"].append(f"{fig['scenario']}@{fig['fps']}: {row['error']}")
            for key in MEAN_KEYS:
                if row.get(key) is not None:
                    agg["values"].setdefault(key, []).append(row[key])
    for agg in out.values():
        for key, values in agg.pop("values").items():
            agg[key] = float(np.mean(values))
            agg[key + "_n"] = len(values)
        agg["bit_exact"] = agg["exact"] == agg["sequences"] and not agg["errors"]
        agg["bit_exact_text"] = "yes" if agg["bit_exact"] else f"**NO** ({agg['exact']} of {agg['sequences']})"
    return out


def means_table(figures: list[dict], fps=None) -> str:
    chosen = [f for f in figures if fps is None or f["fps"] == fps]
    if not chosen:
        return ""
    means = corpus_means(figures, fps)
    scenarios = list(dict.fromkeys(f["scenario"] for f in chosen))
    what = f"{fps} fps" if fps is not None else "every sequence (" + ", ".join(
        f"{x} fps" for x in sorted({f['fps'] for f in chosen}, reverse=True)) + ")"
    lines = [f"### corpus mean, {what}: {len(chosen)} sequences ({', '.join(scenarios)})", "",
             "mean over the sequences of each figure; x ours is the ratio of the mean KB/frame", ""]
    rows = [dict(r, count=r["sequences"]) for r in means.values()]
    ours = means.get("encoder", {}).get("KB_per_frame")
    return "\n".join(lines + _rows_table(rows, ours, "sequences"))


def report(figures: list[dict], fps_list=None) -> str:
    parts = [sequence_table(f) for f in figures]
    fps_list = fps_list or sorted({f["fps"] for f in figures}, reverse=True)
    parts += [means_table(figures, fps) for fps in fps_list]
    if len({f["fps"] for f in figures}) > 1:
        parts.append(means_table(figures))
    return "\n\n".join(p for p in parts if p)


def failures(figures: list[dict]) -> list[str]:
    out = []
    for fig in figures:
        for name, row in fig["codecs"].items():
            if not row["bit_exact"]:
                out.append(f"{fig['scenario']} @{fig['fps']} fps, {name}: "
                           + (row["error"] or f"{row['mismatched_frames']} frames differ from the source "
                                              f"(first {row['first_mismatches']})"))
    return out


def comparisons(figures: list[dict]) -> list[str]:
    """What the pytest form asserts, as sentences (empty: all hold)."""
    broken = []
    for fps in sorted({f["fps"] for f in figures}, reverse=True):
        means = corpus_means(figures, fps)
        ours = means.get("encoder")
        if ours is None or "KB_per_frame" not in ours:
            continue
        for name, row in means.items():
            if name != "encoder" and row.get("KB_per_frame") is not None \
                    and not ours["KB_per_frame"] < row["KB_per_frame"]:
                broken.append(f"{fps} fps: ours {ours['KB_per_frame']:.2f} KB/frame, {name} {row['KB_per_frame']:.2f}")
        zstd = means.get("zstd3", {})
        if "decode_cpu_ms" in ours and "decode_cpu_ms" in zstd and not ours["decode_cpu_ms"] < zstd["decode_cpu_ms"]:
            broken.append(f"{fps} fps: ours decodes in {ours['decode_cpu_ms']:.2f} ms/frame, "
                          f"zstd3 in {zstd['decode_cpu_ms']:.2f}")
    return broken


# ---------------------------------------------------------------------------------------------
# Command line


def _write_json(path: str, figures: list[dict], meta: dict, fps_list) -> None:
    data = {"meta": meta, "sequences": figures,
            "means": {str(fps): corpus_means(figures, fps) for fps in fps_list},
            "mean_all": corpus_means(figures)}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, default=str)
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_screens", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(CORPUS), help=f"folder of scenario captures (default {CORPUS})")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated (default: all eight)")
    parser.add_argument("--fps", default=",".join(map(str, FPS)), help="sequence rates (default 10,2)")
    parser.add_argument("--codecs", default=",".join(CODECS),
                        help=f"comma-separated (default {','.join(CODECS)}; also x264-medium); "
                             f"{' and '.join(ALWAYS)} always run")
    parser.add_argument("--options", default="{}", help="JSON dict for ShardWriter.configure_frames")
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--limit", type=int, help="first N frames of each sequence (a trial run)")
    parser.add_argument("--full", action="store_true", help="PNG and WebP on every frame too")
    parser.add_argument("--random", type=int, default=RANDOM, help="random frames per codec (default 30)")
    args = parser.parse_args(argv)
    options = json.loads(args.options)
    if not isinstance(options, dict):
        parser.error("--options must be a JSON object")
    fps_list = [int(x) for x in args.fps.split(",") if x]
    codecs = [c for c in args.codecs.split(",") if c]
    for name in codecs:
        make_codec(name)  # unknown names fail before anything runs
    corpus = Path(args.corpus)
    try:
        from bench.conftest import pin_threads
        pin_threads()
    except Exception:  # noqa: BLE001
        pass
    figures, skipped, broken = [], [], []
    started = time.perf_counter()
    meta = {"argv": sys.argv[1:] if argv is None else list(argv), "corpus": str(corpus), "codecs": codecs,
            "options": options, "limit": args.limit, "full": args.full, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "KB": KB}
    for scenario in [s for s in args.scenarios.split(",") if s]:
        folder = corpus / scenario
        state = scenario_state(folder)
        if state != "complete":
            skipped.append(f"{scenario} ({state})")
            print(f"skipping {scenario}: {state} ({folder})", file=sys.stderr)
            continue
        for fps in fps_list:
            try:
                figures.append(measure_sequence(folder, fps, codecs, options, args.limit, args.full, args.random))
            except Exception as exc:  # noqa: BLE001 - e.g. the capture was redone under us: the others go on
                broken.append(f"{scenario} @{fps} fps: {type(exc).__name__}: {exc}")
                print(f"!! {broken[-1]}", file=sys.stderr, flush=True)
                continue
            print("\n" + sequence_table(figures[-1]) + "\n", flush=True)
            if args.json:
                _write_json(args.json, figures, dict(meta, skipped=skipped, broken=broken), fps_list)
    meta.update(skipped=skipped, broken=broken, total_s=time.perf_counter() - started)
    if not figures:
        print(f"no complete scenario under {corpus}" + "".join(f"\n!! {b}" for b in broken), file=sys.stderr)
        return 2
    print("\n## Corpus means\n")
    print("\n\n".join(p for p in [*(means_table(figures, fps) for fps in fps_list),
                                  means_table(figures) if len(fps_list) > 1 else ""] if p))
    print(f"\n{len(figures)} sequences in {meta['total_s'] / 60:.1f} min"
          + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    if args.json:
        _write_json(args.json, figures, meta, fps_list)
    bad = broken + failures(figures)
    if bad:
        print("\n**NOT BIT-EXACT / FAILED:**\n" + "\n".join(f"* {b}" for b in bad), file=sys.stderr)
        print("\n**NOT BIT-EXACT / FAILED:**\n" + "\n".join(f"* {b}" for b in bad))
        return 1
    for sentence in comparisons(figures):
        print(f"note: {sentence}")
    return 0


# ---------------------------------------------------------------------------------------------
# pytest-benchmark form


RESULTS: list[dict] = []


def _env_list(name: str, default):
    value = os.environ.get(name)
    return [x for x in value.split(",") if x] if value else list(default)


_FPS = [int(x) for x in _env_list("ENCODER_SCREENS_FPS", FPS)]


@pytest.mark.parametrize("scenario,fps", [(s, f) for s in SCENARIOS for f in _FPS])
def test_sequence(benchmark, scenario, fps):
    folder = CORPUS / scenario
    state = scenario_state(folder)
    if state != "complete":
        pytest.skip(f"{folder}: {state}")
    limit = os.environ.get("ENCODER_SCREENS_LIMIT")
    options = json.loads(os.environ.get("ENCODER_SCREENS_OPTIONS", "{}"))
    fig = benchmark.pedantic(measure_sequence, args=(folder, fps, _env_list("ENCODER_SCREENS_CODECS", CODECS),
                                                     options, int(limit) if limit else None),
                             rounds=1, iterations=1)
    RESULTS.append(fig)
    benchmark.extra_info.update({k: v for k, v in fig.items() if k != "codecs"})
    benchmark.extra_info["codecs"] = {name: {k: v for k, v in row.items() if k != "writer_stats"}
                                      for name, row in fig["codecs"].items()}
    bad = failures([fig])
    assert not bad, "\n".join(bad)


def test_corpus_mean(benchmark):
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # runs under --benchmark-only too
    if not RESULTS:
        pytest.skip(f"no complete scenario under {CORPUS}")
    print("\n\n" + report(RESULTS, _FPS))
    benchmark.extra_info["means"] = {str(fps): corpus_means(RESULTS, fps) for fps in _FPS}
    broken = comparisons(RESULTS)
    assert not broken, "\n".join(broken)


if __name__ == "__main__":
    sys.exit(main())
