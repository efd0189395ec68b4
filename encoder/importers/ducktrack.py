"""Import a DuckTrack recording (``events.jsonl``, optionally its ``metadata.json``) into a shard.

DuckTrack (TheDuckAI/DuckTrack) logs pynput events: ``time_stamp`` in seconds of
``time.perf_counter()``, coordinates in the OS's logical units (points on macOS, so a
Retina screen of 3024x1964 pixels is 1512x982), key names as pynput gives them. Its
``metadata.json`` holds the main screen's size, the OS and ``scroll_direction`` (-1 when the
user ticked "natural scrolling"); it also holds the host name and a MAC-derived id, which
are never copied into the shard. Without it, pass ``screen`` and ``scroll_direction``.
"""
from __future__ import annotations

import os
import time

from . import events

FORMAT = "ducktrack"
#: metadata.json keys kept in the shard's ``platform`` (never ``node`` or ``id``: host and MAC).
PLATFORM_KEYS = ("system", "release", "version", "machine", "model")


def import_ducktrack(src, out_path, *, screen=None, scroll_direction=None, system: str | None = None,
                     apply_scroll_direction: bool = False) -> dict:
    """Import a DuckTrack recording into the shard ``out_path``.

    Parameters
    ----------
    src : str or os.PathLike
        The recording's folder, or its ``events.jsonl``.
    out_path : str or os.PathLike
        The shard to write (replaced; written to ``out_path + '.partial'`` and renamed at the end).
    screen : (int, int) or str, optional
        Main screen ``(width, height)`` or ``"WxH"`` in the events' units; default from
        ``metadata.json``; without either the shard has no ``screens``.
    scroll_direction : {1, -1}, optional
        DuckTrack's setting (-1: natural scrolling); default from ``metadata.json``. Stored in
        ``platform``; it changes no row unless ``apply_scroll_direction``.
    system : str, optional
        ``"Darwin"``, ``"Windows"``, ``"Linux"`` when there is no ``metadata.json``.
    apply_scroll_direction : bool
        Multiply the wheel steps by ``scroll_direction`` as DuckTrack's playback does. Off by
        default: pynput reports the direction the applications scrolled (docs/importers.md).

    Returns
    -------
    dict
        ``rows`` per stream, ``skipped`` events by kind, ``lines``, ``t_us`` (first and last),
        ``seconds`` taken, ``shard``, ``source``, ``format``, ``frames`` (0).

    Raises
    ------
    SchemaError
        A line that is not a JSON object or an event with missing or mistyped fields (the
        message names the file and line), or a bad option.
    FileNotFoundError
        No events file at ``src``.

    Examples
    --------
    >>> import json, os, tempfile, encoder
    >>> from encoder.importers import import_ducktrack
    >>> folder = tempfile.mkdtemp()
    >>> lines = [{"time_stamp": 10.5, "action": "move", "x": 3.25, "y": 4.75},
    ...          {"time_stamp": 10.6, "action": "press", "name": "a"},
    ...          {"time_stamp": 10.7, "action": "release", "name": "a"}]
    >>> with open(os.path.join(folder, "events.jsonl"), "w") as f:
    ...     f.writelines(json.dumps(line) + "\\n" for line in lines)
    >>> summary = import_ducktrack(folder, os.path.join(folder, "s.enc"), screen="1512x982")
    >>> summary["rows"]
    {'pointer': 1, 'button': 0, 'scroll': 0, 'key': 2}
    >>> encoder.decode(summary["shard"])["key"].column("text").to_pylist()
    ['a', None]
    """
    started = time.perf_counter()
    path = events.locate(src)
    meta_path = os.path.join(os.path.dirname(path), "metadata.json")
    source_meta = events.read_json(meta_path) if os.path.isfile(meta_path) else {}
    if screen is None and "screen_width" in source_meta:
        screen = (source_meta.get("screen_width"), source_meta.get("screen_height"))
    screen = events.screen_size(screen, meta_path if "screen_width" in source_meta else path)
    if scroll_direction is None:
        scroll_direction = source_meta.get("scroll_direction")
    platform = {k: events.plain(source_meta[k]) for k in PLATFORM_KEYS if isinstance(source_meta.get(k), str)}
    if system is not None:
        platform["system"] = system
    sign = events.scroll_sign(scroll_direction, apply_scroll_direction, meta_path if source_meta else path)
    if scroll_direction is not None:
        platform["scroll_direction"] = int(scroll_direction)
        platform["natural_scrolling"] = scroll_direction == -1
    rows = events.Rows(path, FORMAT, scroll_sign=sign)
    for line, event in events.read_jsonl(path):
        rows.add(line, event)
    metadata = events.base_metadata(FORMAT, path, screen, platform,
                                    {"apply_scroll_direction": apply_scroll_direction})
    return events.write(out_path, rows, metadata, started=started)
