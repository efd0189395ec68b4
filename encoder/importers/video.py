"""Decode a recording's screen video into RGB frames with their presentation times.

Two decoders, the first one present is used: PyAV (``import av``, optional) and the
``ffmpeg``/``ffprobe`` binaries as subprocesses. Either yields every decoded frame once, in
presentation order, as ``(seconds, HxWx3 uint8 RGB)`` with ``seconds`` an exact
:class:`~fractions.Fraction` of the stream's time base (the caller maps it onto the events'
clock). Measured on the AgentNet episode (1276x718, 3,678 frames, 30 fps, 2 cores): 18-23 s
through ffmpeg, most of it decoding and the pipe, which is why frames are opt-in.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import numpy as np

from ..errors import SchemaError, SourceUnavailableError

DECODERS = ("auto", "av", "ffmpeg")


@dataclass
class Video:
    """An opened video: its size, the decoder in use, and :meth:`frames`."""

    path: str
    width: int
    height: int
    decoder: str
    times: list | None = None   # ffmpeg: presentation times from ffprobe, sorted

    def frames(self) -> Iterator[tuple[Fraction, np.ndarray]]:
        return _av_frames(self.path) if self.decoder == "av" else _ffmpeg_frames(self)


def open_video(path: str, decoder: str = "auto") -> Video:
    """Probe ``path`` with ``decoder`` (``'auto'``: PyAV if installed, else ffmpeg).

    Raises :class:`SourceUnavailableError` when no decoder is available, and
    :class:`SchemaError` naming the file when it holds no decodable video stream.
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, not {decoder!r}")
    if decoder in ("auto", "av"):
        try:
            import av
        except ImportError:
            if decoder == "av":
                raise SourceUnavailableError("decoder 'av' needs PyAV (pip install av)") from None
        else:
            return _av_open(av, path)
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise SourceUnavailableError("importing video frames needs PyAV (pip install av) or the ffmpeg and "
                                     "ffprobe programs on PATH; neither was found (import without frames)")
    return _ffprobe(path)


def _av_open(av, path: str) -> Video:
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise SchemaError(f"{path}: no video stream")
            stream = container.streams.video[0]
            return Video(path, int(stream.codec_context.width), int(stream.codec_context.height), "av")
    except av.error.FFmpegError as exc:   # pragma: no cover - depends on PyAV being installed
        raise SchemaError(f"{path}: cannot be decoded ({exc})") from None


def _av_frames(path: str):   # pragma: no cover - PyAV is optional (tests run it where installed)
    import av
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.pts is None:
                raise SchemaError(f"{path}: a frame without a presentation time")
            # rows of a decoded frame may be padded: the tile writer needs them contiguous
            image = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
            yield Fraction(frame.pts) * Fraction(frame.time_base), image


def _ffprobe(path: str) -> Video:
    """Size and presentation times (packet pts, sorted: no decoding needed) of the first video stream."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
           "stream=width,height,time_base:packet=pts", "-of", "json", path]
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode != 0:
        raise SchemaError(f"{path}: ffprobe cannot read it ({_tail(done.stderr)})")
    try:
        probe = json.loads(done.stdout)
        stream = probe["streams"][0]
        base = Fraction(stream["time_base"])
        times = sorted(int(p["pts"]) * base for p in probe.get("packets", []))
        return Video(path, int(stream["width"]), int(stream["height"]), "ffmpeg", times)
    except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError) as exc:
        raise SchemaError(f"{path}: no video stream with sizes and timestamps ({exc!r})") from None


def _ffmpeg_frames(video: Video):
    """Raw RGB frames piped out of ffmpeg, paired with ffprobe's times.

    ``-vsync passthrough`` makes ffmpeg emit each decoded frame exactly once (no frames
    duplicated or dropped to reach a rate), so the n-th frame has the n-th sorted packet time;
    the counts are checked at the end. stderr goes to a file: a pipe left unread could fill
    and stall ffmpeg.
    """
    size = video.width * video.height * 3
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", video.path, "-map", "0:v:0", "-vsync", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        count = 0
        try:
            while True:
                data = proc.stdout.read(size)
                if len(data) < size:
                    break
                if count >= len(video.times):
                    raise SchemaError(f"{video.path}: ffmpeg decoded more frames than the "
                                      f"{len(video.times)} packets ffprobe listed")
                yield video.times[count], np.frombuffer(data, np.uint8).reshape(video.height, video.width, 3)
                count += 1
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if code != 0 or count != len(video.times):
            errors.seek(0)
            raise SchemaError(f"{video.path}: ffmpeg decoded {count} of {len(video.times)} frames "
                              f"(exit {code}: {_tail(errors.read())})")


def _tail(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return " / ".join(lines[-3:]) or "no message"
