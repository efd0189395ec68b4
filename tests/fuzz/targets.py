"""Drive every reader entry point over one input; the shared core of the mutation test and the
atheris targets.

An input may only ever end in an :class:`encoder.EncoderError` (or decode). Anything else
escaping is a crash; a ``CorruptShardError`` that wraps another exception (the container's
last line of defence, ``blocks.ChunkSource``) is a *finding*: a codec met input it does not
check, and the fuzz targets report it like a crash (``strict=True``).
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

import encoder
from encoder.errors import EncoderError

#: Frames bigger than this are not decoded by the drivers (a 16384x16384 frame is legal and
#: takes 1 GiB: a property of the format, not a bug; tests/fuzz/README.md).
MAX_FRAME_PIXELS = 1 << 22


def read_all(reader, *, frames: bool = True, every_block: bool = True) -> dict:
    """Everything a caller can read from ``reader``: streams, blocks, a time range, frames.

    ``every_block=False`` reads only the last block of each stream one by one (cheaper: the
    mutation test reads 10,000 shards).
    """
    out = {}
    for name in reader.streams:
        out[name] = reader.read(name)
        count = len(reader.block_rows(name))
        for i in range(count) if every_block else range(max(0, count - 1), count):
            out[(name, i)] = reader.read_block(name, i)
        span = reader.time_range(name)
        if span is not None and (every_block or name == next(iter(reader.streams))):
            lo, hi = span
            third = (hi - lo) // 3
            out[(name, "range")] = reader.read(name, ["t"], start_us=lo + third, end_us=hi - third)
    if frames and "frame" in reader.streams and hasattr(reader, "frame"):
        reader.configure_frame_cache(64 << 20, parallel=False)
        for screen in reader.frame_screens():
            count = reader.frame_count(screen)
            small = []
            for i in range(count):
                info = reader.frame_info(i, screen)
                if info["width"] * info["height"] <= MAX_FRAME_PIXELS:
                    out[("frame", screen, i)] = reader.frame(i, screen)
                    small.append(i)
            if small and len({out[("frame", screen, i)].shape for i in small}) == 1:
                out[("frames", screen)] = reader.frames(small, screen)
            if small:  # frame_at of the last small frame's time
                t_last = int(reader.frame_times(screen)[small[-1]])
                info = reader.frame_info(reader.frame_index_at(t_last, screen), screen)
                if info["width"] * info["height"] <= MAX_FRAME_PIXELS:
                    out[("frame_at", screen)] = reader.frame_at(t_last, screen)
    return out


def exercise(data, *, encryption_key=None, recover: bool = False, verify: bool = True) -> tuple[dict, dict | None]:
    """Open ``data`` and read everything; returns (read results, verify() counts or None).

    Raises whatever the reader raises (an EncoderError for any bad input).
    """
    with encoder.ShardReader(data, encryption_key=encryption_key if encryption_key is not None else False,
                             recover=recover) as reader:
        results = read_all(reader)
        counts = reader.verify() if verify else None
        return results, counts


def same(a, b) -> bool:
    """Whether two read results (tables, arrays, None) are equal."""
    if a is None or b is None:
        return a is b
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    return a.equals(b)


def wrapped_cause(exc: BaseException) -> BaseException | None:
    """The non-library exception a CorruptShardError was made from, if any (a finding)."""
    cause = exc.__cause__
    while cause is not None and isinstance(cause, EncoderError):
        cause = cause.__cause__
    return cause


def run_entry_points(data: bytes, *, encryption_key=None, cli: bool = False, strict: bool = True) -> None:
    """Every entry point over ``data``; returns normally when each decodes or raises EncoderError.

    ``strict`` re-raises the cause of a wrapped codec error (see module doc) so that the fuzzer
    reports it.
    """
    def guarded(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EncoderError as exc:
            cause = wrapped_cause(exc)
            if strict and cause is not None:
                raise cause
            return None

    guarded(encoder.decode, data)
    failed = object()

    def attempt(**kwargs):
        return guarded(lambda: exercise(data, **kwargs) or True) or failed

    # each variant only where it reads differently: recover=True where the index is unusable,
    # the encryption key where the header says 1.1 (a plain shard ignores it)
    encrypted = len(data) >= 12 and data[10:12] != b"\0\0"
    if attempt() is failed:
        attempt(recover=True)
        if encryption_key is not None and encrypted:
            attempt(encryption_key=encryption_key, recover=True)
    if encryption_key is not None and encrypted:
        attempt(encryption_key=encryption_key)
    if cli:
        from encoder.cli.verify import verify_one
        from encoder.shard.repair import repair
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "input.enc")
            with open(path, "wb") as f:
                f.write(data)
            code, message = verify_one(path)
            if "a bug in encoder" in message:
                raise AssertionError(message)
            out = os.path.join(folder, "repaired.enc")
            if guarded(repair, path, out,
                       encryption_key=encryption_key if encryption_key is not None else False) is not None:
                guarded(exercise, out, encryption_key=encryption_key)
