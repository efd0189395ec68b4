"""``encoder demo``: round-trip the demo session and compare with Parquet, side by side.

The bundled demo session (:data:`DEMO_SESSION_PATH`: a minute of a real X desktop,
Chromium and xterm driven by xdotool, recorded by ``encoder record``, see
``bench/desktop_workload.py --record``), or a synthetic events-only session generated with
``--seconds`` (:mod:`encoder.testing.synthetic`), is written with :class:`ShardWriter`, events and
frames, read back with :class:`ShardReader` and checked bit-exact, stream by stream and
frame by frame (exit 1 if any value or pixel differs). Then every stream is encoded and decoded in memory, ours and Parquet (pyarrow,
zstd) on the same tables, each timing the best of several runs.

Bytes per stream are the bytes of that stream's blocks in the shard (block descriptor,
chunks, padding); the total is the whole file (header and footer included) less the frames'
blocks, which get a table of their own (:mod:`._demo_frames`). Parquet's are
one file per stream, its total their sum.
"""
from __future__ import annotations

import io
import os
import tempfile
import time

import pyarrow as pa

from .. import backend, warmup
from ..api import decode, encode
from ..errors import EncoderError
from ..shard import ShardReader, ShardWriter
from ..shard import format as fmt
from . import _console, _demo_frames
from ._args import positive
from ._demo_frames import FRAME_STREAMS
from .exit_codes import DAMAGED, OK

#: The bundled demo session (package data): a minute of a real 1920x1080 X desktop (Chromium on
#: local documentation beside an xterm, driven by xdotool) recorded by ``encoder record`` at
#: 5 fps with input and focus; made with ``python bench/desktop_workload.py --scenario browser
#: --seconds 60 --fps 5 --seed 1 --record DIR``.
DEMO_SESSION_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "demo_session.enc")


def register(sub, common) -> None:
    p = sub.add_parser(
        "demo", parents=[common], help="round-trip the demo session, compare with Parquet",
        description="Write the bundled demo session as a shard, read it back, check it "
                    "bit-exact, and print sizes and speeds beside Parquet (zstd) on the same tables.")
    p.add_argument("--out", metavar="DIR", help="keep the shard as DIR/demo_session.enc "
                                                "(default: a temporary folder, removed)")
    p.add_argument("--seconds", type=positive(1e6, whole_as_int=True), metavar="N",
                   help="generate a fresh N-second session instead of reading the bundled one")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated session (default 0)")
    p.add_argument("--min-time", type=float, default=0.05, metavar="S",
                   help="measure each figure for at least S seconds, best run kept (default 0.05)")
    p.set_defaults(run=run)


# -- the source tables -------------------------------------------------------------------
def load_source(seconds: float | None, seed: int) -> tuple[dict[str, pa.Table], dict, str, str | None]:
    """(event tables, metadata, description, shard whose frames to copy or None) of the
    bundled demo session or of a generated (events only) session."""
    if seconds is None:
        if not os.path.exists(DEMO_SESSION_PATH):
            raise EncoderError(f"the bundled demo session {DEMO_SESSION_PATH} is missing: reinstall "
                               "encoder, or pass --seconds N to generate one")
        with ShardReader(DEMO_SESSION_PATH) as reader:
            tables = {name: reader.read(name) for name in reader.streams if name not in FRAME_STREAMS}
            metadata = dict(reader.metadata)
            frames = reader.frame_count() if "frame" in reader.streams else 0
            span = [t for name in reader.streams for t in (reader.time_range(name) or ())]
        what = f"real desktop, {frames:,} frames, " if frames else ""
        seconds_text = f"{(max(span) - min(span)) / 1e6:.0f}" if span else "?"
        label = f"bundled demo session ({what}{seconds_text} s)"
        source = DEMO_SESSION_PATH if frames else None
    else:
        from ..testing import synthetic
        session = synthetic.generate_session(seconds, seed)
        tables = synthetic.to_tables(session)
        metadata = synthetic.session_metadata(seconds, seed)
        label = f"generated session ({seconds:g} s, seed {seed})"
        source = None
    metadata.pop("writer", None)  # this run's writer records itself
    return tables, metadata, label, source


# -- checks --------------------------------------------------------------------------------
def first_difference(expected: pa.Table, actual: pa.Table) -> str | None:
    """``None`` if the tables are equal (schema and every value), else where they differ."""
    if expected.schema != actual.schema:
        return f"schema differs: expected {expected.schema}, got {actual.schema}"
    if expected.num_rows != actual.num_rows:
        return f"{actual.num_rows:,} rows, expected {expected.num_rows:,}"
    for name in expected.column_names:
        a, b = expected.column(name), actual.column(name)
        if a.equals(b):
            continue
        a, b = a.combine_chunks(), b.combine_chunks()
        step = 1 << 16
        for start in range(0, len(a), step):
            xs, ys = a[start:start + step].to_pylist(), b[start:start + step].to_pylist()
            for i, (x, y) in enumerate(zip(xs, ys)):
                if x != y or type(x) is not type(y):
                    return f"column {name!r}, row {start + i}: expected {x!r}, got {y!r}"
        return f"column {name!r} differs"  # e.g. in a validity bitmap only
    return None


def _block_bytes(path: str, reader: ShardReader) -> dict[str, int]:
    """Bytes of each stream's blocks in the file: from a block's offset to the next one's
    (the last block ends where the footer starts, read from the file's tail)."""
    with open(path, "rb") as f:
        f.seek(-fmt.TAIL.size, os.SEEK_END)
        footer_offset = fmt.TAIL.unpack(f.read(fmt.TAIL.size))[0]
    blocks = sorted(reader.blocks, key=lambda b: b.offset)
    out = {name: 0 for name in reader.streams}
    for block, nxt in zip(blocks, [b.offset for b in blocks[1:]] + [footer_offset]):
        out[block.stream] += nxt - block.offset
    return out


# -- measuring -------------------------------------------------------------------------------
def best_time(fn, min_time: float, min_runs: int = 3, max_runs: int = 1000) -> float:
    """Best wall time of ``fn()`` over at least ``min_runs`` runs and ``min_time`` seconds."""
    times: list[float] = []
    while len(times) < min_runs or (sum(times) < min_time and len(times) < max_runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq  # here, not at the top: `encoder record` imports this module's package
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def measure(name: str, table: pa.Table, metadata: dict, min_time: float) -> dict:
    """Encode/decode time of one stream, ours and Parquet's, in memory."""
    import pyarrow.parquet as pq
    ours = encode({name: table}, metadata=metadata)
    theirs = _parquet_bytes(table)
    return {
        "enc": best_time(lambda: encode({name: table}, metadata=metadata), min_time),
        "dec": best_time(lambda: decode(ours), min_time),
        "pq_bytes": len(theirs),
        "pq_enc": best_time(lambda: _parquet_bytes(table), min_time),
        "pq_dec": best_time(lambda: pq.read_table(io.BytesIO(theirs)), min_time),
    }


def run(args) -> int:
    tables, metadata, label, frame_source = load_source(args.seconds, args.seed)
    events = sum(t.num_rows for t in tables.values())
    print(f"encoder demo: {label}, {events:,} events in {len(tables)} streams; backend {backend}")
    frames = None
    with tempfile.TemporaryDirectory(prefix="encoder-demo-") as tmp:
        out = tmp if args.out is None else args.out
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "demo_session.enc")
        with ShardWriter(path, metadata=metadata) as writer:
            for name, table in tables.items():
                writer.write(name, table)
            if frame_source is not None:
                with ShardReader(frame_source) as source:
                    encode_cpu = _demo_frames.copy_frames(source, writer)
        with ShardReader(path) as reader:
            missing = sorted(set(tables) - set(reader.streams))
            if missing:
                _console.error(f"round trip failed: {path} lacks streams {missing}")
                return DAMAGED
            for name, table in tables.items():
                diff = first_difference(table, reader.read(name))
                if diff is not None:
                    _console.error(f"round trip is not bit-exact: stream {name!r}: {diff}")
                    return DAMAGED
            spans = _block_bytes(path, reader)
            size = reader.size
            if frame_source is not None:
                with ShardReader(frame_source) as source:
                    diff = _demo_frames.first_frame_difference(source, reader)
                if diff is not None:
                    _console.error(f"round trip is not bit-exact: frames: {diff}")
                    return DAMAGED
        if frame_source is not None:
            frames = _demo_frames.measure(path, encode_cpu, args.quiet)
        where = path if args.out is not None else "a temporary file"
        also = f" and all {frames['frames']:,} frames" if frames else ""
        print(f"wrote {where} ({size:,} bytes) and read it back: bit-exact, all {len(tables)} streams{also}")
        with ShardReader(path) as reader:
            actions_report = _actions(reader, events)

    if backend == "native":
        warmup()  # JIT compile before timing, not inside the first measurement
    results = {}
    for name in _console.progress(list(tables), quiet=args.quiet, desc="measuring", unit="stream"):
        results[name] = measure(name, tables[name], metadata, args.min_time)
    _report(tables, spans, size - sum(spans.get(name, 0) for name in FRAME_STREAMS), results)
    if frames:
        print()
        _demo_frames.report(frames)
    print()
    print("\n".join(actions_report))
    return OK


def _actions(reader: ShardReader, events: int, shown: int = 12) -> list[str]:
    """What the person did (encoder.actions): counts per kind, the first actions, the derive time."""
    from ..actions import derive
    from ..actions.timeline import timeline
    derive(reader)  # the first call compiles the kernels (or loads them from Numba's cache)
    start = time.perf_counter()
    table = derive(reader)
    seconds = time.perf_counter() - start
    kinds: dict[str, int] = {}
    for kind in table.column("kind").to_pylist():
        kinds[kind] = kinds.get(kind, 0) + 1
    counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    lines = [f"actions (encoder actions PATH): {table.num_rows} derived from the shard in {seconds * 1e3:.1f} ms "
             f"({events:,} rows read and reduced): {counts or 'none'}"]
    firsts = [r[0] for r in (reader.time_range(s) for s in reader.streams) if r is not None]
    lines += timeline(table.slice(0, shown), min(firsts) if firsts else None)
    if table.num_rows > shown:
        lines.append(f"  ... {table.num_rows - shown} more")
    return lines


def _report(tables: dict, spans: dict, size: int, results: dict) -> None:
    rows = []
    for name, table in tables.items():
        n, r = table.num_rows, results[name]
        rows.append(_row(name, n, spans[name], r["enc"], r["dec"], r["pq_bytes"], r["pq_enc"], r["pq_dec"]))
    n = sum(t.num_rows for t in tables.values())
    total = _row("total", n, size, *(sum(r[k] for r in results.values())
                                      for k in ("enc", "dec", "pq_bytes", "pq_enc", "pq_dec")))
    _console.table(
        None, ["stream", "rows", "bytes", "B/event", "enc Mev/s", "dec Mev/s",
               "parquet B", "pq B/event", "pq enc Mev/s", "pq dec Mev/s", "size vs pq"],
        rows, total=total,
        caption="bytes: the stream's blocks in the shard; total: the whole file less the frames. parquet: one file "
                "per stream (pyarrow, zstd). Speeds: in memory, best of several runs, one thread; "
                "tiny streams measure per-call overhead.")


def _row(name, n, ours, enc, dec, theirs, pq_enc, pq_dec) -> list[str]:
    return [name, _console.count(n), _console.count(ours), _console.ratio(ours / n if n else None),
            _console.rate(n, enc), _console.rate(n, dec), _console.count(theirs),
            _console.ratio(theirs / n if n else None), _console.rate(n, pq_enc), _console.rate(n, pq_dec),
            f"{ours / theirs:.0%}" if theirs else "-"]
