"""The numcodecs / zarr codecs (encoder.interop) beside the codecs a zarr user would pick, one core.

* ``encoder_events`` on the real timestamp columns (``t`` of the Balabit ``pointer``,
  ``button``, ``scroll`` streams and of the Aalto ``key`` stream, ``../shared/data``; skipped
  when absent) beside blosc2 (shuffle + bytedelta + zstd, :mod:`bench.baselines`' settings)
  and zstd-3 of the raw bytes;
* ``encoder_frames`` on chunks of real 1080p BGRA frames (the bundled demo session) beside
  zstd-3 of the raw chunk, which is what zarr's default codecs (``bytes`` + ``zstd`` level 0,
  i.e. 3) store.

Every codec is checked to round-trip exactly before it is timed; ``extra_info`` holds the
bytes (``bytes``, ``bytes_per_value`` or ``KB_per_frame``). The assertions compare sizes
measured in the same run only (encoder_events below blosc2, encoder_frames at least 3x below
zstd-3); times are reported, never asserted.

Run the suite::

    python -m pytest bench/bench_interop.py --benchmark-only

or print the tables of docs/benchmarks.md (sizes and best-of-5 times, then the zarr arrays)::

    python -m bench.bench_interop
"""
from __future__ import annotations

import pathlib
import sys
import tempfile
import time

import numpy as np
import pytest
import zstandard

import encoder

try:
    from bench.baselines import BLOSC2_CLEVEL
except ImportError:  # collected by pytest from bench/ without the repository root on the path
    from baselines import BLOSC2_CLEVEL

from encoder.interop.numcodecs_codecs import EncoderEvents, EncoderFrames

DEMO = pathlib.Path(encoder.__file__).parent / "data" / "demo_session.enc"
COLUMNS = ("balabit.pointer.t", "balabit.button.t", "balabit.scroll.t", "aalto.key.t")
CHUNK_FRAMES = (8, 16, 32)
#: Frames of the demo session used (the first 64: the chunk sizes above divide it).
FRAMES = 64


def blosc2_codec():
    import blosc2

    class Blosc2:
        """blosc2 with the settings of bench/baselines.py: shuffle + bytedelta + zstd."""

        def encode(self, values):
            cparams = blosc2.CParams(codec=blosc2.Codec.ZSTD, clevel=BLOSC2_CLEVEL, typesize=values.itemsize,
                                     nthreads=1, filters=[blosc2.Filter.SHUFFLE, blosc2.Filter.BYTEDELTA],
                                     filters_meta=[0, 0])
            self.dtype = values.dtype
            return blosc2.compress2(values, cparams=cparams)

        def decode(self, blob):
            return np.frombuffer(blosc2.decompress2(blob, dparams=blosc2.DParams(nthreads=1)), self.dtype)
    return Blosc2()


class Zstd3:
    """zstd level 3 of the raw bytes (zarr's default compressor)."""

    def encode(self, values):
        self.dtype, self.shape = values.dtype, values.shape
        return zstandard.ZstdCompressor(level=3).compress(np.ascontiguousarray(values))

    def decode(self, blob):
        return np.frombuffer(zstandard.ZstdDecompressor().decompress(blob), self.dtype).reshape(self.shape)


EVENT_CODECS = {"encoder_events": EncoderEvents, "blosc2": blosc2_codec, "zstd-3": Zstd3}
FRAME_CODECS = {"encoder_frames": EncoderFrames, "zstd-3": Zstd3}


def load_columns() -> dict[str, np.ndarray]:
    """The real timestamp columns found in ../shared/data (int64 microseconds)."""
    from encoder.testing import recordings
    root = recordings.shared_data_dir()
    found = {}
    if root is not None and (root / recordings.BALABIT).is_dir():
        found.update({f"balabit.{s}.t": c["t"] for s, c in recordings.load_balabit(root).items()})
    if root is not None and (root / recordings.AALTO).is_dir():
        found.update({f"aalto.{s}.t": c["t"] for s, c in recordings.load_aalto(root).items()})
    return {name: np.ascontiguousarray(found[name]) for name in COLUMNS if name in found}


def load_frames() -> np.ndarray:
    return encoder.ShardReader(DEMO).frames(list(range(FRAMES)))


def checked_size(codec, data: np.ndarray) -> tuple[int, bytes]:
    blob = codec.encode(data)
    assert np.array_equal(np.asarray(codec.decode(blob)).reshape(data.shape), data), "not exact"
    return len(blob), blob


@pytest.fixture(scope="module")
def columns():
    found = load_columns()
    if not found:
        pytest.skip("shared recordings not found (../shared/data or $ENCODER_SHARED_DATA)")
    return found


@pytest.fixture(scope="module")
def frames():
    return load_frames()


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("codec", EVENT_CODECS)
@pytest.mark.parametrize("op", ["encode", "decode"])
def test_events(benchmark, columns, column, codec, op):
    if column not in columns:
        pytest.skip(f"{column} not found")
    values, coder = columns[column], EVENT_CODECS[codec]()
    size, blob = checked_size(coder, values)
    if codec == "encoder_events":
        assert size < checked_size(EVENT_CODECS["blosc2"](), values)[0]
    benchmark.group = f"{column} {op}"
    benchmark(coder.encode if op == "encode" else coder.decode, values if op == "encode" else blob)
    benchmark.extra_info.update(bytes=size, bytes_per_value=round(size / values.size, 4),
                                M_values_per_s=round(values.size / benchmark.stats.stats.median / 1e6, 2))


@pytest.mark.parametrize("k", CHUNK_FRAMES)
@pytest.mark.parametrize("codec", FRAME_CODECS)
@pytest.mark.parametrize("op", ["encode", "decode"])
def test_frames(benchmark, frames, k, codec, op):
    chunk, coder = frames[:k], FRAME_CODECS[codec]()
    size, blob = checked_size(coder, chunk)
    if codec == "encoder_frames":
        assert 3 * size < checked_size(Zstd3(), chunk)[0]
    benchmark.group = f"frames K={k} {op}"
    benchmark.pedantic(coder.encode if op == "encode" else coder.decode,
                       args=(chunk if op == "encode" else blob,), rounds=3)
    benchmark.extra_info.update(bytes=size, KB_per_frame=round(size / k / 1000, 2),
                                ms_per_frame=round(benchmark.stats.stats.min / k * 1000, 2))


# -- the tables of docs/benchmarks.md ----------------------------------------------------------
def best(fn, *args, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def event_table(columns: dict) -> list[str]:
    rows = ["| column | values | encoder_events B (B/value) | blosc2 B (B/value) | zstd-3 B | vs blosc2 |"
            " encode / decode M values/s (ours; blosc2) |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, values in columns.items():
        ours, blosc, zstd = EncoderEvents(), blosc2_codec(), Zstd3()
        (a, blob_a), (b, blob_b), (c, _) = (checked_size(x, values) for x in (ours, blosc, zstd))
        speed = [values.size / best(fn, arg) / 1e6 for fn, arg in
                 ((ours.encode, values), (ours.decode, blob_a), (blosc.encode, values), (blosc.decode, blob_b))]
        rows.append(f"| {name} | {values.size:,} | {a:,} ({a / values.size:.3f}) | {b:,} ({b / values.size:.3f}) "
                    f"| {c:,} | {b / a:.2f}x smaller | {speed[0]:.0f} / {speed[1]:.0f}; "
                    f"{speed[2]:.0f} / {speed[3]:.0f} |")
    return rows


def frame_table(frames: np.ndarray) -> list[str]:
    rows = ["| chunk K x 1080 x 1920 x 4 | encoder_frames KB/frame | zstd-3 KB/frame | ratio |"
            " encode / decode ms/frame (ours; zstd-3) |", "| ---: | ---: | ---: | ---: | --- |"]
    for k in CHUNK_FRAMES:
        ours_total = zstd_total = 0
        times = [0.0] * 4
        for start in range(0, len(frames) - k + 1, k):
            chunk, ours, zstd = frames[start:start + k], EncoderFrames(), Zstd3()
            (a, blob_a), (b, blob_b) = checked_size(ours, chunk), checked_size(zstd, chunk)
            ours_total, zstd_total = ours_total + a, zstd_total + b
            for j, (fn, arg) in enumerate(((ours.encode, chunk), (ours.decode, blob_a), (zstd.encode, chunk),
                                           (zstd.decode, blob_b))):
                times[j] += best(fn, arg, repeat=3)
        n = len(frames) // k * k
        ms = [1000 * t / n for t in times]
        rows.append(f"| {k} | {ours_total / n / 1000:.1f} | {zstd_total / n / 1000:.1f} | "
                    f"{zstd_total / ours_total:.1f}x | {ms[0]:.1f} / {ms[1]:.1f}; {ms[2]:.1f} / {ms[3]:.1f} |")
    return rows


def zarr_table(frames: np.ndarray) -> list[str]:
    import zarr

    from encoder.interop.zarr_codecs import EncoderFramesCodec
    rows = ["| zarr array (64, 1080, 1920, 4) uint8, chunks | encoder_frames bytes | zarr default "
            "(bytes + zstd) bytes | ratio |", "| --- | ---: | ---: | ---: |"]
    for k in CHUNK_FRAMES:
        sizes = []
        with tempfile.TemporaryDirectory() as folder:
            for name, options in (("ours", {"serializer": EncoderFramesCodec(), "compressors": None}),
                                  ("default", {})):
                path = pathlib.Path(folder) / name
                array = zarr.create_array(str(path), shape=frames.shape, chunks=(k, *frames.shape[1:]),
                                          dtype="uint8", **options)
                array[:] = frames
                assert np.array_equal(zarr.open_array(str(path), mode="r")[:], frames)
                sizes.append(sum(f.stat().st_size for f in (path / "c").rglob("*") if f.is_file()))
        rows.append(f"| ({k}, 1080, 1920, 4) | {sizes[0]:,} | {sizes[1]:,} | {sizes[1] / sizes[0]:.1f}x |")
    return rows


def main() -> None:
    try:
        from bench.conftest import pin_threads
    except ImportError:
        from conftest import pin_threads
    pin_threads()
    columns, frames = load_columns(), load_frames()
    print("\n".join(event_table(columns) if columns else ["(shared recordings not found)"]))
    print()
    print("\n".join(frame_table(frames)))
    print()
    print("\n".join(zarr_table(frames)))


if __name__ == "__main__":
    sys.exit(main())
