"""What a user would pick instead of our tile store for screen frames, behind one interface.

Every codec encodes a whole sequence (``uint8[n, H, W, 4]`` BGRA frames), then decodes it
in order and decodes single frames at random; :func:`measure` times all three the same way
(CPU seconds of this process and of its children, wall seconds) and checks every decoded
frame against the source.

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
    name = ""
    channels = 4  # channels stored exactly

    def encode(self, frames: np.ndarray, times: np.ndarray):
        raise NotImplementedError

    def size(self, encoded) -> int:
        raise NotImplementedError

    def decode_all(self, encoded, check) -> None:
        """Decode every frame in order, calling ``check(i, frame)``."""
        raise NotImplementedError

    def decode_one(self, encoded, i: int) -> np.ndarray:
        raise NotImplementedError

    def close(self, encoded) -> None:
        pass


class Zstd3(Codec):
    name = "zstd3"

    def __init__(self):
        self.cctx = zstandard.ZstdCompressor(level=3)
        self.dctx = zstandard.ZstdDecompressor()

    def encode(self, frames, times):
        self.shape = frames.shape[1:]
        return [self.cctx.compress(f) for f in frames]

    def size(self, encoded):
        return sum(len(b) for b in encoded)

    def decode_one(self, encoded, i):
        return np.frombuffer(self.dctx.decompress(encoded[i]), np.uint8).reshape(self.shape)

    def decode_all(self, encoded, check):
        for i in range(len(encoded)):
            check(i, self.decode_one(encoded, i))


class XorZstd3(Zstd3):
    name = "xor-zstd3"

    def encode(self, frames, times):
        self.shape = frames.shape[1:]
        out, scratch = [], np.empty(self.shape, np.uint8)
        for i, f in enumerate(frames):
            if i % XOR_KEY_EVERY == 0:
                out.append(self.cctx.compress(f))
            else:
                np.bitwise_xor(f, frames[i - 1], out=scratch)
                out.append(self.cctx.compress(scratch))
        return out

    def _raw(self, encoded, i):
        return np.frombuffer(self.dctx.decompress(encoded[i]), np.uint8).reshape(self.shape)

    def decode_all(self, encoded, check):
        prev = None
        for i in range(len(encoded)):
            raw = self._raw(encoded, i)
            frame = raw.copy() if i % XOR_KEY_EVERY == 0 else np.bitwise_xor(raw, prev)
            check(i, frame)
            prev = frame

    def decode_one(self, encoded, i):
        key = i - i % XOR_KEY_EVERY
        frame = self._raw(encoded, key).copy()
        for j in range(key + 1, i + 1):
            np.bitwise_xor(frame, self._raw(encoded, j), out=frame)
        return frame


class PillowCodec(Codec):
    """PNG or WebP lossless of the 4 channels (BGRA bytes stored as an 'RGBA' image)."""

    def __init__(self, name: str, **options):
        from PIL import Image  # noqa: F401 - fail early when Pillow is missing
        self.name, self.options = name, options

    def encode(self, frames, times):
        from PIL import Image
        out = []
        for f in frames:
            buf = io.BytesIO()
            Image.frombuffer("RGBA", (f.shape[1], f.shape[0]), f, "raw", "RGBA", 0, 1).save(buf, **self.options)
            out.append(buf.getvalue())
        return out

    def size(self, encoded):
        return sum(len(b) for b in encoded)

    def decode_one(self, encoded, i):
        from PIL import Image
        with Image.open(io.BytesIO(encoded[i])) as image:
            return np.asarray(image.convert("RGBA") if image.mode != "RGBA" else image)

    def decode_all(self, encoded, check):
        for i in range(len(encoded)):
            check(i, self.decode_one(encoded, i))


class X264(Codec):
    """ffmpeg's libx264rgb, lossless (``-qp 0``), one thread; stores RGB (no alpha)."""

    channels = 3

    def __init__(self, preset: str):
        if shutil.which("ffmpeg") is None:
            raise RuntimeError("ffmpeg not found (apt-get install ffmpeg)")
        self.preset = preset
        self.name = f"x264-{preset}"

    def encode(self, frames, times):
        n, h, w, _ = frames.shape
        self.shape = (h, w)
        folder = tempfile.mkdtemp(prefix="encoder-x264-")
        path = os.path.join(folder, "frames.mkv")
        proc = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgra", "-s", f"{w}x{h}", "-r", str(FPS),
             "-i", "-", "-c:v", "libx264rgb", "-qp", "0", "-preset", self.preset, "-threads", "1",
             "-pix_fmt", "bgr0", path], stdin=subprocess.PIPE)
        for f in frames:
            proc.stdin.write(memoryview(f).cast("B"))
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError("ffmpeg failed to encode")
        return path

    def size(self, encoded):
        return os.path.getsize(encoded)

    def decode_all(self, encoded, check):
        h, w = self.shape
        size = h * w * 4
        proc = subprocess.Popen(["ffmpeg", "-v", "error", "-threads", "1", "-i", encoded, "-f", "rawvideo",
                                 "-pix_fmt", "bgr0", "-"], stdout=subprocess.PIPE)
        try:
            i = 0
            while len(data := proc.stdout.read(size)) == size:
                check(i, np.frombuffer(data, np.uint8).reshape(h, w, 4))
                i += 1
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
        c, w = time.process_time(), time.perf_counter()
        seen.append(i)
        if not np.array_equal(frame[..., :ch], frames[i][..., :ch]):
            raise AssertionError(f"{codec.name}: frame {i} differs from the source")
        spent[0] += time.process_time() - c
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
