"""What a user would pick instead of our tile store for screen frames, behind one interface.

Every codec encodes a sequence of ``uint8[H, W, 4]`` BGRA frames, then decodes it in order
and decodes single frames at random; :func:`measure` times all three the same way (CPU
seconds of this process and of its children, wall seconds) for a sequence held in memory,
and checks every decoded frame against the source. Encoding is a stream
(:meth:`Codec.start`, ``add(times, frames)`` chunk by chunk, ``finish()``) and in-order
decoding a generator (:meth:`Codec.iter_decode`), so that ``bench/bench_screens.py`` can
run a two-minute capture (10 GB raw) through every codec without holding it in memory.

==================  ====================================================================
name                what it is
==================  ====================================================================
``zstd3``           each frame on its own, zstd level 3 (python-zstandard, one thread)
``xor-zstd3``       each frame XOR the previous one, zstd-3; a key frame (no XOR) every
                    :data:`XOR_KEY_EVERY` frames so that random access has a bound
``png``             Pillow PNG, default settings (zlib level 6), RGBA
``webp``            Pillow WebP lossless (``lossless=True, exact=True``: keeps the colour
                    of transparent pixels), default effort (quality 80, method 4), RGBA
``x264-ultrafast``  ffmpeg libx264rgb ``-qp 0 -preset ultrafast``, one thread, keyframe
                    every 250 frames (x264's default); **RGB only**: H.264 has no alpha,
                    so it stores 3 of our 4 channels (checked lossless on those)
``x264-medium``     the same at ``-preset medium``
==================  ====================================================================
"""
from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
import zstandard

XOR_KEY_EVERY = 64
FPS = 10


def _cpu() -> float:
    """CPU seconds used so far by this process (all threads) and its finished children."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


@dataclass
class Result:
    """Figures of one codec on one sequence (per frame unless named otherwise)."""
    codec: str
    frames: int
    bytes_total: int = 0
    encode_cpu_s: float = 0.0
    encode_wall_s: float = 0.0
    decode_cpu_s: float = 0.0
    decode_wall_s: float = 0.0
    random_ms: list = field(default_factory=list)
    channels_exact: int = 4
    notes: str = ""

    @property
    def bytes_per_frame(self) -> float:
        return self.bytes_total / self.frames

    def row(self) -> dict:
        n = self.frames
        return {
            "codec": self.codec, "frames": n, "KB_per_frame": self.bytes_per_frame / 1024,
            "encode_cpu_ms": 1000 * self.encode_cpu_s / n, "encode_wall_ms": 1000 * self.encode_wall_s / n,
            "decode_cpu_ms": 1000 * self.decode_cpu_s / n, "decode_wall_ms": 1000 * self.decode_wall_s / n,
            "random_ms_median": float(np.median(self.random_ms)) if self.random_ms else None,
            "random_ms_max": float(np.max(self.random_ms)) if self.random_ms else None,
            "channels_exact": self.channels_exact, "notes": self.notes,
        }


class Codec:
    """One way of storing a sequence of frames.

    Encoding is a stream: :meth:`start` gives an :class:`EncodeStream` that takes the frames
    chunk by chunk (``add(times, frames)``, any number of calls, ``frames`` a ``uint8[k, H, W,
    4]`` array or a list of ``uint8[H, W, 4]`` C-contiguous frames) and returns what
    :meth:`size`, :meth:`iter_decode` and :meth:`decode_one` take from ``finish()``; so a
    long recording never has to be in memory at once. :meth:`encode` is the same for a whole
    array, :meth:`encode_stream` for an iterable of ``(times, frames)`` chunks.
    """
    name = ""
    channels = 4  # channels stored exactly

    def start(self) -> "EncodeStream":
        raise NotImplementedError

    def encode(self, frames: np.ndarray, times: np.ndarray):
        return self.encode_stream([(times, frames)])

    def encode_stream(self, chunks):
        """Encode ``(times, frames)`` chunks, in order, as one sequence."""
        stream = self.start()
        try:
            for times, frames in chunks:
                stream.add(times, frames)
        except BaseException:
            stream.abort()
            raise
        return stream.finish()

    def size(self, encoded) -> int:
        raise NotImplementedError

    def iter_decode(self, encoded):
        """Every frame in order, each a new array (a generator: close it to stop early)."""
        raise NotImplementedError

    def decode_all(self, encoded, check) -> None:
        """Decode every frame in order, calling ``check(i, frame)``."""
        for i, frame in enumerate(self.iter_decode(encoded)):
            check(i, frame)

    def decode_one(self, encoded, i: int) -> np.ndarray:
        raise NotImplementedError

    def close(self, encoded) -> None:
        pass


class EncodeStream:
    """An encoding in progress (:meth:`Codec.start`)."""

    def add(self, times, frames) -> None:
        raise NotImplementedError

    def finish(self):
        raise NotImplementedError

    def abort(self) -> None:
        """Give up (an error elsewhere): free what :meth:`finish` would have returned."""


class PerFrameStream(EncodeStream):
    """Frames coded one by one by ``code(frame) -> bytes``; ``finish`` gives the list."""

    def __init__(self, code):
        self.code, self.out = code, []

    def add(self, times, frames):
        code, out = self.code, self.out
        for f in frames:
            out.append(code(f))

    def finish(self):
        return self.out


class Zstd3(Codec):
    name = "zstd3"

    def __init__(self):
        self.cctx = zstandard.ZstdCompressor(level=3)
        self.dctx = zstandard.ZstdDecompressor()

    def start(self):
        self.shape = None
        return PerFrameStream(self._code)

    def _code(self, f):
        self.shape = f.shape
        return self.cctx.compress(f)

    def size(self, encoded):
        return sum(len(b) for b in encoded)

    def decode_one(self, encoded, i):
        return np.frombuffer(self.dctx.decompress(encoded[i]), np.uint8).reshape(self.shape)

    def iter_decode(self, encoded):
        for i in range(len(encoded)):
            yield self.decode_one(encoded, i)


class XorZstd3(Zstd3):
    name = "xor-zstd3"

    def start(self):
        return _XorStream(self)

    def _raw(self, encoded, i):
        return np.frombuffer(self.dctx.decompress(encoded[i]), np.uint8).reshape(self.shape)

    def iter_decode(self, encoded):
        prev = None
        for i in range(len(encoded)):
            raw = self._raw(encoded, i)
            frame = raw.copy() if i % XOR_KEY_EVERY == 0 else np.bitwise_xor(raw, prev)
            yield frame
            prev = frame

    def decode_one(self, encoded, i):
        key = i - i % XOR_KEY_EVERY
        frame = self._raw(encoded, key).copy()
        for j in range(key + 1, i + 1):
            np.bitwise_xor(frame, self._raw(encoded, j), out=frame)
        return frame


class _XorStream(EncodeStream):
    """Each frame XOR the one before it (within a chunk, the caller's own array; the last frame
    of a chunk is copied, since the caller may free or reuse the chunk), zstd-3."""

    def __init__(self, codec: XorZstd3):
        self.codec, self.out, self.count = codec, [], 0
        self.prev = self.scratch = None

    def add(self, times, frames):
        compress, prev = self.codec.cctx.compress, self.prev
        for f in frames:
            if self.scratch is None:
                self.codec.shape = f.shape
                self.scratch = np.empty_like(f)
            if self.count % XOR_KEY_EVERY == 0:
                self.out.append(compress(f))
            else:
                np.bitwise_xor(f, prev, out=self.scratch)
                self.out.append(compress(self.scratch))
            prev = f
            self.count += 1
        if prev is not None and prev is not self.prev:
            self.prev = prev.copy()

    def finish(self):
        return self.out


class PillowCodec(Codec):
    """PNG or WebP lossless of the 4 channels (BGRA bytes stored as an 'RGBA' image)."""

    def __init__(self, name: str, **options):
        from PIL import Image  # noqa: F401 - fail early when Pillow is missing
        self.name, self.options = name, options

    def start(self):
        return PerFrameStream(self._code)

    def _code(self, f):
        from PIL import Image
        buf = io.BytesIO()
        Image.frombuffer("RGBA", (f.shape[1], f.shape[0]), f, "raw", "RGBA", 0, 1).save(buf, **self.options)
        return buf.getvalue()

    def size(self, encoded):
        return sum(len(b) for b in encoded)

    def decode_one(self, encoded, i):
        from PIL import Image
        with Image.open(io.BytesIO(encoded[i])) as image:
            return np.asarray(image.convert("RGBA") if image.mode != "RGBA" else image)

    def iter_decode(self, encoded):
        for i in range(len(encoded)):
            yield self.decode_one(encoded, i)


class X264(Codec):
    """ffmpeg's libx264rgb, lossless (``-qp 0``), one thread; stores RGB (no alpha).

    The frames go to ffmpeg through a pipe as they come (:meth:`start`), so a sequence of
    any length is encoded in bounded memory; the stream's time base is :data:`FPS` whatever
    the capture rate (``-qp 0`` has no rate control: the bytes do not depend on it).
    """

    channels = 3

    def __init__(self, preset: str):
        if shutil.which("ffmpeg") is None:
            raise RuntimeError("ffmpeg not found (apt-get install ffmpeg)")
        self.preset = preset
        self.name = f"x264-{preset}"

    def start(self):
        return _X264Stream(self)

    def size(self, encoded):
        return os.path.getsize(encoded)

    def iter_decode(self, encoded):
        h, w = self.shape
        size = h * w * 4
        proc = subprocess.Popen(["ffmpeg", "-v", "error", "-threads", "1", "-i", encoded, "-f", "rawvideo",
                                 "-pix_fmt", "bgr0", "-"], stdout=subprocess.PIPE)
        try:
            while len(data := proc.stdout.read(size)) == size:
                yield np.frombuffer(data, np.uint8).reshape(h, w, 4)
        except GeneratorExit:  # closed early: do not decode the rest
            proc.kill()
            raise
        finally:
            proc.stdout.close()
            proc.wait()

    def decode_one(self, encoded, i):
        # accurate seek: decodes from the keyframe before i, outputs frame i only
        h, w = self.shape
        out = subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-ss", f"{i / FPS:.6f}", "-i", encoded,
                              "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "bgr0", "-"],
                             capture_output=True, check=True).stdout
        return np.frombuffer(out, np.uint8).reshape(h, w, 4)

    def close(self, encoded):
        shutil.rmtree(os.path.dirname(encoded), ignore_errors=True)


class _X264Stream(EncodeStream):
    """ffmpeg started at the first frame (the size is known then), fed through its stdin."""

    def __init__(self, codec: X264):
        self.codec, self.proc = codec, None
        self.folder = tempfile.mkdtemp(prefix="encoder-x264-")
        self.path = os.path.join(self.folder, "frames.mkv")

    def add(self, times, frames):
        for f in frames:
            if self.proc is None:
                h, w = f.shape[:2]
                self.codec.shape = (h, w)
                self.proc = subprocess.Popen(
                    ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgra", "-s", f"{w}x{h}",
                     "-r", str(FPS), "-i", "-", "-c:v", "libx264rgb", "-qp", "0", "-preset", self.codec.preset,
                     "-threads", "1", "-pix_fmt", "bgr0", self.path], stdin=subprocess.PIPE)
            self.proc.stdin.write(memoryview(f).cast("B"))

    def finish(self):
        if self.proc is None:
            raise ValueError("x264: no frames")
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError("ffmpeg failed to encode")
        return self.path

    def abort(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def codecs() -> list[Codec]:
    """Every baseline available here (x264 needs ffmpeg, PNG and WebP need Pillow)."""
    out: list[Codec] = [Zstd3(), XorZstd3()]
    try:
        out += [PillowCodec("png", format="PNG"),
                PillowCodec("webp", format="WEBP", lossless=True, exact=True)]
    except ImportError:
        pass
    if shutil.which("ffmpeg"):
        out += [X264("ultrafast"), X264("medium")]
    return out


def measure(codec: Codec, frames: np.ndarray, times: np.ndarray, random_indices) -> Result:
    """Encode, decode in order and at random; every decoded frame must equal the source."""
    n = len(frames)
    result = Result(codec.name, n, channels_exact=codec.channels)
    c0, w0 = _cpu(), time.perf_counter()
    encoded = codec.encode(frames, times)
    result.encode_cpu_s, result.encode_wall_s = _cpu() - c0, time.perf_counter() - w0
    result.bytes_total = codec.size(encoded)
    ch = codec.channels
    seen = []
    spent = [0.0, 0.0]  # the checks' own CPU and wall seconds, taken off the decode time

    def check(i, frame):
        c, w = time.thread_time(), time.perf_counter()  # this thread only: not the decoder's helpers
        seen.append(i)
        if not np.array_equal(frame[..., :ch], frames[i][..., :ch]):
            raise AssertionError(f"{codec.name}: frame {i} differs from the source")
        spent[0] += time.thread_time() - c
        spent[1] += time.perf_counter() - w

    c0, w0 = _cpu(), time.perf_counter()
    codec.decode_all(encoded, check)
    result.decode_cpu_s = _cpu() - c0 - spent[0]
    result.decode_wall_s = time.perf_counter() - w0 - spent[1]
    if len(seen) != n:
        raise AssertionError(f"{codec.name}: decoded {len(seen)} frames of {n}")
    for i in random_indices:
        w0 = time.perf_counter()
        frame = codec.decode_one(encoded, int(i))
        result.random_ms.append(1000 * (time.perf_counter() - w0))
        check(int(i), frame)
    codec.close(encoded)
    return result
