"""Seeing a recording: the replay page (:mod:`.page`, :mod:`.server`) and exports (:mod:`.render`).

``encoder view`` and ``encoder render`` are built on these (docs/viewer.md). The page and the
server need the standard library only; JPEG and WebP frames, contact sheets and GIFs without
ffmpeg need Pillow; MP4 needs PyAV or the ``ffmpeg`` program.
"""
from __future__ import annotations

from .cursor import Cursor
from .events import session_events
from .page import DEFAULT_MAX_FRAMES, build_page, embedded_frames
from .render import contact_sheet, render_video
from .server import ViewServer

__all__ = ["Cursor", "DEFAULT_MAX_FRAMES", "ViewServer", "build_page", "contact_sheet", "embedded_frames",
           "render_video", "session_events"]
