"""The shard files of a dataset: paths, globs, folders and fsspec URLs; opening them in a process.

:func:`expand` turns what the user passed into one ordered list of shard names (the same
list on every rank: globs and folders are sorted, duplicates dropped). :func:`open_shard`
opens one name as a :class:`~encoder.ShardReader`: a local path is memory-mapped, a URL
(``s3://``, ``gs://``, ``http://`` ...) is opened with fsspec as a seekable file, so only the
footer and the chunks a sample needs are fetched (ranged reads).

Nothing here is opened at import or kept across ``fork``: :class:`ReaderPool` remembers
the process that opened each reader and starts empty in a child.
"""
from __future__ import annotations

import glob as _glob
import logging
import os
from collections import OrderedDict

from ..errors import EncoderError, ShardUnavailableError
from ..shard import ShardReader
from .._deprecation import renamed_arguments

log = logging.getLogger("encoder.loader")

#: Suffix of the shard files a folder expands to.
SHARD_SUFFIX = ".enc"


def is_url(name: str) -> bool:
    """True for ``scheme://...`` names other than ``file://``."""
    scheme, sep, _ = name.partition("://")
    return bool(sep) and scheme.isidentifier() and scheme != "file"


def _has_magic(name: str) -> bool:
    return any(c in name for c in "*?[")


@renamed_arguments(sources="shards")
def expand(shards, *, on_error: str = "raise") -> list[str]:
    """The shard files named by ``shards``, in a deterministic order.

    Parameters
    ----------
    shards : str, os.PathLike or a sequence of them
        Each item is a shard path or URL, a glob (``data/**/*.enc``, ``s3://bucket/*.enc``),
        or a local folder (every ``*.enc`` under it). Items keep their order; the matches of
        one glob or folder are sorted.
    on_error : {'raise', 'skip'}
        What a glob or folder that matches nothing does: raise, or log and go on.

    Returns
    -------
    list of str
        Shard names; a name listed twice is kept once (the first time).
    """
    if isinstance(shards, (str, os.PathLike)):
        shards = [shards]
    names: list[str] = []
    for item in shards:
        item = os.fspath(item)
        if item.startswith("file://"):
            item = item[len("file://"):]
        if is_url(item):
            found = _expand_url(item) if _has_magic(item) else [item]
        elif _has_magic(item):
            found = sorted(_glob.glob(item, recursive=True))
        elif os.path.isdir(item):
            found = sorted(os.path.join(root, f) for root, _, files in os.walk(item)
                           for f in files if f.endswith(SHARD_SUFFIX))
        else:
            found = [item]  # a missing file is reported when it is opened (on_error applies)
        if not found:
            message = f"{item!r} matches no shard"
            if on_error == "raise":
                raise ShardUnavailableError(message, shard=item)
            log.warning("%s; skipped", message)
        names += found
    return list(dict.fromkeys(names))


def _expand_url(pattern: str) -> list[str]:
    fsspec = _fsspec()
    fs, path = fsspec.core.url_to_fs(pattern)
    return sorted(fs.unstrip_protocol(p) for p in fs.glob(path))


def _fsspec():
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading shards from URLs needs fsspec: pip install 'hci-encoder[remote]' "
                          "(and aiohttp for http://, s3fs for s3://, gcsfs for gs://)") from exc
    return fsspec


def open_shard(name: str, open_options: dict | None = None,
               reader_options: dict | None = None) -> tuple[ShardReader, object]:
    """Open shard ``name``; returns ``(reader, file)`` where ``file`` must be closed after the reader.

    ``open_options`` go to ``fsspec.open`` (URLs only), ``reader_options`` to
    :class:`~encoder.ShardReader` (e.g. the ``encryption_key`` of encrypted shards).

    Raises
    ------
    ShardUnavailableError
        The file is missing or cannot be fetched (the message names the shard).
    CorruptShardError
        The shard's bytes fail a check (the reader names the shard).
    """
    handle = None
    try:
        if is_url(name):
            fsspec = _fsspec()
            options = {"block_size": 1 << 20, "cache_type": "readahead", **(open_options or {})}
            handle = fsspec.open(name, "rb", **options).open()
            reader = ShardReader(handle, **(reader_options or {}))
            reader.name = name  # errors name the URL, not fsspec's path without its scheme
        else:
            reader = ShardReader(name, **(reader_options or {}))
        return reader, handle
    except EncoderError as exc:
        close_quietly(handle)
        raise exc.located(shard=name)
    except (OSError, ValueError) as exc:  # missing file, HTTP error, refused range request
        close_quietly(handle)
        raise ShardUnavailableError(f"cannot open: {type(exc).__name__}: {exc}", shard=name) from exc


def close_quietly(handle) -> None:
    """Close an fsspec file (or nothing, for ``None``) without raising."""
    if handle is not None:
        try:
            handle.close()
        except Exception:  # noqa: BLE001 - closing a broken remote file must not mask the error
            pass


class ReaderPool:
    """Open readers of one process, least recently used closed first.

    ``max_open`` readers stay open; each gets ``frame_cache_bytes / max_open`` of decoded
    tile pages. A pool used in a process other than the one that filled it (after
    ``fork``) forgets its readers without touching them: the parent still owns them.
    """

    def __init__(self, max_open: int = 8, *, frame_cache_bytes: int = 256 << 20,
                 open_options: dict | None = None, frames: bool = True, reader_options: dict | None = None):
        if max_open < 1:
            raise ValueError(f"max_open must be at least 1, not {max_open}")
        self.max_open, self.frame_cache_bytes, self.open_options = max_open, frame_cache_bytes, open_options
        self.frames, self.reader_options = frames, reader_options
        self._pid = os.getpid()
        self._open: OrderedDict[str, tuple[ShardReader, object]] = OrderedDict()
        self.opened = 0  # readers opened by this process (a figure for benchmarks)

    def get(self, name: str) -> ShardReader:
        if self._pid != os.getpid():  # a forked child: the parent's readers are not ours
            self._open = OrderedDict()
            self._pid = os.getpid()
        entry = self._open.get(name)
        if entry is not None:
            self._open.move_to_end(name)
            return entry[0]
        reader, handle = open_shard(name, self.open_options, self.reader_options)
        self.opened += 1
        if self.frames and "frame" in reader.streams:
            try:
                reader.configure_frame_cache(max(1 << 20, self.frame_cache_bytes // self.max_open))
            except BaseException:
                reader.close()
                close_quietly(handle)
                raise
        self._open[name] = (reader, handle)
        while len(self._open) > self.max_open:
            _, (old, old_handle) = self._open.popitem(last=False)
            old.close()
            close_quietly(old_handle)
        return reader

    def close(self) -> None:
        if self._pid == os.getpid():
            for reader, handle in self._open.values():
                reader.close()
                close_quietly(handle)
        self._open = OrderedDict()

    def __getstate__(self):  # pickled into spawned workers: no open files travel
        return {"max_open": self.max_open, "frame_cache_bytes": self.frame_cache_bytes,
                "open_options": self.open_options, "frames": self.frames, "reader_options": self.reader_options}

    def __setstate__(self, state):
        self.__init__(state["max_open"], frame_cache_bytes=state["frame_cache_bytes"],
                      open_options=state["open_options"], frames=state["frames"],
                      reader_options=state["reader_options"])


__all__ = ["ReaderPool", "SHARD_SUFFIX", "close_quietly", "expand", "is_url", "open_shard"]
