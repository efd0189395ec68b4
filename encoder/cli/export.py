"""``encoder export PATH... --parquet DIR``: the streams of many shards as Parquet datasets.

Every stream becomes one table, Hive-partitioned by stream: ``DIR/stream=pointer/part-00000.parquet``,
one part per shard that holds rows of it, each row carrying ``shard`` (the file name),
``session`` (metadata ``session.id``, else the file stem) and a wall-clock ``time``
(``timestamp[us, tz=UTC]``, from the shard's clock anchor) beside ``t``. DuckDB
(``read_parquet('DIR/stream=pointer/*.parquet')``), polars, pyarrow.dataset and HF ``datasets``
read each folder as one table. ``--layout flat`` keeps the former output of one shard:
``DIR/<stream>.parquet`` with the stream's own columns.

The export is all or nothing: it is written to a temporary folder beside DIR and renamed into
place at the end, so a failure (or Ctrl-C) leaves no partial DIR. A non-empty DIR is refused
unless ``--overwrite``. Damaged blocks (``ShardReader.check_blocks``) are skipped, counted and
reported (exit 1); ``--strict`` fails the whole export instead. ``--frames png`` also writes every
screen frame as a lossless PNG: ``DIR/frames/<shard>/<screen>/<index>-<t>.png``.

``--trajectory TDIR`` (with or without ``--parquet``) writes each shard's actions
(:func:`encoder.actions.derive`) as an AgentNet-style trajectory
(:func:`encoder.actions.trajectory.export_trajectory`, docs/actions.md, Trajectories): one shard
into TDIR itself, several into ``TDIR/<shard stem>/``; ``--trajectory-parquet`` adds
``trajectory.parquet``. It is all or nothing too, and a shard whose blocks do not decode is
skipped and reported (exit 1).
"""
from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np
import pyarrow as pa

from ..errors import CorruptShardError, EncoderError
from ..shard import ShardReader
from ..shard import pixels
from ..shard.folders import check_target, publish, staging_folder
from ..shard.format import STREAM_NAME, wall_clock_offset
from . import _args, _console, exit_codes

#: Columns the hive layout adds to every row (and the partition key): no stream may have them.
ADDED_COLUMNS = ("time", "shard", "session", "stream")
#: Stored pixel format -> the channel order that makes it RGB(A) (None: already is); the
#: conversion lives in :mod:`encoder.shard.pixels`, shared with the trajectory export.
PNG_CHANNELS = pixels.RGBA_ORDER


def register(sub, common) -> None:
    p = sub.add_parser(
        "export", parents=[common], help="write the streams of shards as Parquet datasets (and frames as PNG)",
        description="Write every stream of the shards (or those named with --stream) as a Hive-style "
                    "Parquet dataset, DIR/stream=<name>/part-NNNNN.parquet (zstd), one part per shard, "
                    "with the columns shard, session and time (UTC wall clock) added. The shard's "
                    "metadata is kept in each file's schema metadata under 'encoder.metadata'. "
                    "Damaged blocks are skipped and reported (exit 1). Nothing is left behind on failure.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="shard files, or folders (their *.enc files)")
    p.add_argument("--parquet", metavar="DIR", help="output folder of the streams (must be empty or absent)")
    p.add_argument("--trajectory", metavar="DIR",
                   help="also (or only) write each shard's actions as an AgentNet-style trajectory: "
                        "DIR/trajectory.jsonl with PyAutoGUI code and DIR/images/<frame>.png "
                        "(several shards: DIR/<shard stem>/...; docs/actions.md, Trajectories)")
    p.add_argument("--trajectory-parquet", action="store_true",
                   help="with --trajectory: also write trajectory.parquet, the images embedded")
    p.add_argument("--screen", type=int, default=0, metavar="N",
                   help="with --trajectory: the screen whose frames are the observations (default 0)")
    p.add_argument("--stream", action="append", dest="streams", metavar="NAME",
                   help="export only this stream (repeatable)")
    p.add_argument("--frames", choices=["png"], help="also write every screen frame as a PNG file")
    p.add_argument("--overwrite", action="store_true", help="replace DIR if it is not empty")
    p.add_argument("--strict", action="store_true",
                   help="fail (and write nothing) if any block is damaged, instead of skipping it")
    p.add_argument("--layout", choices=["hive", "flat"], default="hive",
                   help="hive (default): DIR/stream=<name>/part-NNNNN.parquet with shard, session and time "
                        "columns; flat: the former DIR/<stream>.parquet of a single shard, its own columns")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


# -- what the shards hold (first pass: footers only) ---------------------------------------
def _session_id(metadata: dict, path: str) -> str:
    session = metadata.get("session")
    sid = session.get("id") if isinstance(session, dict) else None
    if isinstance(sid, (str, int)) and not isinstance(sid, bool) and str(sid):
        return str(sid)
    return os.path.splitext(os.path.basename(path))[0]


def plan(paths: list[str], args) -> tuple[list[dict], dict[str, pa.Schema], list[dict]]:
    """(shards, streams to export -> schema, damage): every shard opened once (footer only).

    Raises for what makes the export impossible (exit 2): a file that is not a shard or lacks
    its encryption key, two shards of one name, a stream whose schema differs between shards,
    an unknown ``--stream``. A shard with the magic that cannot be opened is damage.
    """
    shards, schemas, damage, names = [], {}, [], {}
    for path in paths:
        shard = os.path.basename(path)
        if shard in names:
            raise EncoderError(f"two shards are named {shard!r} ({names[shard]} and {path}): the shard "
                               "column could not tell them apart; rename one")
        names[shard] = path
        reader = _open_or_record(path, shard, args, damage, "skipped")
        if reader is None:
            continue
        with reader:
            for name, schema in reader.streams.items():
                if name in schemas and not schemas[name].equals(schema):
                    raise EncoderError(f"stream {name!r} has another schema in {path} than in the shards "
                                       f"before it: {schema} vs {schemas[name]}; export them separately")
                schemas.setdefault(name, schema)
            shards.append({"path": path, "shard": shard, "session": _session_id(reader.metadata, path),
                           "streams": list(reader.streams)})
    wanted = list(schemas) if not args.streams else list(dict.fromkeys(args.streams))
    for name in wanted:
        if name not in schemas:
            raise EncoderError(f"no stream {name!r} in {'the shard' if len(paths) == 1 else 'any shard'}; "
                               f"they hold {sorted(schemas)}")
        # Stream names come from footers: untrusted. Only names the writer accepts may become
        # folder or file names (no separators, no "..").
        if not re.fullmatch(STREAM_NAME, name):
            raise EncoderError(f"refusing to export a stream named {name!r} (not a valid stream name)")
        taken = sorted(set(schemas[name].names) & set(ADDED_COLUMNS))
        if args.layout == "hive" and taken:
            raise EncoderError(f"stream {name!r} has columns {taken} that the hive layout adds; "
                               "use --layout flat")
    return shards, {n: schemas[n] for n in wanted}, damage


# -- one shard's rows ------------------------------------------------------------------------
def sound_table(reader: ShardReader, name: str, bad: set[int]) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Rows of ``name`` from every block not in ``bad`` (block numbers) that decodes; returns
    (table, [(block, reason) of blocks that passed their checksums but did not decode])."""
    if not bad:
        try:
            return reader.read(name), []
        except EncoderError:
            pass  # find the block by reading them one by one
    pieces, failed = [], []
    for block in range(len(reader.block_rows(name))):
        if block in bad:
            continue
        try:
            pieces.append(reader.read_block(name, block))
        except EncoderError as exc:
            failed.append((block, exc.detail))
    table = pa.concat_tables(pieces) if pieces else reader.streams[name].empty_table()
    return table, failed


def with_ids(table: pa.Table, shard: str, session: str, offset: int | None) -> pa.Table:
    """``table`` with ``time`` after ``t`` and ``shard``, ``session`` at the end (hive layout).

    ``offset`` is ``unix_us - t`` (the shard's clock anchor); ``time`` is null without one, or
    where it would leave the int64 range.

    >>> t = pa.table({"t": pa.array([5_000_000, 5_250_000], pa.int64())})
    >>> table = with_ids(t, "a.enc", "sess-1", offset=1_714_564_800_000_000 - 5_000_000)
    >>> table.column_names
    ['t', 'time', 'shard', 'session']
    >>> [v.isoformat() for v in table.column("time").to_pylist()]
    ['2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00.250000+00:00']
    """
    t = table.column("t").to_numpy() if table.num_rows else np.zeros(0, np.int64)
    fits = offset is not None and (not len(t) or -(1 << 63) <= int(t.min()) + offset
                                   and int(t.max()) + offset < (1 << 63))
    utc = pa.timestamp("us", tz="UTC")
    time = pa.array(t + np.int64(offset), utc) if fits else pa.nulls(len(t), utc)
    table = table.add_column(1, pa.field("time", utc, nullable=True), time)
    table = table.append_column(pa.field("shard", pa.string(), nullable=False),
                                pa.array([shard] * table.num_rows, pa.string()))
    return table.append_column(pa.field("session", pa.string(), nullable=False),
                               pa.array([session] * table.num_rows, pa.string()))


def _block_damage(reader: ShardReader, shard: str) -> list[dict]:
    return [{"shard": shard, "stream": d.stream, "block": d.block, "offset": d.offset, "rows": d.rows,
             "reason": d.reason} for d in reader.check_blocks(deep=False)]


def export_shard(reader: ShardReader, item: dict, schemas: dict, out: str, args, parts: dict) -> list[dict]:
    """Write the rows of one shard; returns its damage (blocks skipped, an unreadable footer).
    ``parts`` counts the parts written per stream: (parts, rows, bytes)."""
    shard = item["shard"]
    damage = _block_damage(reader, shard)
    if reader.recovered is not None:
        scan = reader.recovered
        damage.append({"shard": shard, "reason": f"footer unreadable ({scan.reason}): read by scanning; "
                                                 f"{scan.dropped_bytes:,} bytes after byte {scan.end:,} skipped"})
    if args.strict and damage:
        return damage
    meta = json.dumps(reader.metadata, separators=(",", ":")).encode()
    infos = {name: [b for b in reader.blocks if b.stream == name] for name in schemas}
    offset = wall_clock_offset(reader.metadata)
    for name in schemas:
        if name not in reader.streams:
            continue
        bad = {d["block"] for d in damage if d.get("stream") == name}
        table, failed = sound_table(reader, name, bad)
        damage += [{"shard": shard, "stream": name, "block": b, "offset": infos[name][b].offset,
                    "rows": infos[name][b].rows, "reason": reason} for b, reason in failed]
        if args.layout == "flat":
            target = os.path.join(out, f"{name}.parquet")
        elif table.num_rows:
            table = with_ids(table, shard, item["session"], offset)
            target = os.path.join(out, f"stream={name}", f"part-{parts.get(name, (0,))[0]:05d}.parquet")
        else:
            continue  # no empty parts (a stream empty everywhere gets one at the end)
        _write(table, target, {b"encoder.metadata": meta, b"encoder.stream": name.encode(),
                               b"encoder.shard": shard.encode()}, parts, name)
    return damage


def _write(table: pa.Table, target: str, metadata: dict, parts: dict, name: str) -> None:
    import pyarrow.parquet as pq  # only here: every command (encoder record too) imports this module
    os.makedirs(os.path.dirname(target), exist_ok=True)
    pq.write_table(table.replace_schema_metadata(metadata), target, compression="zstd")
    n, rows, size = parts.get(name, (0, 0, 0))
    parts[name] = (n + 1, rows + table.num_rows, size + os.path.getsize(target))


# -- frames ----------------------------------------------------------------------------------
def png_image(frame: np.ndarray, pixel_format: str):
    """A Pillow image of ``frame`` with exactly its pixels, in RGB(A) order (gray stays gray)."""
    from PIL import Image
    return Image.fromarray(pixels.rgba_or_rgb(frame, pixel_format))


def export_frames(reader: ShardReader, shard: str, out: str, quiet: bool) -> tuple[int, list[dict]]:
    """Write every frame of every screen as ``out/frames/<shard>/<screen>/<index>-<t>.png``;
    returns (frames written, damage: frames that could not be assembled)."""
    if "frame" not in reader.streams:
        return 0, []
    try:
        screens = {s: reader.frame_times(s) for s in reader.frame_screens()}
    except EncoderError as exc:
        return 0, [{"shard": shard, "stream": "frame", "reason": f"frames not exported: {exc}"}]
    written, damage = 0, []
    for screen, times in screens.items():
        folder = os.path.join(out, "frames", shard, str(screen))
        os.makedirs(folder, exist_ok=True)
        index, frames = 0, reader.iter_frames(screen=screen, copy=False)
        while index < len(times):
            try:
                for frame in _console.progress(frames, quiet=quiet, desc=f"png {shard}:{screen}",
                                               total=len(times) - index, unit="frame"):
                    pixel_format = reader.frame_info(index, screen)["format"]
                    png_image(frame, pixel_format).save(
                        os.path.join(folder, f"{index:06d}-{int(times[index])}.png"), compress_level=1)
                    index += 1
                    written += 1
                break
            except EncoderError as exc:  # a damaged page or grid: skip the frame, go on one by one
                damage.append({"shard": shard, "stream": "frame", "frame": index, "screen": screen,
                               "reason": f"frame not exported: {exc.detail}"})
                index += 1
                frames = (reader.frame(k, screen) for k in range(index, len(times)))
    return written, damage


def _open_or_record(path: str, shard: str, args, damage: list, skipped: str):
    """The shard's reader (recovering what a crash left), or None after noting in ``damage``
    that a damaged shard cannot be read; an unreadable file (not a shard, no key) raises."""
    try:
        return ShardReader(path, encryption_key_file=args.encryption_key_file, recover=True)
    except (EncoderError, OSError) as exc:
        if exit_codes.for_open_error(path, exc) != exit_codes.DAMAGED:
            raise
        damage.append({"shard": shard, "reason": f"cannot be read, {skipped}: {exc}"})
        return None


# -- the command -----------------------------------------------------------------------------
def run(args) -> int:
    if args.parquet is None and args.trajectory is None:
        raise EncoderError("nothing to export: give --parquet DIR, --trajectory DIR or both")
    if args.trajectory is None and args.trajectory_parquet:
        raise EncoderError("--trajectory-parquet needs --trajectory DIR")
    paths = _args.shard_files(args.paths)
    if args.parquet is not None and args.layout == "flat" and len(paths) != 1:
        raise EncoderError(f"--layout flat exports one shard, not {len(paths)}: use the hive layout")
    if args.frames == "png" or args.trajectory is not None:
        try:
            import PIL  # noqa: F401
        except ImportError:
            option = "--frames png" if args.frames == "png" else "--trajectory"
            raise EncoderError(f"{option} needs Pillow: pip install pillow") from None
    if args.parquet is not None and args.trajectory is not None \
            and os.path.abspath(args.parquet) == os.path.abspath(args.trajectory):
        raise EncoderError("--parquet and --trajectory name the same folder: give each its own")
    for target in (args.parquet, args.trajectory):
        if target is not None:
            check_target(target, args.overwrite, "--overwrite")
    stems = _trajectory_folders(paths) if args.trajectory is not None else {}
    code = exit_codes.OK
    if args.parquet is not None:
        code = _run_parquet(args, paths)
        if args.strict and code != exit_codes.OK:
            return code
    if args.trajectory is not None:
        code = exit_codes.worst([code, _run_trajectory(args, stems)])
    return code


def _trajectory_folders(paths: list[str]) -> dict[str, str]:
    """Shard path -> its folder in the trajectory export ('' for one shard: DIR itself)."""
    if len(paths) == 1:
        return {paths[0]: ""}
    stems: dict[str, str] = {}
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in stems.values():
            raise EncoderError(f"two shards would write the trajectory folder {stem!r} ({path} and "
                               f"{next(p for p, s in stems.items() if s == stem)}); export them separately")
        stems[path] = stem
    return stems


def _run_parquet(args, paths: list[str]) -> int:
    shards, schemas, damage = plan(paths, args)
    if args.strict and damage:
        return _refuse(damage, args.parquet)
    staging = staging_folder(args.parquet)
    try:
        parts, frames = {}, 0
        for item in _console.progress(shards, quiet=args.quiet, desc="export", unit="shard"):
            with ShardReader(item["path"], encryption_key_file=args.encryption_key_file, recover=True) as reader:
                found = export_shard(reader, item, schemas, staging, args, parts)
                if args.frames == "png" and not (args.strict and found):
                    written, broken = export_frames(reader, item["shard"], staging, args.quiet)
                    frames, found = frames + written, found + broken
            damage += found
            if args.strict and found:
                shutil.rmtree(staging, ignore_errors=True)
                return _refuse(damage, args.parquet)
        for name, schema in schemas.items():  # a stream without rows anywhere: one empty part
            if name not in parts and args.layout == "hive":
                empty = with_ids(schema.empty_table(), "", "", None)
                _write(empty, os.path.join(staging, f"stream={name}", "part-00000.parquet"),
                       {b"encoder.stream": name.encode()}, parts, name)
        publish(staging, args.parquet)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _summary(args, paths, shards, parts, frames, damage)


def _run_trajectory(args, folders: dict[str, str]) -> int:
    """Write the trajectory of each shard (``folders``: path -> folder under DIR, '' for DIR);
    all or nothing, as the Parquet export. A shard that cannot be read, or whose blocks do not
    decode, is skipped and reported (exit 1; ``--strict``: nothing is written)."""
    from ..actions.trajectory import export_trajectory  # only here: it loads the actions layer
    out, damage, done = args.trajectory, [], []
    staging = staging_folder(out)
    try:
        for path, folder in _console.progress(list(folders.items()), quiet=args.quiet, desc="trajectory",
                                              unit="shard"):
            shard = os.path.basename(path)
            reader = _open_or_record(path, shard, args, damage, "trajectory skipped")
            if reader is None:
                continue
            with reader:
                try:
                    summary = export_trajectory(reader, os.path.join(staging, folder) if folder else staging,
                                                screen=args.screen, parquet=args.trajectory_parquet)
                except CorruptShardError as exc:
                    damage.append({"shard": shard, "reason": f"trajectory not exported: {exc}"})
                    continue
            done.append((os.path.join(out, folder) if folder else out, summary))
        if args.strict and damage:
            shutil.rmtree(staging, ignore_errors=True)
            return _refuse(damage, out)
        publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for where, summary in done:
        print(f"{where}: {summary['actions']:,} actions, {summary['images']:,} images, {summary['bytes']:,} bytes")
    print(f"wrote the trajectories of {len(done)} of {len(folders)} shards into {out}")
    for d in damage:
        print(f"  {_damage_line(d)}")
    if damage:
        _console.error(f"trajectory export incomplete: {len(damage)} shard(s) skipped")
    return exit_codes.DAMAGED if damage else exit_codes.OK


def _refuse(damage: list[dict], target: str) -> int:
    for d in damage:
        _console.error(_damage_line(d))
    _console.error(f"--strict: damage found, nothing exported ({target} not written)")
    return exit_codes.DAMAGED


def _damage_line(d: dict) -> str:
    where = [d["shard"]] + ([f"stream {d['stream']!r}"] if d.get("stream") else [])
    if d.get("block") is not None:
        where.append(f"block {d['block']} (byte {d['offset']:,}, {d['rows']:,} rows)")
    if d.get("frame") is not None:
        where.append(f"screen {d['screen']}, frame {d['frame']}")
    return ", ".join(where) + f": {d['reason']}"


def _summary(args, paths, shards, parts, frames, damage) -> int:
    out = args.parquet
    for name, (n, rows, size) in parts.items():
        where = os.path.join(out, f"{name}.parquet") if args.layout == "flat" else \
            os.path.join(out, f"stream={name}") + f" ({n} part{'s' * (n != 1)})"
        print(f"{where}: {rows:,} rows, {size:,} bytes")
    if args.frames:
        print(f"{os.path.join(out, 'frames')}: {frames:,} PNG files")
    print(f"exported {len(shards)} of {len(paths)} shards, {len(parts)} streams, "
          f"{sum(p[1] for p in parts.values()):,} rows into {out}")
    if not damage:
        return exit_codes.OK
    blocks = [d for d in damage if d.get("block") is not None]
    frames_lost = [d for d in damage if d.get("frame") is not None]
    print(f"INCOMPLETE: skipped {len(blocks)} damaged blocks ({sum(d['rows'] for d in blocks):,} rows)"
          + (f", {len(frames_lost)} frames" if frames_lost else "")
          + (f" and {len(damage) - len(blocks) - len(frames_lost)} other damaged parts"
             if len(damage) > len(blocks) + len(frames_lost) else ""))
    for d in damage:
        print(f"  {_damage_line(d)}")
    _console.error(f"export incomplete: damage skipped in {len({d['shard'] for d in damage})} shard(s) "
                   "(--strict refuses to export around damage)")
    return exit_codes.DAMAGED
