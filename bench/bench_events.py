"""Events on real recordings: our shards beside Parquet, Arrow IPC and blosc2, one core.

Datasets (``../shared/data``, loaded once by ``bench/conftest.py``; skipped when absent):

* ``balabit-mouse``: the Balabit mouse recording, ``pointer`` + ``button`` + ``scroll``
  coded together (356,552 events);
* ``aalto-keys``: the Aalto keystrokes as a ``key`` stream (221,314 events).

For every dataset and codec (ours and the four of :mod:`bench.baselines`) there is one
encode and one decode benchmark; ``extra_info`` holds ``bytes_per_event``,
``M_events_per_s`` (from the median round) and ``M_events_per_s_best`` (from the fastest).
Every codec is checked to round-trip the data exactly before it is timed, and the only
assertions on figures compare ours with baselines measured in the same run (bytes per
event below each baseline's); times are reported, never asserted.

Run the suite::

    python -m pytest bench/bench_events.py --benchmark-only

or print the markdown tables of docs/benchmarks.md (it runs the suite above, then adds the
bytes of each of our columns)::

    python -m bench.bench_events [--json saved.json] [extra pytest arguments]
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import encoder

try:
    from bench.baselines import BASELINES
except ImportError:  # collected by pytest from bench/ without the repository root on the path
    from baselines import BASELINES

DATASETS = ("balabit-mouse", "aalto-keys")
CODECS = {"encoder": (encoder.encode, encoder.decode), **BASELINES}
#: docs/design.md targets: bytes per event per dataset; M events/s on one core.
TARGET_BYTES = {"balabit-mouse": 2.0, "aalto-keys": 1.2}
TARGET_ENCODE, TARGET_DECODE = 30.0, 150.0


def _streams(event_datasets: dict, dataset: str) -> dict[str, pa.Table]:
    if dataset not in event_datasets:
        pytest.skip(f"recording for {dataset} not found")
    return event_datasets[dataset]


def _events(streams: dict) -> int:
    return sum(t.num_rows for t in streams.values())


def same_streams(decoded: dict, streams: dict) -> bool:
    """Decoded tables hold exactly the source's values and types (schema nullability aside)."""
    if set(decoded) != set(streams):
        return False
    for name, table in streams.items():
        got = decoded[name]
        if got.column_names != table.column_names:
            return False
        for a, b in zip(got.columns, table.columns):
            if a.type != b.type or not a.combine_chunks().equals(b.combine_chunks()):
                return False
    return True


_sizes: dict[tuple[str, str], int] = {}


def encoded_size(streams: dict, dataset: str, codec: str) -> int:
    """Bytes of ``codec``'s output on ``dataset``, after checking its exact round trip."""
    key = (dataset, codec)
    if key not in _sizes:
        encode, decode = CODECS[codec]
        data = encode(streams)
        assert same_streams(decode(data), streams), f"{codec} is not lossless on {dataset}"
        _sizes[key] = len(data)
    return _sizes[key]


def _record(benchmark, *, dataset: str, codec: str, op: str, events: int, size: int) -> None:
    stats = benchmark.stats.stats
    benchmark.extra_info.update({
        "dataset": dataset, "codec": codec, "op": op, "events": events, "bytes": size,
        "bytes_per_event": size / events,
        "M_events_per_s": events / stats.median / 1e6,
        "M_events_per_s_best": events / stats.min / 1e6,
        "backend": encoder.backend,
    })


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("dataset", DATASETS)
def test_encode(benchmark, event_datasets, dataset, codec):
    streams = _streams(event_datasets, dataset)
    if codec == "encoder":
        encoder.warmup()
    size = encoded_size(streams, dataset, codec)  # also the untimed first call
    encode = CODECS[codec][0]
    benchmark.group = f"{dataset} encode"
    benchmark(encode, streams)
    _record(benchmark, dataset=dataset, codec=codec, op="encode", events=_events(streams), size=size)
    if codec == "encoder":  # relative to baselines measured in this run, never absolute
        for baseline in BASELINES:
            theirs = encoded_size(streams, dataset, baseline)
            assert size < theirs, f"{size} bytes, {baseline} {theirs} on {dataset}"


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("dataset", DATASETS)
def test_decode(benchmark, event_datasets, dataset, codec):
    streams = _streams(event_datasets, dataset)
    if codec == "encoder":
        encoder.warmup()
    encode, decode = CODECS[codec]
    data = encode(streams)
    assert same_streams(decode(data), streams)  # also the untimed first call
    benchmark.group = f"{dataset} decode"
    benchmark(decode, data)
    _record(benchmark, dataset=dataset, codec=codec, op="decode", events=_events(streams), size=len(data))


# -- bytes of each of our columns ---------------------------------------------------------------
def _constant_like(column: pa.ChunkedArray, nullable: bool) -> pa.Array:
    """A column of the same type and length holding one value (coded in a few bytes)."""
    n = len(column)
    if pa.types.is_string(column.type):
        return pa.nulls(n, column.type) if nullable else pa.array([""] * n, column.type)
    return pa.array(np.zeros(n, column.type.to_pandas_dtype()))


def column_bytes(streams: dict[str, pa.Table]) -> dict:
    """Our marginal bytes per column: the shard with only that column real, all others constant,
    minus the shard with every column constant. Also the whole shard and its container share.

    Returns ``{"columns": {(stream, column): bytes}, "total": bytes, "chunks": bytes}`` where
    ``chunks`` is the compressed chunk bytes listed by ``ShardReader.blocks`` (the rest of
    ``total`` is headers, descriptors, 64-byte padding and the footer).
    """
    from encoder.streams import STREAMS

    out: dict = {}
    for name, table in streams.items():
        spec = STREAMS[name]
        const = {c.name: _constant_like(table.column(c.name), c.nullable) for c in spec.columns}
        base = len(encoder.encode({name: const}))
        for col in spec.columns:
            one = dict(const, **{col.name: table.column(col.name)})
            out[(name, col.name)] = len(encoder.encode({name: one})) - base
    data = encoder.encode(streams)
    with encoder.ShardReader(data) as reader:
        chunks = sum(b.stored_bytes for b in reader.blocks)
    return {"columns": out, "total": len(data), "chunks": chunks}


# -- report mode: python -m bench.bench_events ------------------------------------------------
def _machine() -> str:
    import os
    import platform

    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores available, figures on 1 thread"


def _versions() -> str:
    import sys

    import blosc2
    import numba
    import zstandard

    return (f"Python {sys.version.split()[0]}, encoder {encoder.__version__} (backend {encoder.backend}), "
            f"numpy {np.__version__}, numba {numba.__version__}, pyarrow {pa.__version__}, "
            f"blosc2 {blosc2.__version__}, zstandard {zstandard.__version__}")


def render(results: list[dict]) -> str:
    """Markdown table of bytes/event and M events/s per dataset and codec, targets included."""
    rows: dict = {}
    for r in results:
        info = r["extra_info"]
        row = rows.setdefault((info["dataset"], info["codec"]), {"events": info["events"]})
        row["bytes_per_event"] = info["bytes_per_event"]
        row[info["op"]] = (info["M_events_per_s"], info["M_events_per_s_best"])
    lines = ["| dataset | codec | bytes/event | encode M events/s (median / best) "
             "| decode M events/s (median / best) |", "|---|---|---:|---:|---:|"]

    def speed(v):
        return f"{v[0]:.1f} / {v[1]:.1f}" if v else "-"

    for dataset in DATASETS:
        codecs = [c for c in CODECS if (dataset, c) in rows]
        for codec in codecs:
            row = rows[(dataset, codec)]
            label = f"{dataset} ({row['events']:,} events)"
            backend = results[0]["extra_info"].get("backend", "?")
            name = f"**{codec}** ({backend})" if codec == "encoder" else codec
            lines.append(f"| {label} | {name} | {row['bytes_per_event']:.3f} | {speed(row.get('encode'))} "
                         f"| {speed(row.get('decode'))} |")
        if codecs:
            lines.append(f"| {dataset} | *target* | <= {TARGET_BYTES[dataset]} | >= {TARGET_ENCODE:.0f} "
                         f"| >= {TARGET_DECODE:.0f} |")
    return "\n".join(lines)


def render_columns(event_datasets: dict) -> str:
    """Markdown table of our bytes per column (see :func:`column_bytes`)."""
    lines = ["| dataset | stream.column | bytes | bytes/event | share |", "|---|---|---:|---:|---:|"]
    for dataset, streams in event_datasets.items():
        found = column_bytes(streams)
        events = _events(streams)
        for (stream, column), size in found["columns"].items():
            lines.append(f"| {dataset} | {stream}.{column} | {size:,} | {size / events:.3f} "
                         f"| {size / found['total']:.1%} |")
        rest = found["total"] - found["chunks"]
        lines.append(f"| {dataset} | container (headers, descriptors, padding, footer) | {rest:,} "
                     f"| {rest / events:.3f} | {rest / found['total']:.1%} |")
        lines.append(f"| {dataset} | **whole shard** | {found['total']:,} | {found['total'] / events:.3f} "
                     f"| 100% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import os
    import sys
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m bench.bench_events", description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="format this pytest-benchmark JSON instead of running the suite")
    args, pytest_args = parser.parse_known_args(argv)
    if args.json:
        path = args.json
    else:
        path = os.path.join(tempfile.mkdtemp(prefix="bench_events_"), "run.json")
        code = pytest.main([__file__, "--benchmark-only", "-q", "-p", "no:cacheprovider",
                            f"--benchmark-json={path}", *pytest_args])
        if code != 0:
            print(f"benchmarks failed (pytest exit {code})", file=sys.stderr)
            if not os.path.exists(path):
                return int(code)
    with open(path) as f:
        results = [b for b in json.load(f)["benchmarks"] if b.get("extra_info", {}).get("op")]
    from bench.conftest import pin_threads

    pin_threads()
    from encoder.testing import recordings
    from encoder.streams import STREAMS

    root = recordings.shared_data_dir()
    loaded = {}
    if root is not None and (root / recordings.BALABIT).is_dir():
        loaded["balabit-mouse"] = recordings.load_balabit(root)
    if root is not None and (root / recordings.AALTO).is_dir():
        loaded["aalto-keys"] = recordings.load_aalto(root)
    tables = {d: {s: pa.table(c, schema=STREAMS[s].arrow_schema) for s, c in streams.items()}
              for d, streams in loaded.items()}
    print(f"Machine: {_machine()}\n\nSoftware: {_versions()}\n")
    print(render(results))
    print()
    print(render_columns(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
