"""A small local HTTP server for the replay page: every frame of a long recording, on demand.

Bound to 127.0.0.1 only (never another interface), standard library only
(:mod:`http.server` in a thread). Paths:

``/``                   the page (:func:`.page.served_page`)
``/events.json``        :func:`.events.session_events` of the shard
``/frame/<i>.<ext>``    frame ``i`` of the screen as WebP/PNG (lossless) or JPEG (lossy, the
                        default: fastest to encode; ``image_format`` picks)

Frames are decoded when asked for (one at a time: the shard reader is shared) and the last
few encoded files are kept in memory.

>>> import numpy as np, tempfile, os, urllib.request, encoder
>>> path = os.path.join(tempfile.mkdtemp(), "s.enc")
>>> with encoder.ShardWriter(path) as w:
...     w.add_frame(0, np.zeros((8, 8), np.uint8))
>>> with encoder.ShardReader(path) as r, ViewServer(r, image_format="png") as server:
...     body = urllib.request.urlopen(server.url + "frame/0.png").read()
>>> body[1:4]
b'PNG'
"""
from __future__ import annotations

import collections
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import images
from .events import session_events
from .page import served_page

#: The only address the server listens on.
HOST = "127.0.0.1"
_FRAME_PATH = re.compile(r"^/frame/(\d+)\.([a-z]+)$")


class ViewServer:
    """Serve the replay page of ``reader`` on ``http://127.0.0.1:<port>/`` (port 0: any free one).

    Use as a context manager (or :meth:`start` and :meth:`close`); :attr:`url` is the page.
    ``requests`` keeps the last 1,000 ``(path, status, seconds)`` served.
    """

    def __init__(self, reader, *, screen: int = 0, image_format: str | None = None, scale: float = 1.0,
                 port: int = 0, cache_frames: int = 64):
        self.reader, self.screen, self.scale = reader, int(screen), float(scale)
        self.image_format = images.check_format(image_format or images.default_format(lossless=False))
        self.ext = images.EXTENSION[self.image_format]
        self.events = session_events(reader, self.screen)
        self.frame_count = len(self.events["frames"])
        self._events_body = json.dumps(self.events, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        config = {"ext": self.ext, "imageFormat": self.image_format, "scale": self.scale,
                  "lossless": self.image_format in images.LOSSLESS}
        self._page_body = served_page(config).encode("utf-8")
        self._reader_lock = threading.Lock()  # one decode at a time: the reader is shared
        self._cache: collections.OrderedDict[int, bytes] = collections.OrderedDict()
        self._cache_frames = int(cache_frames)
        self.requests: collections.deque = collections.deque(maxlen=1000)
        self._httpd = ThreadingHTTPServer((HOST, int(port)), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> "ViewServer":
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="encoder-view", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "ViewServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def frame_file(self, index: int) -> bytes:
        """Frame ``index`` as an image file (cached)."""
        with self._reader_lock:
            if index in self._cache:
                self._cache.move_to_end(index)
                return self._cache[index]
            data = images.frame_file(self.reader, index, self.image_format, self.screen, self.scale)
            self._cache[index] = data
            while len(self._cache) > self._cache_frames:
                self._cache.popitem(last=False)
            return data

    def respond(self, path: str) -> tuple[int, str, bytes, str]:
        """``(status, content type, body, cache-control)`` for a GET of ``path``."""
        path = urlsplit(path).path
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", self._page_body, "no-store"
        if path == "/events.json":
            return 200, "application/json", self._events_body, "no-store"
        found = _FRAME_PATH.match(path)
        if found and found.group(2) == self.ext and int(found.group(1)) < self.frame_count:
            body = self.frame_file(int(found.group(1)))
            return 200, images.MIME[self.image_format], body, "max-age=3600, immutable"
        return 404, "text/plain; charset=utf-8", f"not found: {path}\n".encode(), "no-store"


def _handler(server: ViewServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            started = time.perf_counter()
            status, kind, body, cache = server.respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)
            server.requests.append((urlsplit(self.path).path, status, time.perf_counter() - started))

        def log_message(self, format, *args) -> None:  # quiet: requests are kept in server.requests
            pass

    return Handler
