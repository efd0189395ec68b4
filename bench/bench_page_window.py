"""Compression window of the tile pages: bigger pages or chained pages against 1 MiB pages.

A shard stores each tile store's new tiles in pages, each one zstd-6 frame that random access
decodes alone (docs/tiles.md; 1 MiB until format 1.3, 2 MiB since, chosen by this benchmark).
This re-compresses the raw tile stream of shards written with 1 MiB pages (``--encode`` writes
them so) under other strategies and estimates what each would cost a cold random frame:

* ``N MiB``: independent pages of up to N MiB (consecutive stored pages), zstd-6 (and zstd-3
  for 1 MiB; ``wlog 23``: an 8 MiB window instead of zstd-6's 2 MiB);
* ``dict W, chain L``: 1 MiB pages, page k compressed with the raw bytes of the previous W
  pages of its chain as a raw-content dictionary; chains restart every L pages, so decoding
  page k needs every page from its chain's start up to k.

Per strategy: compressed bytes (and ratio to 1 MiB zstd-6), compress CPU ms per raw MiB,
decompress ms per unit (median over units; a unit's time is the CPU time of the fastest of
``--repeat`` decodes, python-zstandard, one thread, dictionary set-up included), and over the
shard's frames (all, or ``--frames`` at random) the units a cold frame must decompress and their
decode time: ``whole`` = the sum of those units' times, ``prefix`` = the same with the last unit of
each chain decoded only up to the frame's last tile in it (its time scaled by that fraction), as
the reader does; median / p90 / max.

    python -m bench.bench_page_window SHARD [SHARD ...] [--json OUT] [--frames N] [--repeat R]
    python -m bench.bench_page_window --encode OUT.enc CACHE [CACHE ...]   # cached captures -> one shard

``--encode`` writes the frames of ``bench/desktop_workload.py --cache`` folders one after the
other through one ``ShardWriter`` (1 MiB pages, page budget 12, reach 32: the settings before
format 1.3; each capture's times shifted past the
previous one's), streaming them chunk by chunk; ``FOLDER@PX`` writes that capture shifted right by
PX pixels (wrapping), so that a capture can be used twice without its tiles matching the first time.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
import zstandard

import encoder
from encoder.tiles.layout import CHANNELS
from encoder.tiles.panes import all_ids

MIB = 1 << 20


@dataclass(frozen=True)
class Strategy:
    name: str
    mib: int = 1          # unit: consecutive stored pages up to this many MiB
    level: int = 6
    window: int = 0       # previous units of the chain used as the dictionary
    chain: int = 1        # units per chain (1: independent)
    wlog: int | None = None

    def compressor(self, prefix) -> zstandard.ZstdCompressor:
        params = zstandard.ZstdCompressionParameters.from_level(self.level, window_log=self.wlog) \
            if self.wlog else None
        d = zstandard.ZstdCompressionDict(prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT) if len(prefix) else None
        return zstandard.ZstdCompressor(level=self.level, dict_data=d, compression_params=params)


STRATEGIES = [Strategy("1 MiB zstd-6 (1.2)"), Strategy("1 MiB zstd-3", level=3),
              Strategy("2 MiB", 2), Strategy("4 MiB", 4), Strategy("8 MiB", 8),
              Strategy("8 MiB wlog 23", 8, wlog=23)] + \
             [Strategy(f"dict {w}, chain {c}", window=w, chain=c) for w, c in ((1, 2), (1, 4), (3, 4), (1, 8), (3, 8))]


def units(sizes: np.ndarray, mib: int) -> np.ndarray:
    """Start page of each unit: consecutive stored pages while their bytes fit in ``mib`` MiB."""
    starts, acc = [0], 0
    for p, s in enumerate(sizes):
        if acc + s > mib * MIB and p > starts[-1]:
            starts.append(p)
            acc = 0
        acc += int(s)
    return np.array(starts, np.int64)


def stores(reader) -> dict:
    """(channels, tile) -> (raw tile stream bytes, byte offset of each stored page + end, tile bytes)."""
    table = reader.read("tile", ["channels", "tile", "first", "page"])
    ch, tile, first = (table.column(c).to_numpy() for c in ("channels", "tile", "first"))
    out = {}
    for key in sorted(set(zip(ch.tolist(), tile.tolist()))):
        rows = np.flatnonzero((ch == key[0]) & (tile == key[1]))
        rows = rows[np.argsort(first[rows], kind="stable")]
        pages = [table.column("page")[int(i)].as_py() for i in rows]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in pages])])
        tile_bytes = key[0] * key[1] ** 2
        assert np.array_equal(first[rows] * tile_bytes, offsets[:-1]), "store ids must run without a gap"
        out[key] = (b"".join(pages), offsets, tile_bytes)
    return out


def measure(s: Strategy, raw: bytes, offsets: np.ndarray, repeat: int) -> dict:
    """Compress the stream's units under ``s``; sizes, CPU time, decode time per unit (round trip checked)."""
    starts = offsets[units(np.diff(offsets), s.mib)]
    bounds = np.append(starts, offsets[-1])
    view, plain = memoryview(raw), zstandard.ZstdDecompressor()
    sizes, decode, cpu = [], [], 0.0
    for u in range(len(starts)):
        data = view[bounds[u]:bounds[u + 1]]
        prefix = view[bounds[max(u - u % s.chain, u - s.window)]:bounds[u]]
        c0 = time.process_time()
        frame = s.compressor(prefix).compress(data)
        cpu += time.process_time() - c0
        best = float("inf")
        for _ in range(repeat):
            t0 = time.thread_time()
            dctx = plain if not len(prefix) else zstandard.ZstdDecompressor(
                dict_data=zstandard.ZstdCompressionDict(prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT))
            out = dctx.decompress(frame)
            best = min(best, time.thread_time() - t0)
        assert out == data, f"{s.name}: unit {u} does not round-trip"
        sizes.append(len(frame))
        decode.append(best * 1e3)
    return {"starts": starts, "raw": np.diff(bounds), "bytes": np.array(sizes), "decode_ms": np.array(decode),
            "cpu_s": cpu}


def needs(reader, frames: int, seed: int = 0) -> list:
    """(store, sorted distinct tile ids the frame needs) of each sampled frame row."""
    fr = reader._frames()
    rows = np.sort(np.concatenate([fr.index.rows(s) for s in fr.index.rows_of]))
    if 0 < frames < len(rows):
        rows = np.sort(np.random.default_rng(seed).choice(rows, frames, replace=False))
    out = []
    for row in rows.tolist():
        ids, panes = fr.grid(row)
        u = np.unique(all_ids(ids, panes))
        key = (CHANNELS[int(fr.index.format[row])], int(fr.index.tile[row]))
        out.append((key, u))
    return out


def access(s: Strategy, m: dict, tile_bytes: int, frame_ids: np.ndarray) -> tuple[int, float, float]:
    """(units decoded, whole ms, prefix ms) to assemble one frame from cold under ``s``."""
    ends = (frame_ids + 1) * tile_bytes              # byte end of each needed tile
    unit = np.searchsorted(m["starts"], ends - 1, side="right") - 1
    last = np.r_[unit[1:] != unit[:-1], True]        # ids are sorted: the last tile in each unit
    unit, ends = unit[last], ends[last]
    chain = unit // s.chain
    top = np.r_[chain[1:] != chain[:-1], True]       # the highest needed unit of each chain
    decoded, whole, prefix = 0, 0.0, 0.0
    for u, end in zip(unit[top].tolist(), ends[top].tolist()):
        lo = u - u % s.chain
        before = float(m["decode_ms"][lo:u].sum())
        frac = (end - m["starts"][u]) / m["raw"][u]
        decoded += u - lo + 1
        whole += before + m["decode_ms"][u]
        prefix += before + m["decode_ms"][u] * frac
    return decoded, whole, prefix


def bench(path: str, frames: int, repeat: int) -> dict:
    reader = encoder.ShardReader(path)
    data, sampled = stores(reader), needs(reader, frames)
    raw_total = sum(len(raw) for raw, _, _ in data.values())
    results = {}
    for s in STRATEGIES:
        ms = {key: measure(s, raw, offsets, repeat) for key, (raw, offsets, _) in data.items()}
        per_frame = np.array([access(s, ms[key], data[key][2], ids) for key, ids in sampled])
        stat = lambda a: [float(np.median(a)), float(np.percentile(a, 90)), float(a.max())]  # noqa: E731
        decode = np.concatenate([m["decode_ms"] for m in ms.values()])
        results[s.name] = {
            "bytes": int(sum(m["bytes"].sum() for m in ms.values())),
            "units": int(sum(len(m["starts"]) for m in ms.values())),
            "compress_cpu_ms_per_mib": 1e3 * sum(m["cpu_s"] for m in ms.values()) / (raw_total / MIB),
            "decode_ms_per_unit": float(np.median(decode)),
            "decode_ms_per_mib": float(decode.sum() / (raw_total / MIB)),
            "units_per_frame": stat(per_frame[:, 0]), "whole_ms": stat(per_frame[:, 1]),
            "prefix_ms": stat(per_frame[:, 2])}
    base = results[STRATEGIES[0].name]["bytes"]
    for r in results.values():
        r["ratio"] = r["bytes"] / base
    return {"shard": path, "frames": len(sampled), "raw_mib": raw_total / MIB, "stored_pages":
            sum(len(o) - 1 for _, o, _ in data.values()), "strategies": results}


def table(results: dict) -> str:
    f = lambda v: "/".join(f"{x:.0f}" if x >= 10 else f"{x:.1f}" for x in v)  # noqa: E731
    lines = ["| strategy | MB | vs 1 MiB | compress CPU ms/MiB | decode ms/unit | decode ms/MiB "
             "| units per frame med/p90/max | whole ms med/p90/max | prefix ms med/p90/max |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['bytes'] / 1e6:.2f} | {r['ratio']:.3f} | {r['compress_cpu_ms_per_mib']:.1f} "
                     f"| {r['decode_ms_per_unit']:.2f} | {r['decode_ms_per_mib']:.2f} | {f(r['units_per_frame'])} "
                     f"| {f(r['whole_ms'])} | {f(r['prefix_ms'])} |")
    return "\n".join(lines)


def mean(runs: list) -> dict:
    """Each figure averaged over the shards (lists element by element)."""
    out = {}
    for name in runs[0]["strategies"]:
        rs = [run["strategies"][name] for run in runs]
        out[name] = {k: (np.mean([r[k] for r in rs], axis=0).tolist() if isinstance(rs[0][k], list)
                         else float(np.mean([r[k] for r in rs]))) for k in rs[0]}
    return out


def encode(out: str, caches: list) -> None:
    from bench.desktop_workload import iter_cache
    offset, n, c0, t0 = 0, 0, time.process_time(), time.perf_counter()
    with encoder.ShardWriter(out) as writer:
        writer.configure_frames(page_bytes=1 << 20, page_budget=12, reach_pages=32)
        for spec in caches:
            folder, _, shift = spec.partition("@")
            first = last = None
            for times, frames in iter_cache(folder):
                first = int(times[0]) if first is None else first
                for t, frame in zip(times.tolist(), frames):
                    writer.add_frame(t - first + offset, np.roll(frame, int(shift), axis=1) if shift else frame)
                last, n = int(times[-1]), n + len(frames)
            offset += last - first + 100_000  # the next capture starts one 10 fps slot later
    print(f"{out}: {n} frames, {time.perf_counter() - t0:.0f} s, "
          f"{1e3 * (time.process_time() - c0) / n:.2f} ms CPU/frame (reading the caches included)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", help="shards (with --encode: cache folders)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--frames", type=int, default=0, help="frames sampled for random access (0: all)")
    p.add_argument("--repeat", type=int, default=3, help="decodes per unit (the fastest counts)")
    p.add_argument("--encode", metavar="OUT", help="encode the cache folders PATHS into one shard OUT")
    args = p.parse_args(argv)
    if args.encode:
        return encode(args.encode, args.paths)
    runs = []
    for path in args.paths:
        run = bench(path, args.frames, args.repeat)
        runs.append(run)
        print(f"\n{path}: {run['frames']} frames, {run['raw_mib']:.0f} MiB of raw tiles in "
              f"{run['stored_pages']} pages\n")
        print(table(run["strategies"]))
    if len(runs) > 1:
        print(f"\nmean over {len(runs)} shards\n")
        print(table(mean(runs)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
