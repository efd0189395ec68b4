"""Import an AgentNet (OpenCUA, xlang-ai/AgentNetTool) episode into a shard.

An episode folder holds ``events.jsonl`` (pynput events as DuckTrack's, plus ``event_idx``
and ``pynput_key``), ``metadata.json`` (OS, main screen size, ``scroll_direction``, and
``video_start_timestamp``: the ``time.perf_counter()`` reading when OBS was asked to record,
which AgentNetTool takes as the video's time 0), ``top_window.jsonl`` (the focused app's
process name over time) and the OBS screen video. Events become the pointer, button,
scroll and key streams, ``top_window.jsonl`` the focus stream, and with ``frames=True`` the
video's frames the frame stream, each at ``video_start_timestamp`` + its presentation time.
"""
from __future__ import annotations

import glob
import os
import time

from ..errors import SchemaError
from . import events
from .video import open_video

FORMAT = "agentnet"
#: metadata.json keys kept in the shard's ``platform``.
PLATFORM_KEYS = ("system", "release", "version", "machine", "model")
#: metadata.json keys kept in ``importer.recording`` (local wall-clock times carry no zone).
RECORDING_KEYS = ("start_time", "stop_time", "video_start_timestamp", "obs_record_state_timings")


def import_agentnet(src, out_path, *, frames: bool = False, decoder: str = "auto",
                    apply_scroll_direction: bool = False) -> dict:
    """Import an AgentNet episode into the shard ``out_path``.

    Parameters
    ----------
    src : str or os.PathLike
        The episode folder, or its ``events.jsonl`` (the other files are looked for beside it).
    out_path : str or os.PathLike
        The shard to write (replaced; written to ``out_path + '.partial'`` and renamed at the end).
    frames : bool
        Also decode the video (``video.mp4``, else the folder's only ``.mp4``) into the frame
        stream: about 20 s and 37 MiB for the 2-minute sample episode, hence off by default.
    decoder : {'auto', 'av', 'ffmpeg'}
        ``'auto'`` uses PyAV when installed, else the ffmpeg programs.
    apply_scroll_direction : bool
        Multiply the wheel steps by the recorded ``scroll_direction`` (see docs/importers.md:
        off by default, pynput already reports the direction the applications scrolled).

    Returns
    -------
    dict
        As :func:`~encoder.importers.import_ducktrack`'s, ``frames`` counting the frames added.

    Raises
    ------
    SchemaError
        A malformed line of ``events.jsonl`` or ``top_window.jsonl`` (named with its line
        number), a malformed ``metadata.json``, ``frames=True`` without a video or its
        ``video_start_timestamp``, or a video that does not decode.
    SourceUnavailableError
        ``frames=True`` with neither PyAV nor ffmpeg available.
    FileNotFoundError
        No events file at ``src``.
    """
    started = time.perf_counter()
    path = events.locate(src)
    folder = os.path.dirname(path)
    meta_path = os.path.join(folder, "metadata.json")
    source_meta = events.read_json(meta_path) if os.path.isfile(meta_path) else {}
    screen = None
    if "screen_width" in source_meta:
        screen = events.screen_size((source_meta.get("screen_width"), source_meta.get("screen_height")), meta_path)
    direction = source_meta.get("scroll_direction")
    sign = events.scroll_sign(direction, apply_scroll_direction, meta_path)
    platform = {k: source_meta[k] for k in PLATFORM_KEYS if isinstance(source_meta.get(k), str)}
    if direction is not None:
        platform.update(scroll_direction=int(direction), natural_scrolling=direction == -1)

    rows = events.Rows(path, FORMAT, scroll_sign=sign)
    for line, event in events.read_jsonl(path):
        rows.add(line, event)
    top_window = os.path.join(folder, "top_window.jsonl")
    if os.path.isfile(top_window):
        _focus(rows, top_window)

    metadata = events.base_metadata(FORMAT, path, screen, platform,
                                    {"frames": frames, "apply_scroll_direction": apply_scroll_direction})
    recording = {k: events.plain(source_meta[k]) for k in RECORDING_KEYS if k in source_meta}
    if recording:
        metadata["importer"]["recording"] = recording
    task = _task(os.path.join(folder, "task_name.json"))
    if task:
        metadata["task"] = task
    video_frames = None
    if frames:
        video_frames = _frames(folder, source_meta, meta_path, decoder, metadata)
    return events.write(out_path, rows, metadata, video_frames, started=started)


def _focus(rows: events.Rows, path: str) -> None:
    """Focus rows from ``top_window.jsonl``: ``{"time_stamp", "top_window_name"}`` per change.
    AgentNet records the process name only: it becomes ``app``; ``title`` is null unless a
    line carries one (``title`` or ``window_title``)."""
    for line, event in events.read_jsonl(path):
        app = event.get("top_window_name")
        if not isinstance(app, str):
            raise SchemaError(f"{path}, line {line}: needs a string 'top_window_name', got {app!r}")
        title = event.get("window_title", event.get("title"))
        rows.add_focus(rows.time_us(event, line), app, title if isinstance(title, str) else None)


def _task(path: str) -> dict | None:
    """The episode's task text (``task_name.json``), kept in the metadata as ``task``."""
    if not os.path.isfile(path):
        return None
    task = events.read_json(path)
    kept = {k: task[k] for k in ("task_name", "description") if isinstance(task.get(k), str) and task[k]}
    return kept or None


def _video_path(folder: str) -> str:
    named = os.path.join(folder, "video.mp4")
    if os.path.isfile(named):
        return named
    found = sorted(glob.glob(os.path.join(glob.escape(folder), "*.mp4")))
    if len(found) != 1:
        raise SchemaError(f"{folder}: frames=True needs the episode's video (video.mp4, or a single .mp4); "
                          f"found {len(found)} .mp4 files")
    return found[0]


def _frames(folder: str, source_meta: dict, meta_path: str, decoder: str, metadata: dict):
    """Open the video, describe it in ``metadata`` and return the ``(t_us, image)`` iterator."""
    start = source_meta.get("video_start_timestamp")
    if not events.number(start):
        raise SchemaError(f"{meta_path}: frames=True needs a numeric 'video_start_timestamp', got {start!r}")
    start_us = round(start * 1_000_000)
    video = open_video(_video_path(folder), decoder)
    metadata["importer"]["video"] = {
        "file": os.path.basename(video.path), "width": video.width, "height": video.height,
        "decoder": video.decoder, "start_us": start_us,
        # OBS scales the screen: frame pixel = event coordinate * (video size / screen size)
        "time": "video_start_timestamp + presentation time"}
    return ((start_us + round(seconds * 1_000_000), image) for seconds, image in video.frames())
