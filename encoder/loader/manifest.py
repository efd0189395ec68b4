"""A dataset manifest: one Parquet row per shard, so a dataset is indexed without opening its shards.

``encoder index DIR`` (or :func:`build_manifest`) opens every shard of ``DIR`` once and writes
``DIR/manifest.parquet``: per shard its path (relative to the manifest's folder), size, mtime,
a checksum, format version, time range, rows per stream, the blocks of every stream (rows,
time range, decoded bytes), frames per screen and the samples (anchor times and frames) of
the manifest's anchor options (those of the default :class:`~encoder.loader.SampleSpec`
unless chosen otherwise). :class:`~encoder.loader.ShardDataset` and
:func:`encoder.ray.read_shards` then take the index and the read plan from it.

The checksum is xxh3-64 of the file's first and last 64 KiB (``"ends"``): the header and
metadata, the end of the footer and the tail, whose digest covers the whole footer, so any
change to the blocks (which are listed in the footer) changes it; it costs two reads per shard
whatever its size. ``checksum="full"`` hashes every byte instead (reads the whole dataset).

A stale entry (the file is missing, its size, mtime or checksum changed, or a shard is not in
the manifest) raises an :class:`~encoder.errors.EncoderError` naming the shard; with
``on_stale="rebuild"`` the stale shards are indexed again and the manifest rewritten.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from ..errors import EncoderError
from .index import ShardIndex, shard_anchors
from .shard_files import close_quietly, expand, is_url, open_shard

log = logging.getLogger("encoder.loader")

#: File name of a folder's manifest (found there automatically).
MANIFEST_NAME = "manifest.parquet"
#: Version of the manifest's layout (schema metadata ``encoder.manifest``).
MANIFEST_VERSION = 1
#: Bytes hashed at each end of a shard by the ``"ends"`` checksum.
ENDS_BYTES = 64 << 10

SCHEMA = pa.schema([
    ("path", pa.string()), ("size", pa.int64()), ("mtime_ns", pa.int64()), ("checksum", pa.string()),
    ("format_version", pa.string()), ("t_min", pa.int64()), ("t_max", pa.int64()),
    ("rows", pa.map_(pa.string(), pa.int64())), ("frames", pa.map_(pa.int32(), pa.int64())),
    ("blocks", pa.string()),                 # JSON {stream: [[rows, t_min, t_max, raw_bytes], ...]}
    ("samples", pa.int64()), ("sample_t", pa.list_(pa.int64())), ("sample_frame", pa.list_(pa.int64())),
])


def checksum(path: str, kind: str = "ends") -> str:
    """xxh3-64 (hex) of the first and last :data:`ENDS_BYTES` of ``path`` (``"ends"``) or of all of it."""
    h = xxhash.xxh3_64()
    with open(path, "rb") as f:
        if kind == "full":
            while chunk := f.read(1 << 20):
                h.update(chunk)
        elif kind == "ends":
            size = os.fstat(f.fileno()).st_size
            h.update(f.read(min(size, ENDS_BYTES)))
            if size > ENDS_BYTES:
                f.seek(max(ENDS_BYTES, size - ENDS_BYTES))
                h.update(f.read())
        else:
            raise ValueError(f"checksum must be 'ends' or 'full', not {kind!r}")
    return h.hexdigest()


def default_options() -> dict:
    """Anchor options of the default :class:`~encoder.loader.SampleSpec`."""
    from .spec import SampleSpec
    return SampleSpec().anchor_options()


def _key(name: str) -> str:
    return name if is_url(name) else os.path.normpath(os.path.abspath(name))


def _entry(name: str, rel: str, options: dict, kind: str, reader_options: dict | None) -> dict:
    """The manifest row of shard ``name`` (opened once)."""
    st = os.stat(name)
    reader, handle = open_shard(name, None, reader_options)
    try:
        rows = {s: reader.num_rows(s) for s in reader.streams}
        blocks: dict[str, list] = {s: [] for s in reader.streams}
        for b in reader.blocks:  # file order, which is each stream's block order
            blocks[b.stream].append([b.rows, b.t_min, b.t_max, b.raw_bytes])
        ranges = [r for s in reader.streams if (r := reader.time_range(s)) is not None]
        frames = {k: reader.frame_count(k) for k in reader.frame_screens()} if "frame" in reader.streams else {}
        times, frame_index = shard_anchors(reader, options)
        version = ".".join(map(str, reader.version))
    except EncoderError as exc:
        raise exc.located(shard=name)
    finally:
        reader.close()
        close_quietly(handle)
    return {"path": rel, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "checksum": checksum(name, kind),
            "format_version": version, "t_min": min((r[0] for r in ranges), default=None),
            "t_max": max((r[1] for r in ranges), default=None), "rows": list(rows.items()),
            "frames": list(frames.items()), "blocks": json.dumps(blocks, separators=(",", ":")),
            "samples": len(times), "sample_t": times.tolist(),
            "sample_frame": None if frame_index is None else frame_index.tolist()}


class Manifest:
    """The entries of a manifest file, keyed by absolute path (see the module docstring).

    Attributes
    ----------
    path : str
        The manifest file; entries' paths are relative to its folder.
    options : dict
        The anchor options its samples were computed with.
    checksum_kind : {'ends', 'full'}
    """

    def __init__(self, path: str, table: pa.Table, options: dict, checksum_kind: str = "ends"):
        self.path, self.options, self.checksum_kind = os.fspath(path), dict(options), checksum_kind
        self.root = os.path.dirname(os.path.abspath(self.path))
        self.entries = {_key(os.path.join(self.root, r["path"])): r for r in table.to_pylist()}

    # -- building, reading, writing ------------------------------------------------------
    @classmethod
    def build(cls, folder, *, out=None, options: dict | None = None, checksum_kind: str = "ends",
              threads: int = 4, reader_options: dict | None = None, reuse: "Manifest | None" = None) -> "Manifest":
        """Index every shard under ``folder`` (opening each once) and write ``out``
        (default ``folder/manifest.parquet``). ``reuse``: keep its fresh entries as they are."""
        out = os.fspath(out) if out is not None else os.path.join(os.fspath(folder), MANIFEST_NAME)
        options = default_options() if options is None else dict(options)
        names = expand(folder)
        root = os.path.dirname(os.path.abspath(out))
        kept = {}
        if reuse is not None and reuse.options == options:
            stale = {n for n, _ in reuse.stale(names, missing=False)}
            kept = {_key(n): reuse.entries[_key(n)] for n in names if n not in stale}

        def one(name):
            if _key(name) in kept:
                return kept[_key(name)]
            return _entry(name, os.path.relpath(os.path.abspath(name), root), options, checksum_kind, reader_options)

        with ThreadPoolExecutor(max(1, min(threads, len(names) or 1)), thread_name_prefix="encoder-manifest") as pool:
            rows = list(pool.map(one, names))
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        manifest = cls(out, table, options, checksum_kind)
        manifest.write()
        return manifest

    @classmethod
    def read(cls, path) -> "Manifest":
        path = os.fspath(path)
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise EncoderError(f"cannot read the manifest: {exc}", shard=path) from None
        meta = json.loads((table.schema.metadata or {}).get(b"encoder.manifest", b"null") or "null")
        if not isinstance(meta, dict) or meta.get("version") != MANIFEST_VERSION:
            raise EncoderError(f"not a manifest of version {MANIFEST_VERSION} (no 'encoder.manifest' metadata "
                               f"of that version): run `encoder index` again", shard=path)
        return cls(path, table.cast(SCHEMA), meta["options"], meta.get("checksum", "ends"))

    def table(self) -> pa.Table:
        meta = {"version": MANIFEST_VERSION, "options": self.options, "checksum": self.checksum_kind}
        rows = sorted(self.entries.values(), key=lambda r: r["path"])
        return pa.Table.from_pylist(rows, schema=SCHEMA).replace_schema_metadata(
            {"encoder.manifest": json.dumps(meta, sort_keys=True)})

    def write(self) -> None:
        """Write the manifest atomically (a temporary file beside it, renamed into place)."""
        fd, temp = tempfile.mkstemp(prefix=".manifest-", suffix=".partial", dir=self.root)
        os.close(fd)
        try:
            pq.write_table(self.table(), temp)
            os.replace(temp, self.path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise

    # -- checking ------------------------------------------------------------------------
    def stale(self, names: list, *, missing: bool = True, verify: str = "checksum") -> list[tuple[str, str]]:
        """``(shard, why)`` for each of ``names`` the manifest does not describe as it is on disk,
        and (``missing``) each entry whose file is gone. ``verify="stat"`` compares size and
        mtime only; ``"checksum"`` also the checksum."""
        out, seen = [], set()
        for name in names:
            key = _key(name)
            seen.add(key)
            entry = self.entries.get(key)
            if entry is None:
                out.append((name, "not in the manifest"))
                continue
            try:
                st = os.stat(name)
            except OSError:
                out.append((name, "missing"))
                continue
            if st.st_size != entry["size"]:
                out.append((name, f"size changed ({entry['size']} -> {st.st_size} bytes)"))
            elif st.st_mtime_ns != entry["mtime_ns"]:
                out.append((name, "modified since it was indexed (mtime changed)"))
            elif verify == "checksum" and checksum(name, self.checksum_kind) != entry["checksum"]:
                out.append((name, "checksum changed"))
        if missing:
            out += [(key, "missing") for key in self.entries if key not in seen and not os.path.exists(key)]
        return out

    def check(self, names: list, *, on_stale: str = "raise", verify: str = "checksum",
              reader_options: dict | None = None) -> list[tuple[str, str]]:
        """Raise for the first stale entry (``on_stale="raise"``), or index the stale shards
        again and rewrite the manifest (``"rebuild"``); returns what was stale."""
        if on_stale not in ("raise", "rebuild"):
            raise ValueError(f"on_stale must be 'raise' or 'rebuild', not {on_stale!r}")
        stale = self.stale(names, verify=verify)
        if stale and on_stale == "raise":
            name, why = stale[0]
            more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
            raise EncoderError(f"stale manifest entry: {why}{more}; run `encoder index {self.root}` again, or "
                               f"pass on_stale='rebuild'", shard=name)
        for name, why in stale:
            log.info("manifest %s: %s: %s; indexing it again", self.path, name, why)
            key = _key(name)
            if why == "missing":
                self.entries.pop(key, None)
            else:
                rel = os.path.relpath(key, self.root)
                self.entries[key] = _entry(name, rel, self.options, self.checksum_kind, reader_options)
        if stale:
            self.write()
        return stale

    # -- what the loader and Ray read ----------------------------------------------------
    def entry(self, name: str) -> dict:
        entry = self.entries.get(_key(name))
        if entry is None:
            raise EncoderError(f"not in the manifest {self.path}", shard=name)
        return entry

    def blocks(self, name: str, stream: str) -> list[list[int]] | None:
        """``[rows, t_min, t_max, raw_bytes]`` of each block of ``stream``, or None without the stream."""
        return json.loads(self.entry(name)["blocks"]).get(stream)

    def same_anchors(self, name: str, options: dict) -> bool:
        """Whether the entry's samples are those ``options`` give: the same options, or
        ``'auto'`` and ``'events'`` anchors of a shard without frames (auto falls back to events)."""
        if options == self.options:
            return True
        mine, theirs = dict(self.options), dict(options)
        if {mine.pop("anchor", None), theirs.pop("anchor", None)} != {"auto", "events"}:
            return False
        mine.pop("frame_step", None), theirs.pop("frame_step", None)
        return mine == theirs and self.entry(name)["sample_frame"] is None

    def anchors(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        entry = self.entry(name)
        frames = entry["sample_frame"]
        return (np.asarray(entry["sample_t"], np.int64),
                None if frames is None else np.asarray(frames, np.int64))


def find_manifest(shards) -> str | None:
    """``DIR/manifest.parquet`` when ``shards`` is one local folder holding it, else None."""
    if isinstance(shards, (list, tuple)) and len(shards) == 1:
        shards = shards[0]
    if isinstance(shards, (str, os.PathLike)) and os.path.isdir(shards):
        path = os.path.join(os.fspath(shards), MANIFEST_NAME)
        return path if os.path.isfile(path) else None
    return None


def resolve(shards, manifest) -> "Manifest | None":
    """The manifest to use: ``manifest`` (a path or a :class:`Manifest`), auto-detected when
    None, never when False."""
    if manifest is False:
        return None
    if isinstance(manifest, Manifest):
        return manifest
    path = find_manifest(shards) if manifest is None else os.fspath(manifest)
    return Manifest.read(path) if path else None


def index_from_manifest(manifest: Manifest, names: list, options: dict, *, on_stale: str = "raise",
                        verify: str = "checksum", **build_options) -> ShardIndex:
    """The :class:`ShardIndex` of ``names`` from ``manifest`` (checked first); shards are opened
    only when ``options`` differ from the manifest's (its samples are of other anchors)."""
    manifest.check(names, on_stale=on_stale, verify=verify, reader_options=build_options.get("reader_options"))
    anchors = {n: manifest.anchors(n) for n in names if manifest.same_anchors(n, options)}
    others = [n for n in names if n not in anchors]
    if others:
        log.info("manifest %s holds the samples of other anchor options for %d shards: opening them",
                 manifest.path, len(others))
        built = ShardIndex.build(others, options, **build_options)
        anchors.update({n: (t, f) for n, t, f in zip(built.shards, built.times, built.frames)})
        skipped = built.skipped
    else:
        skipped = []
    kept = [n for n in names if n in anchors]
    return ShardIndex(kept, [anchors[n][0] for n in kept], [anchors[n][1] for n in kept], dict(options), skipped)


def build_manifest(folder, out=None, **options) -> Manifest:
    """:meth:`Manifest.build` (the ``encoder index`` command)."""
    return Manifest.build(folder, out=out, **options)


__all__ = ["MANIFEST_NAME", "MANIFEST_VERSION", "Manifest", "build_manifest", "checksum", "find_manifest",
           "index_from_manifest", "resolve"]
