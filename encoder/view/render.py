"""Recordings as videos for sharing: H.264 MP4 and GIF at true timing, pointer drawn in.

Frames of a recording come at irregular times (a screen that does not change makes none),
so the output runs at a fixed rate ``fps`` and shows, at each output time, the last frame
captured at or before it (frames are repeated or skipped): a second of video is a second of
the recording. The pointer and click rings are drawn by :class:`~.cursor.Cursor`.

MP4 goes through PyAV when it is installed, else through the ``ffmpeg`` binary (raw RGB
frames piped to it); GIF through ``ffmpeg`` (palettegen/paletteuse) or Pillow. Both are
lossy: for sharing and looking, not for training data.

>>> output_times(0, 1_000_000, 4).tolist()
[0, 250000, 500000, 750000]
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from fractions import Fraction

import numpy as np

from ..errors import EncoderError
from ..shard.pixels import rgb
from . import images
from .cursor import Cursor
from .events import first_row_us, last_row_us


def output_times(start_us: int, end_us: int, fps: float) -> np.ndarray:
    """The times of the output frames: ``round(span * fps)`` of them (at least one) from ``start_us``."""
    count = max(1, round((end_us - start_us) * fps / 1e6))
    return start_us + np.round(np.arange(count) * (1e6 / fps)).astype(np.int64)


def span_us(reader, start_s: float | None, end_s: float | None) -> tuple[int, int]:
    """``(start, end)`` in the shard's microseconds for seconds since its first row (None: the ends)."""
    t0, last = first_row_us(reader), last_row_us(reader)
    if t0 is None:
        raise EncoderError(f"{reader.name}: the shard holds no rows")
    start = t0 if start_s is None else t0 + round(start_s * 1e6)
    end = last if end_s is None else t0 + round(end_s * 1e6)
    if end <= start:
        raise EncoderError(f"nothing to render: --to ({(end - t0) / 1e6:g} s) is not after --from "
                           f"({(start - t0) / 1e6:g} s); the recording lasts {(last - t0) / 1e6:g} s")
    return start, end


def frame_indices(frame_times: np.ndarray, times: np.ndarray) -> np.ndarray:
    """For each of ``times``, the last frame at or before it (the first frame before it)."""
    return np.maximum(np.searchsorted(frame_times, times, side="right") - 1, 0)


def composed_frames(reader, times, *, screen: int = 0, scale: float = 1.0, cursor: Cursor | None = None,
                    even: bool = False):
    """Yield the RGB image at each of ``times``: the frame, scaled, with ``cursor`` drawn.

    Frames are decoded incrementally in order (``times`` must not decrease). ``even`` crops
    a row and a column where needed so both sides are even (H.264's 4:2:0 needs it).
    """
    if screen not in reader.frame_screens():
        raise EncoderError(f"{reader.name}: no frames of screen {screen} to render")
    frame_times = reader.frame_times(screen)
    indices = frame_indices(frame_times, np.asarray(times, np.int64))
    pixel_format = reader.frame_info(0, screen)["format"]
    frames = reader.iter_frames(int(indices[0]), int(indices[-1]) + 1, screen, copy=False)
    current, base = int(indices[0]) - 1, None
    for t, index in zip(np.asarray(times).tolist(), indices.tolist()):
        while current < index:
            stored = next(frames)
            current += 1
            base = None
        if base is None:
            base = images.scaled(rgb(stored, pixel_format), scale)
            if even:
                base = base[:base.shape[0] // 2 * 2, :base.shape[1] // 2 * 2]
        image = np.array(base)  # a copy: the pointer is drawn anew on each output frame
        if cursor is not None:
            cursor.draw(image, t, scale)
        yield image


def _have_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


class _FfmpegSink:
    """Raw RGB frames piped into an ``ffmpeg`` process writing ``out``."""

    def __init__(self, out: str, width: int, height: int, fps: float, kind: str):
        if kind == "mp4":
            codec = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                     "-movflags", "+faststart", "-f", "mp4"]
        else:
            codec = ["-filter_complex", "[0:v]split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse",
                     "-loop", "0", "-f", "gif"]
        cmd = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "-", *codec, out]
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        self.encoder = "ffmpeg"

    def write(self, image: np.ndarray) -> None:
        try:
            self._proc.stdin.write(np.ascontiguousarray(image).tobytes())
        except BrokenPipeError:
            self.close()  # raises with ffmpeg's message

    def close(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
        code = self._proc.wait()
        self._log.seek(0)
        message = self._log.read().decode("utf-8", "replace").strip()
        self._log.close()
        if code != 0:
            raise EncoderError(f"ffmpeg failed (exit {code}): {message[-800:] or 'no message'}")


class _PyAVSink:
    """H.264 frames muxed into MP4 by PyAV."""

    def __init__(self, out: str, width: int, height: int, fps: float):
        import av
        self._container = av.open(out, "w")
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"
        self._stream.options = {"crf": "23", "preset": "veryfast"}
        self._av = av
        self.encoder = "pyav"

    def write(self, image: np.ndarray) -> None:
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


class _PillowGifSink:
    """Frames collected and written as one GIF by Pillow (no ffmpeg binary)."""

    def __init__(self, out: str, fps: float):
        self._out, self._fps, self._frames = out, fps, []
        self.encoder = "pillow"

    def write(self, image: np.ndarray) -> None:
        from PIL import Image
        self._frames.append(Image.fromarray(image).quantize(256))

    def close(self) -> None:
        first, *rest = self._frames
        first.save(self._out, "GIF", save_all=True, append_images=rest, loop=0,
                   duration=max(20, round(1000 / self._fps)))


def _sink(kind: str, out: str, width: int, height: int, fps: float):
    if kind == "mp4":
        if _have_pyav():
            return _PyAVSink(out, width, height, fps)
        if _ffmpeg():
            return _FfmpegSink(out, width, height, fps, "mp4")
        raise EncoderError("MP4 needs PyAV (pip install av) or the ffmpeg program on PATH")
    if _ffmpeg():
        return _FfmpegSink(out, width, height, fps, "gif")
    if images.have_pillow():
        return _PillowGifSink(out, fps)
    raise EncoderError("GIF needs the ffmpeg program on PATH or Pillow (pip install pillow)")


def render_video(reader, out, *, kind: str = "mp4", fps: float = 10.0, start_s: float | None = None,
                 end_s: float | None = None, scale: float = 1.0, screen: int = 0, cursor: bool = True,
                 progress=None) -> dict:
    """Write the frames of ``reader`` between ``start_s`` and ``end_s`` (seconds since its first
    row; default: all of it) as an MP4 (H.264) or GIF (``kind``) at ``fps`` to ``out``.

    Returns a report: ``frames`` (written), ``fps``, ``seconds``, ``width``, ``height``,
    ``source_frames`` (distinct recorded frames shown), ``encoder`` and ``bytes``.
    """
    if kind not in ("mp4", "gif"):
        raise EncoderError(f"unknown video kind {kind!r}: mp4 or gif")
    if not (0 < fps <= 240) or not (0 < scale <= 4):
        raise EncoderError(f"fps must be in (0, 240] and scale in (0, 4], not {fps} and {scale}")
    start, end = span_us(reader, start_s, end_s)
    times = output_times(start, end, fps)
    images_iter = composed_frames(reader, times, screen=screen, scale=scale,
                                  cursor=Cursor.of(reader) if cursor else None, even=(kind == "mp4"))
    first = next(images_iter)
    height, width = first.shape[:2]
    out = os.fspath(out)
    sink = _sink(kind, out, width, height, fps)
    try:
        sink.write(first)
        rest = progress(images_iter, total=len(times) - 1) if progress else images_iter
        for image in rest:
            sink.write(image)
    finally:
        sink.close()
    shown = np.unique(frame_indices(reader.frame_times(screen), times))
    return {"frames": len(times), "fps": fps, "seconds": len(times) / fps, "width": width, "height": height,
            "source_frames": int(shown.size), "encoder": sink.encoder, "bytes": os.path.getsize(out)}


def contact_sheet(reader, out, times_s, *, columns: int | None = None, width: int = 480, screen: int = 0,
                  cursor: bool = True) -> dict:
    """A PNG grid of the frames at ``times_s`` (seconds since the first row), each ``width``
    pixels wide with its time and frame index under it. Needs Pillow.

    Returns ``rows``, ``columns``, ``cell`` (width, height), ``size`` (of the sheet) and ``frames``.
    """
    if not images.have_pillow():
        raise EncoderError("--contact-sheet needs Pillow (pip install pillow)")
    from PIL import Image, ImageDraw, ImageFont

    from ..actions.timeline import clock
    times_s = sorted(float(s) for s in times_s)
    if not times_s:
        raise EncoderError("--contact-sheet needs at least one time (--times or --every)")
    t0 = first_row_us(reader)
    if screen not in reader.frame_screens():
        raise EncoderError(f"{reader.name}: no frames of screen {screen}")
    info = reader.frame_info(0, screen)
    scale = min(1.0, width / info["width"])
    times = np.array([t0 + round(s * 1e6) for s in times_s], np.int64)
    columns = columns or math.ceil(math.sqrt(len(times)))
    rows = math.ceil(len(times) / columns)
    label_h, pad = 18, 4
    cell_w, cell_h = round(info["width"] * scale), round(info["height"] * scale)
    sheet = Image.new("RGB", (columns * (cell_w + pad) + pad, rows * (cell_h + label_h + pad) + pad), (30, 30, 30))
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    indices = frame_indices(reader.frame_times(screen), times)
    tracker = Cursor.of(reader) if cursor else None
    for k, (t, index) in enumerate(zip(times.tolist(), indices.tolist())):
        image = images.frame_rgb(reader, index, screen, scale)
        if tracker is not None:
            image = np.array(image)
            tracker.draw(image, t, scale)
        x, y = pad + (k % columns) * (cell_w + pad), pad + (k // columns) * (cell_h + label_h + pad)
        sheet.paste(Image.fromarray(image), (x, y))
        draw.text((x + 2, y + cell_h + 3), f"{clock(t - t0)}  frame {index}", fill=(230, 230, 230), font=font)
    sheet.save(os.fspath(out), "PNG")
    return {"rows": rows, "columns": columns, "cell": (cell_w, cell_h), "size": sheet.size,
            "frames": indices.tolist()}
