"""Writing a reviewed copy of a shard: rows filtered, frames kept or edited, all of it anew.

What ``cut`` and ``redact`` share. The copy is a new shard written by
:class:`~encoder.shard.ShardWriter`: every stream's rows go through :meth:`~ShardWriter.write`
(block by block, so memory stays bounded), every kept frame through
:meth:`~ShardWriter.add_frame`, so the new tile store holds the tiles of the kept frames
and nothing else (a tile the input stored only for a dropped or redacted frame is never
looked at again). The output is written to a temporary file beside ``out``, verified
(``ShardReader.verify``), and only then renamed into place; the input is only read.
An encrypted input gives an output encrypted with the same key; a plain one a plain one.
"""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pyarrow as pa

from ..errors import EncoderError
from ..shard import ShardReader, ShardWriter
from ..shard import crypto
from ..shard.format import sync_folder
from ..streams import STREAMS, Column, Stream
from ..streams.schema import KINDS
from ..tiles.layout import FORMAT_NAMES

#: The streams that hold the frames: rewritten through add_frame, never copied.
FRAME_STREAMS = ("tile", "frame")
#: Arrow type -> column kind (to declare a stream that is not built in).
_KIND_OF = {arrow_type: kind for kind, (_, arrow_type) in KINDS.items()}

#: rows of a block (a pyarrow.Table of one stream) -> bool mask of the rows to keep, or None (all)
RowFilter = Callable[[str, pa.Table], "np.ndarray | None"]
#: (frame info dict, image) -> the image to write: the one given (unchanged) or a new array
FrameEdit = Callable[[dict, np.ndarray], np.ndarray]


@dataclass
class Report:
    """What a rewrite kept and removed: rows per stream, frames per screen, unique tiles, bytes."""
    source: str
    out: str
    rows_before: dict = field(default_factory=dict)
    rows_after: dict = field(default_factory=dict)
    frames_before: dict = field(default_factory=dict)
    frames_after: dict = field(default_factory=dict)
    frames_edited: int = 0
    tiles_before: int = 0
    tiles_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    encrypted: bool = False
    seconds: float = 0.0

    @property
    def rows_removed(self) -> dict:
        return {s: n - self.rows_after.get(s, 0) for s, n in self.rows_before.items()}

    @property
    def frames_removed(self) -> int:
        return sum(self.frames_before.values()) - sum(self.frames_after.values())


def open_input(path, encryption_key_file=None) -> tuple[ShardReader, bytes | None]:
    """The input shard and, when it is encrypted, the key that opened it (the output's key)."""
    reader = ShardReader(path, encryption_key_file=encryption_key_file)
    if not reader.encrypted:
        return reader, None
    return reader, crypto.resolve_key(None, encryption_key_file)


def check_target(path, out, overwrite: bool) -> None:
    """Refuse an output that is the input (even with ``overwrite``), a folder, or an existing file
    without ``overwrite``."""
    if os.path.exists(out):
        if os.path.isdir(out):
            raise EncoderError(f"{out} is a folder: name the output shard file")
        if os.path.samefile(path, out):
            raise EncoderError(f"{out} is the input: the input is never modified; name another output file")
        if not overwrite:
            raise EncoderError(f"{out} exists: pass --overwrite to replace it, or name another output file")


def stream_spec(name: str, schema: pa.Schema) -> Stream:
    """The writer's declaration of a stream the input holds (built-in or declared)."""
    builtin = STREAMS.get(name)
    if builtin is not None and builtin.arrow_schema.equals(schema):
        return builtin
    try:
        cols = tuple(Column(f.name, _KIND_OF[f.type], f.nullable and _KIND_OF[f.type] in ("string", "binary"))
                     for f in schema)
    except KeyError as exc:
        raise EncoderError(f"stream {name!r} has a column of type {exc.args[0]}, which no writer "
                           "stores") from None
    return Stream(name, cols)


def rewrite(path, out, *, rows: RowFilter | None = None, frames: FrameEdit | None = None,
            frame_keep: Callable[[dict], bool] | None = None, entry: tuple[str, dict],
            encryption_key_file=None, overwrite: bool = False, after: Callable | None = None) -> Report:
    """Write ``path`` anew into ``out`` (atomically, verified), filtering rows and editing frames.

    ``rows(stream, block)`` says which rows of a block to keep (None: all); ``frame_keep(info)``
    which frames to decode at all (a dropped frame is never decoded, so a long cut is quick);
    ``frames(info, image)`` gives the image to write. ``entry`` is the metadata key and value
    that record the operation (appended to a list under that key). ``after(reader, report)`` runs
    on the finished output before it is renamed into place (further checks).
    """
    started = time.perf_counter()
    check_target(path, out, overwrite)
    reader, master = open_input(path, encryption_key_file)
    with reader:
        report = Report(source=os.fspath(path), out=os.fspath(out), encrypted=master is not None,
                        bytes_before=reader.size)
        metadata = dict(reader.metadata)
        key, value = entry
        previous = metadata.get(key)
        metadata[key] = (previous if isinstance(previous, list) else
                         [] if previous is None else [previous]) + [value]
        temp = _temp_beside(out)
        try:
            with ShardWriter(temp, metadata=metadata, flush_seconds=None,
                             encryption_key=master if master is not None else False) as writer:
                _copy_streams(reader, writer, rows, report)
                _copy_frames(reader, writer, frame_keep, frames, report)
            os.chmod(temp, 0o666 & ~_umask())
            _sync(temp)
            with ShardReader(temp, encryption_key=master if master is not None else False) as check:
                check.verify()
                report.rows_after = {s: check.num_rows(s) for s in check.streams if s not in FRAME_STREAMS}
                report.frames_after = {s: check.frame_count(s) for s in check.frame_screens()}
                report.tiles_after = check.frame_stats()["unique_tiles"] if report.frames_after else 0
                report.bytes_after = check.size
                if after is not None:
                    after(check, report)
            _publish(temp, out, overwrite)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
    report.seconds = time.perf_counter() - started
    return report


def _copy_streams(reader: ShardReader, writer: ShardWriter, rows: RowFilter | None, report: Report) -> None:
    for name, schema in reader.streams.items():
        if name in FRAME_STREAMS:
            continue
        spec = stream_spec(name, schema)
        if name not in STREAMS:
            writer.declare(spec)
        report.rows_before[name] = reader.num_rows(name)
        writer.write(name, schema.empty_table())  # the stream stays listed, rows or not
        for block in range(len(reader.block_rows(name))):
            table = reader.read_block(name, block)
            keep = None if rows is None else rows(name, table)
            if keep is not None:
                table = table.filter(pa.array(keep, pa.bool_()))
            if table.num_rows:
                writer.write(name, table)


def _copy_frames(reader: ShardReader, writer: ShardWriter, keep: Callable | None, edit: FrameEdit | None,
                 report: Report) -> None:
    """Every kept frame through ``add_frame``, in the input's order (screens interleaved as written)."""
    if "frame" not in reader.streams:
        return
    table = reader.read("frame", ["t", "screen", "width", "height", "format", "tile"])
    cols = {c: table.column(c).to_numpy().astype(np.int64) for c in table.column_names}
    screens = reader.frame_screens()
    report.frames_before = {s: reader.frame_count(s) for s in screens}
    report.tiles_before = reader.frame_stats()["unique_tiles"]
    if not len(cols["t"]):
        return
    infos = [{"t": int(t), "screen": int(s), "width": int(w), "height": int(h), "format": FORMAT_NAMES[int(f)],
              "tile": int(tl)} for t, s, w, h, f, tl in zip(*(cols[c] for c in table.column_names))]
    kept = np.array([True if keep is None else bool(keep(i)) for i in infos], bool)
    if not kept.any():
        return
    tiles, counts = np.unique(cols["tile"][kept], return_counts=True)
    writer.configure_frames(tile=int(tiles[np.argmax(counts)]))  # the input's (commonest) tile size
    # One decoder per screen that walks only the runs of kept frames (a new run starts from its
    # frame's full grid, so dropped frames are never decoded).
    sources = {s: _runs(reader, s, kept[cols["screen"] == s]) for s in screens}
    for info, keep_it in zip(infos, kept):
        if not keep_it:
            continue
        image = next(sources[info["screen"]])
        if edit is not None:
            edited = edit(info, image)
            if edited is not image:
                report.frames_edited += 1
            image = edited
        writer.add_frame(info["t"], image, screen=info["screen"], pixel_format=info["format"])


def _runs(reader: ShardReader, screen: int, kept: np.ndarray):
    """The kept frames of ``screen`` in order (``kept``: bool per frame of the screen)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], kept.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist()):
        yield from reader.iter_frames(start, stop, screen=screen, copy=False)


def _temp_beside(out) -> str:
    """A new, empty file beside ``out`` (same file system: the final rename is atomic)."""
    parent = os.path.dirname(os.path.abspath(out))
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(os.path.abspath(out))}.", suffix=".partial",
                                dir=parent)
    os.close(fd)
    return temp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(temp: str, out, overwrite: bool) -> None:
    """Move the verified file into place: with ``overwrite`` replace ``out``; without, never
    replace a file that appeared meanwhile (a hard link fails on an existing name)."""
    if overwrite:
        os.replace(temp, out)
    else:
        try:
            os.link(temp, out)
        except FileExistsError:
            raise EncoderError(f"{out} exists: pass --overwrite to replace it, or name another output file") \
                from None
        except OSError:  # a file system without hard links
            if os.path.exists(out):
                raise EncoderError(f"{out} exists: pass --overwrite to replace it") from None
            os.rename(temp, out)
        else:
            os.unlink(temp)
    sync_folder(out)


def write_text_atomically(out, text: str, overwrite: bool) -> int:
    """Write ``text`` (UTF-8) to ``out`` through a temporary file beside it; returns the bytes."""
    if os.path.isdir(out):
        raise EncoderError(f"{out} is a folder: name the output file")
    if os.path.exists(out) and not overwrite:
        raise EncoderError(f"{out} exists: pass --overwrite to replace it, or name another output file")
    temp = _temp_beside(out)
    try:
        data = text.encode("utf-8")
        with open(temp, "wb") as f:
            f.write(data)
        os.chmod(temp, 0o666 & ~_umask())
        _publish(temp, out, overwrite)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return len(data)
