"""encoder.loader.shard_files: globs and folders, fsspec URLs (a local HTTP server), old names."""
from __future__ import annotations

import functools
import http.server
import importlib
import os
import threading

import pytest

from encoder.errors import ShardUnavailableError
from encoder.loader import ShardDataset, expand
from loader.common import same_sample


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that honours single ``Range: bytes=a-b`` requests."""

    def log_message(self, *args):
        pass

    def send_head(self):
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not spec or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        lo, _, hi = spec.removeprefix("bytes=").partition("-")
        lo, hi = int(lo), min(int(hi) if hi else size - 1, size - 1)
        f = open(path, "rb")
        f.seek(lo)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {lo}-{hi}/{size}")
        self.send_header("Content-Length", str(hi - lo + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return _Slice(f, hi - lo + 1)


class _Slice:
    def __init__(self, f, n):
        self.f, self.n = f, n

    def read(self, size=-1):
        size = self.n if size < 0 else min(size, self.n)
        data = self.f.read(size)
        self.n -= len(data)
        return data

    def close(self):
        self.f.close()


@pytest.fixture
def http_folder(shards):
    pytest.importorskip("fsspec")
    pytest.importorskip("aiohttp")
    folder = os.path.dirname(shards[0])
    handler = functools.partial(_RangeHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fsspec_urls_over_http(shards, http_folder):
    urls = [f"{http_folder}/{os.path.basename(p)}" for p in shards]
    remote = ShardDataset(urls, seed=5, prefetch_bytes=0, streams=("pointer", "key"))
    local = ShardDataset(shards, seed=5, prefetch_bytes=0, streams=("pointer", "key"))
    assert remote.index.counts().tolist() == local.index.counts().tolist()
    for a, b in zip(remote, local):
        assert a["shard"] == urls[shards.index(b["shard"])]
        a = dict(a, shard=b["shard"])
        same_sample(a, b)
    with pytest.raises(ShardUnavailableError, match="nope.enc"):
        ShardDataset([urls[0], f"{http_folder}/nope.enc"])
    skipping = ShardDataset([urls[0], f"{http_folder}/nope.enc"], on_error="skip")
    assert skipping.stats["shards_skipped"] == 1


def test_expand_globs_and_folders(shards, tmp_path):
    folder = os.path.dirname(shards[0])
    assert expand(os.path.join(folder, "s*.enc")) == sorted(shards)
    assert expand(folder) == sorted(p for p in expand(os.path.join(folder, "*.enc")))
    assert expand([shards[1], shards[0], shards[1]]) == [shards[1], shards[0]]


def test_the_old_module_and_argument_names_warn(shards):
    import encoder.loader
    assert encoder.loader.ShardUnavailableError is ShardUnavailableError
    with pytest.warns(DeprecationWarning, match="shards="):
        assert expand(sources=shards[0]) == [shards[0]]
    old = importlib.import_module("encoder.loader.sources")  # importing it is silent
    with pytest.warns(DeprecationWarning, match="encoder.loader.shard_files.expand"):
        assert old.expand is expand
    with pytest.warns(DeprecationWarning, match="encoder.errors.ShardUnavailableError"):
        assert old.ShardUnavailableError is ShardUnavailableError
    with pytest.raises(AttributeError):
        old.nothing
