"""The replay page: one HTML file with its script, style, events and (some) frames inline.

The same page serves two modes. *Embedded* (``encoder view -o page.html``): the events and a
bounded set of frames are in the file as data URIs, so it opens offline from anywhere; a
time whose frame was left out shows the nearest earlier embedded frame and says so.
*Served* (``encoder view --serve``, :mod:`.server`): the page fetches ``events.json`` and
``frame/<index>.<ext>`` from the local server on demand, so every frame of an hour-long
recording is reachable. Nothing is ever fetched from anywhere else.

>>> embedded_frames(10, 3, [7, 7, -1])
[0, 4, 7, 9]
>>> embedded_frames(3, None, [])
[0, 1, 2]
"""
from __future__ import annotations

import base64
import collections
import html
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import numpy as np

from ..shard.pixels import rgb
from . import images
from .events import events_json, session_events

#: Frames ``encoder view -o`` embeds by default, evenly spaced (plus every action's frame).
DEFAULT_MAX_FRAMES = 120


def asset(name: str) -> str:
    """The text of ``encoder/view/assets/<name>`` (package data, shipped in the wheel)."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def embedded_frames(count: int, max_frames: int | None, action_frames) -> list[int]:
    """Indices to embed out of ``count`` frames: ``max_frames`` evenly spaced (all when None
    or at least ``count``), the first and last included, plus every frame in ``action_frames``."""
    if count <= 0:
        return []
    if max_frames is None or max_frames >= count:
        return list(range(count))
    chosen = set(np.round(np.linspace(0, count - 1, max(int(max_frames), 0))).astype(np.int64).tolist())
    chosen |= {int(f) for f in action_frames if 0 <= int(f) < count}
    return sorted(chosen)


def render_page(events: dict, config: dict, frames_json: str = "{}") -> str:
    """The page's HTML for ``events`` and ``config`` (``frames_json``: index -> data URI)."""
    values = {
        "TITLE": html.escape(f"{(events or {}).get('name') or 'recording'} - encoder view"),
        "CSS": asset("player.css"),
        "JS": asset("player.js"),
        "CONFIG": events_json(config),
        "EVENTS": events_json(events) if events is not None else "null",
        "FRAMES": frames_json,
    }
    # one pass over the template: text inserted (typed text, titles) is never scanned again
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: values[m.group(1)], asset("player.html"))


def _encoded(reader, indices: list[int], image_format: str, screen: int, scale: float):
    """Yield ``(index, image file)`` for ``indices`` (sorted): frames decoded in order, each
    from the previous one (cheaper than one at a time), encoded on a few threads (Pillow's
    encoders release the GIL)."""
    if not indices:
        return
    pixel_format = reader.frame_info(indices[0], screen)["format"]
    wanted = set(indices)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        pending = collections.deque()
        frames = reader.iter_frames(indices[0], indices[-1] + 1, screen, copy=True)
        for index, stored in enumerate(frames, start=indices[0]):
            if index not in wanted:
                continue
            image = images.scaled(rgb(stored, pixel_format), scale)
            pending.append((index, pool.submit(images.encode, image, image_format)))
            while len(pending) > 8 or (pending and pending[0][1].done()):
                done_index, future = pending.popleft()
                yield done_index, future.result()
        while pending:
            done_index, future = pending.popleft()
            yield done_index, future.result()


def build_page(reader, *, screen: int = 0, max_frames: int | None = DEFAULT_MAX_FRAMES,
               image_format: str | None = None, scale: float = 1.0, progress=None) -> tuple[str, dict]:
    """The embedded page of ``reader`` and a report of what went in.

    Parameters
    ----------
    reader : encoder.ShardReader
    screen : int
        The screen whose frames are replayed.
    max_frames : int or None
        Frames embedded evenly spaced (None: all), besides each action's observation frame.
    image_format : str, optional
        ``webp`` (lossless, the default with Pillow), ``png`` (lossless, the default without)
        or ``jpeg`` (lossy, smallest for photos and video).
    scale : float
        Frames are embedded at this scale (the page draws them at screen size).
    progress : callable, optional
        Wraps the iterable of encoded frames, called with ``total=`` (a progress bar).

    Returns
    -------
    (html, report) : str, dict
        ``report``: ``frames`` (in the recording), ``embedded`` (indices), ``frame_bytes``,
        ``image_format``, ``page_bytes``.
    """
    image_format = images.check_format(image_format or images.default_format(lossless=True))
    events = session_events(reader, screen)
    count = len(events["frames"])
    indices = embedded_frames(count, max_frames, [a[4] for a in events["actions"]])
    mime = images.MIME[image_format]
    parts, frame_bytes = [], 0
    for index, data in (progress(_encoded(reader, indices, image_format, screen, scale), total=len(indices))
                        if progress else _encoded(reader, indices, image_format, screen, scale)):
        frame_bytes += len(data)
        parts.append(f'"{index}":"data:{mime};base64,{base64.b64encode(data).decode("ascii")}"')
    config = {"mode": "embedded", "embedded": indices, "imageFormat": image_format, "scale": scale,
              "lossless": image_format in images.LOSSLESS}
    page = render_page(events, config, "{" + ",".join(parts) + "}")
    report = {"frames": count, "embedded": indices, "frame_bytes": frame_bytes, "image_format": image_format,
              "page_bytes": len(page.encode("utf-8"))}
    return page, report


def served_page(config: dict) -> str:
    """The page the local server hands out: it fetches its events and frames from the server."""
    return render_page(None, dict(config, mode="served"))


def config_of(page: str) -> dict:
    """The configuration a page was built with (for tests and tools)."""
    found = re.search(r'<script id="config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else {}
